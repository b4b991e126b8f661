import path from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  type Catalog,
  CatalogBucket,
  CatalogRepository,
  type ImportCounts,
  type PublishSummary,
  type UpsertCounts,
} from '@tally/catalog';
import type { PostgresClient } from '@tally/postgres';
import type { CatalogFiles } from './demo-catalog.loader.js';

/**
 * The demo's catalog import: what `npm run catalog:import` does, through the same library
 * calls rather than a child npm process. The rows are upserted into Postgres (the catalog of
 * record), then the whole Postgres catalog is published to the KV bucket (only what differs is
 * written), before ingest starts: ingest then holds it from its first request.
 *
 * Running the demo again changes nothing (every row "unchanged", nothing put). Products and
 * branches other imports left in Postgres stay, as with catalog:import.
 */
export interface CatalogImportResult {
  readonly counts: ImportCounts;
  readonly published: PublishSummary;
  /** What the bucket now holds (the whole Postgres catalog). */
  readonly total: { readonly products: number; readonly branches: number };
}

export async function importDemoCatalog(
  postgres: PostgresClient,
  nc: NatsConnection,
  bucketName: string,
  catalog: Catalog,
): Promise<CatalogImportResult> {
  const repository = new CatalogRepository(postgres);
  const counts = await repository.upsert(catalog);
  const all = await repository.read();
  const bucket = await CatalogBucket.open(nc, bucketName);
  const published = await bucket.publish(all);
  return { counts, published, total: { products: all.products.length, branches: all.branches.length } };
}

/** The phase line: `supermarket-products.csv 10 products, … → Postgres …; bucket SALES_catalog …`. */
export function describeImport(
  files: CatalogFiles,
  catalog: Catalog,
  bucketName: string,
  result: CatalogImportResult,
): string {
  const upserts = (c: UpsertCounts | undefined) =>
    c === undefined ? 'none' : `${c.inserted} new, ${c.updated} changed, ${c.unchanged} unchanged`;
  const { put, deleted, unchanged } = result.published;
  return (
    `${path.basename(files.products)} ${catalog.products.length} products, ` +
    `${path.basename(files.branches)} ${catalog.branches.length} branches; ` +
    `Postgres products ${upserts(result.counts.products)}, branches ${upserts(result.counts.branches)}; ` +
    `bucket ${bucketName} ${put} put, ${deleted} deleted, ${unchanged} unchanged`
  );
}
