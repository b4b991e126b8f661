import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The repository root (the build runs there; dist/ is under it). */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The writer's entry point as `npm run build` emits it. */
export const WRITER_MAIN = join(REPO_ROOT, 'dist/apps/writer/src/main.js');
/** The aggregator's entry point, likewise. */
export const AGGREGATOR_MAIN = join(REPO_ROOT, 'dist/apps/aggregator/src/main.js');

/** `npm run -s build`: compiles every app to dist/ with swc (a few seconds). */
export async function buildDist(): Promise<void> {
  try {
    await promisify(execFile)('npm', ['run', '-s', 'build'], { cwd: REPO_ROOT, timeout: 120_000 });
  } catch (error) {
    const e = error as Error & { stdout?: string; stderr?: string };
    throw new Error(`npm run build failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/** Everything the writer children printed, each line tagged with the child it came from. */
export class ChildOutput {
  readonly #lines: string[] = [];

  add(tag: string, chunk: Buffer | string): void {
    for (const line of chunk.toString().split('\n')) if (line !== '') this.#lines.push(`[${tag}] ${line}`);
  }

  get text(): string {
    return this.#lines.join('\n');
  }
}

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Whether this test killed or stopped it (false: it died on its own). */
  readonly expected: boolean;
}

/**
 * The real writer (`node dist/apps/writer/src/main.js`) in a child process, so a test can
 * SIGKILL it at any instant: no shutdown hook runs, nothing is flushed, exactly as in a crash.
 * Its output goes to a shared ChildOutput (print it when the test fails).
 */
export class WriterProcess {
  readonly exit: Promise<ChildExit>;
  #expected = false;

  private constructor(
    readonly tag: string,
    private readonly child: ChildProcess,
  ) {
    this.exit = once(child, 'exit').then(([code, signal]) => ({
      code: code as number | null,
      signal: signal as NodeJS.Signals | null,
      expected: this.#expected,
    }));
  }

  /** Spawns the app (the writer by default) with exactly `env` (plus PATH); it starts working without further ado. */
  static start(
    tag: string,
    env: Record<string, string>,
    output: ChildOutput,
    main = WRITER_MAIN,
  ): WriterProcess {
    const child = spawn(process.execPath, ['--enable-source-maps', main], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => output.add(tag, chunk));
    child.stderr!.on('data', (chunk: Buffer) => output.add(`${tag} stderr`, chunk));
    child.on('error', (error) => output.add(tag, `spawn error: ${error.message}`));
    output.add(tag, `spawned pid ${child.pid}`);
    return new WriterProcess(tag, child);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGKILL: the process dies at once, mid-whatever it was doing. Resolves when it has exited. */
  async kill(): Promise<ChildExit> {
    this.#expected = true;
    if (this.running) this.child.kill('SIGKILL');
    return this.exit;
  }

  /** SIGTERM (graceful shutdown), then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<ChildExit> {
    this.#expected = true;
    if (!this.running) return this.exit;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exit;
    } finally {
      clearTimeout(timer);
    }
  }
}
