export * from './clickhouse-fixture.js';
export * from './nats-fixture.js';
export * from './postgres-fixture.js';
export * from './sale-factory.js';
export * from './spanner-emulator.js';
export * from './tcp-proxy.js';
export * from './wait-for.js';
