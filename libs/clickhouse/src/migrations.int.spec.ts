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

  it('0004 rebuilds sale_lines sorted by minute with every row kept, and runs again safely', async () => {
    fixture = await ClickHouseFixture.create({ migrate: false });
    const files = loadClickHouseMigrations();
    const rebuild = files.findIndex((f) => f.version === '0004_sort_sale_lines_by_minute');
    expect(rebuild).toBeGreaterThan(0);
    await migrateClickHouse(fixture.client, files.slice(0, rebuild));
    const rows = [1, 2, 3].map((i) => ({
      sale_id: `s${i}`,
      line_no: 1,
      kind: 'sale',
      sign: 1,
      branch_id: `b${i % 2}`,
      product_id: 'p1',
      category: 'fruit',
      quantity: i,
      unit_price: '1.5',
      discount: '0',
      amount: '1.5',
      net_quantity: i,
      net_amount: '1.5',
      occurred_at: `2026-11-21 10:0${i}:00.000`,
      received_at: `2026-11-21 10:0${i}:01.000`,
      stream_seq: i,
      version: 1000 - i,
    }));
    await fixture.client.insert('sale_lines', rows);
    const sortingKey = async () =>
      (
        await fixture!.client.rows<{ sorting_key: string }>(
          "SELECT sorting_key FROM system.tables WHERE database = currentDatabase() AND name = 'sale_lines'",
        )
      )[0]?.sorting_key;
    const contents = () =>
      fixture!.client.rows(
        'SELECT sale_id, branch_id, quantity, occurred_at, inserted_at FROM sale_lines ORDER BY sale_id',
      );
    expect(await sortingKey()).toContain('toDate(occurred_at)');
    const before = await contents();

    expect((await migrateClickHouse(fixture.client, files)).applied).toContain(files[rebuild]!.version);
    expect(await sortingKey()).toBe('branch_id, toStartOfMinute(occurred_at), sale_id, line_no');
    expect(await contents()).toEqual(before);
    // The views read the rebuilt table by name.
    expect(await fixture.client.rows('SELECT count() AS n FROM sale_lines_final')).toEqual([{ n: '3' }]);
    const tables = async () =>
      (
        await fixture!.client.rows<{ name: string }>(
          "SELECT name FROM system.tables WHERE database = currentDatabase() AND name LIKE 'sale_lines%' ORDER BY name",
        )
      ).map((t) => t.name);
    expect(await tables()).toEqual(['sale_lines', 'sale_lines_final']);

    // Killed after the swap, before the old rows were dropped and the file recorded: the rerun
    // rebuilds from the table already swapped in, and loses nothing.
    await fixture.client.command('CREATE TABLE sale_lines_rebuild AS sale_lines');
    await fixture.client.command('INSERT INTO sale_lines_rebuild SELECT * FROM sale_lines');
    await fixture.client.command(
      `DELETE FROM schema_migrations WHERE version = '${files[rebuild]!.version}'`,
    );
    await fixture.client.command('OPTIMIZE TABLE schema_migrations FINAL');
    expect((await migrateClickHouse(fixture.client, files)).applied).toEqual([files[rebuild]!.version]);
    expect(await sortingKey()).toBe('branch_id, toStartOfMinute(occurred_at), sale_id, line_no');
    expect(await contents()).toEqual(before);
    expect(await tables()).toEqual(['sale_lines', 'sale_lines_final']);
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
