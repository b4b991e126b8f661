/** The command line of `npm run catalog:import`. */
export interface CatalogImportArgs {
  readonly productsFile?: string;
  readonly branchesFile?: string;
  /** Currency of product rows that give none. */
  readonly currency: string;
  /** Check the files, write nothing. */
  readonly dryRun: boolean;
}

export type ParsedArgs = { readonly help: true } | ({ readonly help: false } & CatalogImportArgs);

/** A bad argument: the message names the flag and the rule. Exit code 2. */
export class ArgsError extends Error {
  override readonly name = 'ArgsError';
}

export const DEFAULT_CURRENCY = 'EUR';

export const USAGE = `usage: npm run catalog:import -- [--products] <products.csv> [--branches <branches.csv>] [--currency <code>] [--dry-run]
       npm run catalog:import -- --branches <branches.csv>

Loads the catalog from CSV into PostgreSQL (tables products, branches) and publishes the whole
catalog of Postgres to the NATS KV bucket ingest reads, which picks changes up without a restart.
Rows are upserted (new ids inserted, changed rows replaced, nothing deleted). A file with any bad
row imports nothing: every error is listed with its line, field and rule.

  products CSV   header: productId,name,category,brand,listPrice,currency (brand, currency optional)
  branches CSV   header: branchId,name,city,country (city, country optional)

  --products <file>   the products file (or give it as the one plain argument)
  --branches <file>   the branches file
  --currency <code>   currency of product rows without one (default ${DEFAULT_CURRENCY})
  --dry-run           check the files only; connect to nothing, write nothing

Exit: 0 imported (or, with --dry-run, the files are valid), 1 bad rows or a failed write,
2 bad arguments or settings. Settings: DATABASE_URL, NATS_URL, TALLY_STREAM, TALLY_CATALOG_BUCKET.`;

const VALUE_FLAGS = new Set(['--products', '--branches', '--currency']);
const SWITCHES = new Set(['--dry-run', '--help', '-h']);

/** Parses `--flag value`, `--flag=value` and one plain argument (the products file). */
export function parseCatalogImportArgs(argv: readonly string[]): ParsedArgs {
  const values = new Map<string, string>();
  const switches = new Set<string>();
  const plain: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-') {
      plain.push(arg);
      continue;
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq < 0 ? arg : arg.slice(0, eq);
    if (SWITCHES.has(name)) {
      if (eq >= 0) throw new ArgsError(`${name} takes no value`);
      switches.add(name);
      continue;
    }
    if (!VALUE_FLAGS.has(name)) throw new ArgsError(`unknown flag ${name}`);
    if (values.has(name)) throw new ArgsError(`${name} is given twice`);
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '') throw new ArgsError(`${name} needs a value`);
    values.set(name, value);
  }
  if (switches.has('--help') || switches.has('-h')) return { help: true };

  if (plain.length > 1)
    throw new ArgsError(`one plain argument (the products file) at most; got ${plain.join(' ')}`);
  if (plain.length === 1 && values.has('--products')) {
    throw new ArgsError(
      `the products file is given twice: ${plain[0]} and --products ${values.get('--products')}`,
    );
  }
  const productsFile = values.get('--products') ?? plain[0];
  const branchesFile = values.get('--branches');
  if (productsFile === undefined && branchesFile === undefined) {
    throw new ArgsError('nothing to import: give a products file and/or --branches <file>');
  }
  const currency = values.get('--currency') ?? DEFAULT_CURRENCY;
  if (!/^[A-Z]{3}$/.test(currency) || !Intl.supportedValuesOf('currency').includes(currency)) {
    throw new ArgsError(`--currency ${currency}: must be an ISO 4217 code such as EUR`);
  }
  return {
    help: false,
    ...(productsFile !== undefined && { productsFile }),
    ...(branchesFile !== undefined && { branchesFile }),
    currency,
    dryRun: switches.has('--dry-run'),
  };
}
