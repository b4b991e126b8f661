import { ClickHouseFixture } from '@tally/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  assertClickHouseSchemaCurrent,
  ClickHouseSchemaNotReadyError,
  loadClickHouseMigrations,
  migrateClickHouse,
} from './migrations.js';

let fixture: ClickHouseFixture | undefined;

afterEach(async () => {
  await fixture?.dispose();
  fixture = undefined;
});

describe('ClickHouse migrations on embedded chdb', () => {
  it('apply every file once, record them, and a second run applies nothing', async () => {
    fixture = await ClickHouseFixture.create({ migrate: false });
    await expect(assertClickHouseSchemaCurrent(fixture.client)).rejects.toBeInstanceOf(
      ClickHouseSchemaNotReadyError,
    );
    const versions = loadClickHouseMigrations().map((f) => f.version);
    expect(await migrateClickHouse(fixture.client)).toEqual({ applied: versions, latest: versions.at(-1) });
    expect(await migrateClickHouse(fixture.client)).toEqual({ applied: [], latest: versions.at(-1) });
    await assertClickHouseSchemaCurrent(fixture.client);
    const tables = await fixture.client.rows<{ name: string }>(
      'SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name',
    );
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        'sale_lines',
        'sales_minute',
        'sale_lines_final',
        'sales_minute_final',
        'schema_migrations',
      ]),
    );
  });

  it('refuses an applied file that changed', async () => {
    fixture = await ClickHouseFixture.create();
    const files = loadClickHouseMigrations();
    const edited = files.map((f, i) => (i === 0 ? { ...f, checksum: 'edited' } : f));
    await expect(migrateClickHouse(fixture.client, edited)).rejects.toThrow(/changed after it was applied/);
  });

  it('an identical block inserted twice with its deduplication token is stored once; FINAL collapses replays', async () => {
    fixture = await ClickHouseFixture.create();
    const row = (saleId: string, lineNo: number, seq: number) => ({
      sale_id: saleId,
      line_no: lineNo,
      kind: 'sale',
      sign: 1,
      branch_id: 'b1',
      product_id: 'p1',
      category: 'fruit',
      quantity: 1,
      unit_price: '1.5',
      discount: '0',
      amount: '1.5',
      net_quantity: 1,
      net_amount: '1.5',
      occurred_at: '2026-11-21 10:00:00.000',
      received_at: '2026-11-21 10:00:01.000',
      stream_seq: seq,
      version: 1000 - seq,
    });
    const block = [row('s1', 1, 1), row('s1', 2, 1), row('s2', 1, 2)];
    await fixture.client.insert('sale_lines', block, 'seq-1-2');
    await fixture.client.insert('sale_lines', block, 'seq-1-2');
    expect(await fixture.client.rows('SELECT count() AS n FROM sale_lines')).toEqual([{ n: '3' }]);
    // A replay in another block (another token): stored again, collapsed by FINAL.
    await fixture.client.insert('sale_lines', [row('s2', 1, 5)], 'seq-5-5');
    expect(
      await fixture.client.rows('SELECT count() AS n, sum(net_amount) AS revenue FROM sale_lines FINAL'),
    ).toEqual([{ n: '3', revenue: '4.5' }]);
    expect(await fixture.client.rows("SELECT stream_seq FROM sale_lines FINAL WHERE sale_id = 's2'")).toEqual(
      [{ stream_seq: '2' }],
    );
  });
});
