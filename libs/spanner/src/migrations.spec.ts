import { describe, expect, it } from 'vitest';
import { findSpannerDdlDir, loadDdlFiles, splitStatements } from './migrations.js';

describe('Spanner DDL files', () => {
  const files = loadDdlFiles(findSpannerDdlDir());

  it('are numbered in order, bookkeeping table first', () => {
    expect(files.map((f) => f.version)).toEqual([
      '0000_create_schema_migrations',
      '0001_create_sales_and_sale_lines',
      '0002_create_dead_letters',
    ]);
    expect(files[0]!.statements[0]).toMatch(/^CREATE TABLE IF NOT EXISTS SchemaMigrations/);
  });

  it('hold only statements that can run again (IF NOT EXISTS), as a half-applied file is applied again', () => {
    for (const file of files) {
      for (const statement of file.statements) {
        expect(statement, `${file.version}: ${statement.slice(0, 60)}`).toMatch(
          /^(CREATE (TABLE|(UNIQUE |NULL_FILTERED )*INDEX) IF NOT EXISTS|ALTER TABLE \S+ ADD COLUMN IF NOT EXISTS)\b/,
        );
      }
    }
  });

  it('key sales by (Shard, SaleId), lines interleaved in them, and index the reconciliation scan', () => {
    const ddl = files.flatMap((f) => f.statements).join('\n');
    expect(ddl).toMatch(/\) PRIMARY KEY \(Shard, SaleId\)$/m);
    expect(ddl).toMatch(
      /PRIMARY KEY \(Shard, SaleId, LineNo\),\s+INTERLEAVE IN PARENT Sales ON DELETE CASCADE/,
    );
    expect(ddl).toMatch(/ON Sales \(BranchId, OccurredAt\) STORING \(NetTotal\)/);
  });

  it('splits statements at semicolons and drops comments', () => {
    expect(
      splitStatements(
        '-- a; comment\nCREATE TABLE A (X INT64) PRIMARY KEY (X); -- tail\n\n;CREATE INDEX I ON A (X)',
      ),
    ).toEqual(['CREATE TABLE A (X INT64) PRIMARY KEY (X)', 'CREATE INDEX I ON A (X)']);
  });
});
