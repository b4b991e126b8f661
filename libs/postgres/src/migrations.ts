import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { redactUrl } from './postgres.client.js';

/**
 * Schema lifecycle. Migrations are the SQL files drizzle-kit generated into `drizzle/` (from the
 * schema in ./schema); `npm run db:migrate` applies the ones not yet applied. Apps never migrate
 * on their own: at start-up they check the database is at the latest migration and refuse to run
 * against an older schema, naming the command that fixes it.
 */
const HOW_TO_FIX = 'run `npm run db:migrate` (with the same DATABASE_URL)';
/** Serialises concurrent `db:migrate` runs (two deploys at once); any constant works. */
const MIGRATION_LOCK_ID = 73_461;

export class SchemaNotReadyError extends Error {
  override readonly name = 'SchemaNotReadyError';
}

/** Finds `drizzle/` (holding meta/_journal.json) in `from` or the nearest folder above it. */
export function findMigrationsDir(from: string = process.cwd()): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'drizzle');
    if (existsSync(path.join(candidate, 'meta', '_journal.json'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`cannot find drizzle/meta/_journal.json above ${from}`);
  }
}

/** Creates the database named in `url` if it does not exist (connecting to the `postgres` database). */
export async function ensureDatabase(url: string): Promise<{ created: boolean }> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (name === '') throw new Error(`DATABASE_URL ${redactUrl(url)} names no database`);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return { created: false };
    try {
      await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
      return { created: true };
    } catch (error) {
      // 42P04 duplicate_database: someone else created it between our check and our CREATE.
      if ((error as { code?: string }).code === '42P04') return { created: false };
      throw error;
    }
  } finally {
    await client.end();
  }
}

export interface MigrationResult {
  readonly applied: readonly string[];
  readonly latest: string;
}

/** Applies pending migrations under an advisory lock; idempotent. */
export async function migrateDatabase(
  url: string,
  dir: string = findMigrationsDir(),
): Promise<MigrationResult> {
  const client = new pg.Client({ connectionString: url, application_name: 'tally-migrate' });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    const before = await appliedUpTo(client);
    await migrate(drizzle({ client }), { migrationsFolder: dir });
    const journal = journalEntries(dir);
    return {
      applied: journal.filter((e) => e.when > before).map((e) => e.tag),
      latest: journal.at(-1)?.tag ?? '(none)',
    };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => undefined);
    await client.end();
  }
}

/** Throws SchemaNotReadyError unless every migration in `dir` has been applied. */
export async function assertSchemaCurrent(
  pool: pg.Pool | pg.Client,
  dir: string = findMigrationsDir(),
): Promise<void> {
  const latest = journalEntries(dir).at(-1)?.when ?? 0;
  let applied: number;
  try {
    applied = await appliedUpTo(pool);
  } catch (error) {
    throw new SchemaNotReadyError(`cannot check the database schema: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (applied < latest) {
    const pending = journalEntries(dir).filter((e) => e.when > applied);
    throw new SchemaNotReadyError(
      `the database schema is behind: ${pending.length} migration(s) pending (${pending.map((e) => e.tag).join(', ')}); ${HOW_TO_FIX}`,
    );
  }
}

async function appliedUpTo(client: pg.Pool | pg.Client): Promise<number> {
  const exists = await client.query(`SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS ok`);
  if (!exists.rows[0]?.ok) return 0;
  const { rows } = await client.query('SELECT max(created_at) AS at FROM drizzle.__drizzle_migrations');
  return Number(rows[0]?.at ?? 0);
}

interface JournalEntry {
  readonly tag: string;
  readonly when: number;
}

function journalEntries(dir: string): JournalEntry[] {
  // The journal drizzle's migrator reads: `when` is what it records as created_at.
  const journal = JSON.parse(readFileSync(path.join(dir, 'meta', '_journal.json'), 'utf8')) as {
    entries: JournalEntry[];
  };
  return journal.entries.map(({ tag, when }) => ({ tag, when }));
}
