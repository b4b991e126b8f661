// Entry point of `npm run db:migrate`: creates the database if needed, then applies every pending
// migration of this folder (idempotent; safe to run on every deploy, and twice at once).
import { envString } from '@tally/common';
import { DEFAULT_DATABASE_URL, ensureDatabase, migrateDatabase, redactUrl } from '@tally/postgres';

const url = envString(process.env, 'DATABASE_URL', DEFAULT_DATABASE_URL);
try {
  const { created } = await ensureDatabase(url);
  if (created) console.log(`created database ${redactUrl(url)}`);
  const { applied, latest } = await migrateDatabase(url);
  console.log(
    applied.length === 0
      ? `${redactUrl(url)} is up to date (${latest})`
      : `applied ${applied.length} migration(s) to ${redactUrl(url)}: ${applied.join(', ')}`,
  );
} catch (error) {
  console.error(`db:migrate failed on ${redactUrl(url)}: ${(error as Error).message}`);
  process.exitCode = 1;
}
