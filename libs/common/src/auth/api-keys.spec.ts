import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/env.js';
import { envApiKeys, parseApiKeys, scopeAllows } from './api-keys.js';

describe('API keys', () => {
  it('scopes each key to its branches, or to all with *', () => {
    const keys = parseApiKeys('till-a=branch-a|branch-b, hq=*');
    expect(scopeAllows(keys.get('till-a')!, 'branch-a')).toBe(true);
    expect(scopeAllows(keys.get('till-a')!, 'branch-c')).toBe(false);
    expect(scopeAllows(keys.get('hq')!, 'anything')).toBe(true);
  });

  it('rejects malformed entries and repeated keys, naming the entry', () => {
    expect(() => parseApiKeys('k1=a,justakey')).toThrow(/entry 2/);
    expect(() => parseApiKeys('k1=a,k1=b')).toThrow(/twice/);
  });

  it('requires keys unless TALLY_AUTH=disabled says explicitly to run without them', () => {
    expect(() => envApiKeys({})).toThrow(ConfigError);
    expect(() => envApiKeys({})).toThrow(/TALLY_API_KEYS/);
    expect(envApiKeys({ TALLY_AUTH: 'disabled', TALLY_API_KEYS: 'k=*' })).toBeUndefined();
    expect(envApiKeys({ TALLY_API_KEYS: 'k=b1' })?.get('k')).toEqual(new Set(['b1']));
    expect(() => envApiKeys({ TALLY_AUTH: 'maybe' })).toThrow(/TALLY_AUTH=maybe: must be one of/);
  });
});
