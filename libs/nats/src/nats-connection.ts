import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection, type Status } from '@nats-io/transport-node';

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

export interface ConnectNatsOptions {
  /** One URL or a comma-separated list, e.g. `nats://127.0.0.1:4222`. */
  readonly url: string;
  /** Connection name shown by the server's monitoring (`/connz`), e.g. `tally-ingest`. */
  readonly name: string;
  /**
   * Reconnect forever after a lost connection, waiting `reconnectWaitMs` between attempts, so an
   * app survives a NATS restart (default true). CLIs pass false and fail instead.
   */
  readonly reconnect?: boolean;
  /** Wait between reconnect attempts to one server (default 2000 ms). */
  readonly reconnectWaitMs?: number;
  /** Timeout of the first connection attempt (default 5000 ms). */
  readonly timeoutMs?: number;
  /**
   * Keep retrying the FIRST connection too, instead of failing when NATS is not up yet (default
   * false: a service whose NATS is unreachable at start-up should say so and exit).
   */
  readonly waitOnFirstConnect?: boolean;
  /**
   * Skip the Error (with its stack trace) nats.js builds up front for every request/publish, only
   * to give a later timeout a call site (default false). Hot publishers set it: measured on the
   * ingest single-sale path, the stack captures alone took ~1/3 of the process's CPU.
   */
  readonly noAsyncTraces?: boolean;
  /** Connection events (disconnect, reconnect, error...), e.g. to log them or flip a health flag. */
  readonly onStatus?: (status: Status) => void;
}

/** Connects to NATS; a failed first connection throws an Error naming the URL. */
export async function connectNats(options: ConnectNatsOptions): Promise<NatsConnection> {
  const reconnect = options.reconnect ?? true;
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.url.split(',').map((url) => url.trim()),
      name: options.name,
      reconnect,
      maxReconnectAttempts: reconnect ? -1 : 0,
      reconnectTimeWait: options.reconnectWaitMs ?? 2_000,
      timeout: options.timeoutMs ?? 5_000,
      waitOnFirstConnect: options.waitOnFirstConnect ?? false,
      noAsyncTraces: options.noAsyncTraces ?? false,
    });
  } catch (err) {
    throw new Error(`cannot connect to NATS at ${options.url}: ${describe(err)}`, { cause: err });
  }
  const onStatus = options.onStatus;
  if (onStatus) {
    void (async () => {
      for await (const status of nc.status()) {
        try {
          onStatus(status);
        } catch {
          // A failing listener must not stop status delivery (nor crash the process).
        }
      }
    })();
  }
  return nc;
}

/** A connection with its JetStream handles, and whether it is currently connected. */
export class NatsClient {
  #connected = true;

  private constructor(
    readonly connection: NatsConnection,
    readonly jsm: JetStreamManager,
    readonly js: JetStreamClient,
  ) {}

  /** Connects and checks JetStream is enabled (fails with the server's answer if not). */
  static async connect(options: ConnectNatsOptions): Promise<NatsClient> {
    let client: NatsClient | undefined;
    const nc = await connectNats({
      ...options,
      onStatus: (status) => {
        if (client && status.type === 'disconnect') client.#connected = false;
        if (client && status.type === 'reconnect') client.#connected = true;
        options.onStatus?.(status);
      },
    });
    try {
      const jsm = await jetstreamManager(nc);
      client = new NatsClient(nc, jsm, jetstream(nc));
      return client;
    } catch (err) {
      await nc.close();
      throw new Error(`JetStream is not available on ${options.url}: ${describe(err)}`, { cause: err });
    }
  }

  get isConnected(): boolean {
    return this.#connected && !this.connection.isClosed();
  }

  /** Drains (finishes in-flight work) and closes; safe to call twice. */
  async close(): Promise<void> {
    if (this.connection.isClosed() || this.connection.isDraining()) return;
    await this.connection.drain();
  }
}

/** The part of a pino logger the status logging needs. */
export interface StatusLogger {
  warn(fields: object, message: string): void;
  info(fields: object, message: string): void;
}

/** An onStatus that logs disconnects and reconnects, as every app wants. */
export function logNatsStatus(logger: StatusLogger): (status: Status) => void {
  return (status) => {
    if (status.type === 'disconnect') logger.warn({ server: status.server }, 'NATS disconnected');
    if (status.type === 'reconnect') logger.info({ server: status.server }, 'NATS reconnected');
  };
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
  return `${err.message}${cause}`;
}
