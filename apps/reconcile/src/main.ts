// Entry point of `npm run reconcile`: see reconcile.command.ts (and --help).
import { runReconcile } from './reconcile.command.js';

const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => controller.abort());

// Without credentials, the Spanner client leaves rejected promises behind that nothing awaits (see
// libs/spanner/bin/migrate.ts). After a failure that was reported they are noise; after a run that
// succeeded they would be news, so they fail it.
const stray: unknown[] = [];
process.on('unhandledRejection', (reason) => stray.push(reason));

const code = await runReconcile(process.argv.slice(2), process.env, {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  signal: controller.signal,
});
if (code === 0 && stray.length > 0) {
  console.error(`reconcile: the Spanner client failed in the background: ${String(stray[0])}`);
  process.exitCode = 3;
} else {
  process.exitCode = code;
}
