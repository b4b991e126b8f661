import { contributionOf } from '../../apps/aggregator/src/windows/sale-contribution.js';
import type { WindowLayout, WindowSpec } from '../../apps/aggregator/src/windows/window-spec.js';
import { WindowState } from '../../apps/aggregator/src/windows/window-state.js';
import { round } from '../common/bench-math.js';
import { KEY_SPACE, SaleGenerator, type SaleKeys } from './sale-generator.js';

const MAX_DELAY_MS = 2_000;
/** Lines per covering sale (the generator's maximum). */
const COVER_LINES = 4;

export interface DayState {
  readonly state: WindowState;
  /** The clock the state is at. */
  readonly nowMs: number;
  /** What was applied, for the output line. */
  readonly build: Record<string, unknown>;
}

/**
 * A state equivalent, key for key, to every live bucket of every window after a full day at
 * `rate` sales/s, without applying 86.4M sales (at 1,000/s):
 *
 * - the last `detailMin` minutes: every sale, as generated (returns included), `rate` per second;
 * - older event time, back to the start of the 24 h window's oldest live bucket: cut into
 *   intervals that each lie inside one bucket of every window still holding them (the buckets
 *   of the finest such window: 1 s down to 24 min). For each interval the keys of
 *   `rate × length` sales are drawn with the generator's distributions, without building
 *   sales, and the distinct (branch, customer) and (branch, product) pairs they touch are
 *   collected; then, per branch, the fewest sales that touch exactly those pairs (one customer
 *   and up to four products each) are built and applied, inside the interval. Every bucket,
 *   running total and all-time aggregate ends up with the keys real traffic would give it; the
 *   counts and sums are those of the covering sales (smaller numbers, so snapshot bytes are a
 *   slight underestimate).
 *
 * The state's clock is at `nowMs` throughout (applying in any order gives the same state).
 */
export function buildDayState(
  layout: WindowLayout,
  rate: number,
  detailMin: number,
  seed: number,
  log: (m: string) => void,
): DayState {
  const nowMs = Date.now();
  const state = new WindowState(layout, nowMs);
  const generator = new SaleGenerator(seed);
  const windows = layout.windows;
  const oldest = (w: WindowSpec) => (Math.floor(nowMs / w.bucketMs) - w.buckets + 1) * w.bucketMs;
  const startMs = oldest(windows.at(-1)!);
  const detailStart = Math.max(startMs, nowMs - detailMin * 60_000);
  const started = performance.now();

  // Older event time, interval by interval.
  const marks = new Uint8Array(KEY_SPACE.branches * Math.max(KEY_SPACE.customers, KEY_SPACE.products));
  const customers: number[][] = Array.from({ length: KEY_SPACE.branches }, () => []);
  const products: number[][] = Array.from({ length: KEY_SPACE.branches }, () => []);
  const keys: SaleKeys = { branch: 0, customer: -1, products: [] };
  let intervals = 0;
  let represented = 0;
  let covering = 0;
  let live = 0;
  let t = startMs;
  let nextLog = performance.now() + 10_000;
  while (t < detailStart) {
    // The finest window whose live range holds t decides the interval's length.
    const finest = windows.find((w) => oldest(w) <= t)!;
    let end = Math.min((Math.floor(t / finest.bucketMs) + 1) * finest.bucketMs, detailStart);
    for (const w of windows) if (oldest(w) > t) end = Math.min(end, oldest(w));
    const draws = Math.round(((end - t) / 1000) * rate);
    for (const list of customers) list.length = 0;
    for (const list of products) list.length = 0;
    // Bit 1 marks a (branch, customer) pair seen, bit 2 a (branch, product) pair.
    marks.fill(0);
    for (let d = 0; d < draws; d++) {
      generator.drawKeys(keys);
      if (keys.customer >= 0) {
        const at = keys.branch * KEY_SPACE.customers + keys.customer;
        if ((marks[at]! & 1) === 0) {
          marks[at]! |= 1;
          customers[keys.branch]!.push(keys.customer);
        }
      }
      for (const p of keys.products) {
        const at = keys.branch * KEY_SPACE.products + p;
        if ((marks[at]! & 2) === 0) {
          marks[at]! |= 2;
          products[keys.branch]!.push(p);
        }
      }
    }
    for (let b = 0; b < KEY_SPACE.branches; b++) {
      const cs = customers[b]!;
      const ps = products[b]!;
      const count = Math.max(cs.length, Math.ceil(ps.length / COVER_LINES));
      for (let j = 0; j < count; j++) {
        keys.branch = b;
        keys.customer = j < cs.length ? cs[j]! : -1;
        keys.products.length = 0;
        for (let l = j * COVER_LINES; l < Math.min((j + 1) * COVER_LINES, ps.length); l++)
          keys.products.push(ps[l]!);
        if (keys.products.length === 0) keys.products.push(ps[j % ps.length]!);
        const occurredAt = t + ((j * 7_919 + b * 104_729) % (end - t));
        const sale = generator.saleWith(keys, occurredAt, occurredAt + 1_000);
        if (state.apply(contributionOf(sale)) === 'live') live++;
        covering++;
      }
    }
    intervals++;
    represented += draws;
    t = end;
    if (performance.now() > nextLog) {
      log(
        `restart: built up to ${round((nowMs - t) / 3_600_000, 2)} h before now: ${intervals} intervals, ${covering.toLocaleString('en')} covering sales, ${state.keyCount.toLocaleString('en')} keys`,
      );
      nextLog = performance.now() + 10_000;
    }
  }
  const coarseS = (performance.now() - started) / 1000;

  // The most recent minutes, sale by sale.
  const detailStarted = performance.now();
  const stepMs = 1000 / rate;
  let detail = 0;
  for (let at = detailStart; at < nowMs; at = detailStart + Math.floor(detail * stepMs)) {
    const sale = generator.sale(at, at + (detail % MAX_DELAY_MS));
    if (detail % 10_000 === 0) generator.check(sale);
    if (state.apply(contributionOf(sale)) === 'live') live++;
    detail++;
  }
  const detailS = (performance.now() - detailStarted) / 1000;
  log(
    `restart: state built in ${round(coarseS + detailS, 1)} s: ${state.keyCount.toLocaleString('en')} keys`,
  );
  return {
    state,
    nowMs,
    build: {
      represents: `every live bucket of every window after 24 h at ${rate} sales/s`,
      event_hours: round((nowMs - startMs) / 3_600_000, 3),
      detail_minutes: round((nowMs - detailStart) / 60_000, 2),
      detail_sales: detail,
      detail_returns: generator.returns,
      coarse_intervals: intervals,
      coarse_sales_represented: represented,
      coarse_covering_sales_applied: covering,
      live_share: round(live / (detail + covering), 4),
      build_s: round(coarseS + detailS, 1),
      method:
        'older than the detail minutes: per interval (one bucket of every window holding it), the distinct (branch, customer) and (branch, product) pairs of rate × length drawn sales, applied as the fewest sales touching exactly those pairs; counts and sums are those of the covering sales',
    },
  };
}
