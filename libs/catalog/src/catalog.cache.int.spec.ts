import { NatsFixture } from '@tally/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalogCache, type CatalogLogger } from './catalog.cache.js';
import type { CatalogProduct } from './catalog.schema.js';
import { CatalogBucket, defaultCatalogBucket, productJson, productKey } from './catalog-bucket.repository.js';

let nats: NatsFixture;
let bucket: CatalogBucket;

beforeAll(async () => {
  nats = await NatsFixture.create({ apply: false });
  bucket = await CatalogBucket.open(nats.nc, defaultCatalogBucket(nats.names.stream));
});

afterAll(async () => {
  await nats?.dispose();
});

const product = (n: number): CatalogProduct => ({
  productId: `P${String(n).padStart(5, '0')}`,
  name: `Product ${n}`,
  category: `cat-${n % 7}`,
  listPrice: `${n}.5`,
  currency: 'EUR',
});

function recordingLogger(): CatalogLogger & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    warnings,
    info: () => undefined,
    debug: () => undefined,
    warn: (_fields, message) => warnings.push(message),
  };
}

describe('CatalogCache against a real KV bucket', () => {
  it('is whole when open resolves, even for thousands of entries written one by one', async () => {
    const products = Array.from({ length: 3000 }, (_, i) => product(i));
    await bucket.publish({ products, branches: [{ branchId: 'b-1', name: 'One' }] });
    // Overwrite some, so the bucket's last revisions are not in key order.
    await bucket.kv.put(productKey('P00007'), productJson({ ...product(7), name: 'Renamed' }));

    const cache = await CatalogCache.open(bucket);
    try {
      expect(cache.size).toEqual({ products: 3000, branches: 1 });
      expect(cache.product('P00007')?.name).toBe('Renamed');
      expect(cache.product('P02999')).toEqual(product(2999));
      expect(cache.branch('b-1')).toEqual({ branchId: 'b-1', name: 'One' });
      expect(cache.revision).toBe((await bucket.kv.status()).streamInfo.state.last_seq);
    } finally {
      cache.close();
    }
  });

  it('applies puts and deletes as they arrive, and ignores entries that break the catalog rules', async () => {
    const logger = recordingLogger();
    const cache = await CatalogCache.open(bucket, { logger });
    try {
      await bucket.kv.put(productKey('NEW:1'), productJson({ ...product(1), productId: 'NEW:1' }));
      await bucket.kv.put(productKey('BAD'), JSON.stringify({ productId: 'BAD', name: 'No price' }));
      await bucket.kv.put(productKey('WRONG'), productJson(product(2)));
      await bucket.kv.put('something.else', '{}');
      await bucket.kv.delete(productKey('P00003'));
      await expect.poll(() => cache.product('NEW:1')?.productId).toBe('NEW:1');
      await expect.poll(() => cache.product('P00003')).toBeUndefined();
      await expect.poll(() => logger.warnings.length).toBe(3);
      expect(cache.product('BAD')).toBeUndefined();
      expect(cache.product('WRONG')).toBeUndefined();
      expect(logger.warnings).toEqual([
        'catalog entry ignored: breaks the catalog rules',
        'catalog entry ignored: breaks the catalog rules',
        'catalog key ignored: not product.<id> or branch.<id>',
      ]);
    } finally {
      cache.close();
    }
  });

  it('opens at once on an empty bucket', async () => {
    const empty = await CatalogBucket.open(nats.nc, `${nats.names.stream}_empty_catalog`);
    const cache = await CatalogCache.open(empty, { loadTimeoutMs: 2_000 });
    expect(cache.size).toEqual({ products: 0, branches: 0 });
    cache.close();
  });
});
