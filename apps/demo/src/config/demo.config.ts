import path from 'node:path';
import { parseArgs } from 'node:util';
import { envCatalogBucket } from '@tally/catalog';
import { ConfigError, type Env, envString } from '@tally/common';
import { DEFAULT_STREAM, DEFAULT_SUBJECT_PREFIX } from '@tally/contracts';
import { DEFAULT_NATS_URL } from '@tally/nats';
import { DEFAULT_DATABASE_URL } from '@tally/postgres';
import { type CatalogFiles, sampleCatalogFiles } from '../catalog/demo-catalog.loader.js';

/** A port of one of the demo's apps: the one asked for, and whether it was asked for explicitly. */
export interface PortChoice {
  readonly port: number;
  /** False for a default: when it is taken the demo picks a free port instead of failing. */
  readonly explicit: boolean;
}

export type SpannerMode = 'auto' | 'off';

/** Everything `npm run demo` does, from its arguments and the environment, validated once. */
export interface DemoConfig {
  /** Sales per second the simulator offers. */
  readonly rate: number;
  /** Sales to send; undefined: until Ctrl-C. */
  readonly sales: number | undefined;
  /** Check and exit once the sales are sent (exit code: whether every store agrees). */
  readonly exit: boolean;
  /** Longest wait for the stores to hold every acknowledged sale, before checking anyway. */
  readonly waitMs: number;
  /** Print the result as one JSON line on stdout (everything else goes to stderr). */
  readonly json: boolean;
  /** `auto`: the Spanner sink runs when an emulator is installed (or SPANNER_EMULATOR_HOST is set). */
  readonly spanner: SpannerMode;
  readonly seed: number;
  /** The catalog CSV files the demo imports and the simulator sells from (absolute paths). */
  readonly catalogFiles: CatalogFiles;
  /** Ingest runs with the supermarket's rules (CATALOG_ENFORCE=on, MAX_UNITS_PER_PRODUCT); --no-rules: off. */
  readonly rules: boolean;
  /** Share of receipts that break a catalog rule on purpose (0: none). */
  readonly badShare: number;
  /** KV bucket of the catalog (TALLY_CATALOG_BUCKET, default `<stream>_catalog`), as ingest reads it. */
  readonly catalogBucket: string;
  readonly ports: {
    readonly ingest: PortChoice;
    readonly aggregator: PortChoice;
    readonly writerPostgres: PortChoice;
    readonly writerSpanner: PortChoice;
    readonly query: PortChoice;
  };
  readonly natsUrl: string;
  readonly databaseUrl: string;
  readonly stream: string;
  readonly subjectPrefix: string;
  /** A running emulator to use instead of starting one. */
  readonly spannerEmulatorHost: string | undefined;
  /** ClickHouse is off when the aggregator runs with AGGREGATOR_CLICKHOUSE=off. */
  readonly clickhouse: 'embedded' | 'server' | 'off';
  /** Folder of the demo's own files (logs, the record of its child processes). */
  readonly dataDir: string;
}

export const DEMO_USAGE = `npm run demo -- [options]

  --rate <n>          sales per second offered (default 200)
  --sales <n>         sales to send (default: until Ctrl-C)
  --exit              once sent, wait for every store, print the check and exit:
                      0 when all agree, 1 when one disagrees (named), 3 when the demo could not run
  --wait <seconds>    longest wait for the stores before checking anyway (default 60)
  --json              print the check as one JSON line on stdout (the rest goes to stderr)
  --no-spanner        leave the Spanner sink off even when the emulator is installed
  --catalog <file>    products CSV to import and sell from (default apps/catalog/samples/supermarket-products.csv)
  --branches <file>   branches CSV, likewise (default apps/catalog/samples/supermarket-branches.csv)
  --no-rules          run ingest without the supermarket's rules (default: CATALOG_ENFORCE=on,
                      MAX_UNITS_PER_PRODUCT=1)
  --bad-share <f>     share of receipts (0 to 0.5, e.g. 0.02) that break a rule on purpose: an unlisted
                      product, 2 units of a product, an unlisted branch; their rejections are counted by rule
  --seed <n>          simulator seed (default: from the clock)
  --port <n>          ingest port (default 3000; the others: --aggregator-port 3001,
                      --writer-port 3002, --query-port 3003, --spanner-writer-port 3004).
                      A default port that is taken is replaced by a free one; an explicit one must be free.

Environment: NATS_URL, DATABASE_URL, TALLY_STREAM, TALLY_SUBJECT_PREFIX, TALLY_CATALOG_BUCKET,
SPANNER_EMULATOR_HOST (use a running emulator), SPANNER_EMULATOR_BIN (where emulator_main is),
CLICKHOUSE_URL, AGGREGATOR_CLICKHOUSE.`;

export class DemoUsageError extends ConfigError {}

/** Parses `npm run demo -- ...`; throws DemoUsageError naming the option and the rule. */
export function loadDemoConfig(argv: readonly string[], env: Env, now: number = Date.now()): DemoConfig {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      allowNegative: true,
      strict: true,
      options: {
        rate: { type: 'string' },
        sales: { type: 'string' },
        exit: { type: 'boolean' },
        wait: { type: 'string' },
        json: { type: 'boolean' },
        spanner: { type: 'boolean' },
        catalog: { type: 'string' },
        branches: { type: 'string' },
        rules: { type: 'boolean' },
        'bad-share': { type: 'string' },
        seed: { type: 'string' },
        port: { type: 'string' },
        'aggregator-port': { type: 'string' },
        'writer-port': { type: 'string' },
        'query-port': { type: 'string' },
        'spanner-writer-port': { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (error) {
    throw new DemoUsageError(`${(error as Error).message}\n\n${DEMO_USAGE}`);
  }
  if (values.help) throw new DemoUsageError(DEMO_USAGE);
  const str = (name: string) => values[name] as string | undefined;
  const sales = str('sales') === undefined ? undefined : integer('--sales', str('sales')!, 1, 10_000_000);
  const clickhouseOff = envString(env, 'AGGREGATOR_CLICKHOUSE', 'on') === 'off';
  const stream = envString(env, 'TALLY_STREAM', DEFAULT_STREAM);
  return {
    rate: number('--rate', str('rate') ?? '200', 0.1, 100_000),
    sales,
    exit: values.exit === true,
    waitMs: number('--wait', str('wait') ?? '60', 1, 3600) * 1000,
    json: values.json === true,
    spanner: values.spanner === false ? 'off' : 'auto',
    seed: str('seed') === undefined ? now % 2 ** 31 : integer('--seed', str('seed')!, 0, 2 ** 31 - 1),
    catalogFiles: catalogFiles(str('catalog'), str('branches'), env),
    rules: values.rules !== false,
    badShare: str('bad-share') === undefined ? 0 : number('--bad-share', str('bad-share')!, 0, 0.5),
    catalogBucket: configured(() => envCatalogBucket(env, stream)),
    ports: {
      ingest: port('--port', str('port'), 3000),
      aggregator: port('--aggregator-port', str('aggregator-port'), 3001),
      writerPostgres: port('--writer-port', str('writer-port'), 3002),
      query: port('--query-port', str('query-port'), 3003),
      writerSpanner: port('--spanner-writer-port', str('spanner-writer-port'), 3004),
    },
    natsUrl: envString(env, 'NATS_URL', DEFAULT_NATS_URL),
    databaseUrl: envString(env, 'DATABASE_URL', DEFAULT_DATABASE_URL),
    stream,
    subjectPrefix: envString(env, 'TALLY_SUBJECT_PREFIX', DEFAULT_SUBJECT_PREFIX),
    spannerEmulatorHost: envString(env, 'SPANNER_EMULATOR_HOST', '') || undefined,
    clickhouse: clickhouseOff ? 'off' : envString(env, 'CLICKHOUSE_URL', '') ? 'server' : 'embedded',
    dataDir: 'data/demo',
  };
}

/**
 * The catalog files: a path given on the command line is relative to where the command was typed
 * (npm runs scripts from the package root and says where the user was in INIT_CWD); a file not
 * given is the supermarket sample.
 */
function catalogFiles(products: string | undefined, branches: string | undefined, env: Env): CatalogFiles {
  const typedIn = env.INIT_CWD ?? process.cwd();
  let samples: CatalogFiles | undefined;
  const sample = (kind: keyof CatalogFiles, option: string): string => {
    try {
      samples ??= sampleCatalogFiles();
    } catch {
      throw new DemoUsageError(
        `cannot find apps/catalog/samples/ from ${process.cwd()}: give ${option} <file>`,
      );
    }
    return samples[kind];
  };
  return {
    products: products === undefined ? sample('products', '--catalog') : path.resolve(typedIn, products),
    branches: branches === undefined ? sample('branches', '--branches') : path.resolve(typedIn, branches),
  };
}

/** A setting read from the environment: its ConfigError becomes a usage error. */
function configured<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof ConfigError) throw new DemoUsageError(error.message);
    throw error;
  }
}

function number(option: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new DemoUsageError(`${option} ${raw}: must be a number from ${min} to ${max}`);
  }
  return value;
}

function integer(option: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    throw new DemoUsageError(`${option} ${raw}: must be an integer from ${min} to ${max}`);
  }
  return value;
}

function port(option: string, raw: string | undefined, fallback: number): PortChoice {
  if (raw === undefined) return { port: fallback, explicit: false };
  return { port: integer(option, raw, 1, 65_535), explicit: true };
}
