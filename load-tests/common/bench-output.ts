/**
 * What every benchmark prints and how it cleans up. Figures go to stdout as JSON lines (one per
 * case, then the ratios), so `> run.jsonl` keeps them clean; progress goes to stderr.
 */
export type Line = Record<string, unknown>;

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
