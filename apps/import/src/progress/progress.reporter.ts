import { SingleBar } from 'cli-progress';
import type { ImportProgress } from '../pipeline/csv-import.service.js';

/**
 * Progress of an import on stderr: a bar with rows/s and ETA on a terminal, a plain line every
 * `intervalMs` otherwise (logs, CI), nothing with --quiet. Pass 1 (the scan for split receipts)
 * is measured in bytes of the file, pass 2 in rows, whose total the scan counted.
 */

export interface ProgressReporter {
  update(progress: ImportProgress): void;
  stop(): void;
}

export const silentProgress: ProgressReporter = { update: () => undefined, stop: () => undefined };

export function progressReporter(
  stream: NodeJS.WritableStream & { isTTY?: boolean },
  options: { intervalMs?: number; now?: () => number } = {},
): ProgressReporter {
  return stream.isTTY
    ? new BarProgress(stream)
    : new LineProgress(stream, options.intervalMs ?? 5000, options.now ?? Date.now);
}

class BarProgress implements ProgressReporter {
  private bar: SingleBar | undefined;
  private phase: ImportProgress['phase'] | undefined;
  private phaseStarted = 0;

  constructor(private readonly stream: NodeJS.WritableStream) {}

  update(p: ImportProgress): void {
    if (p.phase !== this.phase) {
      this.bar?.stop();
      this.phase = p.phase;
      this.phaseStarted = Date.now();
      this.bar = new SingleBar({
        stream: this.stream,
        format:
          p.phase === 'scan'
            ? 'scan   [{bar}] {percentage}% | {rows} rows | {rate} rows/s | ETA {eta_formatted}'
            : 'import [{bar}] {percentage}% | {rows}/{all} rows | {rate} rows/s | ETA {eta_formatted} | new {accepted} · stored before {duplicate} · rejected {rejected}',
        barsize: 24,
        hideCursor: true,
        etaBuffer: 50,
        fps: 5,
      });
      this.bar.start(total(p), 0, payload(p, 0));
    }
    this.bar!.update(done(p), payload(p, rate(p.rows, Date.now() - this.phaseStarted)));
  }

  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

class LineProgress implements ProgressReporter {
  private phase: ImportProgress['phase'] | undefined;
  private phaseStarted = 0;
  private lastPrinted = 0;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {}

  update(p: ImportProgress): void {
    const now = this.now();
    if (p.phase !== this.phase) {
      this.phase = p.phase;
      this.phaseStarted = now;
      this.lastPrinted = now;
    }
    if (now - this.lastPrinted >= this.intervalMs) {
      this.lastPrinted = now;
      this.stream.write(`${progressLine(p, now - this.phaseStarted)}\n`);
    }
  }

  stop(): void {}
}

/** One plain progress line, e.g. `import: 120,000/300,000 rows (40.0%), 25,000 rows/s, ETA 7s; new 40,000, ...`. */
export function progressLine(p: ImportProgress, elapsedMs: number): string {
  const perSecond = rate(p.rows, elapsedMs);
  const fraction = total(p) === 0 ? 1 : done(p) / total(p);
  const remaining = p.phase === 'import' && p.totalRows !== undefined ? p.totalRows - p.rows : undefined;
  const etaSeconds =
    remaining !== undefined
      ? perSecond > 0
        ? remaining / perSecond
        : undefined
      : fraction > 0
        ? (elapsedMs / 1000) * (1 / fraction - 1)
        : undefined;
  const eta = etaSeconds === undefined ? '?' : `${Math.ceil(etaSeconds)}s`;
  const of = p.phase === 'import' && p.totalRows !== undefined ? `/${n(p.totalRows)}` : '';
  const head = `${p.phase}: ${n(p.rows)}${of} rows (${(fraction * 100).toFixed(1)}%), ${n(perSecond)} rows/s, ETA ${eta}`;
  if (p.phase === 'scan') return head;
  const c = p.counts;
  return `${head}; new ${n(c.accepted)}, stored before ${n(c.duplicate)}, rejected ${n(c.rejected)} receipts (${n(c.rowsRejected)} rows)`;
}

function total(p: ImportProgress): number {
  return p.phase === 'import' && p.totalRows !== undefined ? p.totalRows : p.totalBytes;
}

function done(p: ImportProgress): number {
  return p.phase === 'import' && p.totalRows !== undefined ? p.rows : p.bytes;
}

function payload(p: ImportProgress, perSecond: number) {
  return {
    rows: n(p.rows),
    all: n(p.totalRows ?? 0),
    rate: n(perSecond),
    accepted: n(p.counts.accepted),
    duplicate: n(p.counts.duplicate),
    rejected: n(p.counts.rejected),
  };
}

function rate(rows: number, elapsedMs: number): number {
  return elapsedMs <= 0 ? 0 : Math.round((rows * 1000) / elapsedMs);
}

function n(value: number): string {
  return value.toLocaleString('en-US');
}
