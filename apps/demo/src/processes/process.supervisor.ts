import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

interface RecordedChild {
  readonly name: string;
  readonly pid: number;
  /** argv as launched: how a leftover is recognised in /proc before it is killed. */
  readonly argv: readonly string[];
}

/**
 * The demo's child processes (the apps, and nats-server or the Spanner emulator when the demo
 * starts them): each one's output goes to `<dataDir>/logs/<name>.log`, and every pid with its
 * command line is recorded in `<dataDir>/children.json` while it runs.
 *
 * No child outlives the demo: a normal end or an error stops them (SIGTERM, then SIGKILL after a
 * grace period), Ctrl-C too, and the process 'exit' hook SIGKILLs whatever is left. Only a
 * SIGKILL of the demo itself can orphan them; the next run then finds them in children.json and
 * kills exactly those (same pid and same command line, so a recycled pid is left alone).
 */
export class ProcessSupervisor {
  private readonly children = new Map<string, { child: ChildProcess; argv: string[] }>();
  private readonly extra = new Map<string, RecordedChild>();
  private stopping = false;
  private readonly killOnExit = () => this.killAllNow();

  constructor(
    private readonly dataDir: string,
    private readonly onUnexpectedExit: (name: string, code: number | null, signal: string | null) => void,
  ) {
    mkdirSync(this.logDir, { recursive: true });
    process.on('exit', this.killOnExit);
  }

  get logDir(): string {
    return path.join(this.dataDir, 'logs');
  }

  logFile(name: string): string {
    return path.join(this.logDir, `${name}.log`);
  }

  /**
   * Kills what an earlier run left behind (recorded in children.json and still running the
   * recorded command line). Returns their names.
   */
  static killLeftovers(dataDir: string): string[] {
    const file = path.join(dataDir, 'children.json');
    let recorded: RecordedChild[];
    try {
      recorded = JSON.parse(readFileSync(file, 'utf8')) as RecordedChild[];
    } catch {
      return [];
    }
    const killed: string[] = [];
    for (const entry of recorded) {
      let cmdline: string;
      try {
        cmdline = readFileSync(`/proc/${entry.pid}/cmdline`, 'utf8');
      } catch {
        continue; // gone (or no /proc on this system)
      }
      if (cmdline.replace(/\0$/, '') !== entry.argv.join('\0')) continue;
      try {
        process.kill(entry.pid, 'SIGKILL');
        killed.push(`${entry.name} (pid ${entry.pid})`);
      } catch {
        // It ended meanwhile.
      }
    }
    rmSync(file, { force: true });
    return killed;
  }

  /** Starts a child with its output in its log file; its exit while the demo runs is reported. */
  spawn(name: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv): ChildProcess {
    const fd = openSync(this.logFile(name), 'w');
    let child: ChildProcess;
    try {
      // A process group of its own: a terminal's Ctrl-C reaches the demo alone, which then
      // stops the children in order (ingest first) instead of all of them dying at once.
      child = spawn(command, [...args], { env, stdio: ['ignore', fd, fd], detached: true });
    } finally {
      closeSync(fd);
    }
    this.adopt(name, child, [command, ...args]);
    return child;
  }

  /** Takes charge of a child started elsewhere (its output is its starter's business). */
  adopt(name: string, child: ChildProcess, argv: string[]): void {
    this.children.set(name, { child, argv });
    child.once('exit', (code, signal) => {
      if (this.children.get(name)?.child === child) this.children.delete(name);
      this.save();
      if (!this.stopping) this.onUnexpectedExit(name, code, signal);
    });
    this.save();
  }

  /** Records a process another object stops (the Spanner emulator), so a leftover is found next time. */
  record(name: string, pid: number | undefined, argv: string[]): void {
    if (pid === undefined) return;
    this.extra.set(name, { name, pid, argv });
    this.save();
  }

  forget(name: string): void {
    this.extra.delete(name);
    this.save();
  }

  isRunning(name: string): boolean {
    const entry = this.children.get(name);
    return entry !== undefined && entry.child.exitCode === null && entry.child.signalCode === null;
  }

  /** The last lines of a child's log. */
  logTail(name: string, lines = 15): string {
    try {
      return readFileSync(this.logFile(name), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /**
   * Stops the children group by group (each group at once): SIGTERM, then SIGKILL after
   * `graceMs`. Children not named in any group are stopped last.
   */
  async stopAll(groups: readonly (readonly string[])[], graceMs = 10_000): Promise<void> {
    this.stopping = true;
    const named = new Set(groups.flat());
    const rest = [...this.children.keys()].filter((name) => !named.has(name));
    for (const group of [...groups, rest]) {
      await Promise.all(group.map((name) => this.stop(name, graceMs)));
    }
    this.save();
    process.off('exit', this.killOnExit);
  }

  /** SIGKILL to every child at once, synchronously (the last resort, on exit). */
  killAllNow(): void {
    this.stopping = true;
    for (const { child } of this.children.values()) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }

  private async stop(name: string, graceMs: number): Promise<void> {
    const entry = this.children.get(name);
    if (!entry) return;
    const { child } = entry;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  private save(): void {
    const entries: RecordedChild[] = [
      ...[...this.children].flatMap(([name, { child, argv }]) =>
        child.pid === undefined ? [] : [{ name, pid: child.pid, argv }],
      ),
      ...this.extra.values(),
    ];
    const file = path.join(this.dataDir, 'children.json');
    if (entries.length === 0) rmSync(file, { force: true });
    else writeFileSync(file, `${JSON.stringify(entries, null, 2)}\n`);
  }
}
