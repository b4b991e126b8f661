export * from './emulator-binary.js';
export * from './spanner-emulator.process.js';
