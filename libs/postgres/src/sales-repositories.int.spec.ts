import { sumDecimals } from '@tally/contracts';
import { makeStreamSale, PostgresFixture } from '@tally/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertSchemaCurrent, ensureDatabase, migrateDatabase, SchemaNotReadyError } from './migrations.js';
import { isPermanentPgError } from './pg-errors.js';
import { SalesReadRepository } from './sales-read.repository.js';
import { SalesWriteRepository, type SaleToStore } from './sales-write.repository.js';

const toStore = (sale: ReturnType<typeof makeStreamSale>, streamSeq = 1): SaleToStore => ({
  sale,
  streamSeq,
  requestId: 'req-1',
});

describe('Postgres sales repositories (real Postgres)', () => {
  let db: PostgresFixture;
  let writer: SalesWriteRepository;
  let reader: SalesReadRepository;

  beforeAll(async () => {
    db = await PostgresFixture.create();
    writer = new SalesWriteRepository(db.client);
    reader = new SalesReadRepository(db.client);
  });
  afterAll(() => db?.dispose());

  it('migrating an up-to-date database again changes nothing and the schema reads as current', async () => {
    await expect(ensureDatabase(db.url)).resolves.toEqual({ created: false });
    await expect(migrateDatabase(db.url)).resolves.toMatchObject({ applied: [] });
    await expect(assertSchemaCurrent(db.client.pool)).resolves.toBeUndefined();
  });

  it('refuses an unmigrated database with an error naming npm run db:migrate', async () => {
    const url = db.url.replace(/tally_t_/, 'tally_e_');
    await ensureDatabase(url);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const check = assertSchemaCurrent(client);
      await expect(check).rejects.toBeInstanceOf(SchemaNotReadyError);
      await expect(check).rejects.toThrow(/npm run db:migrate/);
    } finally {
      await client.end();
      await db.query(`DROP DATABASE "${new URL(url).pathname.slice(1)}" WITH (FORCE)`);
    }
  });

  it('stores a batch once: sales, lines and signed exact totals; a second insert stores nothing', async () => {
    const original = makeStreamSale({ branchId: 'b-once' });
    const batch = [
      original,
      makeStreamSale({
        branchId: 'b-once',
        lines: [{ productId: 'p', category: 'c', quantity: 3, unitPrice: '0.1' }],
      }),
      makeStreamSale({
        branchId: 'b-once',
        kind: 'return',
        originalSaleId: original.saleId,
        lines: [{ productId: 'p-apple', category: 'fruit', quantity: 1, unitPrice: '1.99' }],
      }),
    ];
    const first = await writer.insert(batch.map((s, i) => toStore(s, i + 1)));
    expect(first).toEqual({ inserted: 3, duplicates: 0, lines: 4 });
    const again = await writer.insert(batch.map((s, i) => toStore(s, i + 1)));
    expect(again).toEqual({ inserted: 0, duplicates: 3, lines: 0 });

    const [sums] = await db.query<{ total: string; lines: string; n: string }>(
      `SELECT sum(net_total)::text AS total, (SELECT sum(net_amount)::text FROM sale_lines l JOIN sales s USING (sale_id) WHERE s.branch_id = 'b-once') AS lines, count(*)::text AS n FROM sales WHERE branch_id = 'b-once'`,
    );
    const expected = sumDecimals(batch.map((s) => (s.kind === 'return' ? `-${s.total}` : s.total)));
    expect(Number(sums!.n)).toBe(3);
    expect(sumDecimals([sums!.total])).toBe(expected);
    expect(sumDecimals([sums!.lines])).toBe(expected);
  });

  it('keeps the first version of a sale id: a resend with other lines adds no lines', async () => {
    const sale = makeStreamSale();
    const changed = { ...sale, lines: [...sale.lines, { ...sale.lines[0]!, lineNo: 3 }] };
    expect(await writer.insert([toStore(sale), toStore(changed)])).toMatchObject({ inserted: 1, lines: 2 });
    expect(await writer.insert([toStore(changed)])).toMatchObject({ inserted: 0, lines: 0 });
    const [row] = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM sale_lines WHERE sale_id = $1',
      [sale.saleId],
    );
    expect(row!.n).toBe(2);
  });

  it('rejects a row breaking a constraint with a permanent error and stores none of its batch', async () => {
    const good = makeStreamSale();
    const bad = { ...makeStreamSale(), kind: 'refund' as 'sale' };
    const failure = await writer.insert([toStore(good), toStore(bad)]).catch((e: unknown) => e);
    expect(isPermanentPgError(failure)).toBe(true);
    expect(await reader.existing([good.saleId, bad.saleId])).toEqual(new Set());
  });

  it('reads a sale back as the contract shapes it, with its returns and net state', async () => {
    const sale = makeStreamSale({
      lines: [
        { productId: 'p1', category: 'c', quantity: 2, unitPrice: '10.5', discount: '1' },
        { productId: 'p2', category: 'c', quantity: 1, unitPrice: '3' },
      ],
    });
    const ret = makeStreamSale({
      kind: 'return',
      originalSaleId: sale.saleId,
      lines: [{ productId: 'p2', category: 'c', quantity: 1, unitPrice: '3' }],
    });
    await writer.insert([toStore(sale, 7), toStore(ret, 8)]);
    const detail = await reader.findById(sale.saleId);
    expect(detail).toMatchObject({
      saleId: sale.saleId,
      total: '23',
      returnedTotal: '3',
      netTotal: '20',
      returns: [{ saleId: ret.saleId, total: '3' }],
      streamSeq: 7,
      requestId: 'req-1',
    });
    expect(detail!.lines).toEqual(sale.lines);
    expect(await reader.findById(ret.saleId)).toMatchObject({ kind: 'return', total: '3', netTotal: '-3' });
    expect(await reader.findById('no-such-sale')).toBeUndefined();
  });

  it('pages a branch newest first without gaps or repeats, ties on occurredAt broken by saleId', async () => {
    const at = '2026-03-01T10:00:00Z';
    const sales = Array.from({ length: 7 }, (_, i) =>
      makeStreamSale({ branchId: 'b-pages', occurredAt: i < 4 ? at : `2026-03-01T10:0${i}:00Z` }),
    );
    await writer.insert(sales.map((s) => toStore(s)));
    const seen: string[] = [];
    let after: Awaited<ReturnType<typeof reader.list>>['next'];
    do {
      const page = await reader.list({ branchId: 'b-pages', limit: 3, ...(after && { after }) });
      seen.push(...page.items.map((s) => s.saleId));
      after = page.next;
    } while (after);
    expect(seen).toHaveLength(7);
    expect(new Set(seen)).toEqual(new Set(sales.map((s) => s.saleId)));
    const windowed = await reader.list({
      branchId: 'b-pages',
      from: new Date('2026-03-01T10:04:00Z'),
      to: new Date('2026-03-01T10:06:00Z'),
      limit: 10,
      order: 'asc',
    });
    expect(windowed.items.map((s) => s.occurredAt)).toEqual([
      '2026-03-01T10:04:00.000Z',
      '2026-03-01T10:05:00.000Z',
    ]);
  });
});
