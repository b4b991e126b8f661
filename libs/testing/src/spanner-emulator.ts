import { randomBytes } from 'node:crypto';
import { Spanner } from '@google-cloud/spanner';
import {
  databasePath,
  ensureEmulatorDatabase,
  migrateSpanner,
  readCallOptions,
  SpannerClient,
  type SpannerConfig,
  spannerOptions,
} from '@tally/spanner';
import { accepts, SpannerEmulatorProcess } from '@tally/spanner-emulator';

/**
 * A Cloud Spanner emulator process of the test file's own, on a free loopback port (it starts in
 * well under a second; the launcher is @tally/spanner-emulator, shared with the demo). Set
 * TEST_SPANNER_EMULATOR_HOST to use one already running instead (stop() then leaves it alone,
 * restart() refuses).
 *
 * The emulator keeps everything in memory: stop() or restart() loses every instance, database
 * and row. An outage test that restarts it must create and migrate its database again.
 */
export class SpannerEmulator {
  private constructor(
    readonly port: number,
    private readonly owned: SpannerEmulatorProcess | undefined,
  ) {}

  static async start(): Promise<SpannerEmulator> {
    const running = process.env.TEST_SPANNER_EMULATOR_HOST;
    if (running) {
      const port = Number(running.split(':').at(-1));
      const deadline = Date.now() + 5_000;
      while (!(await accepts(port))) {
        if (Date.now() > deadline) throw new Error(`no Spanner emulator listens at ${running}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return new SpannerEmulator(port, undefined);
    }
    const emulator = await SpannerEmulatorProcess.start();
    return new SpannerEmulator(emulator.port, emulator);
  }

  /** `127.0.0.1:<port>`, the value SPANNER_EMULATOR_HOST would take. */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Kills the emulator (data and all). */
  async stop(): Promise<void> {
    await this.owned?.stop();
  }

  /** Stops and starts it again on the same port: an outage. Everything it held is gone (in memory). */
  async restart(): Promise<void> {
    if (!this.owned) throw new Error('cannot restart an emulator this test did not start');
    await this.owned.restart();
  }
}

/**
 * A database of its own on the emulator, created and migrated with the real DDL files
 * (libs/spanner/ddl) under a unique id, dropped on dispose: tests never see each other's rows.
 */
export class SpannerFixture {
  private constructor(
    readonly config: SpannerConfig,
    readonly client: SpannerClient,
  ) {}

  static async create(
    emulator: SpannerEmulator,
    options: { migrate?: boolean } = {},
  ): Promise<SpannerFixture> {
    const config = SpannerFixture.newConfig(emulator);
    if (options.migrate === false) await ensureEmulatorDatabase(config);
    else await migrateSpanner(config);
    return new SpannerFixture(config, SpannerClient.create(config));
  }

  /** A config naming a database that does not exist yet, on the fixture's instance. */
  static newConfig(emulator: SpannerEmulator): SpannerConfig {
    return {
      projectId: 'tally-test',
      instanceId: 'tally',
      databaseId: `t-${randomBytes(6).toString('hex')}`,
      emulatorHost: emulator.host,
    };
  }

  /** Rows of a SQL query as plain objects (NUMERIC as text, TIMESTAMP as PreciseDate). */
  async query<R = Record<string, unknown>>(sql: string, params?: Record<string, unknown>): Promise<R[]> {
    const [rows] = await this.client.database.run({
      sql,
      ...(params && { params }),
      json: true,
      gaxOptions: readCallOptions(),
    });
    return rows as unknown as R[];
  }

  async dispose(): Promise<void> {
    await this.client.close();
    await dropDatabase(this.config).catch(() => undefined);
  }
}

async function dropDatabase(config: SpannerConfig): Promise<void> {
  const spanner = new Spanner(spannerOptions(config));
  try {
    await spanner.getDatabaseAdminClient().dropDatabase({ database: databasePath(config) });
  } finally {
    spanner.close();
  }
}
