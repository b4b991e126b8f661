import { randomBytes } from 'node:crypto';
import { Spanner } from '@google-cloud/spanner';
import {
  databasePath,
  migrateSpanner,
  readCallOptions,
  SpannerClient,
  type SpannerConfig,
  spannerOptions,
} from '@tally/spanner';
import type { SpannerEmulatorProcess } from '@tally/spanner-emulator';
import { median } from '../common/bench-math.js';
import type { StoredSummary, StoreTimeline } from '../writer/bench-database.js';
import type { DrainTarget } from '../writer/writer-drain.js';
import { EMULATOR_PROCESS } from './emulator.js';

/** The Spanner writer's durable consumer, as named in nats/definitions. */
export const SPANNER_CONSUMER = 'writer-spanner';
const PROJECT_ID = 'tally-bench';
const INSTANCE_ID = 'tally';

/**
 * When the rows were committed, from `Sales.StoredAt` (the commit timestamp, so the END of each
 * commit, unlike Postgres's stored_at, the transaction's start). One distinct StoredAt per
 * commit. Gaps are between consecutive commits.
 */
export interface CommitTimeline extends StoreTimeline {
  /** Sales and lines of the first commit (those with StoredAt = the first). */
  readonly firstSales: number;
  readonly firstLines: number;
}

/**
 * A database of the benchmark's own on its emulator, created and migrated with `migrateSpanner`
 * (the real libs/spanner/ddl, what `npm run spanner:migrate` does). Each repetition takes a new
 * one (emptying one with partitioned DML on the emulator can take minutes once it has been
 * written and emptied before); all of them go with the emulator at the end, unless kept.
 */
export class SpannerBenchDatabase implements DrainTarget<CommitTimeline> {
  readonly consumer = SPANNER_CONSUMER;
  /** The emulator does the store's work: its CPU is counted as `emulator`. */
  readonly cpuProcesses = { emulator: EMULATOR_PROCESS };

  private constructor(
    readonly config: SpannerConfig & { readonly emulatorHost: string },
    /** For the benchmark's reads (counts, timelines, clean-up), never for the measured commits. */
    private readonly client: SpannerClient,
  ) {}

  static async create(emulator: SpannerEmulatorProcess, label: string): Promise<SpannerBenchDatabase> {
    const config = {
      projectId: PROJECT_ID,
      instanceId: INSTANCE_ID,
      databaseId: `bench-${randomBytes(4).toString('hex')}-${label}`,
      emulatorHost: emulator.host,
    };
    await migrateSpanner(config);
    return new SpannerBenchDatabase(config, SpannerClient.create(config));
  }

  get name(): string {
    return databasePath(this.config);
  }

  /** Points the writer at this database, with the Spanner sink alone. */
  writerEnv(): NodeJS.ProcessEnv {
    return {
      WRITER_SINKS: 'spanner',
      SPANNER_EMULATOR_HOST: this.config.emulatorHost,
      SPANNER_PROJECT_ID: this.config.projectId,
      SPANNER_INSTANCE_ID: this.config.instanceId,
      SPANNER_DATABASE_ID: this.config.databaseId,
      WRITER_SPANNER_CONSUMER: this.consumer,
    };
  }

  async query<R>(sql: string): Promise<R[]> {
    const [rows] = await this.client.database.run({ sql, json: true, gaxOptions: readCallOptions(60_000) });
    return rows as unknown as R[];
  }

  async storedSales(): Promise<number> {
    const [row] = await this.query<{ n: number }>('SELECT COUNT(*) AS n FROM Sales');
    return Number(row!.n);
  }

  async summary(): Promise<StoredSummary> {
    const [row] = await this.query<{ sales: number; lines: number; net: string | null }>(
      `SELECT (SELECT COUNT(*) FROM Sales) AS sales, (SELECT COUNT(*) FROM SaleLines) AS lines,
              (SELECT CAST(SUM(NetTotal) AS STRING) FROM Sales) AS net`,
    );
    return { sales: Number(row!.sales), lines: Number(row!.lines), netTotal: row!.net ?? '0' };
  }

  /** Rows of the DeadLetters table (what the sink refused, besides the dead-letter stream). */
  async deadLetters(): Promise<number> {
    const [row] = await this.query<{ n: number }>('SELECT COUNT(*) AS n FROM DeadLetters');
    return Number(row!.n);
  }

  async timeline(): Promise<CommitTimeline> {
    const commits = await this.query<{ us: number; sales: number; lines: number }>(
      `SELECT UNIX_MICROS(StoredAt) AS us, COUNT(*) AS sales, SUM(LineCount) AS lines
       FROM Sales GROUP BY StoredAt ORDER BY us`,
    );
    const ms = commits.map((c) => Number(c.us) / 1000);
    const gaps = ms.slice(1).map((t, i) => t - ms[i]!);
    const first = commits[0];
    const last = commits.at(-1);
    return {
      transactions: commits.length,
      firstMs: ms[0] ?? Number.NaN,
      lastMs: ms.at(-1) ?? Number.NaN,
      firstSales: Number(first?.sales ?? 0),
      firstLines: Number(first?.lines ?? 0),
      lastSales: Number(last?.sales ?? 0),
      lastLines: Number(last?.lines ?? 0),
      gapP50Ms: gaps.length === 0 ? 0 : median(gaps),
      gapMaxMs: gaps.length === 0 ? 0 : Math.max(...gaps),
      lastGapMs: gaps.at(-1) ?? 0,
    };
  }

  /** Closes the reading client (the database stays, as long as the emulator runs). */
  close(): Promise<void> {
    return this.client.close();
  }

  /** Closes the reading client and drops the database (between repetitions). */
  async drop(): Promise<void> {
    await this.close();
    const spanner = new Spanner(spannerOptions(this.config));
    try {
      await spanner.getDatabaseAdminClient().dropDatabase({ database: this.name }, { timeout: 30_000 });
    } finally {
      spanner.close();
    }
  }
}
