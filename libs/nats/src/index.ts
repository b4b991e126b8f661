export * from './apply-definitions.js';
export * from './config-diff.js';
export * from './definitions.js';
export * from './nats-connection.js';
export * from './placeholders.js';
export * from './sales-headers.js';
export * from './stream-readiness.js';
