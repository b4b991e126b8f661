import { ConfigError } from '@tally/common';
import { describe, expect, it } from 'vitest';
import { loadWriterConfig } from './writer.config.js';

describe('writer configuration', () => {
  it('runs both sinks on local defaults when nothing is set, Spanner unconfigured (so off)', () => {
    const config = loadWriterConfig({});
    expect(config.spanner).toBeUndefined();
    expect(config).toMatchObject({
      port: 3002,
      sinks: ['postgres', 'spanner'],
      names: { stream: 'SALES', subjectPrefix: 'sales' },
      batch: { maxSales: 1000, maxMessages: 1000, maxBytes: 2 * 1024 * 1024, maxWaitMs: 1000, inFlight: 2 },
      postgres: { url: 'postgres://postgres@127.0.0.1:5432/tally', consumer: 'writer-postgres', poolSize: 4 },
    });
  });

  it('configures Spanner from the emulator host alone, or from a project for real Spanner', () => {
    expect(loadWriterConfig({ SPANNER_EMULATOR_HOST: '127.0.0.1:9010' }).spanner).toEqual({
      projectId: 'tally-local',
      instanceId: 'tally',
      databaseId: 'tally',
      emulatorHost: '127.0.0.1:9010',
      consumer: 'writer-spanner',
      maxMutations: 80_000,
    });
    expect(
      loadWriterConfig({
        SPANNER_PROJECT_ID: 'acme',
        SPANNER_INSTANCE_ID: 'prod',
        SPANNER_DATABASE_ID: 'sales',
      }).spanner,
    ).toMatchObject({ projectId: 'acme', instanceId: 'prod', databaseId: 'sales', emulatorHost: undefined });
  });

  it('reads sinks as a comma-separated list without repeats', () => {
    expect(loadWriterConfig({ WRITER_SINKS: ' postgres , postgres' }).sinks).toEqual(['postgres']);
  });

  it.each([
    [{ WRITER_SINKS: 'postgres,mysql' }, /WRITER_SINKS=postgres,mysql: unknown sink "mysql"/],
    [{ WRITER_SINKS: ',' }, /WRITER_SINKS: name at least one sink/],
    [
      { SPANNER_EMULATOR_HOST: 'h:1', WRITER_SPANNER_MAX_MUTATIONS: '100000' },
      /WRITER_SPANNER_MAX_MUTATIONS=100000: must be an integer from 100 to 80000/,
    ],
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
