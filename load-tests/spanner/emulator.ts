import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../ingest/child-service.js';

/** The Cloud Spanner emulator shipped with the Google Cloud SDK (as in libs/testing). */
export const EMULATOR_BIN =
  process.env.SPANNER_EMULATOR_BIN ?? '/usr/lib/google-cloud-sdk/bin/cloud_spanner_emulator/emulator_main';
/** Its process name in /proc (what cpuWindow counts). */
export const EMULATOR_PROCESS = 'emulator_main';

/**
 * A Cloud Spanner emulator of the benchmark's own (`emulator_main`, the gRPC server itself, no
 * REST gateway) on a free loopback port: nobody else's databases or load share it. It keeps
 * everything in memory, so its databases live as long as it does. Its output goes to a log file
 * (removed on stop); with `detached` it runs in a process group of its own, so that `release()`
 * can leave it running after the benchmark exits (--keep).
 */
export class BenchEmulator {
  /** However this process exits (an uncaught error included), the emulator goes with it unless released. */
  private readonly killOnExit = () => this.child.kill('SIGKILL');

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly logFile: string,
  ) {
    process.once('exit', this.killOnExit);
  }

  static async start(options: { detached: boolean }): Promise<BenchEmulator> {
    if (!existsSync(EMULATOR_BIN)) {
      throw new Error(
        `no Spanner emulator at ${EMULATOR_BIN}: install it (gcloud components install cloud-spanner-emulator) ` +
          'or set SPANNER_EMULATOR_BIN',
      );
    }
    const port = await freePort();
    const logFile = path.join(os.tmpdir(), `tally-bench-spanner-emulator-${port}.log`);
    const fd = openSync(logFile, 'w');
    let child: ChildProcess;
    try {
      child = spawn(EMULATOR_BIN, [`--host_port=127.0.0.1:${port}`], {
        stdio: ['ignore', fd, fd],
        detached: options.detached,
      });
    } finally {
      closeSync(fd);
    }
    const emulator = new BenchEmulator(child, port, logFile);
    try {
      await emulator.waitUntilListening(15_000);
    } catch (error) {
      await emulator.stop();
      throw error;
    }
    return emulator;
  }

  /** `127.0.0.1:<port>`: SPANNER_EMULATOR_HOST. */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Kills the emulator (every database with it) and removes its log. Idempotent. */
  async stop(): Promise<void> {
    const child = this.child;
    process.off('exit', this.killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.logFile, { force: true });
  }

  /** Leaves it running when this process exits (--keep): stop it with `kill <pid>`. */
  release(): void {
    process.off('exit', this.killOnExit);
    this.child.unref();
  }

  private async waitUntilListening(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`the Spanner emulator exited at start-up: ${this.logTail()}`);
      }
      if (await accepts(this.port)) return;
      if (Date.now() > deadline) {
        throw new Error(
          `the Spanner emulator did not listen on ${this.host} within ${timeoutMs} ms: ${this.logTail()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private logTail(): string {
    try {
      return readFileSync(this.logFile, 'utf8').slice(-2_000).trim();
    } catch {
      return '(no output)';
    }
  }
}

/**
 * The emulator's version as the Cloud SDK installed it (the `cloud-spanner-emulator*` component
 * snapshot next to the binary's SDK), or 'unknown': the binary itself has no --version.
 */
export function emulatorVersion(bin: string = EMULATOR_BIN): string {
  const install = path.join(path.dirname(bin), '..', '..', '.install');
  try {
    for (const name of readdirSync(install).sort()) {
      if (!/^cloud-spanner-emulator.*\.snapshot\.json$/.test(name)) continue;
      const snapshot = JSON.parse(readFileSync(path.join(install, name), 'utf8')) as {
        components?: Array<{ id?: string; version?: { version_string?: string } }>;
      };
      const version = snapshot.components?.find((c) => c.id?.startsWith('cloud-spanner-emulator'))?.version
        ?.version_string;
      if (version) return version;
    }
  } catch {
    // Not an SDK layout.
  }
  return 'unknown';
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
