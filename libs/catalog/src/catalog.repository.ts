import { fromUnits, toUnits } from '@tally/contracts';
import { branches, type PostgresClient, products } from '@tally/postgres';
import { asc } from 'drizzle-orm';
import type { Catalog, CatalogBranch, CatalogProduct } from './catalog.schema.js';

/**
 * The catalog of record in Postgres: the `branches` and `products` tables (drizzle/0000).
 *
 * An import upserts: a row whose id is new is inserted, one whose values differ is replaced
 * whole (an empty optional cell clears the column), one equal to the file is left untouched and
 * counted as unchanged. Nothing is deleted: a product dropped from the file stays (sales keep
 * naming it). Branches and products of one import are written in one transaction, each kind in
 * one `unnest` statement whatever the file's size.
 *
 * A branch's country must exist in `countries` (foreign key); an unknown country code is added
 * with its code as its name, and an existing country is never changed.
 */
export interface UpsertCounts {
  readonly inserted: number;
  readonly updated: number;
  readonly unchanged: number;
}

export interface ImportCounts {
  readonly products?: UpsertCounts;
  readonly branches?: UpsertCounts;
}

const UPSERT_PRODUCTS = `
INSERT INTO products (product_id, name, category, brand, list_price, currency)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::text[])
ON CONFLICT (product_id) DO UPDATE
  SET name = excluded.name, category = excluded.category, brand = excluded.brand,
      list_price = excluded.list_price, currency = excluded.currency
  WHERE (products.name, products.category, products.brand, products.list_price, products.currency)
        IS DISTINCT FROM (excluded.name, excluded.category, excluded.brand, excluded.list_price, excluded.currency)
RETURNING (xmax = 0) AS inserted`;

const ENSURE_COUNTRIES = `
INSERT INTO countries (country_id, name)
SELECT DISTINCT c, c FROM unnest($1::text[]) AS c WHERE c IS NOT NULL
ON CONFLICT (country_id) DO NOTHING`;

const UPSERT_BRANCHES = `
INSERT INTO branches (branch_id, name, city, country_id)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
ON CONFLICT (branch_id) DO UPDATE
  SET name = excluded.name, city = excluded.city, country_id = excluded.country_id
  WHERE (branches.name, branches.city, branches.country_id)
        IS DISTINCT FROM (excluded.name, excluded.city, excluded.country_id)
RETURNING (xmax = 0) AS inserted`;

export class CatalogRepository {
  constructor(private readonly postgres: PostgresClient) {}

  /** Upserts what is given, in one transaction; returns what changed per kind. */
  async upsert(catalog: Partial<Catalog>): Promise<ImportCounts> {
    const client = await this.postgres.pool.connect();
    try {
      await client.query('BEGIN');
      let branchCounts: UpsertCounts | undefined;
      let productCounts: UpsertCounts | undefined;
      if (catalog.branches !== undefined) {
        const rows = catalog.branches;
        await client.query(ENSURE_COUNTRIES, [rows.map((b) => b.countryId ?? null)]);
        const result = await client.query<{ inserted: boolean }>(UPSERT_BRANCHES, [
          rows.map((b) => b.branchId),
          rows.map((b) => b.name),
          rows.map((b) => b.city ?? null),
          rows.map((b) => b.countryId ?? null),
        ]);
        branchCounts = counts(rows.length, result.rows);
      }
      if (catalog.products !== undefined) {
        const rows = catalog.products;
        const result = await client.query<{ inserted: boolean }>(UPSERT_PRODUCTS, [
          rows.map((p) => p.productId),
          rows.map((p) => p.name),
          rows.map((p) => p.category),
          rows.map((p) => p.brand ?? null),
          rows.map((p) => p.listPrice),
          rows.map((p) => p.currency),
        ]);
        productCounts = counts(rows.length, result.rows);
      }
      await client.query('COMMIT');
      return {
        ...(productCounts !== undefined && { products: productCounts }),
        ...(branchCounts !== undefined && { branches: branchCounts }),
      };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** The whole catalog, ordered by id: what gets published. */
  async read(): Promise<Catalog> {
    const db = this.postgres.db;
    const [productRows, branchRows] = await Promise.all([
      db.select().from(products).orderBy(asc(products.productId)),
      db.select().from(branches).orderBy(asc(branches.branchId)),
    ]);
    return {
      products: productRows.map(
        (r): CatalogProduct => ({
          productId: r.productId,
          name: r.name,
          category: r.category,
          ...(r.brand !== null && { brand: r.brand }),
          // numeric(19,4) reads back as "1.1500": the same canonical text the import wrote.
          listPrice: fromUnits(toUnits(r.listPrice)),
          currency: r.currency,
        }),
      ),
      branches: branchRows.map(
        (r): CatalogBranch => ({
          branchId: r.branchId,
          name: r.name,
          ...(r.city !== null && { city: r.city }),
          ...(r.countryId !== null && { countryId: r.countryId }),
        }),
      ),
    };
  }
}

function counts(total: number, returned: readonly { inserted: boolean }[]): UpsertCounts {
  const inserted = returned.filter((r) => r.inserted).length;
  const updated = returned.length - inserted;
  return { inserted, updated, unchanged: total - returned.length };
}
