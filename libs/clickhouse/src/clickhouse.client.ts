import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { createClient, type ClickHouseClient as RawClient } from '@clickhouse/client';
import { ConfigError, type Env, envString } from '@tally/common';
import type { ChdbExtension } from 'chdb/connection';

/**
 * Where ClickHouse runs. With CLICKHOUSE_URL: a server over HTTP (production; BI tools query the
 * same server). Without it: chdb, the ClickHouse engine in-process, durable in a data folder,
 * behind the same @clickhouse/client API through chdb's Connection, so every statement is the
 * same SQL on both.
 *
 * chdb lets one process own a data folder: the aggregator is that process (it flushes and serves
 * the reports), and `npm run clickhouse:migrate` must not run beside it on the same folder. In
 * chdb the folder is the database: tables live in its `default` database, and SQL names tables
 * without a database, so the server's CLICKHOUSE_DATABASE picks the database there.
 */
export type ClickHouseConfig =
  | {
      readonly mode: 'server';
      readonly url: string;
      readonly username: string;
      readonly password: string;
      readonly database: string;
      readonly requestTimeoutMs: number;
    }
  | { readonly mode: 'embedded'; readonly dataPath: string };

export const DEFAULT_CLICKHOUSE_DATA_PATH = './data/clickhouse';

export function clickHouseConfigFromEnv(env: Env): ClickHouseConfig {
  const url = envString(env, 'CLICKHOUSE_URL', '');
  if (url === '') {
    return {
      mode: 'embedded',
      dataPath: path.resolve(envString(env, 'CLICKHOUSE_DATA_PATH', DEFAULT_CLICKHOUSE_DATA_PATH)),
    };
  }
  try {
    const parsed = new URL(url);
    if (!['http:', 'https:'].includes(parsed.protocol)) throw new Error('protocol');
  } catch {
    throw new ConfigError('CLICKHOUSE_URL: must be an http(s) URL such as http://127.0.0.1:8123');
  }
  const database = envString(env, 'CLICKHOUSE_DATABASE', 'tally');
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(database)) {
    throw new ConfigError(
      `CLICKHOUSE_DATABASE=${database}: must be 1-64 of [A-Za-z0-9_], not starting with a digit`,
    );
  }
  return {
    mode: 'server',
    url,
    username: envString(env, 'CLICKHOUSE_USER', 'default'),
    password: env.CLICKHOUSE_PASSWORD ?? '',
    database,
    requestTimeoutMs: 30_000,
  };
}

/** Where the config points, for logs (never the password). */
export function describeClickHouse(config: ClickHouseConfig): string {
  return config.mode === 'embedded'
    ? `chdb at ${config.dataPath}`
    : `${config.url} database ${config.database}`;
}

/**
 * The embedded engine shares the process's cores with the service it is embedded in (the
 * aggregator, whose live figures must stay fresh) and usually with ingest and NATS on the same
 * machine: its queries run on one thread, at the lowest OS priority, so flushing to ClickHouse
 * is background work that yields to everything else.
 */
const EMBEDDED_SETTINGS = {
  max_threads: 1,
  max_insert_threads: 1,
  os_thread_priority: 19,
  // A block of the aggregator's (~10k rows) parses faster on one thread than split over several:
  // measured with chdb, 85 instead of 110 ms of CPU per 10k rows of JSONCompactEachRow.
  input_format_parallel_parsing: 0,
} as const;

/**
 * Rows already encoded as JSONCompactEachRow: one JSON array per line, of `columns` in that
 * order (no key names to write, nor for the engine to parse), as UTF-8 bytes.
 */
export interface EncodedRows {
  readonly columns: readonly string[];
  readonly bytes: Buffer;
}

/** The one ClickHouse client of a process, either mode. */
export class ClickHouseClient {
  private constructor(
    readonly raw: RawClient,
    readonly config: ClickHouseConfig,
    /** Embedded only: chdb's own calls, for inserts of encoded rows (see insert()). */
    private readonly chdb?: ChdbExtension,
  ) {}

  /** Opens the client; on a server, creates the database if missing. */
  static async open(config: ClickHouseConfig): Promise<ClickHouseClient> {
    if (config.mode === 'embedded') {
      mkdirSync(config.dataPath, { recursive: true });
      // chdb is loaded only when embedded: a server deployment never loads the engine library.
      const { createChdbConnection } = await import('chdb/connection');
      const connection = createChdbConnection({ path: config.dataPath });
      const raw = createClient({ connection, clickhouse_settings: EMBEDDED_SETTINGS } as never);
      return new ClickHouseClient(raw, config, connection.chdb);
    }
    const bootstrap = createClient({
      url: config.url,
      username: config.username,
      password: config.password,
      request_timeout: config.requestTimeoutMs,
    });
    try {
      await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${config.database}` });
    } finally {
      await bootstrap.close();
    }
    const raw = createClient({
      url: config.url,
      username: config.username,
      password: config.password,
      database: config.database,
      request_timeout: config.requestTimeoutMs,
      clickhouse_settings: {
        output_format_json_quote_decimals: 1,
        output_format_json_quote_64bit_integers: 1,
      },
    });
    return new ClickHouseClient(raw, config);
  }

  async command(query: string, params: Record<string, unknown> = {}): Promise<void> {
    await this.raw.command({ query, query_params: params });
  }

  /** Rows as JSON objects; decimals and 64-bit integers as strings, exact. */
  async rows<T>(query: string, params: Record<string, unknown> = {}): Promise<T[]> {
    const result = await this.raw.query({
      query,
      query_params: params,
      format: 'JSONEachRow',
      clickhouse_settings: {
        output_format_json_quote_decimals: 1,
        output_format_json_quote_64bit_integers: 1,
      },
    });
    return (await result.json()) as T[];
  }

  /** The result as CSV with a header line. */
  async csv(query: string, params: Record<string, unknown> = {}): Promise<string> {
    const result = await this.raw.query({ query, query_params: params, format: 'CSVWithNames' });
    return result.text();
  }

  /**
   * Inserts a block of rows: objects, or rows already encoded. `dedupToken` makes a retry of the
   * identical block a no-op: the server (and chdb) remember recent tokens per table
   * (non_replicated_deduplication_window).
   */
  async insert(table: string, rows: readonly object[] | EncodedRows, dedupToken?: string): Promise<void> {
    const clickhouse_settings: Record<string, string> =
      dedupToken === undefined ? {} : { insert_deduplication_token: dedupToken };
    if (!Array.isArray(rows)) {
      // Encoded rows are sent as the data part of the INSERT statement, so nothing is encoded
      // now: the flusher encodes each batch as it comes in, so a block is never serialized in
      // one long stop of the event loop.
      const { columns, bytes } = rows as EncodedRows;
      if (this.chdb !== undefined) {
        // chdb's raw insert hands the bytes to the engine's parser as they are: about half the
        // CPU of the same rows inlined in an INSERT statement, which the client's insert does
        // (measured: ~130 against ~210 ms per 10k sale lines).
        await this.chdb.rawInsert({
          table,
          values: bytes,
          format: 'JSONCompactEachRow',
          columns,
          settings: { ...EMBEDDED_SETTINGS, ...clickhouse_settings },
        });
        return;
      }
      await this.raw.command({
        query: `INSERT INTO ${table} (${columns.join(', ')}) FORMAT JSONCompactEachRow\n${bytes.toString('utf8')}`,
        clickhouse_settings,
      });
      return;
    }
    await this.raw.insert({ table, values: rows as object[], format: 'JSONEachRow', clickhouse_settings });
  }

  async ping(): Promise<boolean> {
    try {
      await this.rows('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.raw.close();
  }
}
