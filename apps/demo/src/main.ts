import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { applyDefinitions, loadDefinitions, NatsClient } from '@tally/nats';
import { ensureNats, reachable, waitFor } from './services.js';
import { BasketSimulator } from './simulator/basket-simulator.js';

/**
 * `npm run demo`: Tally on one machine with sample traffic.
 *   input      the simulator: branches and tills selling from the catalog, over the HTTP API
 *   pipeline   ingest → JetStream (stream config applied first)
 *   output     a live line per second; with --sales N --exit, a check that the stream holds
 *              every acknowledged sale, and the exit code says whether it does
 * The writers, the aggregator and ClickHouse join this command as they are built.
 */
const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '200' },
    sales: { type: 'string' },
    exit: { type: 'boolean', default: false },
    port: { type: 'string', default: process.env.INGEST_PORT ?? '3000' },
  },
});
const rate = Number(args.rate);
const total = args.sales === undefined ? Number.POSITIVE_INFINITY : Number(args.sales);
const natsUrl = new URL(process.env.NATS_URL ?? 'nats://127.0.0.1:4222');
const apiKey = `demo-${randomBytes(6).toString('hex')}`;
const children: ChildProcess[] = [];

function log(message: string): void {
  process.stderr.write(`[demo] ${message}\n`);
}

async function main(): Promise<number> {
  const natsChild = await ensureNats(natsUrl);
  if (natsChild) {
    children.push(natsChild);
    log(`started nats-server on ${natsUrl.host} (data in ./data/nats)`);
  }

  const nats = await NatsClient.connect({ url: natsUrl.href, name: 'tally-demo', reconnect: false });
  const { jsm } = nats;
  for (const change of await applyDefinitions(jsm, await loadDefinitions())) {
    log(`nats: ${change.kind} ${change.name} ${change.action}`);
  }
  const stream = process.env.TALLY_STREAM ?? 'SALES';
  const before = (await jsm.streams.info(stream)).state.messages;

  const port = Number(args.port);
  const ingest = spawn(process.execPath, ['--enable-source-maps', 'dist/apps/ingest/src/main.js'], {
    env: { ...process.env, INGEST_PORT: String(port), TALLY_API_KEYS: `${apiKey}=*`, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.push(ingest);
  const base = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => (await reachable('127.0.0.1', port)) && (await fetch(`${base}/health/ready`)).ok,
    20_000,
    'ingest',
  );
  log(`ingest ready: ${base}  (OpenAPI: ${base}/docs, metrics: ${base}/metrics)`);
  log(`sending ${Number.isFinite(total) ? total : 'endless'} sales at ${rate}/s; Ctrl-C stops`);

  const simulator = new BasketSimulator(`demo-${Date.now().toString(36)}`, { seed: Date.now() });
  let sent = 0;
  let accepted = 0;
  let failed = 0;
  let lastAccepted = 0;
  const ticker = setInterval(() => {
    log(`accepted ${accepted - lastAccepted}/s, total ${accepted}, failed ${failed}`);
    lastAccepted = accepted;
  }, 1000);

  const started = Date.now();
  const inFlight = new Set<Promise<void>>();
  while (sent < total && !stopping) {
    const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * rate) + 1);
    while (sent < due) {
      sent++;
      const p = submit(base, simulator.next()).then(
        (ok) => {
          if (ok) accepted++;
          else failed++;
        },
        () => {
          failed++;
        },
      );
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      if (inFlight.size >= 256) await Promise.race(inFlight);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  await Promise.all(inFlight);
  clearInterval(ticker);

  const stored = (await jsm.streams.info(stream)).state.messages - before;
  await nats.close();
  log(`done: ${sent} sent, ${accepted} acknowledged, ${failed} failed; ${stored} new messages in ${stream}`);
  if (!args.exit) return 0;
  const ok = failed === 0 && stored === accepted;
  console.log(JSON.stringify({ sent, accepted, failed, storedInStream: stored, agree: ok }));
  return ok ? 0 : 1;
}

async function submit(base: string, sale: unknown): Promise<boolean> {
  const res = await fetch(`${base}/v1/sales`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: JSON.stringify(sale),
  });
  await res.arrayBuffer();
  return res.status === 202;
}

let stopping = false;
process.on('SIGINT', () => {
  stopping = true;
});

function stopChildren(): void {
  for (const child of children.reverse()) child.kill('SIGTERM');
}

main()
  .then((code) => {
    stopChildren();
    process.exitCode = code;
  })
  .catch((error: Error) => {
    log(`failed: ${error.message}`);
    stopChildren();
    process.exitCode = 1;
  });
