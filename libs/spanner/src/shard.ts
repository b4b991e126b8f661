import { createHash } from 'node:crypto';

/**
 * Number of shards that lead the Sales key. Part of every stored key: changing it (or
 * saleShard) would put new writes of an existing sale under another key.
 */
export const SALE_SHARDS = 1024;

/**
 * The first key column of a sale and its lines: the first 8 bytes of sha256(saleId), read as an
 * unsigned big-endian integer, modulo SALE_SHARDS. Stable across processes and releases, and
 * spreads sequential ids (`b1-000123`, `b1-000124`) over the shards, so Spanner never has to
 * take a branch's writes on the one split that holds the end of its id range.
 */
export function saleShard(saleId: string): number {
  const hash = createHash('sha256').update(saleId, 'utf8').digest();
  return Number(hash.readBigUInt64BE(0) % BigInt(SALE_SHARDS));
}

/** Hex digits of the sale-id digest (60 bits: a positive INT64, so Spanner SQL can cast it). */
export const SALE_ID_DIGEST_HEX_DIGITS = 15;

/**
 * A digest of a set of sale ids, computed the same way by SQL in both stores: the XOR over the
 * ids of the first 60 bits of sha256(id), as 15 lowercase hex digits.
 *
 * XOR is order-independent, so the database can aggregate it in any order (Spanner BIT_XOR,
 * Postgres bit_xor), and it needs no sort and no transfer of the ids. Each store holds a sale id
 * at most once (it is the key), so XOR's blind spot (an id present twice cancels out) cannot
 * occur; together with the count and the exact sum, two different sets of ids agree only by a
 * 60-bit accident. 60 bits, not 64, because Spanner cannot cast a hex string past INT64's
 * maximum. This function is the reference the SQL of both stores is tested against.
 */
export function saleIdsDigest(saleIds: Iterable<string>): string {
  let digest = 0n;
  for (const id of saleIds) {
    const hex = createHash('sha256').update(id, 'utf8').digest('hex');
    digest ^= BigInt(`0x${hex.slice(0, SALE_ID_DIGEST_HEX_DIGITS)}`);
  }
  return digest.toString(16).padStart(SALE_ID_DIGEST_HEX_DIGITS, '0');
}
