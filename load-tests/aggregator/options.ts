import { parseArgs } from 'node:util';

export const CASES = ['apply', 'rss', 'restart', 'freshness'] as const;
export type CaseName = (typeof CASES)[number];

export interface BenchOptions {
  readonly cases: readonly CaseName[];
  readonly seed: number;
  /** apply: sales generated and applied. */
  readonly sales: number;
  /** apply: sales applied to a throw-away state before each timed pass. */
  readonly warmupSales: number;
  /** apply: sales per envelope in the envelope path. */
  readonly envelopeSize: number;
  /** rss: the first and the second measuring point. */
  readonly rssFirst: number;
  readonly rssTotal: number;
  /** rss: simulated sales per second of event time. */
  readonly rssRate: number;
  /** restart: sales per second the 24 h of state stand for. */
  readonly restartRate: number;
  /** restart: the most recent minutes applied sale by sale; older event time by key coverage. */
  readonly restartDetailMin: number;
  /** restart: checkpoint interval, whose sales are replayed after the snapshot. */
  readonly checkpointIntervalS: number;
  /** restart: sales per stream message in the replay (1: one message per sale, the worst case). */
  readonly replayPerMessage: number;
  /** restart: --max-old-space-size of the process that builds the state (MiB). */
  readonly restartHeapMb: number;
  /** freshness: sales per second sent to ingest, measured seconds, warm-up seconds, sales per request. */
  readonly rate: number;
  readonly durationS: number;
  readonly warmupS: number;
  readonly batchSize: number;
  /** freshness: a client reads the 1 h summary every this many ms meanwhile (0: no reader). */
  readonly readEveryMs: number;
  /** Internal: run one case's measuring part in this (child) process. */
  readonly child: 'rss' | 'restart' | undefined;
}

export const USAGE = `Usage: npm run bench:aggregator -- [options]

  --case <list>               comma-separated: apply, rss, restart, freshness or all (default all)
  --seed <n>                  seed of the sale generator (default 20261121)

  apply
  --sales <n>                 sales generated and applied (default 1000000)
  --warmup-sales <n>          sales applied to a throw-away state before each pass (default 200000)
  --envelope-size <n>         sales per envelope in the envelope path (default 100)

  rss
  --rss-first <n>             first measuring point (default 1000000)
  --rss-total <n>             second measuring point (default 10000000)
  --rss-rate <n>              simulated sales per second of event time (default 10)

  restart
  --restart-rate <n>          sales per second the 24 h state stands for (default 1000)
  --restart-detail-min <n>    most recent minutes applied sale by sale (default 15)
  --checkpoint-interval <s>   seconds of sales replayed after the snapshot (default 10)
  --replay-per-message <n>    sales per stream message in the replay (default 1)
  --restart-heap-mb <n>       --max-old-space-size of the process building the state (default 16384)

  freshness
  --rate <n>                  sales per second sent through ingest (default 5000)
  --duration <s>              seconds measured (default 30)
  --warmup <s>                seconds of load before the measured window (default 5)
  --batch-size <n>            sales per POST /v1/sales/batch request (default 50)
  --read-every <ms>           a client reads GET /v1/analytics/summary?window=1h every <ms>
                              while measuring, as a dashboard would (default 0: none)
  --help`;

export function parseOptions(argv: readonly string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      case: { type: 'string', default: 'all' },
      seed: { type: 'string', default: '20261121' },
      sales: { type: 'string', default: '1000000' },
      'warmup-sales': { type: 'string', default: '200000' },
      'envelope-size': { type: 'string', default: '100' },
      'rss-first': { type: 'string', default: '1000000' },
      'rss-total': { type: 'string', default: '10000000' },
      'rss-rate': { type: 'string', default: '10' },
      'restart-rate': { type: 'string', default: '1000' },
      'restart-detail-min': { type: 'string', default: '15' },
      'checkpoint-interval': { type: 'string', default: '10' },
      'replay-per-message': { type: 'string', default: '1' },
      'restart-heap-mb': { type: 'string', default: '16384' },
      rate: { type: 'string', default: '5000' },
      duration: { type: 'string', default: '30' },
      warmup: { type: 'string', default: '5' },
      'batch-size': { type: 'string', default: '50' },
      'read-every': { type: 'string', default: '0' },
      child: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help';
  const wanted = values.case.split(',').map((c) => c.trim());
  for (const c of wanted) {
    if (c !== 'all' && !(CASES as readonly string[]).includes(c))
      throw new Error(`--case: unknown case "${c}"`);
  }
  const child = values.child;
  if (child !== undefined && child !== 'rss' && child !== 'restart') throw new Error(`--child: "${child}"`);
  const rssFirst = integer('--rss-first', values['rss-first'], 1, 1e9);
  const rssTotal = integer('--rss-total', values['rss-total'], 1, 1e9);
  if (rssTotal < rssFirst) throw new Error('--rss-total: must be at least --rss-first');
  return {
    cases: wanted.includes('all') ? CASES : CASES.filter((c) => wanted.includes(c)),
    seed: integer('--seed', values.seed, 0, 2 ** 32 - 1),
    sales: integer('--sales', values.sales, 1, 100_000_000),
    warmupSales: integer('--warmup-sales', values['warmup-sales'], 0, 100_000_000),
    envelopeSize: integer('--envelope-size', values['envelope-size'], 1, 5_000),
    rssFirst,
    rssTotal,
    rssRate: number('--rss-rate', values['rss-rate'], 0.001, 1e6),
    restartRate: number('--restart-rate', values['restart-rate'], 1, 1e6),
    restartDetailMin: integer('--restart-detail-min', values['restart-detail-min'], 1, 60),
    checkpointIntervalS: number('--checkpoint-interval', values['checkpoint-interval'], 0.1, 3600),
    replayPerMessage: integer('--replay-per-message', values['replay-per-message'], 1, 5_000),
    restartHeapMb: integer('--restart-heap-mb', values['restart-heap-mb'], 256, 1_000_000),
    rate: number('--rate', values.rate, 1, 1e6),
    durationS: number('--duration', values.duration, 1, 3600),
    warmupS: number('--warmup', values.warmup, 0, 600),
    batchSize: integer('--batch-size', values['batch-size'], 1, 5_000),
    readEveryMs: integer('--read-every', values['read-every'], 0, 60_000),
    child,
  };
}

function number(flag: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`${flag}: expected a number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function integer(flag: string, raw: string, min: number, max: number): number {
  const value = number(flag, raw, min, max);
  if (!Number.isInteger(value)) throw new Error(`${flag}: expected an integer, got "${raw}"`);
  return value;
}
