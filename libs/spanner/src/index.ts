export * from './dead-letters.repository.js';
export * from './migrate.command.js';
export * from './migrations.js';
export * from './sale-mutations.js';
export * from './sales.repository.js';
export * from './shard.js';
export * from './spanner.client.js';
export * from './spanner-errors.js';
