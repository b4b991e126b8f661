import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sampleCatalogFiles } from '../catalog/demo-catalog.loader.js';
import { DemoUsageError, loadDemoConfig } from './demo.config.js';

describe('demo configuration', () => {
  it('runs endlessly at 200 sales/s on the default ports, Spanner on when available, embedded ClickHouse', () => {
    const config = loadDemoConfig([], {}, 1234);
    expect(config).toMatchObject({
      rate: 200,
      sales: undefined,
      exit: false,
      waitMs: 60_000,
      json: false,
      spanner: 'auto',
      seed: 1234,
      natsUrl: 'nats://127.0.0.1:4222',
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/tally',
      stream: 'SALES',
      clickhouse: 'embedded',
      spannerEmulatorHost: undefined,
    });
    expect(config.ports.ingest).toEqual({ port: 3000, explicit: false });
    expect(config.ports.writerSpanner).toEqual({ port: 3004, explicit: false });
  });

  it("imports the supermarket samples, runs ingest with the seed's rules and sends no bad receipt by default", () => {
    const config = loadDemoConfig([], {});
    expect(config.catalogFiles).toEqual(sampleCatalogFiles());
    expect(config).toMatchObject({ rules: true, badShare: 0, catalogBucket: 'SALES_catalog' });
    expect(loadDemoConfig([], { TALLY_STREAM: 'S2' }).catalogBucket).toBe('S2_catalog');
    expect(loadDemoConfig([], { TALLY_CATALOG_BUCKET: 'mine' }).catalogBucket).toBe('mine');
  });

  it('reads --catalog and --branches relative to where the command was typed, --no-rules and --bad-share', () => {
    const config = loadDemoConfig(
      ['--catalog', 'p.csv', '--branches', '/abs/b.csv', '--no-rules', '--bad-share', '0.02'],
      { INIT_CWD: '/home/me/shop' },
    );
    expect(config.catalogFiles).toEqual({
      products: path.resolve('/home/me/shop/p.csv'),
      branches: '/abs/b.csv',
    });
    expect(config).toMatchObject({ rules: false, badShare: 0.02 });
    // One file given: the other stays the sample.
    expect(loadDemoConfig(['--catalog', '/x/p.csv'], {}).catalogFiles.branches).toBe(
      sampleCatalogFiles().branches,
    );
  });

  it('reads the README command --sales 5000 --exit, and the other options', () => {
    const config = loadDemoConfig(
      [
        '--sales',
        '5000',
        '--exit',
        '--rate',
        '50',
        '--no-spanner',
        '--json',
        '--wait',
        '5',
        '--port',
        '4000',
      ],
      { SPANNER_EMULATOR_HOST: '127.0.0.1:9010', CLICKHOUSE_URL: 'http://ch:8123' },
    );
    expect(config).toMatchObject({
      sales: 5000,
      exit: true,
      rate: 50,
      spanner: 'off',
      json: true,
      waitMs: 5000,
      spannerEmulatorHost: '127.0.0.1:9010',
      clickhouse: 'server',
    });
    expect(config.ports.ingest).toEqual({ port: 4000, explicit: true });
    expect(loadDemoConfig([], { AGGREGATOR_CLICKHOUSE: 'off' }).clickhouse).toBe('off');
  });

  it.each([
    [['--sales', '0'], /--sales 0: must be an integer from 1/],
    [['--sales', '1.5'], /--sales 1.5: must be an integer/],
    [['--rate', 'fast'], /--rate fast: must be a number/],
    [['--port', '70000'], /--port 70000: must be an integer from 1 to 65535/],
    [['--speed', '3'], /Unknown option '--speed'/],
    [['--bad-share', '0.9'], /--bad-share 0.9: must be a number from 0 to 0.5/],
    [['--catalog'], /--catalog/],
  ])('refuses %o naming the option and the rule', (argv, message) => {
    expect(() => loadDemoConfig(argv, {})).toThrow(DemoUsageError);
    expect(() => loadDemoConfig(argv, {})).toThrow(message);
  });

  it('refuses a bad TALLY_CATALOG_BUCKET as a usage error naming it', () => {
    expect(() => loadDemoConfig([], { TALLY_CATALOG_BUCKET: 'a.b' })).toThrow(DemoUsageError);
    expect(() => loadDemoConfig([], { TALLY_CATALOG_BUCKET: 'a.b' })).toThrow(/TALLY_CATALOG_BUCKET=a\.b/);
  });
});
