import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import path from 'node:path';
import type { PortChoice } from '../config/demo.config.js';
import type { ProcessSupervisor } from '../processes/process.supervisor.js';

/** True when something accepts TCP connections at host:port. */
export function reachable(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not come up within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Whether a listener could bind 127.0.0.1:port now (0: any port, answered with the one bound). */
function bindable(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : undefined));
    });
  });
}

/**
 * The port an app of the demo listens on: the one asked for when it is free; a default that is
 * taken (another demo, a developer's own ingest) is replaced by a free port, said in `note`; an
 * explicit port that is taken stops the demo with the option to change.
 */
export async function choosePort(
  choice: PortChoice,
  option: string,
): Promise<{ port: number; note?: string }> {
  if ((await bindable(choice.port)) !== undefined) return { port: choice.port };
  if (choice.explicit) throw new Error(`port ${choice.port} (${option}) is in use: choose another`);
  const port = await bindable(0);
  if (port === undefined) throw new Error('no free port on 127.0.0.1');
  return { port, note: `port ${choice.port} is in use, using ${port} (set ${option} to choose)` };
}

/**
 * NATS for the demo: the one at NATS_URL if it answers; otherwise a nats-server from the PATH
 * with JetStream and its data under ./data/nats (a child of the demo, stopped with it);
 * otherwise a message saying exactly what to start.
 */
export async function ensureNats(url: URL, supervisor: ProcessSupervisor): Promise<string> {
  const host = url.hostname;
  const port = Number(url.port || 4222);
  if (await reachable(host, port)) return `using the server at ${url.host}`;
  const binary = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' }).stdout.trim();
  if (binary === '') {
    throw new Error(
      `NATS is not reachable at ${url.href} and no nats-server is on the PATH. Start one with JetStream ` +
        `(nats-server -js -a ${host} -p ${port}) or \`docker compose up -d nats\`, or set NATS_URL.`,
    );
  }
  const dataDir = path.resolve('data', 'nats');
  mkdirSync(dataDir, { recursive: true });
  const child = supervisor.spawn(
    'nats-server',
    binary,
    ['-js', '-a', host, '-p', String(port), '-sd', dataDir],
    process.env,
  );
  await waitFor(
    async () => {
      if (child.exitCode !== null)
        throw new Error(`nats-server exited: ${supervisor.logTail('nats-server', 5)}`);
      return reachable(host, port);
    },
    10_000,
    'nats-server',
  );
  return `started ${binary} on ${url.host} (data in ./data/nats, log in ${supervisor.logFile('nats-server')})`;
}

/**
 * PostgreSQL for the demo: the one at DATABASE_URL if it answers; otherwise, on a Debian-style
 * machine with an installed but stopped cluster, that cluster started with pg_ctlcluster (as
 * .ci/run does, and it stays up as the system service it is); otherwise a message saying
 * exactly what to start.
 */
export async function ensurePostgres(url: URL): Promise<string> {
  const host = url.hostname;
  const port = Number(url.port || 5432);
  if (await reachable(host, port)) return `using the server at ${host}:${port}`;
  const clusters = spawnSync('sh', ['-c', 'command -v pg_ctlcluster >/dev/null && ls /etc/postgresql'], {
    encoding: 'utf8',
  }).stdout.trim();
  if (clusters === '') {
    throw new Error(
      `PostgreSQL is not reachable at ${host}:${port}. Start it (\`docker compose up -d postgres\`, or your ` +
        "distribution's service), or point DATABASE_URL at one.",
    );
  }
  for (const version of clusters.split(/\s+/)) {
    spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { stdio: 'ignore' });
  }
  await waitFor(() => reachable(host, port), 20_000, 'PostgreSQL');
  return `started the installed cluster (pg_ctlcluster ${clusters.split(/\s+/).join(', ')})`;
}
