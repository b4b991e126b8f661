import { ConfigError } from '@tally/common';
import { DEFAULT_DATABASE_URL } from '@tally/postgres';
import { describe, expect, it } from 'vitest';
import { loadQueryConfig } from './query.config.js';

describe('query configuration', () => {
  it('refuses to start with no API keys unless auth is disabled explicitly', () => {
    expect(() => loadQueryConfig({})).toThrow(ConfigError);
    expect(() => loadQueryConfig({})).toThrow(/TALLY_API_KEYS/);
    expect(loadQueryConfig({ TALLY_AUTH: 'disabled' }).apiKeys).toBeUndefined();
  });

  it('uses the documented defaults', () => {
    const config = loadQueryConfig({ TALLY_API_KEYS: 'k=*' });
    expect(config).toEqual({
      port: 3003,
      host: '127.0.0.1',
      databaseUrl: DEFAULT_DATABASE_URL,
      poolSize: 4,
      statementTimeoutMs: 10_000,
      apiKeys: new Map([['k', '*']]),
      logLevel: 'info',
    });
  });

  it('reads every variable', () => {
    const config = loadQueryConfig({
      TALLY_API_KEYS: 'till=branch-1|branch-2',
      QUERY_PORT: '8080',
      QUERY_HOST: '0.0.0.0',
      DATABASE_URL: 'postgresql://reader:secret@db:5432/tally',
      QUERY_DB_POOL_SIZE: '16',
      QUERY_STATEMENT_TIMEOUT: '2500ms',
      LOG_LEVEL: 'debug',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      databaseUrl: 'postgresql://reader:secret@db:5432/tally',
      poolSize: 16,
      statementTimeoutMs: 2500,
      logLevel: 'debug',
    });
    expect(config.apiKeys?.get('till')).toEqual(new Set(['branch-1', 'branch-2']));
  });

  it('names the variable and the rule when a value is bad', () => {
    const keys = { TALLY_API_KEYS: 'k=*' };
    expect(() => loadQueryConfig({ ...keys, QUERY_PORT: 'eighty' })).toThrow(
      /QUERY_PORT=eighty: must be an integer/,
    );
    expect(() => loadQueryConfig({ ...keys, QUERY_DB_POOL_SIZE: '0' })).toThrow(
      /QUERY_DB_POOL_SIZE=0: must be an integer from 1/,
    );
    expect(() => loadQueryConfig({ ...keys, QUERY_STATEMENT_TIMEOUT: 'soon' })).toThrow(
      /QUERY_STATEMENT_TIMEOUT=soon: must be a duration/,
    );
    expect(() => loadQueryConfig({ ...keys, QUERY_STATEMENT_TIMEOUT: '0s' })).toThrow(
      /QUERY_STATEMENT_TIMEOUT=0s: must be at least 1ms/,
    );
    expect(() => loadQueryConfig({ ...keys, TALLY_AUTH: 'maybe' })).toThrow(
      /TALLY_AUTH=maybe: must be one of/,
    );
  });

  it('refuses a DATABASE_URL that is not a Postgres URL without echoing it (it may hold a password)', () => {
    const bad = () => loadQueryConfig({ TALLY_API_KEYS: 'k=*', DATABASE_URL: 'mysql://u:hunter2@db/tally' });
    expect(bad).toThrow(/DATABASE_URL: must be a URL such as postgres:/);
    expect(bad).not.toThrow(/hunter2/);
  });
});
