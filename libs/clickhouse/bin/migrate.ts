// Entry point of `npm run clickhouse:migrate`: applies clickhouse/migrations/ to the ClickHouse
// that CLICKHOUSE_URL names, or to the embedded chdb folder (CLICKHOUSE_DATA_PATH) when unset.
// Embedded: stop the aggregator first (one process per chdb folder); it also migrates at start-up.
import {
  ClickHouseClient,
  clickHouseConfigFromEnv,
  describeClickHouse,
  migrateClickHouse,
} from '../src/index.js';

const config = clickHouseConfigFromEnv(process.env);
let client: ClickHouseClient | undefined;
try {
  client = await ClickHouseClient.open(config);
  const { applied, latest } = await migrateClickHouse(client);
  console.log(
    applied.length === 0
      ? `${describeClickHouse(config)} is up to date (${latest})`
      : `applied ${applied.length} migration(s) to ${describeClickHouse(config)}: ${applied.join(', ')}`,
  );
} catch (error) {
  console.error(`clickhouse:migrate failed on ${describeClickHouse(config)}: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await client?.close();
}
