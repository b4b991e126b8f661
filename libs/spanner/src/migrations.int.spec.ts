import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SpannerEmulator, SpannerFixture } from '@tally/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSpannerMigrate } from './migrate.command.js';
import {
  assertSpannerSchemaCurrent,
  ensureEmulatorDatabase,
  findSpannerDdlDir,
  loadDdlFiles,
  migrateSpanner,
  SpannerMigrationError,
  SpannerSchemaNotReadyError,
} from './migrations.js';
import { SpannerClient } from './spanner.client.js';

const VERSIONS = loadDdlFiles().map((f) => f.version);

describe('Spanner migrations (real emulator)', () => {
  let emulator: SpannerEmulator;
  const clients: SpannerClient[] = [];
  const open = (config: Parameters<typeof SpannerClient.create>[0]) => {
    const client = SpannerClient.create(config);
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    emulator = await SpannerEmulator.start();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await emulator?.stop();
  });

  it('creates the instance and the database on the emulator, applies every DDL file, and a second run changes nothing', async () => {
    const config = { ...SpannerFixture.newConfig(emulator), instanceId: 'fresh-instance' };
    const first = await migrateSpanner(config);
    expect(first).toEqual({
      applied: VERSIONS,
      latest: VERSIONS.at(-1),
      createdInstance: true,
      createdDatabase: true,
    });
    const client = open(config);
    await expect(assertSpannerSchemaCurrent(client.database)).resolves.toBeUndefined();
    const [tables] = await client.database.run({
      sql: `SELECT TABLE_NAME, PARENT_TABLE_NAME, ON_DELETE_ACTION FROM INFORMATION_SCHEMA.TABLES
            WHERE TABLE_SCHEMA = '' ORDER BY TABLE_NAME`,
      json: true,
    });
    expect(tables).toEqual([
      { TABLE_NAME: 'DeadLetters', PARENT_TABLE_NAME: null, ON_DELETE_ACTION: null },
      { TABLE_NAME: 'SaleLines', PARENT_TABLE_NAME: 'Sales', ON_DELETE_ACTION: 'CASCADE' },
      { TABLE_NAME: 'Sales', PARENT_TABLE_NAME: null, ON_DELETE_ACTION: null },
      { TABLE_NAME: 'SchemaMigrations', PARENT_TABLE_NAME: null, ON_DELETE_ACTION: null },
    ]);

    const second = await migrateSpanner(config);
    expect(second).toEqual({
      applied: [],
      latest: VERSIONS.at(-1),
      createdInstance: false,
      createdDatabase: false,
    });
    const [recorded] = await client.database.run({
      sql: 'SELECT Version FROM SchemaMigrations ORDER BY Version',
      json: true,
    });
    expect(recorded).toEqual(VERSIONS.map((Version) => ({ Version })));
  });

  it('refuses an unmigrated database with an error naming npm run spanner:migrate', async () => {
    const config = SpannerFixture.newConfig(emulator);
    await ensureEmulatorDatabase(config);
    const check = assertSpannerSchemaCurrent(open(config).database);
    await expect(check).rejects.toBeInstanceOf(SpannerSchemaNotReadyError);
    await expect(check).rejects.toThrow(
      /3 DDL file\(s\) pending \(0000_create_schema_migrations, .*npm run spanner:migrate/,
    );
  });

  it('says which files are pending when the database is behind, and applies only those', async () => {
    const config = SpannerFixture.newConfig(emulator);
    const dir = mkdtempSync(path.join(tmpdir(), 'tally-ddl-'));
    try {
      cpSync(findSpannerDdlDir(), dir, { recursive: true });
      rmSync(path.join(dir, `${VERSIONS.at(-1)}.sql`));
      expect((await migrateSpanner(config, { ddlDir: dir })).applied).toEqual(VERSIONS.slice(0, -1));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await expect(assertSpannerSchemaCurrent(open(config).database)).rejects.toThrow(
      new RegExp(`1 DDL file\\(s\\) pending \\(${VERSIONS.at(-1)}\\)`),
    );
    expect((await migrateSpanner(config)).applied).toEqual([VERSIONS.at(-1)]);
  });

  it('applies a file again that was interrupted half-way (every statement is IF NOT EXISTS)', async () => {
    const config = SpannerFixture.newConfig(emulator);
    await ensureEmulatorDatabase(config);
    const [, sales] = loadDdlFiles();
    const client = open(config);
    // The first statement of the sales file went through, then the run died.
    const [operation] = await client.database.updateSchema([sales!.statements[0]!]);
    await operation.promise();
    await expect(migrateSpanner(config)).resolves.toMatchObject({ applied: VERSIONS });
  });

  it('refuses to go on when an applied DDL file was edited afterwards', async () => {
    const config = SpannerFixture.newConfig(emulator);
    await migrateSpanner(config);
    const dir = mkdtempSync(path.join(tmpdir(), 'tally-ddl-'));
    try {
      cpSync(findSpannerDdlDir(), dir, { recursive: true });
      writeFileSync(
        path.join(dir, `${VERSIONS[1]}.sql`),
        'CREATE TABLE IF NOT EXISTS X (K INT64) PRIMARY KEY (K);',
      );
      const run = migrateSpanner(config, { ddlDir: dir });
      await expect(run).rejects.toBeInstanceOf(SpannerMigrationError);
      await expect(run).rejects.toThrow(/changed after it was applied/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('npm run spanner:migrate reads its target from SPANNER_* and reports what it did', async () => {
    const config = SpannerFixture.newConfig(emulator);
    const env = {
      SPANNER_EMULATOR_HOST: emulator.host,
      SPANNER_PROJECT_ID: config.projectId,
      SPANNER_INSTANCE_ID: 'cli-instance',
      SPANNER_DATABASE_ID: config.databaseId,
    };
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    expect(await runSpannerMigrate(env, io)).toBe(0);
    expect(out).toEqual([
      'created instance cli-instance (emulator)',
      `created database ${config.databaseId} (emulator)`,
      `applied 3 DDL file(s) to projects/tally-test/instances/cli-instance/databases/${config.databaseId} on the emulator at ${emulator.host}: ${VERSIONS.join(', ')}`,
    ]);
    out.length = 0;
    expect(await runSpannerMigrate(env, io)).toBe(0);
    expect(out).toEqual([
      `projects/tally-test/instances/cli-instance/databases/${config.databaseId} on the emulator at ${emulator.host} is up to date (${VERSIONS.at(-1)})`,
    ]);
    expect(await runSpannerMigrate({ ...env, SPANNER_DATABASE_ID: 'Bad Name' }, io)).toBe(2);
    expect(err).toEqual([expect.stringMatching(/^spanner:migrate: SPANNER_DATABASE_ID=Bad Name: 2-30 of/)]);
  });
});
