import { DeliverPolicy, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsDefinitions } from '@tally/nats';
import { migrateSpanner, SpannerClient, type SpannerConfig, spannerConfigFromEnv } from '@tally/spanner';
import { findSpannerEmulatorBinary, SpannerEmulatorProcess } from '@tally/spanner-emulator';
import type { ProcessSupervisor } from '../processes/process.supervisor.js';

/** The consumer of the demo's Spanner writer: its own, created for each run (see below). */
export const DEMO_SPANNER_CONSUMER = 'writer-spanner-demo';
export const SPANNER_OFF_NOT_INSTALLED = 'Spanner emulator not installed: Spanner sink off';

export interface DemoSpanner {
  readonly config: SpannerConfig;
  readonly client: SpannerClient;
  readonly consumer: string;
  /** What was done, for the phase line. */
  readonly detail: string;
  stop(): Promise<void>;
}

/**
 * The Spanner side of the demo: an emulator (the running one at SPANNER_EMULATOR_HOST, else
 * `emulator_main` started on a free loopback port, as the tests do), the DDL migrations, and a
 * durable consumer for the Spanner writer.
 *
 * Why a consumer of its own: a started emulator holds nothing (it is in memory), while the
 * shared `writer-spanner` consumer remembers how far an earlier writer got, or, never used,
 * would replay the whole stream (every earlier run) into the emulator before this run's sales.
 * So the demo's Spanner writer reads `writer-spanner-demo`, created afresh with deliver policy
 * `new` before the first sale: exactly this run's sales. It is deleted at the end, and expires
 * on its own after an hour unused should the demo be killed.
 *
 * Returns undefined (with the reason) when the emulator is not installed.
 */
export async function startDemoSpanner(
  supervisor: ProcessSupervisor,
  jsm: JetStreamManager,
  definitions: NatsDefinitions,
  runningHost: string | undefined,
): Promise<DemoSpanner | { off: string }> {
  let emulator: SpannerEmulatorProcess | undefined;
  let host = runningHost;
  let how = `the emulator at ${runningHost}`;
  if (host === undefined) {
    const binary = findSpannerEmulatorBinary();
    if (binary === undefined) return { off: SPANNER_OFF_NOT_INSTALLED };
    emulator = await SpannerEmulatorProcess.start({
      binary,
      logFile: supervisor.logFile('spanner-emulator'),
      // Ctrl-C reaches the demo only; it stops the emulator after the Spanner writer.
      detached: true,
    });
    supervisor.record('spanner-emulator', emulator.pid, [binary, `--host_port=${emulator.host}`]);
    host = emulator.host;
    how = `started ${binary} on ${host}`;
  }
  try {
    const config = spannerConfigFromEnv({ ...process.env, SPANNER_EMULATOR_HOST: host });
    const migration = await migrateSpanner(config);
    const definition = definitions.consumers.find((c) => c.config.durable_name === 'writer-spanner');
    if (!definition) throw new Error('nats/definitions has no writer-spanner consumer to copy');
    await jsm.consumers.delete(definition.stream, DEMO_SPANNER_CONSUMER).catch(() => undefined);
    await jsm.consumers.add(definition.stream, {
      ...definition.config,
      durable_name: DEMO_SPANNER_CONSUMER,
      description: "The demo's Spanner writer: this run's sales only (npm run demo creates and deletes it).",
      deliver_policy: DeliverPolicy.New,
      inactive_threshold: 3_600 * 1e9,
    });
    const client = SpannerClient.create({ ...config, timeoutMs: 10_000 });
    return {
      config,
      client,
      consumer: DEMO_SPANNER_CONSUMER,
      detail: `${how}; ${migration.applied.length ? `applied ${migration.applied.length} DDL file(s)` : 'schema up to date'}; consumer ${DEMO_SPANNER_CONSUMER}`,
      async stop() {
        await client.close();
        await jsm.consumers.delete(definition.stream, DEMO_SPANNER_CONSUMER).catch(() => undefined);
        await emulator?.stop();
        supervisor.forget('spanner-emulator');
      },
    };
  } catch (error) {
    await emulator?.stop();
    supervisor.forget('spanner-emulator');
    throw error;
  }
}
