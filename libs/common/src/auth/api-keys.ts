import { ConfigError, type Env, envEnum } from '../config/env.js';

/**
 * API keys and the branches each may use: `TALLY_API_KEYS="k1=branchA|branchB,k2=*"`.
 * A till's key is scoped to its own branch, so a leaked key can neither forge nor read another
 * store's sales. Every HTTP app (ingest, query) reads the same keys.
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

/**
 * `TALLY_AUTH` and `TALLY_API_KEYS` as every app reads them: the keys, or undefined when auth is
 * disabled explicitly (`TALLY_AUTH=disabled`). No keys with auth enabled refuses to start.
 */
export function envApiKeys(env: Env): ApiKeys | undefined {
  const auth = envEnum(env, 'TALLY_AUTH', ['enabled', 'disabled'], 'enabled');
  const apiKeys = parseApiKeys(env.TALLY_API_KEYS);
  if (auth === 'enabled' && apiKeys.size === 0) {
    throw new ConfigError(
      'No API keys: set TALLY_API_KEYS="key=branchA|branchB,key2=*", or TALLY_AUTH=disabled to run without auth',
    );
  }
  return auth === 'enabled' ? apiKeys : undefined;
}

export function scopeAllows(scope: BranchScope, branchId: string): boolean {
  return scope === '*' || scope.has(branchId);
}
