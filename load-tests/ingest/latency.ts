/** Latency samples in milliseconds; percentiles by nearest rank over every sample. */
export class LatencyRecorder {
  private samples = new Float64Array(1 << 16);
  private count = 0;

  add(ms: number): void {
    if (this.count === this.samples.length) {
      const grown = new Float64Array(this.samples.length * 2);
      grown.set(this.samples);
      this.samples = grown;
    }
    this.samples[this.count++] = ms;
  }

  get size(): number {
    return this.count;
  }

  /** p50 and p99 in ms, rounded to 0.01; null when nothing was recorded. */
  percentiles(): { p50: number | null; p99: number | null } {
    if (this.count === 0) return { p50: null, p99: null };
    const sorted = this.samples.subarray(0, this.count).sort();
    const at = (q: number) => round2(sorted[Math.min(this.count - 1, Math.ceil(q * this.count) - 1)]!);
    return { p50: at(0.5), p99: at(0.99) };
  }
}

export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
