import path from 'node:path';
import { parseArgs } from 'node:util';

export const PACKINGS = ['single', 'envelope'] as const;
export type Packing = (typeof PACKINGS)[number];

export interface BenchOptions {
  /** Sales preloaded into the stream and inserted by the baseline. */
  readonly sales: number;
  /** Sales per transaction: the writer's WRITER_BATCH_MAX_SALES and the baseline's chunk size. */
  readonly batch: number;
  /** How the sales are published: one per message, or envelopes of up to 500 per branch. */
  readonly packing: Packing;
  /** Each measurement is taken this many times; the lines report the median. */
  readonly repeat: number;
  /** Keep the two databases and the stream at the end (their names go to stderr). */
  readonly keep: boolean;
  /** Write a CPU profile of the writer process into this folder (node --cpu-prof). */
  readonly writerCpuProf: string | undefined;
  /** Run this writer script instead of the build's (to compare a modified writer, same harness). */
  readonly writerMain: string | undefined;
}

/** The writer benchmark's default --sales. */
export const DEFAULT_SALES = 100_000;
/** The writer's default batch (WRITER_BATCH_MAX_SALES). */
export const DEFAULT_BATCH = 1000;
/** Sales per envelope in `--packing envelope`: ingest's INGEST_ENVELOPE_MAX_SALES default. */
export const ENVELOPE_MAX_SALES = 500;
/** And its INGEST_ENVELOPE_MAX_BYTES default. */
export const ENVELOPE_MAX_BYTES = 512 * 1024;

/** The usage text of a benchmark taking these options (`script`: its npm script). */
export function usage(script: string, defaultSales: number): string {
  return `Usage: npm run ${script} -- [options]

  --sales <n>              sales preloaded into the stream (default ${defaultSales})
  --batch <n>              sales per transaction, writer and baseline (default ${DEFAULT_BATCH})
  --packing <p>            single (one sale per message) or envelope (${ENVELOPE_MAX_SALES} per message
                           per branch) (default single)
  --repeat <r>             take each measurement r times, report the median (default 1)
  --keep                   keep the databases and the stream at the end
  --writer-cpu-prof <dir>  write a CPU profile of the writer process into <dir>
  --writer-main <file>     run this writer main.js instead of dist/apps/writer/src/main.js
  --help`;
}

export const USAGE = usage('bench:writer', DEFAULT_SALES);

export function parseOptions(
  argv: readonly string[],
  defaults: { readonly sales: number } = { sales: DEFAULT_SALES },
): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      sales: { type: 'string', default: String(defaults.sales) },
      batch: { type: 'string', default: String(DEFAULT_BATCH) },
      packing: { type: 'string', default: 'single' },
      repeat: { type: 'string', default: '1' },
      keep: { type: 'boolean', default: false },
      'writer-cpu-prof': { type: 'string' },
      'writer-main': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help';
  if (!(PACKINGS as readonly string[]).includes(values.packing)) {
    throw new Error(`--packing: expected one of ${PACKINGS.join(', ')}, got "${values.packing}"`);
  }
  return {
    sales: integer('--sales', values.sales, 1, 10_000_000),
    // The writer's own bounds for WRITER_BATCH_MAX_SALES.
    batch: integer('--batch', values.batch, 1, 50_000),
    packing: values.packing as Packing,
    repeat: integer('--repeat', values.repeat, 1, 100),
    keep: values.keep,
    writerCpuProf: values['writer-cpu-prof'],
    writerMain: values['writer-main'] === undefined ? undefined : path.resolve(values['writer-main']),
  };
}

function integer(flag: string, raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${flag}: expected an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}
