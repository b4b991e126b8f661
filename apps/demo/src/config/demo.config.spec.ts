import { describe, expect, it } from 'vitest';
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
  ])('refuses %o naming the option and the rule', (argv, message) => {
    expect(() => loadDemoConfig(argv, {})).toThrow(DemoUsageError);
    expect(() => loadDemoConfig(argv, {})).toThrow(message);
  });
});
