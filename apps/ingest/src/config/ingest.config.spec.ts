import { ConfigError } from '@tally/common';
import { describe, expect, it } from 'vitest';
import { loadIngestConfig } from './ingest.config.js';

describe('ingest configuration', () => {
  it('refuses to start with no API keys unless auth is disabled explicitly', () => {
    expect(() => loadIngestConfig({})).toThrow(ConfigError);
    expect(() => loadIngestConfig({})).toThrow(/TALLY_API_KEYS/);
    expect(loadIngestConfig({ TALLY_AUTH: 'disabled' }).apiKeys).toBeUndefined();
  });

  it('uses the documented defaults', () => {
    const config = loadIngestConfig({ TALLY_API_KEYS: 'k=*' });
    expect(config).toMatchObject({
      port: 3000,
      natsUrl: 'nats://127.0.0.1:4222',
      names: { stream: 'SALES', subjectPrefix: 'sales' },
      maxFutureSkewMs: 300_000,
      batchMaxSales: 5000,
    });
  });

  it('names the variable and the rule when a value is bad', () => {
    expect(() => loadIngestConfig({ TALLY_API_KEYS: 'k=*', INGEST_PORT: 'eighty' })).toThrow(
      /INGEST_PORT=eighty: must be an integer/,
    );
    expect(() => loadIngestConfig({ TALLY_API_KEYS: 'k=*', TALLY_MAX_FUTURE_SKEW: 'soon' })).toThrow(
      /TALLY_MAX_FUTURE_SKEW=soon: must be a duration/,
    );
    expect(() => loadIngestConfig({ TALLY_API_KEYS: 'k=*', TALLY_AUTH: 'maybe' })).toThrow(
      /TALLY_AUTH=maybe: must be one of/,
    );
  });
});
