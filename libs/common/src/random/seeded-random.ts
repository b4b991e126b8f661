/**
 * mulberry32: a small, fast, seeded pseudo-random generator, uniform in [0, 1). The same seed
 * replays the same sequence, so simulated trading, benchmark data and randomized tests can be
 * reproduced from the seed they print. Not for anything secret.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
