export * from './auth/api-key.guard.js';
export * from './auth/api-keys.js';
export * from './config/durations.js';
export * from './config/env.js';
export * from './http/problem.js';
export * from './http/problem-details.filter.js';
export * from './logging/logger.js';
export * from './metrics/metrics.controller.js';
