// Entry point of `npm run import`: see import.command.ts (and --help), and the pipeline's design
// in pipeline/csv-import.service.ts.
import { runImport } from './import.command.js';

// Ctrl-C once: stop reading, let the requests in flight finish (so what ingest stored is counted),
// print the summary. Twice: quit at once.
const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (controller.signal.aborted) process.exit(130);
    console.error(`\nimport: ${signal}: finishing the requests in flight (again to quit at once)`);
    controller.abort();
  });
}

process.exitCode = await runImport(process.argv.slice(2), process.env, {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  progress: process.stderr,
  signal: controller.signal,
  // npm run starts scripts in the package folder; INIT_CWD is where the user typed the command.
  cwd: process.env.INIT_CWD ?? process.cwd(),
});
