// Entry point of `npm run nats:apply`: see apply-command.ts and nats/README.md.
import { runApplyCommand } from './apply-command.js';

process.exitCode = await runApplyCommand({
  argv: process.argv.slice(2),
  env: process.env,
  out: (line) => console.log(line),
  err: (line) => console.error(line),
});
