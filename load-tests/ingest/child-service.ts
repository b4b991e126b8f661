import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';

/**
 * A server under load in a child process of its own (`node <script>`), so that it gets its own
 * event loop and its CPU is not shared with the load generator's. Its stdout and stderr go to
 * this process's stderr: stdout stays reserved for the benchmark's JSON lines.
 */
export class ChildService {
  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(
    name: string,
    script: string,
    env: NodeJS.ProcessEnv,
    readyUrl: string,
    timeoutMs = 30_000,
  ): Promise<ChildService> {
    const child = spawn(process.execPath, ['--enable-source-maps', script], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(process.stderr, { end: false });
    child.stderr!.pipe(process.stderr, { end: false });
    const service = new ChildService(name, child);
    try {
      await service.waitReady(readyUrl, timeoutMs);
    } catch (error) {
      await service.stop();
      throw error;
    }
    return service;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  private async waitReady(url: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (this.exited()) {
        throw new Error(
          `${this.name} exited during start-up (code ${this.child.exitCode}, ${this.child.signalCode})`,
        );
      }
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
        if (response.status === 200) return;
        last = `${response.status} ${await response.text()}`;
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${this.name} was not ready at ${url} within ${timeoutMs} ms: ${last}`);
  }

  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. Idempotent. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.exited()) return;
    const exit = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      await exit;
    } finally {
      clearTimeout(timer);
    }
  }
}
