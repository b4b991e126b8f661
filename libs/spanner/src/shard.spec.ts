import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SALE_SHARDS, saleIdsDigest, saleShard } from './shard.js';

describe('saleShard', () => {
  it('is the first 8 bytes of sha256(saleId) mod 1024, the same in every process and release', () => {
    // sha256("b1-000123") = ddbcd24950e68293...: 0x8293 mod 1024 = 0x293 = 659.
    expect(saleShard('b1-000123')).toBe(659);
    for (const id of ['a', 'b1-000124', 'sale-1', 'ß-ü']) {
      const hash = createHash('sha256').update(id, 'utf8').digest();
      expect(saleShard(id)).toBe(Number(hash.readBigUInt64BE(0) % 1024n));
    }
  });

  it('spreads sequential per-branch ids evenly over the shards', () => {
    const counts = new Array<number>(SALE_SHARDS).fill(0);
    const n = 200_000;
    let sameAsPrevious = 0;
    let previous = -1;
    for (let i = 0; i < n; i++) {
      const shard = saleShard(`b${i % 20}-${String(Math.floor(i / 20)).padStart(6, '0')}`);
      if (Number.isInteger(shard) && shard >= 0 && shard < SALE_SHARDS) counts[shard]!++;
      if (shard === previous) sameAsPrevious++;
      previous = shard;
    }
    expect(counts.reduce((a, b) => a + b)).toBe(n); // every one an integer in [0, 1024)
    const mean = n / SALE_SHARDS; // ~195 per shard
    // Every shard is used and none holds more than 1.5x or less than half its share.
    expect(Math.min(...counts)).toBeGreaterThan(mean * 0.5);
    expect(Math.max(...counts)).toBeLessThan(mean * 1.5);
    // Consecutive ids almost never share a shard (1 in 1024 by chance).
    expect(sameAsPrevious).toBeLessThan(n / 200);
  });
});

describe('saleIdsDigest', () => {
  it('is the first 60 bits of sha256 for one id, 15 hex digits', () => {
    expect(saleIdsDigest(['b1-000123'])).toBe('ddbcd24950e6829');
    expect(saleIdsDigest([])).toBe('000000000000000');
  });

  it('does not depend on order, and tells sets of ids apart', () => {
    const ids = Array.from({ length: 50 }, (_, i) => `b1-${i}`);
    const digest = saleIdsDigest(ids);
    expect(saleIdsDigest([...ids].reverse())).toBe(digest);
    expect(saleIdsDigest(ids.slice(1))).not.toBe(digest);
    expect(saleIdsDigest([...ids.slice(1), 'b1-50'])).not.toBe(digest);
    expect(digest).toMatch(/^[0-9a-f]{15}$/);
  });
});
