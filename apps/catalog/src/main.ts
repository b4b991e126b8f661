// Entry point of `npm run catalog:import`: see catalog-import.command.ts (and --help).
import { runCatalogImport } from './catalog-import.command.js';

process.exitCode = await runCatalogImport(process.argv.slice(2), process.env, {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  // npm runs scripts from the package root; INIT_CWD is where the user typed the command.
  cwd: process.env.INIT_CWD ?? process.cwd(),
});
