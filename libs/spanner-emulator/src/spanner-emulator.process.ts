import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { freeLoopbackPort } from '@tally/common';
import {
  findSpannerEmulatorBinary,
  SpannerEmulatorNotFoundError,
  spannerEmulatorCandidates,
} from './emulator-binary.js';

export interface SpannerEmulatorOptions {
  /** The emulator_main binary (default: findSpannerEmulatorBinary()). */
  readonly binary?: string;
  /** Loopback port to listen on (default: a free one). */
  readonly port?: number;
  /** Write the emulator's output to this file (truncated); default: keep its last 4,000 characters in memory. */
  readonly logFile?: string;
  /** How long start() waits for it to listen (default 15 s; it takes well under a second). */
  readonly startTimeoutMs?: number;
  /**
   * Run it in a process group of its own, so that a terminal's Ctrl-C reaches only its owner,
   * which then stops it when it is done with it (default false: it gets the signal too).
   */
  readonly detached?: boolean;
}

/**
 * A Cloud Spanner emulator process (`emulator_main`, the gRPC server itself, without the REST
 * gateway) on a loopback port: what tests, benchmarks and the demo start for themselves. It
 * keeps everything in memory, so stop() or restart() loses every instance, database and row.
 * However the starting process exits (an uncaught error included), the emulator is killed with
 * it: it never outlives its owner.
 */
export class SpannerEmulatorProcess {
  private child: ChildProcess | undefined;
  private output = '';
  private readonly killOnExit = () => this.child?.kill('SIGKILL');

  private constructor(
    readonly binary: string,
    readonly port: number,
    private readonly options: SpannerEmulatorOptions,
  ) {}

  /** Starts it and resolves once it accepts connections; throws SpannerEmulatorNotFoundError when it is not installed. */
  static async start(options: SpannerEmulatorOptions = {}): Promise<SpannerEmulatorProcess> {
    const binary = options.binary ?? findSpannerEmulatorBinary();
    if (binary === undefined) throw new SpannerEmulatorNotFoundError(spannerEmulatorCandidates());
    const emulator = new SpannerEmulatorProcess(binary, options.port ?? (await freeLoopbackPort()), options);
    await emulator.spawn();
    return emulator;
  }

  /** `127.0.0.1:<port>`, the value SPANNER_EMULATOR_HOST takes. */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Kills the emulator (data and all); safe to call twice. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    process.off('exit', this.killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
    await exited;
    clearTimeout(timer);
  }

  /** Leaves it running after this process exits (a benchmark's --keep): stop it with `kill <pid>`. */
  release(): void {
    process.off('exit', this.killOnExit);
    this.child?.unref();
  }

  /** Stops and starts it again on the same port: an outage. Everything it held is gone. */
  async restart(): Promise<void> {
    await this.stop();
    await this.spawn();
  }

  /** The end of its output (the log file's, when it writes one). */
  outputTail(): string {
    if (this.options.logFile === undefined) return this.output.trim();
    try {
      return readFileSync(this.options.logFile, 'utf8').slice(-4_000).trim();
    } catch {
      return '';
    }
  }

  private async spawn(): Promise<void> {
    this.output = '';
    const args = [`--host_port=${this.host}`];
    let child: ChildProcess;
    if (this.options.logFile !== undefined) {
      const fd = openSync(this.options.logFile, 'w');
      try {
        child = spawn(this.binary, args, {
          stdio: ['ignore', fd, fd],
          detached: this.options.detached === true,
        });
      } finally {
        closeSync(fd);
      }
    } else {
      child = spawn(this.binary, args, {
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: this.options.detached === true,
      });
      const keep = (chunk: Buffer) => {
        this.output = (this.output + chunk.toString()).slice(-4_000);
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
    }
    // A spawn failure (e.g. not executable) arrives as an 'error' event; the wait below reports it.
    let spawnError: Error | undefined;
    child.once('error', (error) => {
      spawnError = error;
    });
    this.child = child;
    process.once('exit', this.killOnExit);
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 15_000);
    for (;;) {
      if (spawnError || child.exitCode !== null || child.signalCode !== null) {
        await this.stop();
        throw new Error(
          `the Spanner emulator (${this.binary}) exited at start-up: ${spawnError?.message ?? this.outputTail()}`,
        );
      }
      if (await accepts(this.port)) return;
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`the Spanner emulator did not listen on ${this.host} in time: ${this.outputTail()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** True when something accepts connections on 127.0.0.1:port. */
export function accepts(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
