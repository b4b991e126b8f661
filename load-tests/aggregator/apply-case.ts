import { encodeEnvelope, type Sale, unitsOf } from '@tally/contracts';
import type { InboundMessage } from '@tally/nats';
import { pino } from 'pino';
import { AggregatorMetrics } from '../../apps/aggregator/src/metrics/aggregator.metrics.js';
import { SalesFolder } from '../../apps/aggregator/src/pipeline/sales-folder.js';
import {
  contributionOf,
  type SaleContribution,
} from '../../apps/aggregator/src/windows/sale-contribution.js';
import type { WindowLayout } from '../../apps/aggregator/src/windows/window-spec.js';
import { WindowState } from '../../apps/aggregator/src/windows/window-state.js';
import { round } from '../common/bench-math.js';
import type { Line } from '../common/bench-output.js';
import { defaultLayout } from './app-layout.js';
import { gcTimer, mib } from './gc-time.js';
import type { BenchOptions } from './options.js';
import { SaleGenerator } from './sale-generator.js';

/** From the issue: sales applied per second in-process. */
export const APPLY_GOAL_PER_S = 500_000;
/** The app moves the windows' clock every 250 ms (AGGREGATOR_TICK) and before each batch. */
export const TICK_MS = 250;
/** Event time the apply case's sales are spread over, ending now. */
const SPAN_MS = 3_600_000;
/** ingest stamps receivedAt a little after the till's occurredAt. */
const MAX_DELAY_MS = 2_000;

/**
 * The apply case, all in this process: N validated sales of the last hour, then
 *
 * - `bare-loop`: the baseline, Σ unitsOf(sale.total) over the same sales;
 * - `apply`: contributionOf(sale) → WindowState.apply, moving the clock every 250 ms of
 *   receivedAt, as the app does; plus contributionOf alone, to split the cost;
 * - `apply-dense`: `apply` with the event time compressed to the goal's rate (500,000 sales per
 *   second of event time): what a stream that busy costs, where `apply` is a slow stream replayed;
 * - `apply-envelope`: the app's per-message path: the same sales in envelopes (encodeEnvelope,
 *   before the clock), folded by the real SalesFolder (decodeEnvelope, contributionOf, apply,
 *   the freshness histogram and counters), ticking its clock every 250 ms.
 *
 * Each timed pass runs on a fresh state after a warm-up pass over the first `warmupSales`
 * sales on a throw-away one.
 */
export async function runApplyCase(options: BenchOptions, log: (m: string) => void): Promise<Line[]> {
  const layout = defaultLayout();
  const n = options.sales;
  const warm = Math.min(options.warmupSales, n);
  log(`apply: generating ${n.toLocaleString('en')} sales through validateSale`);
  const generated = performance.now();
  const { sales, startMs } = generateSales(n, options.seed);
  const generateS = (performance.now() - generated) / 1000;
  let lines = 0;
  let returns = 0;
  for (const sale of sales) {
    lines += sale.lines.length;
    if (sale.kind === 'return') returns++;
  }
  log(`apply: ${n} sales (${lines} lines, ${returns} returns) in ${round(generateS, 1)} s`);

  // Baseline: what any consumer does at least, once per sale.
  bareLoop(sales.slice(0, warm));
  const bareStart = performance.now();
  const sum = bareLoop(sales);
  const bareS = (performance.now() - bareStart) / 1000;
  const bare: Line = {
    case: 'bare-loop',
    what: 'sum of unitsOf(sale.total) over the same sales',
    sales: n,
    sales_per_s: Math.round(n / bareS),
    seconds: round(bareS, 4),
    checksum_units: sum,
  };
  log(`bare-loop: ${bare.sales_per_s} sales/s`);

  // contributionOf alone, to split the apply figure.
  contributions(sales.slice(0, warm));
  const contribStart = performance.now();
  contributions(sales);
  const contribS = (performance.now() - contribStart) / 1000;

  applyPass(sales.slice(0, warm), layout, startMs);
  log(`apply: timing ${n} sales (contributionOf + WindowState.apply + advance every ${TICK_MS} ms)`);
  const applyGc = gcTimer();
  const applied = applyPass(sales, layout, startMs);
  const applyGcMs = await applyGc();
  const apply: Line = {
    case: 'apply',
    what: 'contributionOf(sale) then WindowState.apply, clock advanced every 250 ms of receivedAt',
    sales: n,
    lines,
    returns,
    sales_per_s: Math.round(n / applied.seconds),
    seconds: round(applied.seconds, 2),
    us_per_sale: round((applied.seconds / n) * 1e6, 2),
    contribution_only_per_s: Math.round(n / contribS),
    contribution_share: round(contribS / applied.seconds, 3),
    gc_share: round(applyGcMs / 1000 / applied.seconds, 3),
    live: applied.live,
    late: n - applied.live,
    advances: applied.advances,
    key_count: applied.state.keyCount,
    heap_used_mib: mib(process.memoryUsage().heapUsed),
    event_span_s: SPAN_MS / 1000,
    warmup_sales: warm,
    goal_sales_per_s: APPLY_GOAL_PER_S,
    meets_goal: n / applied.seconds >= APPLY_GOAL_PER_S,
  };
  log(`apply: ${apply.sales_per_s} sales/s (${apply.us_per_sale} µs/sale), ${apply.key_count} keys`);
  applied.state = undefined as unknown as WindowState;

  // The app's path: envelopes folded by SalesFolder.
  const size = options.envelopeSize;
  const messages: InboundMessage[] = [];
  for (let i = 0; i < n; i += size)
    messages.push(fakeMessage(encodeEnvelope(sales.slice(i, i + size)), messages.length + 1));
  const payloadBytes = messages.reduce((s, m) => s + m.data.length, 0);
  sales.length = 0; // only the encoded envelopes are needed from here on
  folderPass(messages.slice(0, Math.ceil(warm / size)), layout, startMs);
  log(`apply-envelope: timing ${messages.length} envelopes of ${size} sales through SalesFolder.fold`);
  const folderGc = gcTimer();
  const folded = folderPass(messages, layout, startMs);
  const folderGcMs = await folderGc();
  const envelope: Line = {
    case: 'apply-envelope',
    what: `SalesFolder.fold of envelopes of ${size} sales (decodeEnvelope, contributionOf, apply, metrics), clock ticked every 250 ms`,
    sales: n,
    messages: messages.length,
    envelope_size: size,
    payload_mib: mib(payloadBytes),
    sales_per_s: Math.round(n / folded.seconds),
    seconds: round(folded.seconds, 2),
    us_per_sale: round((folded.seconds / n) * 1e6, 2),
    gc_share: round(folderGcMs / 1000 / folded.seconds, 3),
    applied_through: folded.appliedThrough,
    goal_sales_per_s: APPLY_GOAL_PER_S,
    meets_goal: n / folded.seconds >= APPLY_GOAL_PER_S,
  };
  log(`apply-envelope: ${envelope.sales_per_s} sales/s`);

  // The same traffic at the goal's rate: event time advances one second per 500,000 sales, as
  // it would if sales really arrived that fast (the 1 h case above is a slow stream replayed).
  const denseSpanMs = Math.max(1000, Math.round((n / APPLY_GOAL_PER_S) * 1000));
  log(`apply-dense: generating ${n} sales over ${denseSpanMs / 1000} s of event time`);
  const dense = generateSales(n, options.seed, denseSpanMs);
  applyPass(dense.sales.slice(0, warm), layout, dense.startMs);
  const denseGc = gcTimer();
  const denseRun = applyPass(dense.sales, layout, dense.startMs);
  const denseGcMs = await denseGc();
  const denseLine: Line = {
    case: 'apply-dense',
    what: `as apply, but the sales' event time spans ${denseSpanMs / 1000} s (${APPLY_GOAL_PER_S} sales per second of event time)`,
    sales: n,
    sales_per_s: Math.round(n / denseRun.seconds),
    seconds: round(denseRun.seconds, 2),
    us_per_sale: round((denseRun.seconds / n) * 1e6, 2),
    gc_share: round(denseGcMs / 1000 / denseRun.seconds, 3),
    key_count: denseRun.state.keyCount,
    event_span_s: denseSpanMs / 1000,
    goal_sales_per_s: APPLY_GOAL_PER_S,
    meets_goal: n / denseRun.seconds >= APPLY_GOAL_PER_S,
  };
  log(`apply-dense: ${denseLine.sales_per_s} sales/s`);

  const ratio = (a: Line, b: Line) => ({
    ratio: `${a.case}/${b.case}`,
    value: round((a.sales_per_s as number) / (b.sales_per_s as number), 5),
    of: 'sales_per_s',
  });
  return [
    bare,
    apply,
    envelope,
    denseLine,
    ratio(apply, bare),
    ratio(envelope, bare),
    ratio(denseLine, bare),
  ];
}

/** N validated sales, occurredAt ascending over the hour before now, received 0–2 s later. */
function generateSales(n: number, seed: number, spanMs = SPAN_MS): { sales: Sale[]; startMs: number } {
  const generator = new SaleGenerator(seed);
  const endMs = Date.now();
  const startMs = endMs - spanMs;
  const sales: Sale[] = new Array(n);
  let delaySeed = seed;
  for (let i = 0; i < n; i++) {
    const occurredAt = startMs + Math.floor((i * spanMs) / n);
    delaySeed = (delaySeed * 1_103_515_245 + 12_345) >>> 0;
    sales[i] = generator.validatedSale(occurredAt, occurredAt + (delaySeed % MAX_DELAY_MS));
  }
  return { sales, startMs };
}

function bareLoop(sales: readonly Sale[]): number {
  let units = 0;
  for (const sale of sales) units += unitsOf(sale.total);
  return units;
}

function contributions(sales: readonly Sale[]): SaleContribution[] {
  const out: SaleContribution[] = new Array(sales.length);
  for (let i = 0; i < sales.length; i++) out[i] = contributionOf(sales[i]!);
  return out;
}

interface ApplyRun {
  state: WindowState;
  seconds: number;
  live: number;
  advances: number;
}

function applyPass(sales: readonly Sale[], layout: WindowLayout, startMs: number): ApplyRun {
  const state = new WindowState(layout, startMs);
  let live = 0;
  let advances = 0;
  let nextTick = startMs;
  const started = performance.now();
  for (const sale of sales) {
    const c = contributionOf(sale);
    if (c.receivedAtMs >= nextTick) {
      state.advance(c.receivedAtMs);
      nextTick = c.receivedAtMs + TICK_MS;
      advances++;
    }
    if (state.apply(c) === 'live') live++;
  }
  return { state, seconds: (performance.now() - started) / 1000, live, advances };
}

function folderPass(
  messages: readonly InboundMessage[],
  layout: WindowLayout,
  startMs: number,
): { seconds: number; appliedThrough: number } {
  const folder = new SalesFolder(
    new WindowState(layout, startMs),
    0,
    new AggregatorMetrics(),
    pino({ level: 'silent' }),
  );
  // The simulated clock: each envelope is "fetched" when its last sale was received.
  const received = messages.map((m) => lastReceivedAt(m.data));
  let nextTick = startMs;
  const started = performance.now();
  for (let i = 0; i < messages.length; i++) {
    const now = received[i]!;
    if (now >= nextTick) {
      folder.tick(now);
      nextTick = now + TICK_MS;
    }
    folder.fold(messages[i]!, 'applied', now);
  }
  return { seconds: (performance.now() - started) / 1000, appliedThrough: folder.appliedThrough };
}

/** receivedAt of an envelope's last sale, read from its bytes (before the clock starts). */
function lastReceivedAt(data: Uint8Array): number {
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
  const at = text.lastIndexOf('"receivedAt":"');
  return Date.parse(text.slice(at + 14, text.indexOf('"', at + 14)));
}

function fakeMessage(data: Uint8Array, seq: number): InboundMessage {
  const noop = () => undefined;
  return {
    data,
    subject: 'bench.sales',
    seq,
    headers: undefined,
    info: { deliveryCount: 1, stream: 'BENCH', pending: 0 },
    ack: noop,
    nak: noop,
    working: noop,
    term: noop,
  };
}
