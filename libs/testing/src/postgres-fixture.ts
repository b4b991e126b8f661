import { randomBytes } from 'node:crypto';
import { ensureDatabase, migrateDatabase, PostgresClient } from '@tally/postgres';
import pg from 'pg';

export const TEST_POSTGRES_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * A database of its own on the real Postgres server, created and migrated with the real
 * `drizzle/` migrations, dropped on dispose: integration tests never see each other's rows.
 */
export class PostgresFixture {
  private constructor(
    readonly url: string,
    readonly client: PostgresClient,
  ) {}

  static async create(): Promise<PostgresFixture> {
    const url = new URL(TEST_POSTGRES_URL);
    url.pathname = `/tally_t_${randomBytes(4).toString('hex')}`;
    await ensureDatabase(url.toString());
    await migrateDatabase(url.toString());
    return new PostgresFixture(
      url.toString(),
      PostgresClient.create({ url: url.toString(), applicationName: 'tally-test' }),
    );
  }

  /** The same database through another host:port (a TcpProxy in front of the server). */
  urlVia(hostPort: string): string {
    const url = new URL(this.url);
    url.host = hostPort;
    return url.toString();
  }

  async query<R extends pg.QueryResultRow = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<R[]> {
    return (await this.client.pool.query<R>(text, values)).rows;
  }

  async dispose(): Promise<void> {
    await this.client.close();
    const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    try {
      const name = new URL(this.url).pathname.slice(1);
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }
}
