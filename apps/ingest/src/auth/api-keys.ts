import { ConfigError } from '@tally/common';

/**
 * API keys and the branches each may write: `TALLY_API_KEYS="k1=branchA|branchB,k2=*"`.
 * A till's key is scoped to its own branch, so a leaked key cannot forge another store's sales.
 */
export type BranchScope = '*' | ReadonlySet<string>;

export type ApiKeys = ReadonlyMap<string, BranchScope>;

export function parseApiKeys(raw: string | undefined): ApiKeys {
  const keys = new Map<string, BranchScope>();
  if (raw === undefined || raw.trim() === '') return keys;
  for (const [i, entry] of raw.split(',').entries()) {
    const trimmed = entry.trim();
    const eq = trimmed.indexOf('=');
    const key = eq < 0 ? '' : trimmed.slice(0, eq);
    const branches = eq < 0 ? '' : trimmed.slice(eq + 1);
    if (key === '' || branches === '') {
      throw new ConfigError(`TALLY_API_KEYS entry ${i + 1}: must be key=branchA|branchB or key=*`);
    }
    if (keys.has(key)) throw new ConfigError(`TALLY_API_KEYS entry ${i + 1}: the key appears twice`);
    keys.set(key, branches === '*' ? '*' : new Set(branches.split('|').map((b) => b.trim())));
  }
  return keys;
}

export function scopeAllows(scope: BranchScope, branchId: string): boolean {
  return scope === '*' || scope.has(branchId);
}
