import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { connect, createServer } from 'node:net';
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

/** The Cloud Spanner emulator shipped with the Google Cloud SDK (`gcloud components install cloud-spanner-emulator`). */
export const SPANNER_EMULATOR_BIN =
  process.env.SPANNER_EMULATOR_BIN ?? '/usr/lib/google-cloud-sdk/bin/cloud_spanner_emulator/emulator_main';

/**
 * A Cloud Spanner emulator process of the test file's own, on a free loopback port (it starts in
 * well under a second). Set TEST_SPANNER_EMULATOR_HOST to use one already running instead
 * (stop() then leaves it alone, restart() refuses).
 *
 * The emulator keeps everything in memory: stop() or restart() loses every instance, database
 * and row. An outage test that restarts it must create and migrate its database again.
 */
export class SpannerEmulator {
  private child: ChildProcess | undefined;
  private output = '';
  private readonly killOnExit = () => this.child?.kill('SIGKILL');

  private constructor(
    readonly port: number,
    private readonly external: boolean,
  ) {}

  static async start(): Promise<SpannerEmulator> {
    const running = process.env.TEST_SPANNER_EMULATOR_HOST;
    if (running) {
      const emulator = new SpannerEmulator(Number(running.split(':').at(-1)), true);
      await emulator.waitUntilListening(5_000);
      return emulator;
    }
    if (!existsSync(SPANNER_EMULATOR_BIN)) {
      throw new Error(
        `no Spanner emulator at ${SPANNER_EMULATOR_BIN}: install it (gcloud components install cloud-spanner-emulator), ` +
          'set SPANNER_EMULATOR_BIN, or set TEST_SPANNER_EMULATOR_HOST to a running one',
      );
    }
    const emulator = new SpannerEmulator(await freePort(), false);
    await emulator.spawn();
    return emulator;
  }

  /** `127.0.0.1:<port>`, the value SPANNER_EMULATOR_HOST would take. */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Kills the emulator (data and all). */
  async stop(): Promise<void> {
    const child = this.child;
    if (this.external || !child) return;
    this.child = undefined;
    process.off('exit', this.killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
    await exited;
    clearTimeout(timer);
  }

  /** Stops and starts it again on the same port: an outage. Everything it held is gone (in memory). */
  async restart(): Promise<void> {
    if (this.external) throw new Error('cannot restart an emulator this test did not start');
    await this.stop();
    await this.spawn();
  }

  private async spawn(): Promise<void> {
    this.output = '';
    const child = spawn(SPANNER_EMULATOR_BIN, [`--host_port=${this.host}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    process.once('exit', this.killOnExit);
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-4_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    await this.waitUntilListening(15_000);
  }

  private async waitUntilListening(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child && (this.child.exitCode !== null || this.child.signalCode !== null)) {
        throw new Error(`the Spanner emulator exited at start-up: ${this.output.trim()}`);
      }
      if (await accepts(this.port)) return;
      if (Date.now() > deadline) {
        throw new Error(
          `the Spanner emulator did not listen on ${this.host} within ${timeoutMs} ms: ${this.output}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
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

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return address.port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
