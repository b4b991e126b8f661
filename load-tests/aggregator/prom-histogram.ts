/** Reading a Prometheus text exposition: one histogram and a few counters, and quantiles of a difference. */

export interface Histogram {
  /** Upper bounds in seconds, ascending, `Infinity` last. */
  readonly bounds: number[];
  /** Cumulative counts per bound. */
  readonly cumulative: number[];
  readonly sum: number;
  readonly count: number;
}

/** The histogram `name` from a /metrics body (no labels besides `le`); throws if absent. */
export function readHistogram(text: string, name: string): Histogram {
  const buckets: [number, number][] = [];
  let sum: number | undefined;
  let count: number | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}_bucket{`)) {
      const le = /le="([^"]+)"/.exec(line)?.[1];
      if (le === undefined) continue;
      buckets.push([le === '+Inf' ? Infinity : Number(le), Number(line.slice(line.lastIndexOf(' ') + 1))]);
    } else if (line.startsWith(`${name}_sum `)) {
      sum = Number(line.slice(name.length + 5));
    } else if (line.startsWith(`${name}_count `)) {
      count = Number(line.slice(name.length + 7));
    }
  }
  if (buckets.length === 0 || sum === undefined || count === undefined) {
    throw new Error(`no histogram ${name} in the metrics`);
  }
  buckets.sort((a, b) => a[0] - b[0]);
  return { bounds: buckets.map((b) => b[0]), cumulative: buckets.map((b) => b[1]), sum, count };
}

/** Sum of a counter's series whose labels contain `match` (all series without it). */
export function readCounter(text: string, name: string, match = ''): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    if (match !== '' && !rest.includes(match)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** after − before, bucket by bucket (the same bounds). */
export function difference(after: Histogram, before: Histogram): Histogram {
  return {
    bounds: after.bounds,
    cumulative: after.cumulative.map((c, i) => c - (before.cumulative[i] ?? 0)),
    sum: after.sum - before.sum,
    count: after.count - before.count,
  };
}

export interface Quantile {
  /** Seconds, or null without observations. */
  readonly seconds: number | null;
  /** True when the quantile lies above the last finite bound: `seconds` is that bound, a lower bound. */
  readonly aboveLastBound: boolean;
}

/**
 * The q-quantile, interpolated linearly within the bucket that holds it (as Prometheus's
 * histogram_quantile does; the first bucket starts at 0). Exact only at bucket bounds.
 */
export function quantile(h: Histogram, q: number): Quantile {
  const total = h.cumulative.at(-1) ?? 0;
  if (total === 0) return { seconds: null, aboveLastBound: false };
  const rank = q * total;
  let i = h.cumulative.findIndex((c) => c >= rank);
  if (i < 0) i = h.cumulative.length - 1;
  const upper = h.bounds[i]!;
  const lower = i === 0 ? 0 : h.bounds[i - 1]!;
  if (upper === Infinity) return { seconds: lower, aboveLastBound: true };
  const below = i === 0 ? 0 : h.cumulative[i - 1]!;
  const inBucket = h.cumulative[i]! - below;
  const seconds = inBucket === 0 ? upper : lower + ((upper - lower) * (rank - below)) / inBucket;
  return { seconds, aboveLastBound: false };
}

/** Observations per bucket (not cumulative), keyed by upper bound in ms. */
export function perBucket(h: Histogram): Record<string, number> {
  const out: Record<string, number> = {};
  h.bounds.forEach((b, i) => {
    const n = h.cumulative[i]! - (i === 0 ? 0 : h.cumulative[i - 1]!);
    out[b === Infinity ? '+Inf' : `le_${Math.round(b * 1000 * 10) / 10}ms`] = n;
  });
  return out;
}
