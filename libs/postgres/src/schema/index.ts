export * from './dead-letters.schema.js';
export * from './reference.schema.js';
export * from './sales.schema.js';
