export * from './clickhouse.client.js';
export * from './migrations.js';
