import type { StreamedSale } from '@tally/contracts';
import { makeStreamSale, SpannerEmulator, SpannerFixture } from '@tally/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpannerDeadLetters } from './dead-letters.repository.js';
import { SpannerSalesRepository } from './sales.repository.js';
import { SpannerClient } from './spanner.client.js';
import {
  classifySpannerError,
  describeSpannerError,
  isPermanentSpannerError,
  isRetryableSpannerError,
} from './spanner-errors.js';

const streamed = (overrides: Parameters<typeof makeStreamSale>[0]): StreamedSale => ({
  sale: makeStreamSale(overrides),
  streamSeq: 1,
});

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe('Spanner error classification on real errors (real emulator)', () => {
  let emulator: SpannerEmulator;
  let db: SpannerFixture;
  let repo: SpannerSalesRepository;

  beforeAll(async () => {
    emulator = await SpannerEmulator.start();
    db = await SpannerFixture.create(emulator);
    repo = new SpannerSalesRepository(db.client);
  });
  afterAll(async () => {
    await db?.dispose();
    await emulator?.stop();
  });

  it('a value too long for STRING(64) is permanent, and nothing of its commit is stored', async () => {
    const good = streamed({ branchId: 'b-err' });
    const bad = streamed({ branchId: 'b-err' });
    const tooLong = { ...bad, sale: { ...bad.sale, saleId: 'x'.repeat(65) } };
    const error = await failure(repo.write([good, tooLong]));
    expect(isPermanentSpannerError(error)).toBe(true);
    expect(describeSpannerError(error)).toMatch(
      /^Spanner FAILED_PRECONDITION \(9\): New value exceeds the maximum size limit for this column: Sales\.SaleId/,
    );
    expect(await db.query(`SELECT SaleId FROM Sales WHERE BranchId = 'b-err'`)).toEqual([]);
    // Alone, the good sale is stored: what the writer's halving relies on.
    await expect(repo.write([good])).resolves.toMatchObject({ sales: 1 });
  });

  it('a value that is not a timestamp is permanent', async () => {
    const sale = streamed({ branchId: 'b-err' });
    const error = await failure(repo.write([{ ...sale, sale: { ...sale.sale, occurredAt: 'yesterday' } }]));
    expect(isPermanentSpannerError(error)).toBe(true);
  });

  it('a database without the schema is a deployment problem: retryable, not permanent', async () => {
    const unmigrated = await SpannerFixture.create(emulator, { migrate: false });
    try {
      const error = await failure(new SpannerSalesRepository(unmigrated.client).write([streamed({})]));
      expect(describeSpannerError(error)).toMatch(/NOT_FOUND \(5\): Table not found: Sales/);
      expect(isRetryableSpannerError(error)).toBe(true);
      expect(isPermanentSpannerError(error)).toBe(false);
      // A query on it fails with INVALID_ARGUMENT, which names the missing table: retryable too.
      const queryError = await failure(unmigrated.query('SELECT COUNT(*) FROM Sales'));
      expect(describeSpannerError(queryError)).toMatch(/INVALID_ARGUMENT \(3\): Table not found: Sales/);
      expect(isRetryableSpannerError(queryError)).toBe(true);
    } finally {
      await unmigrated.dispose();
    }
  });

  it('an insert of a row that exists is ALREADY_EXISTS (which record() takes as done)', async () => {
    const letter = {
      sink: 's',
      stream: 'S',
      streamSeq: 1,
      saleId: '',
      subject: 'x',
      requestId: null,
      deliveries: 1,
      reason: 'r',
      payload: new Uint8Array([1]),
    };
    await new SpannerDeadLetters(db.client).record(letter);
    const error = await failure(
      db.client.database.table('DeadLetters').insert({
        Sink: 's',
        Stream: 'S',
        StreamSeq: 1,
        SaleId: '',
        Subject: 'x',
        Deliveries: 1,
        Reason: 'r',
        Payload: Buffer.from([1]),
        CreatedAt: new Date(),
      }),
    );
    expect(classifySpannerError(error)).toBe('already-exists');
  });

  it('an emulator that is down is retryable, and one restarted has forgotten the database (NOT_FOUND, retryable too)', async () => {
    const outage = await SpannerEmulator.start();
    const config = SpannerFixture.newConfig(outage);
    const fixture = await SpannerFixture.create(outage);
    const client = SpannerClient.create({
      ...config,
      databaseId: fixture.config.databaseId,
      timeoutMs: 1_000,
    });
    try {
      await client.ping();
      await outage.stop();
      const down = await failure(client.ping());
      expect(isRetryableSpannerError(down)).toBe(true);
      const writeDown = await failure(
        new SpannerSalesRepository(client, { commitTimeoutMs: 1_000 }).write([streamed({})]),
      );
      expect(isRetryableSpannerError(writeDown)).toBe(true);
      // The emulator keeps nothing across a restart: the database is gone, which is NOT_FOUND (retryable).
      await outage.restart();
      const gone = await failure(client.ping(5_000));
      expect(describeSpannerError(gone)).toMatch(/NOT_FOUND|not found/i);
      expect(isRetryableSpannerError(gone)).toBe(true);
    } finally {
      await client.close();
      await fixture.dispose();
      await outage.stop();
    }
  });
});
