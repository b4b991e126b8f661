import { describe, expect, it } from 'vitest';
import { compressSnapshot, decompressSnapshot } from './snapshot-compression.js';

/** Bytes shaped like a snapshot body: small int32 counts and ids, some repetition. */
function snapshotLike(bytes: number, seed: number): Uint8Array {
  const ints = new Int32Array(bytes / 4);
  let x = seed;
  for (let i = 0; i < ints.length; i++) {
    x = (x * 1_103_515_245 + 12_345) >>> 0;
    ints[i] = i % 7 === 0 ? x % 50_000 : x % 13;
  }
  return new Uint8Array(ints.buffer);
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(chunks));
}

describe('snapshot compression', () => {
  it('round-trips a snapshot of many chunks over several frames, byte for byte, and makes it smaller', async () => {
    const chunks = [
      snapshotLike(1024, 1),
      ...Array.from({ length: 40 }, (_, i) => snapshotLike(256 * 1024, i + 2)),
    ];
    const raw = concat(chunks);
    const stored = concat(await compressSnapshot(chunks));
    expect(stored.length).toBeLessThan(raw.length / 2);
    expect(await decompressSnapshot(stored)).toEqual(raw);
  });

  it('returns an object written before compression unchanged', async () => {
    const plain = new TextEncoder().encode('{"format":5}\n');
    expect(await decompressSnapshot(plain)).toBe(plain);
  });

  it('refuses a truncated object instead of returning part of a snapshot', async () => {
    const stored = concat(await compressSnapshot([snapshotLike(64 * 1024, 9)]));
    await expect(decompressSnapshot(stored.subarray(0, stored.length - 10))).rejects.toThrow(/truncated/);
  });
});
