-- Bookkeeping of `npm run spanner:migrate`: one row per DDL file of this folder once its
-- statements have been applied. Version is the file name without `.sql`; Checksum is the sha256
-- of the file as applied, so a file edited after it ran is reported instead of silently skipped.
--
-- Every statement in these files must be safe to run again (IF NOT EXISTS): Spanner applies the
-- statements of one schema update one by one, not atomically, so a file interrupted half-way is
-- simply applied again.
CREATE TABLE IF NOT EXISTS SchemaMigrations (
  Version STRING(MAX) NOT NULL,
  Checksum STRING(64) NOT NULL,
  AppliedAt TIMESTAMP NOT NULL OPTIONS (allow_commit_timestamp = true),
) PRIMARY KEY (Version);
