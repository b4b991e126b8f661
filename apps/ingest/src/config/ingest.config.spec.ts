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
      catalogBucket: 'SALES_catalog',
      catalogEnforce: { products: false, branches: false },
      maxUnitsPerProduct: undefined,
    });
  });

  it('reads the catalog rules', () => {
    const config = loadIngestConfig({
      TALLY_API_KEYS: 'k=*',
      TALLY_STREAM: 'SHOP',
      CATALOG_ENFORCE: 'products',
      MAX_UNITS_PER_PRODUCT: '1',
    });
    expect(config).toMatchObject({
      catalogBucket: 'SHOP_catalog',
      catalogEnforce: { products: true, branches: false },
      maxUnitsPerProduct: 1,
    });
    expect(loadIngestConfig({ TALLY_API_KEYS: 'k=*', CATALOG_ENFORCE: 'on' }).catalogEnforce).toEqual({
      products: true,
      branches: true,
    });
    expect(() => loadIngestConfig({ TALLY_API_KEYS: 'k=*', CATALOG_ENFORCE: 'yes' })).toThrow(
      /CATALOG_ENFORCE=yes: must be one of off, on, products, branches/,
    );
    expect(() => loadIngestConfig({ TALLY_API_KEYS: 'k=*', MAX_UNITS_PER_PRODUCT: '0' })).toThrow(
      /MAX_UNITS_PER_PRODUCT=0: must be an integer from 1/,
    );
    expect(() => loadIngestConfig({ TALLY_API_KEYS: 'k=*', TALLY_CATALOG_BUCKET: 'a.b' })).toThrow(
      /TALLY_CATALOG_BUCKET=a.b/,
    );
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
