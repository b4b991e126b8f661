import { createReadStream } from 'node:fs';
import path from 'node:path';
import {
  type Catalog,
  type CsvParseResult,
  type CsvRowError,
  parseBranchesCsv,
  parseProductsCsv,
} from '@tally/catalog';
import { findUp } from '@tally/common';
import type { StoreCatalog } from '../simulator/store-catalog.model.js';
import { branchFloorOf, popularityOf, type ShopFloor, SUPERMARKET_SHOP_FLOOR } from './shop-floor.data.js';

/**
 * The demo's catalog, read once from two CSV files (by default the supermarket samples in
 * apps/catalog/samples/) with libs/catalog's parser, the one `npm run catalog:import` uses. The
 * same rows serve twice:
 *
 * - `catalog`: what the demo imports into Postgres and publishes to the KV bucket ingest reads;
 * - `store`: what the simulator sells, the same rows plus the demo's shop-floor data
 *   (popularity, registers), so ingest fills a line's category from exactly the product the
 *   simulator sold.
 *
 * As with catalog:import, a file with any bad row is refused whole, listing its errors.
 */
export interface CatalogFiles {
  readonly products: string;
  readonly branches: string;
}

export interface DemoCatalog {
  readonly files: CatalogFiles;
  readonly catalog: Catalog;
  readonly store: StoreCatalog;
}

/** A catalog file that cannot be used: the message names the file, line, field and rule. */
export class DemoCatalogError extends Error {
  override readonly name = 'DemoCatalogError';
}

/** Currency of product rows that give none (as catalog:import's default). */
export const DEFAULT_CATALOG_CURRENCY = 'EUR';
export const SAMPLE_PRODUCTS = 'supermarket-products.csv';
export const SAMPLE_BRANCHES = 'supermarket-branches.csv';
const ERRORS_SHOWN = 10;

/** apps/catalog/samples/supermarket-{products,branches}.csv, found above `from`. */
export function sampleCatalogFiles(from: string = process.cwd()): CatalogFiles {
  const dir = findUp(path.join('apps', 'catalog', 'samples'), SAMPLE_PRODUCTS, from);
  return { products: path.join(dir, SAMPLE_PRODUCTS), branches: path.join(dir, SAMPLE_BRANCHES) };
}

export async function loadDemoCatalog(
  files: CatalogFiles,
  floor: ShopFloor = SUPERMARKET_SHOP_FLOOR,
): Promise<DemoCatalog> {
  const products = await readCsv(files.products, (input) =>
    parseProductsCsv(input, { defaultCurrency: DEFAULT_CATALOG_CURRENCY }),
  );
  const branches = await readCsv(files.branches, parseBranchesCsv);
  const catalog: Catalog = { products, branches };
  return { files, catalog, store: storeCatalog(catalog, floor, files) };
}

/** The simulator's view of a catalog: its rows with the shop floor's popularity and registers. */
export function storeCatalog(
  catalog: Catalog,
  floor: ShopFloor,
  files: CatalogFiles = { products: 'products', branches: 'branches' },
): StoreCatalog {
  if (catalog.products.length === 0) throw new DemoCatalogError(`${files.products}: has no products`);
  if (catalog.branches.length === 0) throw new DemoCatalogError(`${files.branches}: has no branches`);
  const currencies = [...new Set(catalog.products.map((p) => p.currency))];
  if (currencies.length > 1) {
    throw new DemoCatalogError(
      `${files.products}: the simulator sells in one currency, the file has ${currencies.join(', ')}`,
    );
  }
  return {
    currency: currencies[0]!,
    maxUnitsPerProduct: floor.maxUnitsPerProduct,
    branches: catalog.branches.map((b) => {
      const { registers, leanRegisters } = branchFloorOf(floor, b.branchId);
      return {
        branchId: b.branchId,
        name: b.name,
        ...(b.countryId !== undefined && { country: b.countryId }),
        registers,
        leanRegisters: Math.min(leanRegisters, registers),
      };
    }),
    products: catalog.products.map((p) => ({
      productId: p.productId,
      name: p.name,
      category: p.category,
      ...(p.brand !== undefined && { brand: p.brand }),
      listPrice: p.listPrice,
      popularity: popularityOf(floor, p.productId),
    })),
  };
}

async function readCsv<T>(
  file: string,
  parse: (input: ReturnType<typeof createReadStream>) => Promise<CsvParseResult<T>>,
): Promise<T[]> {
  let result: CsvParseResult<T>;
  try {
    result = await parse(createReadStream(file));
  } catch (error) {
    throw new DemoCatalogError(`cannot read ${file}: ${(error as Error).message}`);
  }
  if (result.errors.length > 0) {
    const shown = result.errors.slice(0, ERRORS_SHOWN).map((e) => `  ${rowError(file, e)}`);
    const more =
      result.errors.length > ERRORS_SHOWN ? [`  … and ${result.errors.length - ERRORS_SHOWN} more`] : [];
    throw new DemoCatalogError(
      [`${file}: ${result.errors.length} bad row(s); fix the file:`, ...shown, ...more].join('\n'),
    );
  }
  return result.rows;
}

function rowError(file: string, e: CsvRowError): string {
  return `${path.basename(file)}:${e.line}: ${e.field === undefined ? '' : `${e.field}: `}${e.rule}: ${e.message}`;
}
