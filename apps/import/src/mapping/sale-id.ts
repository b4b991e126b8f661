import { createHash } from 'node:crypto';
import { ID_PATTERN } from '@tally/contracts';

const ID = new RegExp(ID_PATTERN);

/**
 * The sale id of a source receipt: `<prefix>:<key>` where the key is the source's order id
 * (several key columns joined by ':'). A key that would leave the contract's id alphabet or
 * 64 characters becomes `<prefix>:h:<32 hex of sha256(key)>`. Deterministic, so importing the
 * same file again yields the same ids, which ingest and every store deduplicate.
 */
export function saleIdOf(prefix: string, key: string): string {
  const plain = `${prefix}:${key}`;
  if (ID.test(plain)) return plain;
  return `${prefix}:h:${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}
