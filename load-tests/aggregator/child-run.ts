import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Cleanup, Line } from '../common/bench-output.js';

const SELF = fileURLToPath(new URL('./bench-aggregator.js', import.meta.url));

export interface ChildRun {
  /** The JSON lines the child printed on stdout. */
  readonly lines: Line[];
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly seconds: number;
}

/**
 * Runs one case's measuring part in a fresh Node process: this benchmark's own built script
 * with `--child <name>` (and the benchmark's arguments), under `nodeFlags` (--expose-gc, a heap
 * size). Its stdout is read as JSON lines; its stderr (progress) goes to ours.
 */
export async function runChild(
  name: 'rss' | 'restart',
  args: readonly string[],
  nodeFlags: readonly string[],
  env: NodeJS.ProcessEnv,
  cleanup: Cleanup,
): Promise<ChildRun> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [...nodeFlags, '--enable-source-maps', SELF, ...args, '--child', name],
    {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const stop = cleanup.add(`child ${name}`, async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exit = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    }
  });
  const lines: Line[] = [];
  const reader = createInterface({ input: child.stdout! });
  reader.on('line', (text) => {
    try {
      lines.push(JSON.parse(text) as Line);
    } catch {
      process.stderr.write(`${name} (stdout): ${text}\n`);
    }
  });
  const [exitCode, signal] = (await once(child, 'exit')) as [number | null, string | null];
  await stop();
  return { lines, exitCode, signal, seconds: (performance.now() - started) / 1000 };
}
