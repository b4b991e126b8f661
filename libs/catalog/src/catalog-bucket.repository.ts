import { type KV, type KvEntry, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Catalog, CatalogBranch, CatalogProduct } from './catalog.schema.js';

/**
 * The published catalog: a NATS KV bucket with one key per product (`product.<id>`) and per
 * branch (`branch.<id>`), each value the entry's JSON. Postgres holds the catalog of record;
 * `catalog:import` writes it there and then makes the bucket equal to it (publish), and ingest
 * keeps an in-memory copy by watching the bucket (CatalogCache).
 *
 * Why one key per entry rather than one document: a KV value is bounded by the server's max
 * payload (1 MiB by default, some ten thousand products), keys are not; a watcher receives
 * only what changed; and each entry is replaced whole, so a reader never sees half a product.
 * What a reader may see is an import half applied (some products new, some not yet), for the
 * moments the publish takes: the same as if the import had started a little later.
 *
 * Keys: ids may hold `.` and `:` (the sale contract allows them in productIds), which a KV key
 * cannot carry inside one token; every character outside [A-Za-z0-9_-] is written `=XX` (its
 * hex code), so a key is always `<kind>.<one token>` and distinct ids give distinct keys.
 *
 * The bucket is created by whichever side opens it first (import or ingest) with the same
 * settings (history 1, file storage), as the aggregator does with its checkpoint bucket.
 */
export const CATALOG_BUCKET_SUFFIX = '_catalog';

/** Default bucket name: `<stream>_catalog` (e.g. `SALES_catalog`), so isolated streams get isolated catalogs. */
export function defaultCatalogBucket(stream: string): string {
  return `${stream}${CATALOG_BUCKET_SUFFIX}`;
}

export type CatalogKind = 'product' | 'branch';

export function productKey(productId: string): string {
  return `product.${encodeToken(productId)}`;
}

export function branchKey(branchId: string): string {
  return `branch.${encodeToken(branchId)}`;
}

/** The kind and id a key names, or undefined for a key the catalog does not use. */
export function parseCatalogKey(key: string): { kind: CatalogKind; id: string } | undefined {
  const dot = key.indexOf('.');
  const kind = key.slice(0, dot);
  const token = key.slice(dot + 1);
  if (dot < 0 || (kind !== 'product' && kind !== 'branch') || !/^[A-Za-z0-9_=-]+$/.test(token)) {
    return undefined;
  }
  try {
    return { kind, id: decodeToken(token) };
  } catch {
    return undefined;
  }
}

function encodeToken(id: string): string {
  return id.replace(
    /[^A-Za-z0-9_-]/g,
    (c) => `=${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

function decodeToken(token: string): string {
  return token.replace(/=([0-9A-F]{2})|=/g, (_match, hex: string | undefined) => {
    if (hex === undefined) throw new Error(`bad escape in ${token}`);
    return String.fromCharCode(Number.parseInt(hex, 16));
  });
}

/** What a publish changed in the bucket. */
export interface PublishSummary {
  readonly put: number;
  readonly deleted: number;
  readonly unchanged: number;
}

/** A running watch of the bucket: every current value was delivered before `open`/`watch` resolved. */
export interface BucketWatch {
  stop(): void;
  /** Resolves when the watch ends (stopped, or the connection closed), with the error that ended it if any. */
  readonly ended: Promise<Error | undefined>;
}

/** The bucket's current entries could not be read (timeout, or the watch failed). */
export class CatalogLoadError extends Error {
  override readonly name = 'CatalogLoadError';
}

const PUBLISH_CONCURRENCY = 64;

export class CatalogBucket {
  private constructor(
    readonly kv: KV,
    readonly name: string,
  ) {}

  /** Opens the bucket, creating it if missing (idempotent; same settings from every caller). */
  static async open(nc: NatsConnection, name: string): Promise<CatalogBucket> {
    const kv = await new Kvm(nc).create(name, {
      history: 1,
      description: 'Tally catalog: product.<id> and branch.<id>, published by catalog:import from Postgres',
    });
    return new CatalogBucket(kv, name);
  }

  /**
   * Delivers every current entry (last value per key, deletions included) to `onEntry`, then
   * every later change, until stopped. Resolves once the entries present at the call have all
   * been delivered: the watch delivers last values in stream order, so seeing the revision that
   * was the bucket's last one means everything before it has been seen.
   */
  async watch(onEntry: (entry: KvEntry) => void, options: { timeoutMs?: number } = {}): Promise<BucketWatch> {
    const { streamInfo } = await this.kv.status();
    const target = streamInfo.state.messages === 0 ? 0 : streamInfo.state.last_seq;
    const iterator = await this.kv.watch({ key: '>' });
    let markLoaded: () => void = () => undefined;
    const loaded = new Promise<void>((resolve) => {
      markLoaded = resolve;
    });
    let isLoaded = target === 0;
    if (isLoaded) markLoaded();
    const ended = (async (): Promise<Error | undefined> => {
      try {
        for await (const entry of iterator) {
          onEntry(entry);
          if (!isLoaded && entry.revision >= target) {
            isLoaded = true;
            markLoaded();
          }
        }
        return undefined;
      } catch (error) {
        return error as Error;
      }
    })();
    const timeoutMs = options.timeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([loaded, timedOut, ended.then((error) => ({ error }))]);
    clearTimeout(timer);
    if (outcome !== undefined) {
      iterator.stop();
      throw new CatalogLoadError(
        outcome === 'timeout'
          ? `catalog bucket ${this.name}: its ${streamInfo.state.messages} entries did not arrive within ${timeoutMs} ms`
          : `catalog bucket ${this.name}: the watch ended before the catalog was loaded${outcome.error ? `: ${outcome.error.message}` : ''}`,
      );
    }
    return { stop: () => iterator.stop(), ended };
  }

  /** The bucket's current entries, as key -> JSON text (deleted keys left out). */
  async read(): Promise<Map<string, string>> {
    const current = new Map<string, string>();
    const watch = await this.watch((entry) => {
      if (entry.operation === 'PUT') current.set(entry.key, entry.string());
      else current.delete(entry.key);
    });
    watch.stop();
    return current;
  }

  /**
   * Makes the bucket hold exactly `catalog`: puts each entry whose value differs, deletes keys
   * of entries the catalog no longer has, leaves the rest untouched (no needless watcher churn).
   */
  async publish(catalog: Catalog): Promise<PublishSummary> {
    const wanted = new Map<string, string>();
    for (const p of catalog.products) wanted.set(productKey(p.productId), productJson(p));
    for (const b of catalog.branches) wanted.set(branchKey(b.branchId), branchJson(b));
    const current = await this.read();

    const puts = [...wanted].filter(([key, json]) => current.get(key) !== json);
    const deletes = [...current.keys()].filter((key) => !wanted.has(key));
    await inParallel(puts, ([key, json]) => this.kv.put(key, json));
    await inParallel(deletes, (key) => this.kv.delete(key));
    return { put: puts.length, deleted: deletes.length, unchanged: wanted.size - puts.length };
  }
}

/** The value of a product key: its fields in a fixed order, so equal products give equal text. */
export function productJson(p: CatalogProduct): string {
  return JSON.stringify({
    productId: p.productId,
    name: p.name,
    category: p.category,
    ...(p.brand !== undefined && { brand: p.brand }),
    listPrice: p.listPrice,
    currency: p.currency,
  });
}

export function branchJson(b: CatalogBranch): string {
  return JSON.stringify({
    branchId: b.branchId,
    name: b.name,
    ...(b.city !== undefined && { city: b.city }),
    ...(b.countryId !== undefined && { countryId: b.countryId }),
  });
}

async function inParallel<T>(items: readonly T[], run: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await run(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(PUBLISH_CONCURRENCY, items.length) }, worker));
}
