export * from './decimal.js';
export * from './reconciliation.js';
export * from './sale.schema.js';
export * from './sale.validator.js';
export * from './sales-envelope.js';
export * from './subjects.js';
export * from './timestamp.js';
