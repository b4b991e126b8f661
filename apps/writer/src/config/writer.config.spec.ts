import { ConfigError } from '@tally/common';
import { describe, expect, it } from 'vitest';
import { loadWriterConfig } from './writer.config.js';

describe('writer configuration', () => {
  it('runs the Postgres sink on local defaults when nothing is set', () => {
    const config = loadWriterConfig({});
    expect(config).toMatchObject({
      port: 3002,
      sinks: ['postgres'],
      names: { stream: 'SALES', subjectPrefix: 'sales' },
      batch: { maxSales: 1000, maxMessages: 1000, maxBytes: 2 * 1024 * 1024, maxWaitMs: 1000, inFlight: 2 },
      postgres: { url: 'postgres://postgres@127.0.0.1:5432/tally', consumer: 'writer-postgres', poolSize: 4 },
    });
  });

  it('reads sinks as a comma-separated list without repeats', () => {
    expect(loadWriterConfig({ WRITER_SINKS: ' postgres , postgres' }).sinks).toEqual(['postgres']);
  });

  it.each([
    [{ WRITER_SINKS: 'postgres,mysql' }, /WRITER_SINKS=postgres,mysql: unknown sink "mysql"/],
    [{ WRITER_SINKS: ',' }, /WRITER_SINKS: name at least one sink/],
    [{ WRITER_SINKS: 'spanner' }, /spanner sink is not built yet/],
    [{ WRITER_BATCH_MAX_WAIT: '500ms' }, /WRITER_BATCH_MAX_WAIT=500ms: must be at least 1s/],
    [{ WRITER_BATCH_MAX_BYTES: '65536' }, /WRITER_BATCH_MAX_BYTES=65536: must be an integer from 1114112/],
    [{ WRITER_BATCH_MAX_SALES: '0' }, /WRITER_BATCH_MAX_SALES=0: must be an integer from 1/],
    [
      { WRITER_RETRY_MIN: '5s', WRITER_RETRY_MAX: '1s' },
      /WRITER_RETRY_MAX \(1000 ms\) must be at least WRITER_RETRY_MIN/,
    ],
  ])('refuses %o naming the variable and the rule', (env, message) => {
    expect(() => loadWriterConfig(env)).toThrow(ConfigError);
    expect(() => loadWriterConfig(env)).toThrow(message);
  });
});
