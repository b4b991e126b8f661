import { readFileSync } from 'node:fs';

/** Linux's USER_HZ: the unit of the CPU times in /proc/<pid>/stat (100 on every common kernel). */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far; null where /proc is not readable. */
export function processCpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start with field 3, the state.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** Busy CPU seconds of the whole machine, all cores (from /proc/stat); null where unreadable. */
export function machineCpuSeconds(): number | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const ticks = line.trim().split(/\s+/).slice(1).map(Number);
    const total = ticks.slice(0, 8).reduce((sum, t) => sum + t, 0);
    const idle = ticks[3]! + ticks[4]!;
    return (total - idle) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

export interface CpuShare {
  /** The server under load (its child process), in % of one core over the window. */
  readonly server_cpu_pct: number | null;
  /** This process (the load generator or the publish loop), in % of one core. */
  readonly client_cpu_pct: number;
  /** Every process on the machine (NATS included), in % of one core: at most cpus × 100. */
  readonly machine_cpu_pct: number | null;
}

/** Starts measuring; the returned function ends the window and gives each side's CPU use. */
export function measureCpu(serverPid?: number): () => CpuShare {
  const started = performance.now();
  const client = process.cpuUsage();
  const server = processCpuSeconds(serverPid);
  const machine = machineCpuSeconds();
  return () => {
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(client);
    const serverNow = processCpuSeconds(serverPid);
    const machineNow = machineCpuSeconds();
    const pct = (from: number | null, to: number | null) =>
      from === null || to === null ? null : Math.round(((to - from) / seconds) * 100);
    return {
      server_cpu_pct: pct(server, serverNow),
      client_cpu_pct: Math.round(((used.user + used.system) / 1e6 / seconds) * 100),
      machine_cpu_pct: pct(machine, machineNow),
    };
  };
}
