import path from 'node:path';
import { type Database, Spanner } from '@google-cloud/spanner';
import { findUp, loadSqlFiles, type SqlFile, SqlFileError, splitStatements } from '@tally/common';
import {
  databasePath,
  readCallOptions,
  SpannerClient,
  type SpannerConfig,
  spannerOptions,
} from './spanner.client.js';
import { GrpcCode, grpcCode } from './spanner-errors.js';

/**
 * Schema lifecycle. Migrations are the DDL files in `libs/spanner/ddl/` (`NNNN_<what_it_does>.sql`,
 * Google Standard SQL, statements separated by `;`); `npm run spanner:migrate` applies, in order,
 * the ones not yet recorded in the table SchemaMigrations (created by the first file), one schema
 * update per file, and records each once it is done. Apps never migrate on their own: at start-up
 * they check the database is current and refuse to run against an older schema, naming the
 * command that fixes it.
 *
 * Spanner applies the statements of a schema update one at a time, not atomically, so every
 * statement is written to be run again (CREATE ... IF NOT EXISTS): a file interrupted half-way,
 * or applied but not recorded, is applied again as a whole. Two migrate runs at once are harmless
 * for the same reason (Spanner queues schema updates of one database), so there is no lock.
 */
const HOW_TO_FIX = 'run `npm run spanner:migrate` (with the same SPANNER_* settings)';
const BOOKKEEPING_TABLE = 'SchemaMigrations';
/** The emulator's one instance configuration. */
export const EMULATOR_INSTANCE_CONFIG = 'emulator-config';

export class SpannerSchemaNotReadyError extends Error {
  override readonly name = 'SpannerSchemaNotReadyError';
}

export class SpannerMigrationError extends Error {
  override readonly name = 'SpannerMigrationError';
}

/** A DDL file of `libs/spanner/ddl/` (see @tally/common sql-files.ts). */
export type DdlFile = SqlFile;

/** Finds `libs/spanner/ddl` in `from` or the nearest folder above it (the .sql files are not built into dist/). */
export function findSpannerDdlDir(from: string = process.cwd()): string {
  return findUp(path.join('libs', 'spanner', 'ddl'), '0000_create_schema_migrations.sql', from);
}

/** The DDL files of `dir` in order, each split into statements (`--` comments removed). */
export function loadDdlFiles(dir: string = findSpannerDdlDir()): DdlFile[] {
  try {
    return loadSqlFiles(dir);
  } catch (error) {
    if (error instanceof SqlFileError) throw new SpannerMigrationError(error.message);
    throw error;
  }
}

export { splitStatements };

export interface SpannerMigrationResult {
  /** Versions applied by this run, in order (empty when the database was current). */
  readonly applied: readonly string[];
  /** The newest version in the DDL folder. */
  readonly latest: string;
  /** Emulator only: whether this run created the instance and the database. */
  readonly createdInstance: boolean;
  readonly createdDatabase: boolean;
}

/**
 * Brings the database to the latest DDL; idempotent (a second run applies nothing). On the
 * emulator it first creates the instance (config `emulator-config`) and the database if missing;
 * on real Spanner they must exist (creating an instance costs money and needs choices, such as
 * region and capacity, that belong to whoever runs the project), and it says so.
 */
export async function migrateSpanner(
  config: SpannerConfig,
  options: { ddlDir?: string } = {},
): Promise<SpannerMigrationResult> {
  const files = loadDdlFiles(options.ddlDir ?? findSpannerDdlDir());
  const admin = new Spanner(spannerOptions(config));
  let client: SpannerClient | undefined;
  try {
    const created =
      config.emulatorHost === undefined
        ? await requireDatabase(admin, config)
        : await createInstanceAndDatabase(admin, config);
    client = SpannerClient.create(config);
    const recorded = await recordedVersions(client.database);
    for (const file of files) {
      const checksum = recorded.get(file.version);
      if (checksum !== undefined && checksum !== file.checksum) {
        throw new SpannerMigrationError(
          `${file.version}.sql changed after it was applied to ${databasePath(config)}; ` +
            'never edit an applied DDL file: add a new one',
        );
      }
    }
    const applied: string[] = [];
    const dbAdmin = admin.getDatabaseAdminClient();
    for (const file of files.filter((f) => !recorded.has(f.version))) {
      const [operation] = await dbAdmin.updateDatabaseDdl({
        database: databasePath(config),
        statements: [...file.statements],
      });
      await operation.promise();
      await client.database.table(BOOKKEEPING_TABLE).upsert({
        Version: file.version,
        Checksum: file.checksum,
        AppliedAt: Spanner.COMMIT_TIMESTAMP,
      });
      applied.push(file.version);
    }
    return { applied, latest: files.at(-1)!.version, ...created };
  } finally {
    await client?.close();
    admin.close();
  }
}

/** Throws SpannerSchemaNotReadyError unless every DDL file of `ddlDir` has been applied. */
export async function assertSpannerSchemaCurrent(
  database: Database,
  ddlDir: string = findSpannerDdlDir(),
): Promise<void> {
  const files = loadDdlFiles(ddlDir);
  let recorded: Map<string, string>;
  try {
    recorded = await recordedVersions(database);
  } catch (error) {
    throw new SpannerSchemaNotReadyError(
      `cannot check the Spanner schema of ${database.formattedName_}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const pending = files.filter((f) => !recorded.has(f.version)).map((f) => f.version);
  if (pending.length > 0) {
    throw new SpannerSchemaNotReadyError(
      `the Spanner schema of ${database.formattedName_} is behind: ${pending.length} DDL file(s) pending (${pending.join(', ')}); ${HOW_TO_FIX}`,
    );
  }
}

/** Version → checksum of the applied files; empty when the bookkeeping table does not exist yet. */
async function recordedVersions(database: Database): Promise<Map<string, string>> {
  const [tables] = await database.run({
    sql: `SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = '' AND TABLE_NAME = @name`,
    params: { name: BOOKKEEPING_TABLE },
    json: true,
    gaxOptions: readCallOptions(),
  });
  if (tables.length === 0) return new Map();
  const [rows] = await database.run({
    sql: `SELECT Version, Checksum FROM ${BOOKKEEPING_TABLE}`,
    json: true,
    gaxOptions: readCallOptions(),
  });
  return new Map(
    (rows as unknown as { Version: string; Checksum: string }[]).map((r) => [r.Version, r.Checksum]),
  );
}

/** Real Spanner: the database must exist already. */
async function requireDatabase(
  admin: Spanner,
  config: SpannerConfig,
): Promise<{ createdInstance: false; createdDatabase: false }> {
  try {
    await admin.getDatabaseAdminClient().getDatabase({ name: databasePath(config) });
  } catch (error) {
    if (grpcCode(error) !== GrpcCode.NOT_FOUND) throw error;
    throw new SpannerMigrationError(
      `${databasePath(config)} does not exist. spanner:migrate creates the instance and the database ` +
        'only on the emulator (SPANNER_EMULATOR_HOST); on Cloud Spanner create them first, e.g. ' +
        `\`gcloud spanner databases create ${config.databaseId} --instance=${config.instanceId} --project=${config.projectId}\``,
      { cause: error },
    );
  }
  return { createdInstance: false, createdDatabase: false };
}

/**
 * Emulator only: creates the instance (config `emulator-config`) and the database when missing,
 * with no schema (migrateSpanner does this first; tests use it for an unmigrated database).
 */
export async function ensureEmulatorDatabase(
  config: SpannerConfig,
): Promise<{ createdInstance: boolean; createdDatabase: boolean }> {
  if (config.emulatorHost === undefined) {
    throw new SpannerMigrationError('ensureEmulatorDatabase: the config names no emulator (emulatorHost)');
  }
  const admin = new Spanner(spannerOptions(config));
  try {
    return await createInstanceAndDatabase(admin, config);
  } finally {
    admin.close();
  }
}

/** Creates the instance and the database when missing (a concurrent creator is fine). */
async function createInstanceAndDatabase(
  admin: Spanner,
  config: SpannerConfig,
): Promise<{ createdInstance: boolean; createdDatabase: boolean }> {
  const instanceName = `projects/${config.projectId}/instances/${config.instanceId}`;
  const instanceAdmin = admin.getInstanceAdminClient();
  const dbAdmin = admin.getDatabaseAdminClient();
  const createdInstance = await createUnlessExists(
    () => instanceAdmin.getInstance({ name: instanceName }),
    async () => {
      const [operation] = await instanceAdmin.createInstance({
        parent: `projects/${config.projectId}`,
        instanceId: config.instanceId,
        instance: {
          config: `projects/${config.projectId}/instanceConfigs/${EMULATOR_INSTANCE_CONFIG}`,
          displayName: config.instanceId,
          nodeCount: 1,
        },
      });
      await operation.promise();
    },
  );
  const createdDatabase = await createUnlessExists(
    () => dbAdmin.getDatabase({ name: databasePath(config) }),
    async () => {
      const [operation] = await dbAdmin.createDatabase({
        parent: instanceName,
        createStatement: `CREATE DATABASE \`${config.databaseId}\``,
      });
      await operation.promise();
    },
  );
  return { createdInstance, createdDatabase };
}

async function createUnlessExists(
  get: () => Promise<unknown>,
  create: () => Promise<void>,
): Promise<boolean> {
  try {
    await get();
    return false;
  } catch (error) {
    if (grpcCode(error) !== GrpcCode.NOT_FOUND) throw error;
  }
  try {
    await create();
    return true;
  } catch (error) {
    if (grpcCode(error) === GrpcCode.ALREADY_EXISTS) return false;
    throw error;
  }
}
