/**
 * `npm run bench:ingest`: measures the ingest service against the real NATS and prints one JSON
 * line per case on stdout (progress on stderr). A benchmark, not a test: it asserts nothing.
 * See load-tests/README.md for what each case measures and how to read the ratios.
 */
import { fileURLToPath } from 'node:url';
import { freeLoopbackPort } from '@tally/common';
import { NatsFixture, TEST_NATS_URL } from '@tally/testing';
import { Cleanup, emit, type Line, machineFacts, progress, runBench } from '../common/bench-output.js';
import { ChildService } from './child-service.js';
import { measureCpu } from './cpu.js';
import { batchReceipt, type HttpLoad, type HttpLoadResult, runHttpLoad, singleReceipt } from './http-case.js';
import { round2 } from './latency.js';
import { type BenchOptions, type CaseName, parseOptions, USAGE } from './options.js';
import { runRawPublish } from './raw-jetstream.js';
import { SaleBodies } from './sale-bodies.js';
import { countSales, settledPosition } from './stream-audit.js';

const INGEST_MAIN = fileURLToPath(new URL('../../apps/ingest/src/main.js', import.meta.url));
const FLOOR_SERVER = fileURLToPath(new URL('./http-floor.server.js', import.meta.url));
const API_KEY = 'bench-key';
const FLOOR_RECEIPT = '{"saleId":"bench-floor","status":"accepted","seq":1}';

const log = progress('bench-ingest');

const cleanup = new Cleanup(log);

async function main(options: BenchOptions): Promise<void> {
  const ingestCases = options.cases.filter((c) => c === 'single' || c === 'batch' || c === 'batch-ndjson');
  const perCase = options.durationS + options.warmupS;
  log(
    `${options.cases.length} case(s) of ${options.durationS}s (+${options.warmupS}s warm-up each): ` +
      `about ${Math.ceil(options.cases.length * perCase + 15)}s in all`,
  );

  const fixture = await NatsFixture.create();
  cleanup.add(`stream ${fixture.names.stream}`, () => fixture.dispose());
  emit({
    machine: {
      ...machineFacts(),
      nats_server: fixture.nc.info?.version ?? 'unknown',
    },
  });

  const bodies = new SaleBodies();
  const lines = new Map<CaseName, Line>();

  if (ingestCases.length > 0) {
    const port = await freeLoopbackPort();
    const url = `http://127.0.0.1:${port}`;
    log(`starting ingest (${INGEST_MAIN}) on ${url}, stream ${fixture.names.stream}`);
    const ingest = await ChildService.start(
      'ingest',
      INGEST_MAIN,
      {
        ...process.env,
        NATS_URL: TEST_NATS_URL,
        TALLY_STREAM: fixture.names.stream,
        TALLY_SUBJECT_PREFIX: fixture.names.subjectPrefix,
        INGEST_HOST: '127.0.0.1',
        INGEST_PORT: String(port),
        TALLY_AUTH: 'enabled',
        TALLY_API_KEYS: `${API_KEY}=*`,
        LOG_LEVEL: 'warn',
      },
      `${url}/health/ready`,
    );
    const stopIngest = cleanup.add('ingest', () => ingest.stop());
    for (const name of ingestCases) {
      const line = await ingestCase(name, url, ingest.pid, fixture, bodies, options);
      lines.set(name, line);
      emit(line);
    }
    await stopIngest();
  }

  if (options.cases.includes('raw-jetstream-per-sale')) {
    const line = await rawCase(bodies, options);
    lines.set('raw-jetstream-per-sale', line);
    emit(line);
  }

  if (options.cases.includes('http-floor')) {
    const line = await floorCase(bodies, options);
    lines.set('http-floor', line);
    emit(line);
  }

  const ratio = (a: CaseName, b: CaseName, of: 'sales_per_s' | 'requests_per_s') => {
    const x = lines.get(a)?.[of];
    const y = lines.get(b)?.[of];
    if (typeof x !== 'number' || typeof y !== 'number' || y === 0) return;
    emit({ ratio: `${a}/${b}`, value: Math.round((x / y) * 1000) / 1000, of });
  };
  ratio('single', 'raw-jetstream-per-sale', 'sales_per_s');
  ratio('batch', 'raw-jetstream-per-sale', 'sales_per_s');
  ratio('batch-ndjson', 'raw-jetstream-per-sale', 'sales_per_s');
  ratio('single', 'http-floor', 'requests_per_s');
}

async function ingestCase(
  name: 'single' | 'batch' | 'batch-ndjson',
  url: string,
  ingestPid: number | undefined,
  fixture: NatsFixture,
  bodies: SaleBodies,
  options: BenchOptions,
): Promise<Line> {
  const batch = name !== 'single';
  const size = options.batchSize;
  const salesPerRequest = batch ? size : 1;
  const load: HttpLoad = {
    url,
    path: batch ? '/v1/sales/batch' : '/v1/sales',
    contentType: name === 'batch-ndjson' ? 'application/x-ndjson' : 'application/json',
    headers: { authorization: `Bearer ${API_KEY}` },
    connections: batch ? options.batchConnections : options.connections,
    durationS: options.durationS,
    body:
      name === 'single'
        ? () => bodies.single()
        : name === 'batch'
          ? () => bodies.jsonArray(size)
          : () => bodies.ndjson(size),
    receipt: batch ? batchReceipt : singleReceipt,
  };
  const stream = fixture.names.stream;

  await warmUp(name, load, options);
  const before = await settledPosition(fixture.jsm, stream);
  const generatedBefore = bodies.generated;
  log(`${name}: ${load.connections} connections, ${salesPerRequest} sale(s) per request, ${load.durationS}s`);
  const cpu = measureCpu(ingestPid);
  const r = await runHttpLoad(load, (stop) => {
    cleanup.stopLoad = stop;
  });
  const cpuShare = cpu();
  cleanup.stopLoad = undefined;
  const generated = bodies.generated - generatedBefore;
  const after = await settledPosition(fixture.jsm, stream);
  const count = await countSales(fixture.nc, stream, before.lastSeq + 1, after.lastSeq);

  const acknowledged = r.receipts.accepted;
  // Every acknowledged sale must be in the stream; a few more may be (requests the server
  // finished after autocannon closed its sockets at the end), never more than were sent.
  const verified =
    count.messages === after.messages - before.messages &&
    count.withoutCount === 0 &&
    count.sales >= acknowledged &&
    count.sales <= generated;
  const allAccepted =
    r.non2xx === 0 &&
    r.errors === 0 &&
    r.unreadable202 === 0 &&
    r.status202 === r.responses &&
    acknowledged === r.status202 * salesPerRequest;
  report(name, r);
  log(
    `${name}: stream +${count.messages} messages, +${count.sales} sales; ` +
      `${acknowledged} acknowledged, ${generated} generated: ${verified ? 'verified' : 'NOT VERIFIED'}`,
  );
  return {
    case: name,
    sales_per_s: Math.round(acknowledged / r.durationS),
    requests_per_s: Math.round(r.responses / r.durationS),
    p50_ms: r.p50Ms,
    p99_ms: r.p99Ms,
    non_2xx: r.non2xx,
    errors: r.errors,
    all_accepted: allAccepted,
    duration_s: r.durationS,
    connections: load.connections,
    ...(batch && { batch_size: size }),
    status_codes: r.statusCodes,
    ...(r.timeouts > 0 && { timeouts: r.timeouts }),
    ...(r.receipts.duplicate + r.receipts.rejected + r.receipts.unavailable > 0 && {
      receipts: r.receipts,
    }),
    ...(r.samples.length > 0 && { first_problem: r.samples[0] }),
    ...cpuShare,
    acknowledged_sales: acknowledged,
    verified_by: 'stream',
    verified,
    stream_messages: count.messages,
    stream_sales: count.sales,
    stored_not_acknowledged: count.sales - acknowledged,
  };
}

async function rawCase(bodies: SaleBodies, options: BenchOptions): Promise<Line> {
  const name = 'raw-jetstream-per-sale';
  const fixture = await NatsFixture.create();
  const dispose = cleanup.add(`stream ${fixture.names.stream}`, () => fixture.dispose());
  const setStop = (stop: () => void) => {
    cleanup.stopLoad = stop;
  };
  const publish = { durationS: options.durationS, inFlight: options.inFlight };
  if (options.warmupS > 0) {
    log(`${name}: warming up for ${options.warmupS}s`);
    await runRawPublish(fixture, bodies, { ...publish, durationS: options.warmupS }, setStop);
  }
  const before = await settledPosition(fixture.jsm, fixture.names.stream, 200);
  log(`${name}: ${options.inFlight} publishes in flight, ${options.durationS}s`);
  const cpu = measureCpu();
  const r = await runRawPublish(fixture, bodies, publish, setStop);
  const { client_cpu_pct, machine_cpu_pct } = cpu();
  cleanup.stopLoad = undefined;
  const after = await settledPosition(fixture.jsm, fixture.names.stream, 200);
  const count = await countSales(fixture.nc, fixture.names.stream, before.lastSeq + 1, after.lastSeq);
  const verified = count.messages === r.acked && count.sales === r.acked && count.withoutCount === 0;
  log(
    `${name}: ${r.acked} acked, ${r.duplicates} duplicates, ${r.errors} errors` +
      `${r.firstError === undefined ? '' : ` (first: ${r.firstError})`}; p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms; ` +
      `stream +${count.messages} messages: ${verified ? 'verified' : 'NOT VERIFIED'}`,
  );
  await dispose();
  return {
    case: name,
    sales_per_s: Math.round(r.acked / r.durationS),
    p50_ms: r.p50Ms,
    p99_ms: r.p99Ms,
    errors: r.errors,
    all_accepted: r.errors === 0 && r.duplicates === 0,
    duration_s: round2(r.durationS),
    in_flight: options.inFlight,
    client_cpu_pct,
    machine_cpu_pct,
    ...(r.firstError !== undefined && { first_problem: r.firstError }),
    acknowledged_sales: r.acked,
    verified_by: 'stream',
    verified,
    stream_messages: count.messages,
    stream_sales: count.sales,
  };
}

async function floorCase(bodies: SaleBodies, options: BenchOptions): Promise<Line> {
  const name = 'http-floor';
  const port = await freeLoopbackPort();
  const url = `http://127.0.0.1:${port}`;
  log(`starting the HTTP floor (${FLOOR_SERVER}) on ${url}`);
  const floor = await ChildService.start(
    name,
    FLOOR_SERVER,
    { ...process.env, FLOOR_PORT: String(port) },
    `${url}/health/ready`,
  );
  const stop = cleanup.add(name, () => floor.stop());
  const load: HttpLoad = {
    url,
    path: '/v1/sales',
    contentType: 'application/json',
    headers: { authorization: `Bearer ${API_KEY}` },
    connections: options.connections,
    durationS: options.durationS,
    body: () => bodies.single(),
    receipt: (body) =>
      body === FLOOR_RECEIPT ? { accepted: 1, duplicate: 0, rejected: 0, unavailable: 0 } : null,
  };
  await warmUp(name, load, options);
  log(`${name}: ${load.connections} connections, ${load.durationS}s`);
  const cpu = measureCpu(floor.pid);
  const r = await runHttpLoad(load, (s) => {
    cleanup.stopLoad = s;
  });
  const cpuShare = cpu();
  cleanup.stopLoad = undefined;
  await stop();
  report(name, r);
  return {
    case: name,
    sales_per_s: Math.round(r.receipts.accepted / r.durationS),
    requests_per_s: Math.round(r.responses / r.durationS),
    p50_ms: r.p50Ms,
    p99_ms: r.p99Ms,
    non_2xx: r.non2xx,
    errors: r.errors,
    all_accepted: r.non2xx === 0 && r.errors === 0 && r.receipts.accepted === r.responses,
    duration_s: r.durationS,
    connections: load.connections,
    status_codes: r.statusCodes,
    ...(r.samples.length > 0 && { first_problem: r.samples[0] }),
    ...cpuShare,
  };
}

async function warmUp(name: string, load: HttpLoad, options: BenchOptions): Promise<void> {
  if (options.warmupS <= 0) return;
  log(`${name}: warming up for ${options.warmupS}s`);
  const r = await runHttpLoad({ ...load, durationS: options.warmupS }, (stop) => {
    cleanup.stopLoad = stop;
  });
  cleanup.stopLoad = undefined;
  if (r.status202 !== r.responses || r.errors > 0) {
    log(`${name}: warm-up saw ${r.responses - r.status202} non-202 responses and ${r.errors} errors`);
  }
}

function report(name: string, r: HttpLoadResult): void {
  log(
    `${name}: ${r.responses} responses in ${r.durationS}s, status ${JSON.stringify(r.statusCodes)}, ` +
      `${r.errors} errors (${r.timeouts} timeouts); p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms`,
  );
  for (const sample of r.samples) log(`${name}: ${sample}`);
}

await runBench({
  name: 'bench-ingest',
  usage: USAGE,
  parse: () => parseOptions(process.argv.slice(2)),
  main,
  cleanup,
  log,
  stopping: 'the load, the services and the streams',
});
