import { decodeEnvelope, encodeEnvelope, type Sale, unitsOf } from '@tally/contracts';
import type { InboundMessage } from '@tally/nats';
import { pino } from 'pino';
import { AggregatorMetrics } from '../../apps/aggregator/src/metrics/aggregator.metrics.js';
import { landSettled, SalesFolder } from '../../apps/aggregator/src/pipeline/sales-folder.js';
import { contributionOf } from '../../apps/aggregator/src/windows/sale-contribution.js';
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
 *   receivedAt and landing settled staged sales for up to 3 ms after each move (landSettled), as the app does, and
 *   landing the rest at the end; plus contributionOf alone, to split the cost;
 * - `apply-dense`: `apply` with the event time compressed to the goal's rate (500,000 sales per
 *   second of event time): what a stream that busy costs, where `apply` is a slow stream replayed;
 * - `apply-envelope`: the app's per-message path: the same sales in envelopes (encodeEnvelope,
 *   before the clock), folded by the real SalesFolder (decodeEnvelope, contributionOf, apply,
 *   landing, the freshness histogram and counters), ticking its clock every 250 ms;
 * - `apply-envelope-dense`: the same on apply-dense's sales.
 *
 * The input is held as encoded envelopes (off the JS heap, as a consumer's messages are), and
 * each envelope is decoded just before its sales are applied, outside the timed loops, as
 * SalesFolder decodes a message and folds its sales: 1M sales as objects would make the
 * benchmark's own heap, not the engine, what the garbage collector spends its time on, and sales
 * decoded long before they are applied would be read back from memory instead of the caches.
 * Each timed pass runs on a fresh state after a warm-up pass over the first `warmupSales`
 * sales on a throw-away one.
 */
export async function runApplyCase(options: BenchOptions, log: (m: string) => void): Promise<Line[]> {
  const layout = defaultLayout();
  const n = options.sales;
  const warm = Math.min(options.warmupSales, n);
  const size = options.envelopeSize;
  // The same traffic at the goal's rate: event time advances one second per 500,000 sales, as
  // it would if sales really arrived that fast (the 1 h case below is a slow stream replayed).
  // First, and in a block of its own: its input is garbage before the 1 h case's is made.
  const denseSpanMs = Math.max(1000, Math.round((n / APPLY_GOAL_PER_S) * 1000));
  log(`apply-dense: generating ${n} sales over ${denseSpanMs / 1000} s of event time`);
  const denseRun = await (async () => {
    const dense = generateInput(n, options.seed, denseSpanMs, size);
    applyPass(dense, warm, layout);
    const gc = gcTimer();
    const run = applyPass(dense, n, layout);
    const gcMs = await gc();
    const keyCount = run.state.keyCount;
    run.state = undefined as unknown as WindowState;
    // The app's path at that rate: the same envelopes through SalesFolder (decode included).
    const messages = dense.envelopes.map((data, i) => fakeMessage(data, i + 1));
    folderPass(messages.slice(0, Math.ceil(warm / size)), layout, dense.startMs);
    const folded = folderPass(messages, layout, dense.startMs);
    return { seconds: run.seconds, gcMs, keyCount, folderSeconds: folded.seconds };
  })();
  const denseLine: Line = {
    case: 'apply-dense',
    what: `as apply, but the sales' event time spans ${denseSpanMs / 1000} s (${APPLY_GOAL_PER_S} sales per second of event time)`,
    sales: n,
    sales_per_s: Math.round(n / denseRun.seconds),
    seconds: round(denseRun.seconds, 2),
    us_per_sale: round((denseRun.seconds / n) * 1e6, 2),
    gc_share: round(denseRun.gcMs / 1000 / denseRun.seconds, 3),
    key_count: denseRun.keyCount,
    event_span_s: denseSpanMs / 1000,
    goal_sales_per_s: APPLY_GOAL_PER_S,
    meets_goal: n / denseRun.seconds >= APPLY_GOAL_PER_S,
  };
  log(`apply-dense: ${denseLine.sales_per_s} sales/s`);
  const denseEnvelope: Line = {
    case: 'apply-envelope-dense',
    what: `as apply-envelope, on apply-dense's sales (${APPLY_GOAL_PER_S} sales per second of event time)`,
    sales: n,
    envelope_size: size,
    sales_per_s: Math.round(n / denseRun.folderSeconds),
    seconds: round(denseRun.folderSeconds, 2),
    us_per_sale: round((denseRun.folderSeconds / n) * 1e6, 2),
    goal_sales_per_s: APPLY_GOAL_PER_S,
    meets_goal: n / denseRun.folderSeconds >= APPLY_GOAL_PER_S,
  };
  log(`apply-envelope-dense: ${denseEnvelope.sales_per_s} sales/s`);

  log(`apply: generating ${n.toLocaleString('en')} sales through validateSale`);
  const generated = performance.now();
  const input = generateInput(n, options.seed, SPAN_MS, size);
  const generateS = (performance.now() - generated) / 1000;
  log(`apply: ${n} sales (${input.lines} lines, ${input.returns} returns) in ${round(generateS, 1)} s`);

  // Baseline: what any consumer does at least, once per sale.
  let sum = 0;
  const bareLoop = (sales: readonly Sale[]) => {
    for (const sale of sales) sum += unitsOf(sale.total);
  };
  timedOver(input, warm, bareLoop);
  sum = 0;
  const bareS = timedOver(input, n, bareLoop);
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
  let units = 0;
  const contributions = (sales: readonly Sale[]) => {
    for (const sale of sales) units += contributionOf(sale).units;
  };
  timedOver(input, warm, contributions);
  const contribS = timedOver(input, n, contributions);

  applyPass(input, warm, layout);
  log(`apply: timing ${n} sales (contributionOf + WindowState.apply + advance every ${TICK_MS} ms)`);
  const applyGc = gcTimer();
  const applied = applyPass(input, n, layout);
  const applyGcMs = await applyGc();
  const apply: Line = {
    case: 'apply',
    what: 'contributionOf(sale) then WindowState.apply, clock advanced every 250 ms of receivedAt, staged sales landed as in the app',
    sales: n,
    lines: input.lines,
    returns: input.returns,
    sales_per_s: Math.round(n / applied.seconds),
    seconds: round(applied.seconds, 2),
    us_per_sale: round((applied.seconds / n) * 1e6, 2),
    contribution_only_per_s: Math.round(n / contribS),
    contribution_share: round(contribS / applied.seconds, 3),
    contribution_checksum_units: units,
    gc_share: round(applyGcMs / 1000 / applied.seconds, 3),
    live: applied.live,
    late: n - applied.live,
    advances: applied.advances,
    key_count: applied.state.keyCount,
    heap_used_mib: mib(process.memoryUsage().heapUsed),
    event_span_s: SPAN_MS / 1000,
    warmup_sales: warm,
    input: `envelopes of ${size}, each decoded just before its sales are applied, outside the timed loop`,
    goal_sales_per_s: APPLY_GOAL_PER_S,
    meets_goal: n / applied.seconds >= APPLY_GOAL_PER_S,
  };
  log(`apply: ${apply.sales_per_s} sales/s (${apply.us_per_sale} µs/sale), ${apply.key_count} keys`);
  applied.state = undefined as unknown as WindowState;

  // The app's path: envelopes folded by SalesFolder.
  const messages = input.envelopes.map((data, i) => fakeMessage(data, i + 1));
  const payloadBytes = messages.reduce((s, m) => s + m.data.length, 0);
  folderPass(messages.slice(0, Math.ceil(warm / size)), layout, input.startMs);
  log(`apply-envelope: timing ${messages.length} envelopes of ${size} sales through SalesFolder.fold`);
  const folderGc = gcTimer();
  const folded = folderPass(messages, layout, input.startMs);
  const folderGcMs = await folderGc();
  const envelope: Line = {
    case: 'apply-envelope',
    what: `SalesFolder.fold of envelopes of ${size} sales (decodeEnvelope, contributionOf, apply, metrics) and SalesFolder.land after each, clock ticked every 250 ms`,
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
    denseEnvelope,
    ratio(apply, bare),
    ratio(envelope, bare),
    ratio(denseLine, bare),
    ratio(denseEnvelope, bare),
  ];
}

/** The generated sales, encoded: envelopes of `size` sales, in order. */
interface Input {
  readonly envelopes: Uint8Array[];
  readonly envelopeSize: number;
  readonly lines: number;
  readonly returns: number;
  readonly startMs: number;
}

/** N validated sales, occurredAt ascending over `spanMs` before now, received 0–2 s later. */
function generateInput(n: number, seed: number, spanMs: number, envelopeSize: number): Input {
  const generator = new SaleGenerator(seed);
  const endMs = Date.now();
  const startMs = endMs - spanMs;
  const envelopes: Uint8Array[] = [];
  let lines = 0;
  let returns = 0;
  let delaySeed = seed;
  let pending: Sale[] = [];
  for (let i = 0; i < n; i++) {
    const occurredAt = startMs + Math.floor((i * spanMs) / n);
    delaySeed = (delaySeed * 1_103_515_245 + 12_345) >>> 0;
    const sale = generator.validatedSale(occurredAt, occurredAt + (delaySeed % MAX_DELAY_MS));
    lines += sale.lines.length;
    if (sale.kind === 'return') returns++;
    pending.push(sale);
    if (pending.length === envelopeSize || i === n - 1) {
      envelopes.push(encodeEnvelope(pending));
      pending = [];
    }
  }
  return { envelopes, envelopeSize, lines, returns, startMs };
}

/**
 * Calls `fn` on the first `limit` sales of the input, an envelope at a time, decoded before
 * each call; returns the seconds spent in `fn` alone.
 */
function timedOver(input: Input, limit: number, fn: (sales: readonly Sale[]) => void): number {
  let seconds = 0;
  let left = limit;
  for (let e = 0; e < input.envelopes.length && left > 0; e++) {
    let sales = decodeEnvelope(input.envelopes[e]!);
    if (sales.length > left) sales = sales.slice(0, left);
    left -= sales.length;
    const started = performance.now();
    fn(sales);
    seconds += (performance.now() - started) / 1000;
  }
  return seconds;
}

interface ApplyRun {
  state: WindowState;
  seconds: number;
  live: number;
  advances: number;
}

function applyPass(input: Input, limit: number, layout: WindowLayout): ApplyRun {
  const state = new WindowState(layout, input.startMs);
  let live = 0;
  let advances = 0;
  let nextTick = input.startMs;
  let seconds = timedOver(input, limit, (sales) => {
    for (const sale of sales) {
      const c = contributionOf(sale);
      if (c.receivedAtMs >= nextTick) {
        state.advance(c.receivedAtMs);
        landSettled(state);
        nextTick = c.receivedAtMs + TICK_MS;
        advances++;
      }
      if (state.apply(c) === 'live') live++;
    }
  });
  // What is still staged lands too (the app lands it within the next second).
  const started = performance.now();
  state.flush();
  seconds += (performance.now() - started) / 1000;
  return { state, seconds, live, advances };
}

function folderPass(
  messages: readonly InboundMessage[],
  layout: WindowLayout,
  startMs: number,
): { seconds: number; appliedThrough: number } {
  const state = new WindowState(layout, startMs);
  const folder = new SalesFolder(state, 0, new AggregatorMetrics(), pino({ level: 'silent' }));
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
    folder.land();
  }
  state.flush();
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
