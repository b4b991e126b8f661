import { parseArgs } from 'node:util';
import { parseDuration } from '@tally/common';

/** `npm run import -- <file.csv> --mapping <preset | file> [options]`, parsed and checked. */
export interface ImportArgs {
  readonly file: string;
  readonly mapping: string;
  readonly url?: string;
  readonly apiKey?: string;
  /** The query API to ask which sales are stored before sending them (off when undefined). */
  readonly queryUrl?: string;
  readonly rejects?: string;
  readonly batchSize: number;
  readonly concurrency: number;
  readonly branchId?: string;
  readonly currency?: string;
  readonly timezone?: string;
  readonly saleIdPrefix?: string;
  readonly retryForMs?: number;
  readonly dryRun: boolean;
  readonly json: boolean;
  readonly quiet: boolean;
}

export type ParsedImportArgs = { readonly help: true } | ({ readonly help: false } & ImportArgs);

/** A bad argument: the message names the flag and the rule. Exit code 2. */
export class ArgsError extends Error {
  override readonly name = 'ArgsError';
}

export const DEFAULT_BATCH_SIZE = 1000;
export const MAX_BATCH_SIZE = 5000;
export const DEFAULT_CONCURRENCY = 4;

export const USAGE = `usage: npm run import -- <file.csv> --mapping <preset | mapping.json> [options]

Streams a CSV export of past sales into Tally through ingest's POST /v1/sales/batch. Each
receipt becomes one sale with the id <prefix>:<order id>, so importing a file again stores
nothing twice. Rows that cannot be imported go to the rejects file with their line and reason.

  --mapping <ref>          a preset (marketplace, supermarket, django-sales) or a mapping file
  --url <url>              ingest (default: IMPORT_URL or http://127.0.0.1:3000)
  --api-key <key>          ingest API key (default: IMPORT_API_KEY); it must cover the branches
  --query-url <url>        the query API (default: IMPORT_QUERY_URL, else off): before each batch,
                           ask which sales Postgres holds and send only the others, so a
                           re-import long after ingest's duplicate window sends nothing twice
  --rejects <file>         where rejected rows go (default: <file.csv>.rejects.csv)
  --batch-size <n>         sales per request, 1-${MAX_BATCH_SIZE} (default ${DEFAULT_BATCH_SIZE})
  --concurrency <n>        requests in flight, 1-64 (default ${DEFAULT_CONCURRENCY})
  --branch <id>            fixed branch for every sale (overrides the mapping)
  --currency <code>        fixed ISO 4217 currency (overrides the mapping)
  --timezone <zone>        zone of dates written without an offset: IANA name or +01:00
  --sale-id-prefix <p>     sale ids are <p>:<order id> (overrides the mapping)
  --retry-for <duration>   keep retrying an unavailable ingest this long (default 5m)
  --dry-run                map and validate only; send nothing
  --json                   print the summary as one JSON line
  --quiet                  no progress output

Exit: 0 every row imported (new or already stored), 1 some rows rejected (the others
imported), 2 bad arguments, mapping or settings, 3 stopped early (ingest refused or
unavailable, file not grouped by order id, interrupted); importing again is safe.`;

export function parseImportArgs(argv: readonly string[]): ParsedImportArgs {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new ArgsError((error as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true };
  if (positionals.length !== 1) {
    throw new ArgsError(
      positionals.length === 0 ? '<file.csv>: required' : `unexpected argument ${positionals[1]}`,
    );
  }
  if (values.mapping === undefined)
    throw new ArgsError('--mapping: required (a preset name or a mapping file)');
  const int = (flag: string, text: string | undefined, fallback: number, min: number, max: number) => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max)
      throw new ArgsError(`${flag}: must be an integer from ${min} to ${max}`);
    return n;
  };
  let retryForMs: number | undefined;
  if (values['retry-for'] !== undefined) {
    try {
      retryForMs = Math.round(parseDuration(values['retry-for']) / 1e6);
    } catch {
      throw new ArgsError('--retry-for: must be a duration such as 30s, 5m or 1h');
    }
  }
  const optional = <K extends string>(key: K, value: string | undefined) =>
    value === undefined ? {} : ({ [key]: value } as Record<K, string>);
  return {
    help: false,
    file: positionals[0]!,
    mapping: values.mapping,
    ...optional('url', values.url),
    ...optional('apiKey', values['api-key']),
    ...optional('queryUrl', values['query-url']),
    ...optional('rejects', values.rejects),
    batchSize: int('--batch-size', values['batch-size'], DEFAULT_BATCH_SIZE, 1, MAX_BATCH_SIZE),
    concurrency: int('--concurrency', values.concurrency, DEFAULT_CONCURRENCY, 1, 64),
    ...optional('branchId', values.branch),
    ...optional('currency', values.currency),
    ...optional('timezone', values.timezone),
    ...optional('saleIdPrefix', values['sale-id-prefix']),
    ...(retryForMs !== undefined && { retryForMs }),
    dryRun: values['dry-run'] ?? false,
    json: values.json ?? false,
    quiet: values.quiet ?? false,
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      mapping: { type: 'string' },
      url: { type: 'string' },
      'api-key': { type: 'string' },
      'query-url': { type: 'string' },
      rejects: { type: 'string' },
      'batch-size': { type: 'string' },
      concurrency: { type: 'string' },
      branch: { type: 'string' },
      currency: { type: 'string' },
      timezone: { type: 'string' },
      'sale-id-prefix': { type: 'string' },
      'retry-for': { type: 'string' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
