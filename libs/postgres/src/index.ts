export * from './dead-letter.repository.js';
export * from './migrations.js';
export * from './pg-errors.js';
export * from './postgres.client.js';
export * from './sales-read.repository.js';
export * from './sales-write.repository.js';
export * from './schema/index.js';
