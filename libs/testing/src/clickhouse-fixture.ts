import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClickHouseClient, type ClickHouseConfig, migrateClickHouse } from '@tally/clickhouse';

/**
 * An embedded ClickHouse (chdb, the real engine) in a fresh temporary folder, migrated with the
 * real `clickhouse/migrations/`. chdb allows one open data folder per process: dispose() closes
 * it before a test opens the next one (test files run in their own processes).
 */
export class ClickHouseFixture {
  private constructor(
    readonly dataPath: string,
    readonly config: ClickHouseConfig,
    readonly client: ClickHouseClient,
  ) {}

  static async create(options: { migrate?: boolean } = {}): Promise<ClickHouseFixture> {
    const dataPath = mkdtempSync(path.join(tmpdir(), 'tally-chdb-'));
    const config: ClickHouseConfig = { mode: 'embedded', dataPath };
    const client = await ClickHouseClient.open(config);
    if (options.migrate !== false) await migrateClickHouse(client);
    return new ClickHouseFixture(dataPath, config, client);
  }

  /** Closes the folder so an app under test can open it (one process, one open folder). */
  async release(): Promise<void> {
    await this.client.close();
  }

  async dispose(): Promise<void> {
    await this.client.close().catch(() => undefined);
    rmSync(this.dataPath, { recursive: true, force: true });
  }
}
