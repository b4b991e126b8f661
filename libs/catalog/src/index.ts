export * from './catalog.cache.js';
export * from './catalog.config.js';
export * from './catalog.repository.js';
export * from './catalog.schema.js';
export * from './catalog-bucket.repository.js';
export * from './catalog-csv.parser.js';
