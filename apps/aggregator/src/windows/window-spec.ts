/**
 * The windows, as data. Each rolling window is `buckets` fixed buckets of `widthMs / buckets`
 * on event time (occurredAt); at instant `now` it holds the bucket containing `now` and the
 * `buckets - 1` before it, so it spans between (buckets-1)/buckets and all of its width and
 * moves on a bucket at a time (every second for 1m, every 24 minutes for 24h, with 60 buckets).
 * `all` is every sale since the stream began, late or not.
 */
export const ROLLING_WINDOWS = [
  { name: '1m', widthMs: 60_000 },
  { name: '5m', widthMs: 300_000 },
  { name: '15m', widthMs: 900_000 },
  { name: '1h', widthMs: 3_600_000 },
  { name: '24h', widthMs: 86_400_000 },
] as const;

export type RollingWindowName = (typeof ROLLING_WINDOWS)[number]['name'];
export type WindowName = RollingWindowName | 'all';
export const WINDOW_NAMES: readonly WindowName[] = [...ROLLING_WINDOWS.map((w) => w.name), 'all'];

export interface WindowSpec {
  readonly name: RollingWindowName;
  readonly widthMs: number;
  readonly bucketMs: number;
  readonly buckets: number;
}

export interface WindowLayout {
  readonly windows: readonly WindowSpec[];
  /**
   * A sale enters the rolling windows only if it happened no more than this long before ingest
   * accepted it (occurredAt ≥ receivedAt − allowedLateness): the watermark is each sale's own
   * acceptance time minus the lateness. Both times travel with the sale on the stream, so the
   * decision is the same on every replay, which crash recovery relies on.
   */
  readonly allowedLatenessMs: number;
}

export function windowLayout(bucketsPerWindow: number, allowedLatenessMs: number): WindowLayout {
  const windows = ROLLING_WINDOWS.map((w) => {
    if (w.widthMs % bucketsPerWindow !== 0) {
      throw new Error(
        `${bucketsPerWindow} buckets do not divide the ${w.name} window into whole milliseconds`,
      );
    }
    return {
      name: w.name,
      widthMs: w.widthMs,
      bucketMs: w.widthMs / bucketsPerWindow,
      buckets: bucketsPerWindow,
    };
  });
  const longest = windows.at(-1)!.widthMs;
  if (allowedLatenessMs > longest) {
    throw new Error(`allowed lateness must not exceed the longest window (${longest} ms)`);
  }
  return { windows, allowedLatenessMs };
}

/** Identifies a layout in snapshots: a snapshot taken under another layout cannot be reused. */
export function layoutFingerprint(layout: WindowLayout): string {
  return [...layout.windows.map((w) => `${w.name}/${w.bucketMs}`), `late/${layout.allowedLatenessMs}`].join(
    ',',
  );
}

export function isWindowName(value: string): value is WindowName {
  return (WINDOW_NAMES as readonly string[]).includes(value);
}
