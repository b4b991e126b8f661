/**
 * `npm run bench:aggregator`: measures the aggregator's window engine and the running service
 * and prints one JSON line per case on stdout (progress on stderr). A benchmark, not a test: it
 * asserts nothing. See load-tests/README.md for what each case measures.
 *
 *   apply      sales applied in-process (and the app's per-envelope path), against a bare loop
 *   rss        RSS after 1M and 10M sales, in a fresh child process
 *   restart    a 24 h state at 1,000 sales/s: snapshot, store, load, restore, replay
 *   freshness  receivedAt → counted, at a steady 5,000 sales/s through ingest
 */
import os from 'node:os';
import v8 from 'node:v8';
import { connect } from '@nats-io/transport-node';
import { TEST_NATS_URL } from '@tally/testing';
import { round } from '../common/bench-math.js';
import { Cleanup, emit, machineFacts, progress, runBench } from '../common/bench-output.js';
import { runChild } from './child-run.js';
import { mib } from './gc-time.js';
import { type BenchOptions, parseOptions, USAGE } from './options.js';

const log = progress('bench-aggregator');
const cleanup = new Cleanup(log);
const argv = process.argv.slice(2);

async function main(options: BenchOptions): Promise<void> {
  // Each case's module is imported when it runs, so a child process loads only its own code
  // (its RSS at start is part of what the rss case reports).
  if (options.child === 'rss') {
    const { rssChild } = await import('./rss-case.js');
    emit(await rssChild(options, log));
    return;
  }
  if (options.child === 'restart') {
    const { restartChild } = await import('./restart-case.js');
    emit(await restartChild(options, log));
    return;
  }

  emit({
    machine: {
      ...machineFacts(),
      default_heap_limit_mib: mib(v8.getHeapStatistics().heap_size_limit),
      nats_server: await natsVersion(),
      load_average_1m: round(os.loadavg()[0]!, 2),
    },
  });
  log(`cases: ${options.cases.join(', ')}`);

  for (const name of options.cases) {
    const started = performance.now();
    if (name === 'apply') {
      const { runApplyCase } = await import('./apply-case.js');
      for (const line of await runApplyCase(options, log)) emit(line);
    } else if (name === 'rss') {
      log(
        `rss: child process (--expose-gc, default heap), ${options.rssFirst.toLocaleString('en')} then ` +
          `${options.rssTotal.toLocaleString('en')} sales at ${options.rssRate} simulated sales/s`,
      );
      const run = await runChild('rss', argv, ['--expose-gc'], process.env, cleanup);
      if (run.lines.length === 0 || run.exitCode !== 0) {
        emit({
          case: 'rss',
          error: `the rss child ended with code ${run.exitCode}, signal ${run.signal}, after ${round(run.seconds, 1)} s (see stderr)`,
        });
      }
      for (const line of run.lines) emit({ ...line, child_wall_s: round(run.seconds, 1) });
    } else if (name === 'restart') {
      const { runRestartCase } = await import('./restart-case.js');
      for (const line of await runRestartCase(options, argv, cleanup, log)) emit(line);
    } else {
      const { runFreshnessCase } = await import('./freshness-case.js');
      emit(await runFreshnessCase(options, cleanup, log));
    }
    log(`${name}: done in ${round((performance.now() - started) / 1000, 1)} s`);
  }
}

async function natsVersion(): Promise<string> {
  try {
    const nc = await connect({ servers: TEST_NATS_URL });
    const version = nc.info?.version ?? 'unknown';
    await nc.close();
    return version;
  } catch (error) {
    return `unreachable: ${(error as Error).message}`;
  }
}

await runBench({
  name: 'bench-aggregator',
  usage: USAGE,
  parse: () => parseOptions(argv),
  main,
  cleanup,
  log,
  stopping: 'the load, the services, the child processes and the streams',
});
