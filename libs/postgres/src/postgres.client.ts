import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema/index.js';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/tally';

export type TallyDatabase = NodePgDatabase<typeof schema>;

export interface PostgresClientOptions {
  /** e.g. postgres://user@host:5432/tally */
  readonly url: string;
  /** Shown in pg_stat_activity, e.g. `tally-writer`. */
  readonly applicationName: string;
  /** Pool size (default 4). */
  readonly maxConnections?: number;
  /** Give up on a new connection after this long (default 5000 ms). */
  readonly connectTimeoutMs?: number;
  /** Server-side statement_timeout, so a stuck statement fails instead of hanging (default 60 s). */
  readonly statementTimeoutMs?: number;
  /** An idle pooled connection died (server restart, cut link); the pool replaces it on next use. */
  readonly onIdleError?: (error: Error) => void;
}

/**
 * The one Postgres connection pool of a process, with its drizzle handle. Repositories take it;
 * nothing else opens connections. A connection that dies while idle is reported and dropped
 * (never an uncaught 'error' event that would kill the process); the next query opens a new one.
 */
export class PostgresClient {
  readonly db: TallyDatabase;

  private constructor(readonly pool: pg.Pool) {
    this.db = drizzle({ client: pool, schema });
  }

  static create(options: PostgresClientOptions): PostgresClient {
    const pool = new pg.Pool({
      connectionString: options.url,
      application_name: options.applicationName,
      max: options.maxConnections ?? 4,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      statement_timeout: options.statementTimeoutMs ?? 60_000,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
    });
    pool.on('error', (error) => options.onIdleError?.(error));
    return new PostgresClient(pool);
  }

  /** Resolves when the database answers a trivial query; throws (with the driver's reason) if not. */
  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.pool.ended || this.pool.ending) return;
    await this.pool.end();
  }
}

/** The URL without its password, for logs and error messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable DATABASE_URL)';
  }
}
