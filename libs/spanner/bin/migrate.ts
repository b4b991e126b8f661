// Entry point of `npm run spanner:migrate`: see libs/spanner/src/migrate.command.ts.
import { runSpannerMigrate } from '../src/migrate.command.js';

// Without credentials, the Spanner client leaves rejected promises behind that nothing awaits (its
// gRPC stubs reject, and close() chains on them). When the command has failed and said why, they
// are noise; after a success they would be news, so they fail the run.
const stray: unknown[] = [];
process.on('unhandledRejection', (reason) => stray.push(reason));
const code = await runSpannerMigrate(process.env);
if (code === 0 && stray.length > 0) {
  console.error(`spanner:migrate: the Spanner client failed in the background: ${String(stray[0])}`);
  process.exitCode = 1;
} else {
  process.exitCode = code;
}
