import { DemoCatalogError } from './catalog/demo-catalog.loader.js';
import { DemoUsageError, loadDemoConfig } from './config/demo.config.js';
import { RunControl, runDemo } from './demo.runner.js';
import { DemoOutput } from './view/demo.output.js';

/**
 * `npm run demo`: Tally on one machine with simulated branches selling (see demo.runner.ts).
 * Exit codes: 0 every store agrees; 1 a store disagrees (named in the output), valid sales were
 * refused or a rule-breaking one accepted; 2 bad arguments or an unusable catalog file; 3 the demo could not run (a service or app did not start or died);
 * 130 interrupted before --sales were all sent (--exit). A first Ctrl-C stops selling and
 * checks; a second one stops at once.
 */
let config: ReturnType<typeof loadDemoConfig>;
try {
  config = loadDemoConfig(process.argv.slice(2), process.env);
} catch (error) {
  if (!(error instanceof DemoUsageError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(process.argv.includes('--help') ? 0 : 2);
}

const out = new DemoOutput(config.json ? process.stderr : process.stdout);
const control = new RunControl();
let signals = 0;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    signals++;
    if (signals === 1) {
      control.interrupted = true;
      out.line(`${signal}: stopping the sales, then checking the stores (again to stop at once)`);
      return;
    }
    // The process 'exit' hook SIGKILLs every child still running.
    out.line(`${signal}: stopping at once`);
    process.exit(130);
  });
}

runDemo(config, out, control).then(
  ({ exitCode }) => {
    process.exitCode = exitCode;
  },
  (error: Error) => {
    if (control.interrupted && error.message === 'interrupted') {
      out.line('interrupted before any sale: stopped');
      process.exitCode = 130;
      return;
    }
    if (error instanceof DemoCatalogError) {
      out.line(`demo: ${error.message}`);
      process.exitCode = 2;
      return;
    }
    out.line(`demo failed: ${error.message}`);
    process.exitCode = 3;
  },
);
