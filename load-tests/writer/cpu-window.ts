import { readdirSync, readFileSync } from 'node:fs';
import { machineCpuSeconds, processCpuSeconds } from '../ingest/cpu.js';

/** Linux's USER_HZ (see ../ingest/cpu.ts). */
const TICKS_PER_SECOND = 100;

/** CPU seconds so far of every process whose command name is `comm` (e.g. all Postgres backends), by pid. */
function cpuByPid(comm: string): Map<number, number> {
  const out = new Map<number, number>();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (name !== comm) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(pid), (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND);
    } catch {
      // The process ended meanwhile.
    }
  }
  return out;
}

/** CPU seconds used between two snapshots by processes alive at the end (new ones count whole). */
function delta(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, seconds] of after) sum += seconds - (before.get(pid) ?? 0);
  return sum;
}

/**
 * CPU seconds spent in one window, per party; null where /proc cannot tell (not Linux). Besides
 * the fixed parties, one field per store process watched (by default `postgres`: every Postgres
 * process; see cpuWindow's `stores`).
 */
export interface CpuSeconds {
  readonly [party: string]: number | null;
  /** The process under test (the writer), when there is one. */
  readonly writer: number | null;
  /** This process: the baseline's insert loop, or the polls during the writer's drain. */
  readonly bench: number;
  readonly nats_server: number | null;
  /** The whole machine, all cores. */
  readonly machine: number | null;
}

/** The store processes watched by default: every `postgres` process (backends that end inside a window are missed). */
export const POSTGRES_PROCESSES: Readonly<Record<string, string>> = { postgres: 'postgres' };

/**
 * Starts a window; the returned function closes it and gives CPU seconds per party. `stores`
 * maps a field of the result to a process command name (`/proc/<pid>/comm`) whose processes'
 * CPU it sums, e.g. `{ emulator: 'emulator_main' }`.
 */
export function cpuWindow(
  writerPid?: number,
  stores: Readonly<Record<string, string>> = POSTGRES_PROCESSES,
): () => CpuSeconds {
  const bench = process.cpuUsage();
  const writer = processCpuSeconds(writerPid);
  const storesBefore = Object.entries(stores).map(([field, comm]) => ({
    field,
    comm,
    before: cpuByPid(comm),
  }));
  const nats = cpuByPid('nats-server');
  const machine = machineCpuSeconds();
  return () => {
    const used = process.cpuUsage(bench);
    const writerNow = processCpuSeconds(writerPid);
    const machineNow = machineCpuSeconds();
    const round = (v: number) => Math.round(v * 100) / 100;
    const storesNow: Record<string, number | null> = {};
    for (const { field, comm, before } of storesBefore) {
      const now = cpuByPid(comm);
      storesNow[field] = now.size === 0 ? null : round(delta(before, now));
    }
    const natsNow = cpuByPid('nats-server');
    return {
      writer: writer === null || writerNow === null ? null : round(writerNow - writer),
      bench: round((used.user + used.system) / 1e6),
      ...storesNow,
      nats_server: natsNow.size === 0 ? null : round(delta(nats, natsNow)),
      machine: machine === null || machineNow === null ? null : round(machineNow - machine),
    };
  };
}
