import os from 'node:os';
/**
 * What every benchmark prints and how it cleans up. Figures go to stdout as JSON lines (one per
 * case, then the ratios), so `> run.jsonl` keeps them clean; progress goes to stderr.
 */
export type Line = Record<string, unknown>;

/** The facts every benchmark's `machine` line starts with; each adds its servers' versions. */
export function machineFacts(): Line {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    model: cpus[0]?.model.trim() ?? 'unknown',
    memory_gb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
  };
}

export function emit(line: Line): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** A progress logger prefixed with the benchmark's name. */
export function progress(bench: string): (message: string) => void {
  return (message) => process.stderr.write(`${bench}: ${message}\n`);
}

/** Resources to release at the end, on error and on SIGINT/SIGTERM, newest first. */
export class Cleanup {
  private readonly steps: Array<{ name: string; run: () => Promise<void> }> = [];
  /** Stops the load that is running, if any. */
  stopLoad: (() => void) | undefined;

  constructor(private readonly log: (message: string) => void) {}

  /** Registers a step; the returned function runs it now (once) and unregisters it. */
  add(name: string, run: () => Promise<void>): () => Promise<void> {
    const step = { name, run };
    this.steps.push(step);
    return async () => {
      const i = this.steps.indexOf(step);
      if (i < 0) return;
      this.steps.splice(i, 1);
      await run();
    };
  }

  async runAll(): Promise<void> {
    this.stopLoad?.();
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await step.run();
      } catch (error) {
        this.log(`clean-up of ${step.name} failed: ${(error as Error).message}`);
      }
    }
  }
}

export interface BenchRun<O> {
  /** The benchmark's name, as in its progress lines. */
  readonly name: string;
  readonly usage: string;
  /** Parses the arguments (throwing on a bad one, with a message naming it). */
  readonly parse: () => O | 'help';
  readonly main: (options: O) => Promise<void>;
  readonly cleanup: Cleanup;
  readonly log: (message: string) => void;
  /** What an interrupt stops, for its log line. */
  readonly stopping: string;
  /** Runs before the clean-up steps, also on an interrupt (e.g. killing a child writer). */
  readonly beforeCleanup?: () => Promise<void>;
}

/**
 * Every benchmark's outer shell: arguments (exit 2 on a bad one, usage on --help), then main.
 * On SIGINT/SIGTERM it stops what runs and cleans up, exiting 130/143; a failure is logged
 * (not after an interrupt, where the run fails only because it was stopped under it) and
 * exits 1; the clean-up steps run in every case.
 */
export async function runBench<O>(run: BenchRun<O>): Promise<void> {
  let options: O | 'help';
  try {
    options = run.parse();
  } catch (error) {
    console.error(`${run.name}: ${(error as Error).message}\n\n${run.usage}`);
    process.exit(2);
  }
  if (options === 'help') {
    console.error(run.usage);
    process.exit(0);
  }
  const stop = async () => {
    await run.beforeCleanup?.();
    await run.cleanup.runAll();
  };
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interrupted = true;
      run.log(`${signal}: stopping ${run.stopping}`);
      void stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
  try {
    await run.main(options);
  } catch (error) {
    if (!interrupted) run.log(`failed: ${(error as Error).stack ?? error}`);
    process.exitCode = 1;
  } finally {
    await stop();
  }
}
