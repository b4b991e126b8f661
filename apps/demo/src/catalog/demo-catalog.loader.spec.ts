import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DemoCatalogError,
  loadDemoCatalog,
  SAMPLE_BRANCHES,
  SAMPLE_PRODUCTS,
  sampleCatalogFiles,
  storeCatalog,
} from './demo-catalog.loader.js';
import { branchFloorOf, popularityOf, SUPERMARKET_SHOP_FLOOR } from './shop-floor.data.js';

const dir = mkdtempSync(path.join(tmpdir(), 'tally-demo-catalog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const full = path.join(dir, name);
  writeFileSync(full, text);
  return full;
}

const BRANCHES = 'branchId,name,city,country\nb-1,One,,ES\n';

describe("the demo's catalog, from the CSV files", () => {
  it('finds the supermarket samples and reads them with the catalog parser: 10 products, 3 branches, in EUR', async () => {
    const files = sampleCatalogFiles();
    expect(path.basename(files.products)).toBe(SAMPLE_PRODUCTS);
    expect(path.basename(files.branches)).toBe(SAMPLE_BRANCHES);
    expect(files.products).toContain(path.join('apps', 'catalog', 'samples'));
    const { catalog, store } = await loadDemoCatalog(files);
    expect(catalog.products).toHaveLength(10);
    expect(catalog.branches.map((b) => b.branchId)).toEqual([
      'branch-north',
      'branch-centre',
      'branch-south',
    ]);
    expect(store.currency).toBe('EUR');
    expect(store.maxUnitsPerProduct).toBe(1);
    expect(catalog.products[0]).toEqual({
      productId: 'P001',
      name: 'Whole milk 1L',
      category: 'dairy',
      brand: 'Farmhouse',
      listPrice: '1.15',
      currency: 'EUR',
    });
  });

  it('gives the simulator the same rows, with the shop floor keyed by id added', async () => {
    const { catalog, store } = await loadDemoCatalog(sampleCatalogFiles());
    expect(store.products.map(({ popularity: _, ...p }) => p)).toEqual(
      catalog.products.map(({ currency: _, ...p }) => p),
    );
    expect(store.products.map((p) => p.popularity)).toEqual([10, 8, 6, 7, 4, 3, 4, 6, 5, 5]);
    expect(store.branches).toEqual([
      { branchId: 'branch-north', name: 'North', country: 'ES', registers: 4, leanRegisters: 1 },
      { branchId: 'branch-centre', name: 'Centre', country: 'ES', registers: 6, leanRegisters: 2 },
      { branchId: 'branch-south', name: 'South', country: 'ES', registers: 3, leanRegisters: 1 },
    ]);
  });

  it('derives popularity and registers from the id for products and branches the shop floor does not name', async () => {
    const products = file(
      'other-products.csv',
      'productId,name,category,listPrice\nX-1,Thing,misc,1.00\nX-2,Other,misc,2.5\n',
    );
    const branches = file('other-branches.csv', 'branchId,name\nfar-away,Far away\n');
    const { store } = await loadDemoCatalog({ products, branches });
    expect(store.currency).toBe('EUR');
    const [branch] = store.branches;
    expect(branch).toEqual({
      branchId: 'far-away',
      name: 'Far away',
      ...branchFloorOf(SUPERMARKET_SHOP_FLOOR, 'far-away'),
    });
    expect(branch!.registers).toBeGreaterThanOrEqual(2);
    expect(branch!.registers).toBeLessThanOrEqual(6);
    for (const p of store.products) {
      expect(p.popularity).toBe(popularityOf(SUPERMARKET_SHOP_FLOOR, p.productId));
      expect(p.popularity).toBeGreaterThanOrEqual(1);
      expect(p.popularity).toBeLessThanOrEqual(10);
    }
    expect(store.products.map((p) => p.listPrice)).toEqual(['1', '2.5']);
  });

  it('refuses a file with bad rows, naming each line, field and rule', async () => {
    const products = file(
      'bad-products.csv',
      'productId,name,category,listPrice\nP1,Milk,dairy,1.15\nP2,,dairy,abc\nP1,Milk again,dairy,1\n',
    );
    const branches = file('branches.csv', BRANCHES);
    const error = await loadDemoCatalog({ products, branches }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DemoCatalogError);
    expect((error as Error).message.split('\n')).toEqual([
      `${products}: 3 bad row(s); fix the file:`,
      '  bad-products.csv:3: name: required: is required',
      '  bad-products.csv:3: listPrice: decimal: must be a decimal ≥ 0 with at most 4 fractional digits and 11 integer digits',
      '  bad-products.csv:4: productId: duplicate-id: product P1 is already on line 2',
    ]);
  });

  it('refuses a file it cannot read, and a catalog the simulator cannot sell from', async () => {
    const branches = file('branches.csv', BRANCHES);
    await expect(loadDemoCatalog({ products: path.join(dir, 'missing.csv'), branches })).rejects.toThrow(
      /^cannot read .*missing\.csv: ENOENT/,
    );
    const mixed = file('mixed.csv', 'productId,name,category,listPrice,currency\nA,a,c,1,EUR\nB,b,c,1,USD\n');
    await expect(loadDemoCatalog({ products: mixed, branches })).rejects.toThrow(
      'mixed.csv: the simulator sells in one currency, the file has EUR, USD',
    );
    const empty = file('empty-branches.csv', 'branchId,name\n');
    await expect(
      loadDemoCatalog({
        products: file('one.csv', 'productId,name,category,listPrice\nA,a,c,1\n'),
        branches: empty,
      }),
    ).rejects.toThrow(/empty-branches\.csv: has no branches$/);
    expect(() => storeCatalog({ products: [], branches: [] }, SUPERMARKET_SHOP_FLOOR)).toThrow(
      DemoCatalogError,
    );
  });
});
