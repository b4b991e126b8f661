import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import path from 'node:path';

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

/**
 * NATS for the demo: the one at NATS_URL if it answers; otherwise a nats-server from the PATH
 * with its data under ./data/nats; otherwise a message saying exactly what to start.
 */
export async function ensureNats(url: URL): Promise<ChildProcess | undefined> {
  const host = url.hostname;
  const port = Number(url.port || 4222);
  if (await reachable(host, port)) return undefined;
  const binary = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' }).stdout.trim();
  if (binary === '') {
    throw new Error(
      `NATS is not reachable at ${url.href} and no nats-server is on the PATH. Start one with JetStream ` +
        '(nats-server -js) or `docker compose up -d nats`, or set NATS_URL.',
    );
  }
  const dataDir = path.resolve('data', 'nats');
  mkdirSync(dataDir, { recursive: true });
  const child = spawn(binary, ['-js', '-a', host, '-p', String(port), '-sd', dataDir], { stdio: 'ignore' });
  await waitFor(() => reachable(host, port), 10_000, 'nats-server');
  return child;
}

/**
 * PostgreSQL for the demo: the one at DATABASE_URL if it answers; otherwise, on a Debian-style
 * machine with an installed but stopped cluster, that cluster started with pg_ctlcluster (as
 * .ci/run does, and it stays up as the system service it is); otherwise a message saying
 * exactly what to start.
 */
export async function ensurePostgres(url: URL): Promise<void> {
  const host = url.hostname;
  const port = Number(url.port || 5432);
  if (await reachable(host, port)) return;
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
}
