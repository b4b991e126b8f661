import { ID_PATTERN } from '@tally/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { branchKey, parseCatalogKey, productJson, productKey } from './catalog-bucket.repository.js';

/** The key alphabet NATS KV accepts (nats.js validKeyRe), one token after the kind. */
const KV_KEY = /^(product|branch)\.[-/=\w]+$/;

describe('catalog bucket keys', () => {
  it('map every id the sale contract allows to a valid one-token key and back', () => {
    const idArb = fc.stringMatching(new RegExp(ID_PATTERN));
    fc.assert(
      fc.property(idArb, (id) => {
        const key = productKey(id);
        expect(key).toMatch(KV_KEY);
        expect(parseCatalogKey(key)).toEqual({ kind: 'product', id });
      }),
      { numRuns: 500 },
    );
  });

  it('keep plain ids readable and escape the rest', () => {
    expect(productKey('P001')).toBe('product.P001');
    expect(productKey('a.b:c')).toBe('product.a=2Eb=3Ac');
    expect(branchKey('branch-north')).toBe('branch.branch-north');
    expect(parseCatalogKey('branch.branch-north')).toEqual({ kind: 'branch', id: 'branch-north' });
  });

  it('ignore keys the catalog does not write', () => {
    for (const key of ['other.P001', 'product', 'product.a.b', 'product.=ZZ', 'product.a=']) {
      expect(parseCatalogKey(key), key).toBeUndefined();
    }
  });

  it('give equal products equal values whatever their field order', () => {
    const a = productJson({ productId: 'P', name: 'n', category: 'c', listPrice: '1', currency: 'EUR' });
    const b = productJson({ currency: 'EUR', listPrice: '1', category: 'c', name: 'n', productId: 'P' });
    expect(a).toBe(b);
  });
});
