import { defineConfig } from 'drizzle-kit';

// `npm run db:generate -- --name <what_it_does>` writes a migration for schema changes into drizzle/;
// `npm run db:migrate` applies them (drizzle/migrate.ts).
export default defineConfig({
  dialect: 'postgresql',
  schema: './libs/postgres/src/schema/*.schema.ts',
  out: './drizzle',
  dbCredentials: { url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/tally' },
  strict: true,
});
