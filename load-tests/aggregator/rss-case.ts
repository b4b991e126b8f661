import { decodeEnvelope, encodeEnvelope, type Sale } from '@tally/contracts';
import { landSettled } from '../../apps/aggregator/src/pipeline/sales-folder.js';
import { contributionOf } from '../../apps/aggregator/src/windows/sale-contribution.js';
import { WindowState } from '../../apps/aggregator/src/windows/window-state.js';
import { round } from '../common/bench-math.js';
import type { Line } from '../common/bench-output.js';
import { defaultLayout } from './app-layout.js';
import { TICK_MS } from './apply-case.js';
import { forceGc, mib } from './gc-time.js';
import type { BenchOptions } from './options.js';
import { SaleGenerator } from './sale-generator.js';

/** From the issue: RSS after 10M sales at most this times RSS after 1M. */
export const RSS_GOAL_RATIO = 1.2;
/** Every this many sales, one canonical sale is checked byte for byte against validateSale. */
const CHECK_EVERY = 10_000;
const MAX_DELAY_MS = 2_000;

interface Point {
  readonly sales: number;
  readonly rss_mib: number;
  readonly heap_used_mib: number;
  readonly heap_total_mib: number;
  readonly external_mib: number;
  readonly key_count: number;
  readonly event_hours: number;
  readonly wall_s: number;
}

/**
 * The rss case's measuring part, in a child process run with --expose-gc and Node's default
 * heap (the app's). Sales are generated on the fly (never held), in envelopes of
 * `envelopeSize` that go through encodeEnvelope and decodeEnvelope, so the state holds strings
 * as the app's does (from JSON.parse); the clock moves through simulated event time at
 * `rssRate` sales/s and is advanced every 250 ms of it. At each point: two forced GCs, then
 * process.memoryUsage().
 */
export async function rssChild(options: BenchOptions, log: (m: string) => void): Promise<Line> {
  if (!forceGc()) throw new Error('the rss child needs --expose-gc');
  const startRss = process.memoryUsage().rss;
  const layout = defaultLayout();
  const generator = new SaleGenerator(options.seed);
  const total = options.rssTotal;
  const stepMs = 1000 / options.rssRate;
  const startMs = Date.now() - Math.round(total * stepMs);
  const state = new WindowState(layout, startMs);
  const size = options.envelopeSize;
  const started = performance.now();
  const points: Point[] = [];
  let nextTick = startMs;
  let live = 0;
  let checked = 0;
  let applied = 0;
  let nextLog = 1_000_000;
  const chunk: Sale[] = [];
  const targets = [options.rssFirst, total];

  while (applied < total) {
    const target = targets.find((t) => t > applied)!;
    chunk.length = 0;
    for (let i = applied; i < Math.min(applied + size, target); i++) {
      const occurredAt = startMs + Math.floor(i * stepMs);
      const sale = generator.sale(occurredAt, occurredAt + (i % MAX_DELAY_MS));
      if (i % CHECK_EVERY === 0) {
        generator.check(sale);
        checked++;
      }
      chunk.push(sale);
    }
    for (const sale of decodeEnvelope(encodeEnvelope(chunk))) {
      const c = contributionOf(sale);
      if (c.receivedAtMs >= nextTick) {
        state.advance(c.receivedAtMs);
        landSettled(state); // as the app does after each tick
        nextTick = c.receivedAtMs + TICK_MS;
      }
      if (state.apply(c) === 'live') live++;
    }
    applied += chunk.length;
    if (applied >= nextLog) {
      const s = (performance.now() - started) / 1000;
      log(
        `rss: ${applied.toLocaleString('en')} sales in ${round(s, 1)} s, rss ${mib(process.memoryUsage().rss)} MiB`,
      );
      nextLog += 1_000_000;
    }
    if (applied === target) {
      const wall = (performance.now() - started) / 1000;
      state.flush();
      forceGc();
      const memory = process.memoryUsage();
      points.push({
        sales: applied,
        rss_mib: mib(memory.rss),
        heap_used_mib: mib(memory.heapUsed),
        heap_total_mib: mib(memory.heapTotal),
        external_mib: mib(memory.external),
        key_count: state.keyCount,
        event_hours: round((applied * stepMs) / 3_600_000, 2),
        wall_s: round(wall, 1),
      });
      log(`rss: at ${applied} sales: ${JSON.stringify(points.at(-1))}`);
    }
  }
  const [first, last] = [points[0]!, points.at(-1)!];
  const ratio = last.rss_mib / first.rss_mib;
  return {
    case: 'rss',
    what: `sales generated on the fly through encode/decodeEnvelope (${size} per envelope), event time advancing at ${options.rssRate} sales/s, clock advanced every 250 ms; memory after two forced GCs`,
    first_sales: first.sales,
    total_sales: last.sales,
    rss_first_mib: first.rss_mib,
    rss_total_mib: last.rss_mib,
    ratio: round(ratio, 3),
    key_count_first: first.key_count,
    key_count_total: last.key_count,
    heap_used_first_mib: first.heap_used_mib,
    heap_used_total_mib: last.heap_used_mib,
    heap_total_first_mib: first.heap_total_mib,
    heap_total_total_mib: last.heap_total_mib,
    event_hours_first: first.event_hours,
    event_hours_total: last.event_hours,
    simulated_sales_per_s: options.rssRate,
    live_share: round(live / applied, 4),
    returns: generator.returns,
    checked_against_validate_sale: checked,
    rss_at_start_mib: mib(startRss),
    max_rss_mib: mib(process.resourceUsage().maxRSS * 1024),
    wall_s_first: first.wall_s,
    wall_s_total: last.wall_s,
    sales_per_s: Math.round(last.sales / last.wall_s),
    goal_ratio: RSS_GOAL_RATIO,
    meets_goal: ratio <= RSS_GOAL_RATIO,
  };
}
