import { type Database, type Instance, Spanner, type SpannerOptions } from '@google-cloud/spanner';
import type { CallOptions } from 'google-gax';
// The gRPC module the Spanner client itself runs on (google-gax is its transport): insecure
// channel credentials for the emulator must come from the same copy of grpc-js.
import { grpc } from 'google-gax';

/** Which database to use, and how to reach it. */
export interface SpannerConfig {
  readonly projectId: string;
  readonly instanceId: string;
  readonly databaseId: string;
  /**
   * `host:port` of a Cloud Spanner emulator (plain gRPC, no credentials). Unset: real Cloud
   * Spanner, with application default credentials.
   */
  readonly emulatorHost?: string | undefined;
}

export const DEFAULT_SPANNER_CONFIG = {
  projectId: 'tally-local',
  instanceId: 'tally',
  databaseId: 'tally',
} as const;

export interface SpannerClientOptions extends SpannerConfig {
  /** Longest a session may be waited for, and ping()'s limit (default 10,000 ms). */
  readonly timeoutMs?: number;
  /** A background failure of the client (e.g. its session pool could not refill); never thrown. */
  readonly onError?: (error: Error) => void;
}

/** The database's full name, `projects/p/instances/i/databases/d`, for admin calls and messages. */
export function databasePath(config: SpannerConfig): string {
  return `projects/${config.projectId}/instances/${config.instanceId}/databases/${config.databaseId}`;
}

/** Options for `new Spanner()`: explicit endpoint and insecure credentials on the emulator. */
export function spannerOptions(config: SpannerConfig): SpannerOptions {
  if (config.emulatorHost === undefined) return { projectId: config.projectId };
  const { host, port } = parseHostPort(config.emulatorHost);
  return {
    projectId: config.projectId,
    servicePath: host,
    port,
    sslCreds: grpc.credentials.createInsecure(),
    // The default universe, said explicitly: otherwise the client looks for application default
    // credentials (probing the GCE metadata server) only to learn it, which the emulator never needs.
    universeDomain: 'googleapis.com',
  };
}

function parseHostPort(hostPort: string): { host: string; port: number } {
  const match = /^([^:/]+|\[[^\]]+\]):(\d{1,5})$/.exec(hostPort);
  const port = Number(match?.[2]);
  if (!match || port < 1 || port > 65_535) {
    throw new Error(
      `Spanner emulator host ${JSON.stringify(hostPort)} is not host:port (e.g. 127.0.0.1:9010)`,
    );
  }
  return { host: match[1]!, port };
}

/**
 * The one Spanner connection of a process: its Spanner handle, instance and database.
 * Repositories take it; nothing else opens channels.
 *
 * On the emulator (1.5.x) the client must not use multiplexed sessions, which the emulator does
 * not implement (it hands back ordinary sessions and the client then fails with "Unable to release
 * unknown resource"). The client has no option for that, only the environment variable
 * GOOGLE_CLOUD_SPANNER_MULTIPLEXED_SESSIONS, which it reads once, when the Database object is
 * constructed (synchronously). So it is set to 'false' around that one constructor call and put
 * back at once: the process environment is left as it was, and real Spanner keeps multiplexed
 * sessions. The endpoint is passed explicitly (servicePath, port, insecure credentials) rather
 * than through SPANNER_EMULATOR_HOST.
 */
export class SpannerClient {
  private closed = false;

  private constructor(
    readonly config: SpannerConfig,
    readonly spanner: Spanner,
    readonly instance: Instance,
    readonly database: Database,
    private readonly timeoutMs: number,
  ) {}

  static create(options: SpannerClientOptions): SpannerClient {
    const config: SpannerConfig = {
      projectId: options.projectId,
      instanceId: options.instanceId,
      databaseId: options.databaseId,
      emulatorHost: options.emulatorHost,
    };
    const timeoutMs = options.timeoutMs ?? 10_000;
    const spanner = new Spanner(spannerOptions(config));
    const instance = spanner.instance(config.instanceId);
    const emulator = config.emulatorHost !== undefined;
    const database = withMultiplexedSessions(!emulator, () =>
      instance.database(config.databaseId, {
        acquireTimeout: timeoutMs,
        // The emulator needs few sessions; real Spanner uses one multiplexed session anyway.
        ...(emulator && { min: 1, max: 50, incStep: 5 }),
      }),
    );
    // The session pool reports refill failures as 'error' events; unheard, they would kill the process.
    database.on('error', (error: Error) => options.onError?.(error));
    return new SpannerClient(config, spanner, instance, database, timeoutMs);
  }

  /** Resolves when the database answers `SELECT 1`; rejects (with the client's reason, or a timeout) if not. */
  async ping(timeoutMs: number = this.timeoutMs): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new SpannerTimeoutError(`Spanner did not answer SELECT 1 within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([
        this.database.run({ sql: 'SELECT 1', gaxOptions: readCallOptions(timeoutMs) }).then(() => undefined),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the sessions and closes the channels; safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Deleting sessions needs the server; a server that is gone must not hold up shutdown.
    await Promise.race([
      this.database.close().catch(() => undefined),
      new Promise((resolve) => setTimeout(resolve, 2_000).unref()),
    ]);
    this.spanner.close();
  }
}

/**
 * Call options for queries and reads (`gaxOptions`). The client sends streaming calls
 * (ExecuteStreamingSql, StreamingRead) through the `retry-request` module, which retries any
 * error that arrives before a response twice, with back-off, whatever its code: a query naming a
 * missing table takes about 7 s to fail instead of 20 ms. The client's own result stream already
 * retries UNAVAILABLE with resume tokens, so these blind retries are switched off.
 */
export function readCallOptions(timeoutMs?: number): CallOptions {
  return {
    retryRequestOptions: { retries: 0, noResponseRetries: 0 },
    ...(timeoutMs !== undefined && { timeout: timeoutMs }),
  };
}

/** A request that got no answer in time (no gRPC code: transient, like a lost connection). */
export class SpannerTimeoutError extends Error {
  override readonly name = 'SpannerTimeoutError';
}

/** Runs `construct` (synchronous) with the client's multiplexed-session switch set, then restores it. */
export function withMultiplexedSessions<T>(enabled: boolean, construct: () => T): T {
  const name = 'GOOGLE_CLOUD_SPANNER_MULTIPLEXED_SESSIONS';
  if (enabled) return construct();
  const before = process.env[name];
  process.env[name] = 'false';
  try {
    return construct();
  } finally {
    if (before === undefined) delete process.env[name];
    else process.env[name] = before;
  }
}
