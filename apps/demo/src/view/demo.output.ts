import type { WriteStream } from 'node:tty';

/**
 * The demo's terminal output. Phases print one line each with their duration; the live block
 * (a few lines) is redrawn in place once a second on a terminal, and is a plain line per second
 * otherwise. A line printed while the block is shown goes above it.
 */
export class DemoOutput {
  private readonly started = performance.now();
  private blockLines = 0;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  get isTerminal(): boolean {
    return (this.stream as WriteStream).isTTY === true;
  }

  /** Seconds since the demo started, for the phase lines. */
  get elapsedMs(): number {
    return performance.now() - this.started;
  }

  line(text: string): void {
    this.clearBlock();
    this.stream.write(`${text}\n`);
  }

  /** `[  3.4 s] ✓ label  detail  (0.12 s)`. */
  phase(label: string, detail: string, tookMs: number, ok = true): void {
    const at = `[${(this.elapsedMs / 1000).toFixed(1).padStart(5)} s]`;
    this.line(`${at} ${ok ? '✓' : '✗'} ${label.padEnd(12)} ${detail}  (${(tookMs / 1000).toFixed(2)} s)`);
  }

  /** Redraws the live block (terminal only). */
  block(lines: readonly string[]): void {
    this.clearBlock();
    // Lines longer than the terminal would wrap and break the redraw; a pty without a size says 0.
    const columns = (this.stream as WriteStream).columns || 1000;
    const fitted = lines.map((l) => (l.length >= columns ? `${l.slice(0, columns - 2)}…` : l));
    this.stream.write(`${fitted.join('\n')}\n`);
    this.blockLines = fitted.length;
  }

  /** Leaves the last block on screen as ordinary output. */
  keepBlock(): void {
    this.blockLines = 0;
  }

  private clearBlock(): void {
    if (this.blockLines === 0) return;
    // Up to the block's first line, then clear to the end of the screen.
    this.stream.write(`\x1b[${this.blockLines}F\x1b[J`);
    this.blockLines = 0;
  }
}
