import {
  ApplyDefinitionsError,
  applyDefinitions,
  DEFAULT_NATS_URL,
  type DefinitionChange,
  loadDefinitions,
  NatsClient,
} from '@tally/nats';

/**
 * `npm run nats:apply [-- --dry-run]`: makes the NATS server at NATS_URL match nats/definitions.
 * Kept apart from apply.ts (which only runs it) so tests can call it with their own env and output.
 */
export interface ApplyCommandIo {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Folder of the definitions; default: nats/definitions found from the working directory. */
  readonly definitionsDir?: string;
}

const USAGE = `usage: npm run nats:apply [-- --dry-run]

Creates or updates the JetStream streams and consumers defined in nats/definitions on the
server at NATS_URL (default ${DEFAULT_NATS_URL}). Placeholders such as \${TALLY_STREAM:-SALES}
are filled from the environment.

  --dry-run   show what would change, change nothing`;

/** Returns the process exit code: 0 done, 1 failed, 2 bad usage. */
export async function runApplyCommand(io: ApplyCommandIo): Promise<number> {
  const args = new Set(io.argv);
  if (args.has('--help') || args.has('-h')) {
    io.out(USAGE);
    return 0;
  }
  const unknown = [...args].filter((arg) => arg !== '--dry-run');
  if (unknown.length > 0) {
    io.err(`nats:apply: unknown argument ${unknown[0]}\n\n${USAGE}`);
    return 2;
  }
  const dryRun = args.has('--dry-run');
  const url = io.env.NATS_URL || DEFAULT_NATS_URL;

  let definitions: Awaited<ReturnType<typeof loadDefinitions>>;
  try {
    definitions = await loadDefinitions({ dir: io.definitionsDir, env: io.env });
  } catch (err) {
    io.err(`nats:apply: invalid definitions: ${(err as Error).message}`);
    return 1;
  }

  let client: NatsClient;
  try {
    client = await NatsClient.connect({ url, name: 'tally-nats-apply', reconnect: false });
  } catch (err) {
    io.err(
      `nats:apply: ${(err as Error).message}\n` +
        `Is a NATS server with JetStream running there? Start one (e.g. \`nats-server -js -sd <dir>\`,` +
        ` or the docker-compose service using nats/nats-server.conf) or set NATS_URL to the right server.`,
    );
    return 1;
  }

  try {
    const changes = await applyDefinitions(client.jsm, definitions, { dryRun });
    for (const change of changes) io.out(describe(change, dryRun));
    const changed = changes.filter((change) => change.action !== 'unchanged').length;
    io.out(
      `${dryRun ? 'dry run: ' : ''}${changes.length} definitions, ${changed} ${dryRun ? 'to change' : 'changed'} on ${url}`,
    );
    return 0;
  } catch (err) {
    if (err instanceof ApplyDefinitionsError) {
      for (const change of err.changes) io.out(describe(change, false));
    }
    io.err(`nats:apply: ${(err as Error).message}`);
    return 1;
  } finally {
    await client.close();
  }
}

function describe(change: DefinitionChange, dryRun: boolean): string {
  const name = change.kind === 'stream' ? change.name : `${change.stream}/${change.name}`;
  const action = dryRun && change.action !== 'unchanged' ? `would be ${change.action}` : change.action;
  const diff = change.diff?.length ? ` (${change.diff.join('; ')})` : '';
  return `${change.kind.padEnd(8)} ${name.padEnd(28)} ${action}${diff}`;
}
