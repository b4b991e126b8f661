/** Small arithmetic every benchmark reports with. */

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Seconds since a `performance.now()` reading, to 2 decimals. */
export function seconds(since: number): number {
  return round((performance.now() - since) / 1000, 2);
}

/** The median (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >>> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Per key, the median over runs of CPU-seconds records; null where any run could not measure it. */
export function medianCpu<T extends object>(cpus: readonly T[]): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const key of Object.keys(cpus[0] ?? {})) {
    const values = cpus.map((c) => (c as Record<string, number | null | undefined>)[key]);
    out[key] = values.some((v) => v === null || v === undefined)
      ? null
      : round(median(values as number[]), 2);
  }
  return out;
}
