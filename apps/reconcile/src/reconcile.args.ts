import { parseDuration } from '@tally/common';
import { BRANCH_ID_PATTERN, RFC3339_PATTERN } from '@tally/contracts';

/**
 * A bound of the range: a fixed instant, or `now` minus a duration, resolved at each run (so a
 * `--metrics-port` run keeps comparing e.g. the last 7 days).
 */
export type TimeBound =
  | { readonly kind: 'instant'; readonly at: Date }
  | { readonly kind: 'now-minus'; readonly ms: number };

export interface ReconcileArgs {
  readonly from: TimeBound;
  readonly to: TimeBound;
  readonly branchId?: string;
  readonly repair: boolean;
  readonly json: boolean;
  /** Set: serve /metrics on this port and run every `everyMs`, read-only, until stopped. */
  readonly metricsPort?: number;
  readonly everyMs: number;
}

export type ParsedArgs = { readonly help: true } | ({ readonly help: false } & ReconcileArgs);

/** A bad argument: the message names the flag and the rule. Exit code 2. */
export class ArgsError extends Error {
  override readonly name = 'ArgsError';
}

export const DEFAULT_EVERY = '5m';
const MIN_EVERY_MS = 1_000;

export const USAGE = `usage: npm run reconcile -- --from <when> --to <when> [--branch <id>] [--repair] [--json]
       npm run reconcile -- --from <when> --to <when> [--branch <id>] [--json] --metrics-port <port> [--every <duration>]

Compares PostgreSQL and Cloud Spanner per branch and UTC day of occurredAt: sale count, exact sum
of net totals and a digest of the sale ids; for a day that differs, which sale ids each store
lacks and which both hold with different net totals. Prints the days that differ and a summary.

  --from <when>          inclusive start: a date YYYY-MM-DD (UTC midnight), an RFC 3339 instant,
                         or now / now-<duration> (e.g. now-7d)
  --to <when>            exclusive end, same forms; must be after --from
  --branch <id>          one branch only
  --repair               copy each missing sale into the store that lacks it: from the stream
                         message the other store recorded if the stream still holds it, else from
                         the other store; then compare again. Differing sales are only reported.
  --json                 JSON lines instead of a table
  --metrics-port <port>  keep running read-only, serving Prometheus gauges on :<port>/metrics
  --every <duration>     with --metrics-port: time between runs (default ${DEFAULT_EVERY})

Exit: 0 the stores agree (after --repair: once repaired), 1 they differ, 2 bad arguments or
settings, 3 a store could not be read. Settings: DATABASE_URL, SPANNER_*, NATS_URL, TALLY_STREAM.`;

const FLAGS = {
  '--from': 'value',
  '--to': 'value',
  '--branch': 'value',
  '--metrics-port': 'value',
  '--every': 'value',
  '--repair': 'switch',
  '--json': 'switch',
  '--help': 'switch',
  '-h': 'switch',
} as const;
type Flag = keyof typeof FLAGS;

const rfc3339 = new RegExp(RFC3339_PATTERN);
const branchId = new RegExp(BRANCH_ID_PATTERN);
const WHEN_RULE = 'must be a date YYYY-MM-DD or RFC 3339 instant (or now, now-<duration> such as now-7d)';

/** Parses the command line (`--flag value` or `--flag=value`); throws ArgsError naming the flag and the rule. */
export function parseReconcileArgs(argv: readonly string[], now: Date = new Date()): ParsedArgs {
  const values = new Map<Flag, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq < 0 ? arg : arg.slice(0, eq);
    if (!(name in FLAGS)) {
      throw new ArgsError(arg.startsWith('-') ? `unknown flag ${name}` : `unexpected argument ${arg}`);
    }
    const flag = name as Flag;
    if (values.has(flag)) throw new ArgsError(`${flag}: given twice`);
    if (FLAGS[flag] === 'switch') {
      if (eq >= 0) throw new ArgsError(`${flag}: takes no value`);
      values.set(flag, true);
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) {
        value = next;
        i++;
      }
    }
    if (value === undefined || value === '') throw new ArgsError(`${flag}: needs a value`);
    values.set(flag, value);
  }
  if (values.has('--help') || values.has('-h')) return { help: true };

  const text = (flag: Flag) => values.get(flag) as string | undefined;
  const fromText = text('--from');
  const toText = text('--to');
  if (fromText === undefined) throw new ArgsError(`--from: required; ${WHEN_RULE}`);
  if (toText === undefined) throw new ArgsError(`--to: required; ${WHEN_RULE}`);
  const from = parseBound('--from', fromText);
  const to = parseBound('--to', toText);
  if (resolveBound(to, now) <= resolveBound(from, now)) {
    throw new ArgsError(
      `--to: must be after --from (--from ${fromText} is inclusive, --to ${toText} exclusive)`,
    );
  }

  const branch = text('--branch');
  if (branch !== undefined && !branchId.test(branch)) {
    throw new ArgsError('--branch: must be 1-64 of [A-Za-z0-9_-]');
  }

  const portText = text('--metrics-port');
  let metricsPort: number | undefined;
  if (portText !== undefined) {
    metricsPort = Number(portText);
    if (!/^\d+$/.test(portText) || metricsPort > 65_535) {
      throw new ArgsError('--metrics-port: must be an integer from 0 to 65535 (0: any free port)');
    }
  }
  const everyText = text('--every');
  if (everyText !== undefined && metricsPort === undefined) {
    throw new ArgsError('--every: only with --metrics-port (a one-off run compares once)');
  }
  const everyMs = durationMs('--every', everyText ?? DEFAULT_EVERY);
  if (everyMs < MIN_EVERY_MS) throw new ArgsError('--every: must be at least 1s');
  const repair = values.has('--repair');
  if (repair && metricsPort !== undefined) {
    throw new ArgsError('--repair: not with --metrics-port (metrics runs only read)');
  }
  return {
    help: false,
    from,
    to,
    ...(branch !== undefined && { branchId: branch }),
    repair,
    json: values.has('--json'),
    ...(metricsPort !== undefined && { metricsPort }),
    everyMs,
  };
}

/** The instant a bound stands for at `now`. */
export function resolveBound(bound: TimeBound, now: Date): number {
  return bound.kind === 'instant' ? bound.at.getTime() : now.getTime() - bound.ms;
}

/** The range the arguments name at `now`: [from, to). Throws ArgsError if it is empty. */
export function resolveRange(args: Pick<ReconcileArgs, 'from' | 'to'>, now: Date): { from: Date; to: Date } {
  const from = resolveBound(args.from, now);
  const to = resolveBound(args.to, now);
  if (to <= from) throw new ArgsError('--to: must be after --from');
  return { from: new Date(from), to: new Date(to) };
}

function parseBound(flag: string, text: string): TimeBound {
  const relative = /^now(?:-(.+))?$/.exec(text);
  if (relative) {
    return {
      kind: 'now-minus',
      ms: relative[1] === undefined ? 0 : durationMs(flag, relative[1], WHEN_RULE),
    };
  }
  const at = /^\d{4}-\d{2}-\d{2}$/.test(text) ? calendarDay(text) : instant(text);
  if (at === undefined) throw new ArgsError(`${flag}: ${WHEN_RULE}`);
  return { kind: 'instant', at };
}

function durationMs(
  flag: string,
  text: string,
  rule = 'must be a duration such as 30s, 5m, 1h or 7d',
): number {
  try {
    return Math.round(parseDuration(text) / 1e6);
  } catch {
    throw new ArgsError(`${flag}: ${rule}`);
  }
}

/** `YYYY-MM-DD` as that UTC midnight, or undefined if the month lacks the day. */
function calendarDay(text: string): Date | undefined {
  const at = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(at.getTime()) && at.toISOString().slice(0, 10) === text ? at : undefined;
}

/**
 * An RFC 3339 date-time with offset as an instant, or undefined when the text is not one (a day
 * the month lacks, hour 24): Date.parse alone would roll 2026-02-30 over into March.
 */
function instant(text: string): Date | undefined {
  if (!rfc3339.test(text)) return undefined;
  const local = calendarDay(text.slice(0, 10));
  const [hour, minute, second] = [text.slice(11, 13), text.slice(14, 16), text.slice(17, 19)].map(Number);
  if (local === undefined || hour! > 23 || minute! > 59 || second! > 59) return undefined;
  const at = new Date(Date.parse(text));
  return Number.isNaN(at.getTime()) ? undefined : at;
}
