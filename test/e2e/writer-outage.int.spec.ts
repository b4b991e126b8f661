import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { NatsFixture, PostgresFixture, TcpProxy, waitFor } from '@tally/testing';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startIngest } from '../../apps/ingest/test/ingest-app.fixture.js';
import { createWriterApp } from '../../apps/writer/src/bootstrap.js';
import { loadWriterConfig } from '../../apps/writer/src/config/writer.config.js';
import { writerEnv } from '../../apps/writer/test/writer-app.fixture.js';
import { IngestLedger, Random, runLoad, SaleGenerator, sleep } from './load.js';
import { consumerDrained, exactlyOnce, storedCount, storedState } from './stored.js';

/**
 * A copy of writer-postgres whose ack_wait is shorter than the cut: if the writer did not keep
 * the messages it holds alive (working()), JetStream would deliver them again during the outage.
 */
const CONSUMER = 'writer-postgres-outage';
const ACK_WAIT_MS = 3000;
const CUT_MS = 7000;

let nats: NatsFixture;
let db: PostgresFixture;
let proxy: TcpProxy;
let ingest: NestFastifyApplication | undefined;
let writer: NestFastifyApplication | undefined;

beforeEach(async () => {
  [nats, db] = await Promise.all([NatsFixture.create(), PostgresFixture.create()]);
  const server = new URL(db.url);
  proxy = await TcpProxy.start(server.hostname, Number(server.port || 5432));
});

afterEach(async () => {
  proxy?.heal();
  await Promise.allSettled([ingest?.close(), writer?.close()]);
  ingest = writer = undefined;
  await proxy?.close();
  await Promise.all([nats?.dispose(), db?.dispose()]);
});

interface Ready {
  readonly status: number;
  readonly body: { status: string; checks: { nats: boolean; sinks: Record<string, string> } };
}

describe('the writer when its link to Postgres is cut', () => {
  it('when the link to Postgres is cut mid-load, the writer backs off, ingest keeps accepting, and after the cut heals everything lands once', {
    timeout: 60_000,
  }, async ({ onTestFailed }) => {
    const random = new Random(Random.seedFromEnv());
    console.info(`writer-outage: seed ${random.seed} (rerun with E2E_SEED=${random.seed})`);
    const logs: string[] = [];
    onTestFailed(() => console.error(`writer log (seed ${random.seed}):\n${logs.join('')}`));

    const started = await startIngest(nats.names);
    ingest = started.app;
    await nats.copyConsumer('writer-postgres', CONSUMER, { ackWaitMs: ACK_WAIT_MS });
    const config = loadWriterConfig(
      writerEnv(nats.names, db.urlVia(proxy.url), {
        WRITER_POSTGRES_CONSUMER: CONSUMER,
        WRITER_POSTGRES_STATEMENT_TIMEOUT: '2s',
      }),
    );
    writer = await createWriterApp(config, pino({ level: 'info' }, { write: (line) => logs.push(line) }));
    await writer.listen({ port: 0, host: '127.0.0.1' });
    const writerUrl = await writer.getUrl();
    const ready = async (): Promise<Ready> => {
      const res = await fetch(`${writerUrl}/health/ready`);
      return { status: res.status, body: (await res.json()) as Ready['body'] };
    };
    const metrics = async () => (await fetch(`${writerUrl}/metrics`)).text();
    expect(await ready()).toMatchObject({ status: 200, body: { checks: { sinks: { postgres: 'up' } } } });

    // A steady load (mostly batches over five branches) that runs through the cut and the heal.
    const generator = new SaleGenerator(random, `outage-${random.seed}`);
    const ledger = new IngestLedger(started.url);
    let sending = true;
    let cutAnswers = 0;
    const load = runLoad(generator, ledger, random, {
      batchSize: [20, 80],
      singleShare: 0.1,
      concurrency: 1,
      pauseMs: 150,
      more: () => sending,
    });

    try {
      await waitFor('some sales stored', async () => (await storedCount(db)) > 0 || undefined);
      const cutAt = Date.now();
      proxy.cut();

      // The writer notices at its next write, holds its batch and waits for the store.
      const down = await waitFor('ready turns 503 with the postgres sink down', async () => {
        const r = await ready();
        return r.status === 503 && r.body.checks.sinks.postgres === 'down' ? r : undefined;
      });
      expect(down.body).toEqual({ status: 'not-ready', checks: { nats: true, sinks: { postgres: 'down' } } });
      expect(await metrics()).toMatch(/^tally_writer_sink_up\{sink="postgres"\} 0$/m);
      // A statement under way at the cut may still commit server-side: let it, then watch.
      await sleep(500);
      const storedWhenDown = await storedCount(db);
      await sleep(Math.max(0, cutAt + CUT_MS - Date.now()));
      // Nothing got through while cut, though ingest kept accepting all along.
      expect(await storedCount(db)).toBe(storedWhenDown);
      expect((await ready()).status).toBe(503);
      const healAt = Date.now();
      proxy.heal();

      const during = ledger.answers.filter((a) => a.at >= cutAt && a.at < healAt);
      cutAnswers = during.length;
      expect(cutAnswers).toBeGreaterThan(10);
      expect(ledger.failures(cutAt, healAt)).toEqual([]);
      expect(during.every((a) => a.httpStatus === 202 && a.statuses.accepted === a.sales)).toBe(true);
      expect(ledger.stored.size).toBeGreaterThan(storedWhenDown);

      await waitFor('ready again after the heal', async () => (await ready()).status === 200 || undefined, {
        timeoutMs: 15_000,
      });
      await sleep(1000); // some more sales after the heal
    } finally {
      sending = false;
      await load;
    }

    const expected = ledger.expected();
    await waitFor(
      `all ${expected.sales} sales stored`,
      async () => (await storedCount(db)) >= expected.sales || undefined,
      { timeoutMs: 20_000 },
    );
    const info = await consumerDrained(nats, CONSUMER);
    expect(ledger.failures()).toEqual([]);
    expect(await storedState(db)).toEqual(exactlyOnce(expected));

    // Held, not handed back: no dead letters, and no message delivered twice although the cut
    // lasted more than twice the ack_wait.
    expect(await storedCount(db, 'dead_letters')).toBe(0);
    expect(await nats.deadLetters()).toEqual([]);
    expect(info.delivered.consumer_seq).toBe(info.delivered.stream_seq);

    expect(await ready()).toMatchObject({ status: 200, body: { status: 'ready' } });
    const text = await metrics();
    expect(text).toMatch(/^tally_writer_sink_up\{sink="postgres"\} 1$/m);
    const failures = Number(
      /^tally_writer_batches_total\{sink="postgres",outcome="transient_failure"\} (\d+)$/m.exec(text)?.[1] ??
        0,
    );
    expect(failures).toBeGreaterThanOrEqual(1);
    // Each sale went through one successful write: inserted, or found already there (a statement
    // the cut interrupted may have committed all the same; the retry then skips its sales).
    const sales = (outcome: string) =>
      Number(
        new RegExp(`^tally_writer_sales_total\\{sink="postgres",outcome="${outcome}"\\} (\\d+)$`, 'm').exec(
          text,
        )?.[1] ?? 0,
      );
    expect(sales('inserted') + sales('duplicate')).toBe(expected.sales);
    // It held the batch and probed the store with a growing delay (50 ms doubling up to 500 ms in
    // writerEnv), not in a tight loop, then retried the held batch once the store answered.
    const entries = logs.map((l) => JSON.parse(l) as { msg: string; time: number });
    const messages = entries.map((e) => e.msg);
    expect(messages).toContain('store failed; holding the batch until the store answers');
    const probeTimes = entries.filter((e) => e.msg === 'store still unreachable').map((e) => e.time);
    const probes = probeTimes.length;
    const gaps = probeTimes.slice(1).map((t, i) => t - probeTimes[i]!);
    expect(probes).toBeGreaterThan(5);
    expect(probes).toBeLessThanOrEqual(CUT_MS / 500 + 8);
    expect(gaps[0]).toBeLessThan(300);
    expect(gaps[gaps.length - 1]).toBeGreaterThanOrEqual(450);
    expect(messages).toContain('store answers again; retrying the batch');
    console.info(
      `writer-outage: ${expected.sales} sales, ${cutAnswers} ingest answers during a ${CUT_MS} ms cut, ` +
        `${probes} probes, ${failures} failed batch attempts`,
    );
  });
});
