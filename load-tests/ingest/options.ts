import { parseArgs } from 'node:util';

export const CASES = ['single', 'batch', 'batch-ndjson', 'raw-jetstream-per-sale', 'http-floor'] as const;
export type CaseName = (typeof CASES)[number];

export interface BenchOptions {
  /** Seconds measured per case. */
  readonly durationS: number;
  /** Seconds of unmeasured load before each case (JIT, connection set-up, stream files). */
  readonly warmupS: number;
  /** HTTP connections of the single-sale and http-floor cases. */
  readonly connections: number;
  /** HTTP connections of the batch cases. */
  readonly batchConnections: number;
  readonly batchSize: number;
  /** Publishes awaiting their PubAck in the raw JetStream baseline. */
  readonly inFlight: number;
  readonly cases: readonly CaseName[];
}

export const USAGE = `Usage: npm run bench:ingest -- [options]

  --duration <s>           seconds measured per case (default 10)
  --warmup <s>             seconds of unmeasured load before each case (default 2)
  --connections <n>        connections for single and http-floor (default 64)
  --batch-connections <n>  connections for batch and batch-ndjson (default 8)
  --batch-size <n>         sales per batch request (default 1000)
  --in-flight <n>          concurrent publishes of raw-jetstream-per-sale (default 256)
  --cases <list>           comma-separated subset of: ${CASES.join(', ')}
  --help`;

export function parseOptions(argv: readonly string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      connections: { type: 'string', default: '64' },
      'batch-connections': { type: 'string', default: '8' },
      'batch-size': { type: 'string', default: '1000' },
      'in-flight': { type: 'string', default: '256' },
      cases: { type: 'string', default: CASES.join(',') },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help';
  const cases = values.cases.split(',').map((c) => c.trim());
  for (const c of cases) {
    if (!(CASES as readonly string[]).includes(c)) throw new Error(`--cases: unknown case "${c}"`);
  }
  const batchMax = Number(process.env.INGEST_BATCH_MAX_SALES ?? 5000);
  return {
    durationS: number('--duration', values.duration, 1, 3600),
    warmupS: number('--warmup', values.warmup, 0, 600),
    connections: integer('--connections', values.connections, 1, 10_000),
    batchConnections: integer('--batch-connections', values['batch-connections'], 1, 10_000),
    batchSize: integer('--batch-size', values['batch-size'], 1, batchMax),
    inFlight: integer('--in-flight', values['in-flight'], 1, 100_000),
    cases: CASES.filter((c) => cases.includes(c)),
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
