import type { KvEntry } from '@nats-io/kv';
import {
  type CatalogBranch,
  type CatalogFieldError,
  type CatalogProduct,
  checkBranch,
  checkProduct,
} from './catalog.schema.js';
import type { BucketWatch, CatalogBucket } from './catalog-bucket.repository.js';
import { parseCatalogKey } from './catalog-bucket.repository.js';

/** The part of a pino logger the cache uses. */
export interface CatalogLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  debug(fields: object, message: string): void;
}

export interface CatalogCacheOptions {
  /** How long opening may wait for the bucket's current entries (default 10 s). */
  readonly loadTimeoutMs?: number;
  readonly logger?: CatalogLogger;
}

/**
 * The catalog in memory, kept equal to the KV bucket by a watch: lookups are synchronous map
 * reads on the request path, never a round trip. `open` resolves only once every entry the
 * bucket held has been applied, so a process that serves after it never judges a sale against
 * a half-loaded catalog; later changes (a new import) apply as they arrive, without a restart.
 *
 * Each entry is checked with the same rules the import applied. A value that fails them (or a
 * key the catalog does not use) is logged and leaves that id out: the catalog then does not know
 * the product, which is the safe reading for both filling and enforcing. The watch is an ordered
 * consumer that the NATS client re-creates after a reconnect, resuming where it stopped.
 */
export class CatalogCache {
  private readonly products = new Map<string, CatalogProduct>();
  private readonly branches = new Map<string, CatalogBranch>();
  private lastRevision = 0;
  private watch: BucketWatch | undefined;

  private constructor(
    readonly bucket: string,
    private readonly logger: CatalogLogger | undefined,
  ) {}

  static async open(bucket: CatalogBucket, options: CatalogCacheOptions = {}): Promise<CatalogCache> {
    const cache = new CatalogCache(bucket.name, options.logger);
    let loaded = false;
    cache.watch = await bucket.watch(
      (entry) => {
        cache.apply(entry);
        if (loaded) {
          options.logger?.debug(
            { bucket: bucket.name, key: entry.key, operation: entry.operation, revision: entry.revision },
            'catalog entry changed',
          );
        }
      },
      { timeoutMs: options.loadTimeoutMs },
    );
    loaded = true;
    void cache.watch.ended.then((error) => {
      if (error) options.logger?.warn({ bucket: bucket.name, err: error }, 'catalog watch ended');
    });
    options.logger?.info({ bucket: bucket.name, ...cache.size, revision: cache.revision }, 'catalog loaded');
    return cache;
  }

  /** The product, or undefined when the catalog does not know it. */
  product(productId: string): CatalogProduct | undefined {
    return this.products.get(productId);
  }

  branch(branchId: string): CatalogBranch | undefined {
    return this.branches.get(branchId);
  }

  get size(): { products: number; branches: number } {
    return { products: this.products.size, branches: this.branches.size };
  }

  /** Bucket revision of the last change applied (0: nothing yet). */
  get revision(): number {
    return this.lastRevision;
  }

  /** Stops watching; lookups keep answering from the last state. */
  close(): void {
    this.watch?.stop();
    this.watch = undefined;
  }

  private apply(entry: KvEntry): void {
    this.lastRevision = Math.max(this.lastRevision, entry.revision);
    const target = parseCatalogKey(entry.key);
    if (target === undefined) {
      this.logger?.warn(
        { bucket: this.bucket, key: entry.key },
        'catalog key ignored: not product.<id> or branch.<id>',
      );
      return;
    }
    const map: Map<string, unknown> = target.kind === 'product' ? this.products : this.branches;
    if (entry.operation !== 'PUT') {
      map.delete(target.id);
      return;
    }
    const errors = this.store(target.kind, target.id, entry);
    if (errors.length > 0) {
      map.delete(target.id);
      this.logger?.warn(
        { bucket: this.bucket, key: entry.key, errors },
        'catalog entry ignored: breaks the catalog rules',
      );
    }
  }

  /** Checks and stores one value; returns what is wrong with it. */
  private store(kind: 'product' | 'branch', id: string, entry: KvEntry): CatalogFieldError[] {
    let raw: Record<string, unknown>;
    try {
      raw = entry.json<Record<string, unknown>>();
    } catch {
      return [{ field: '', rule: 'json', message: 'is not JSON' }];
    }
    if (raw === null || typeof raw !== 'object')
      return [{ field: '', rule: 'type', message: 'must be an object' }];
    if (kind === 'product') {
      const checked = checkProduct(raw);
      if (!checked.ok) return checked.errors;
      if (checked.value.productId !== id) return [mismatch('productId', id)];
      this.products.set(id, checked.value);
    } else {
      const checked = checkBranch(raw);
      if (!checked.ok) return checked.errors;
      if (checked.value.branchId !== id) return [mismatch('branchId', id)];
      this.branches.set(id, checked.value);
    }
    return [];
  }
}

function mismatch(field: string, id: string): CatalogFieldError {
  return { field, rule: 'key-mismatch', message: `differs from the key's id ${id}` };
}
