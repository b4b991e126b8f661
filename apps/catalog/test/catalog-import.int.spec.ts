import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CatalogBucket, defaultCatalogBucket } from '@tally/catalog';
import { NatsFixture, PostgresFixture, TEST_NATS_URL } from '@tally/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCatalogImport } from '../src/catalog-import.command.js';

const SAMPLES = fileURLToPath(new URL('../samples/', import.meta.url));

let nats: NatsFixture;
let postgres: PostgresFixture;
let bucket: CatalogBucket;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  [nats, postgres] = await Promise.all([NatsFixture.create({ apply: false }), PostgresFixture.create()]);
  env = { DATABASE_URL: postgres.url, NATS_URL: TEST_NATS_URL, TALLY_STREAM: nats.names.stream };
  bucket = await CatalogBucket.open(nats.nc, defaultCatalogBucket(nats.names.stream));
  dir = mkdtempSync(path.join(tmpdir(), 'tally-catalog-'));
});

afterAll(async () => {
  await postgres?.dispose();
  await nats?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCatalogImport(argv, env, {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    cwd: SAMPLES,
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

function file(name: string, text: string): string {
  const full = path.join(dir, name);
  writeFileSync(full, text);
  return full;
}

const productCount = async () => Number((await postgres.query('SELECT count(*) AS n FROM products'))[0]!.n);

describe('npm run catalog:import against real Postgres and NATS', () => {
  it('loads the supermarket sample into Postgres and publishes it to the KV bucket', async () => {
    const { code, out, err } = await run(
      'supermarket-products.csv',
      '--branches',
      'supermarket-branches.csv',
    );
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain(
      'products 10 inserted, 0 updated, 0 unchanged; branches 3 inserted, 0 updated, 0 unchanged',
    );
    expect(out).toContain('13 put, 0 deleted, 0 unchanged (catalog: 10 products, 3 branches)');

    expect(await postgres.query('SELECT * FROM products WHERE product_id = $1', ['P001'])).toEqual([
      {
        product_id: 'P001',
        name: 'Whole milk 1L',
        category: 'dairy',
        brand: 'Farmhouse',
        list_price: '1.1500',
        currency: 'EUR',
      },
    ]);
    expect(
      (await postgres.query('SELECT branch_id FROM branches ORDER BY 1')).map((r) => r.branch_id),
    ).toEqual(['branch-centre', 'branch-north', 'branch-south']);

    const entries = await bucket.read();
    expect(entries.size).toBe(13);
    expect(JSON.parse(entries.get('product.P001')!)).toEqual({
      productId: 'P001',
      name: 'Whole milk 1L',
      category: 'dairy',
      brand: 'Farmhouse',
      listPrice: '1.15',
      currency: 'EUR',
    });
    expect(JSON.parse(entries.get('branch.branch-north')!)).toEqual({
      branchId: 'branch-north',
      name: 'North',
      countryId: 'ES',
    });
    expect(await postgres.query('SELECT country_id, name FROM countries')).toEqual([
      { country_id: 'ES', name: 'ES' },
    ]);
  });

  it('changes nothing when the same files are imported again', async () => {
    const { code, out } = await run('supermarket-products.csv', '--branches', 'supermarket-branches.csv');
    expect(code).toBe(0);
    expect(out).toContain(
      'products 0 inserted, 0 updated, 10 unchanged; branches 0 inserted, 0 updated, 3 unchanged',
    );
    expect(out).toContain('0 put, 0 deleted, 13 unchanged');
  });

  it('upserts a changed file and makes the bucket mirror Postgres, dropping keys Postgres does not have', async () => {
    await bucket.kv.put('product.GHOST', '{"productId":"GHOST"}');
    const products = file(
      'changed.csv',
      'productId,name,category,brand,listPrice\nP001,Whole milk 1L,dairy,Farmhouse,1.25\nP011,Oat drink 1L,dairy,,2.05\n',
    );
    const { code, out } = await run(products, '--currency', 'EUR');
    expect(code).toBe(0);
    expect(out).toContain('products 1 inserted, 1 updated, 0 unchanged');
    expect(out).toContain('2 put, 1 deleted, 12 unchanged (catalog: 11 products, 3 branches)');

    const entries = await bucket.read();
    expect(JSON.parse(entries.get('product.P001')!).listPrice).toBe('1.25');
    expect(JSON.parse(entries.get('product.P011')!)).toEqual({
      productId: 'P011',
      name: 'Oat drink 1L',
      category: 'dairy',
      listPrice: '2.05',
      currency: 'EUR',
    });
    expect(entries.has('product.GHOST')).toBe(false);
    expect(entries.has('product.P002')).toBe(true); // not in the file: kept
  });

  it('imports nothing from a file with a bad row, listing each error with line, field and rule', async () => {
    const before = await productCount();
    const revisionBefore = (await bucket.kv.status()).streamInfo.state.last_seq;
    const products = file(
      'bad.csv',
      'productId,name,category,listPrice,currency\nP020,Rice 1kg,pantry,1.99,EUR\nP021,Pasta,pantry,1.2.3,EUR\nP022,,pantry,1,EURO\n',
    );
    const { code, err } = await run(products);
    expect(code).toBe(1);
    expect(err).toContain(`${products}:3: listPrice: decimal: must be a decimal`);
    expect(err).toContain(`${products}:4: name: required: is required`);
    expect(err).toContain(`${products}:4: currency: pattern:`);
    expect(err).toContain('nothing imported: 3 error(s)');
    expect(await productCount()).toBe(before);
    expect((await postgres.query('SELECT 1 FROM products WHERE product_id = $1', ['P020'])).length).toBe(0);
    expect((await bucket.kv.status()).streamInfo.state.last_seq).toBe(revisionBefore);
  });

  it('checks the files without writing anything on --dry-run', async () => {
    const before = await productCount();
    const products = file('dry.csv', 'productId,name,category,listPrice\nP030,Tea,pantry,3\n');
    const { code, out } = await run(products, '--dry-run');
    expect(code).toBe(0);
    expect(out).toContain('dry run: the file(s) are valid; nothing written');
    expect(await productCount()).toBe(before);
  });

  it('fails naming the file when it cannot be read, and usage errors with exit 2', async () => {
    const missing = await run('no-such-file.csv');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/cannot read .*no-such-file\.csv: .*ENOENT/);
    expect((await run('--nope')).code).toBe(2);
  });
});
