import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Numbered SQL migration files, shared by the stores whose migrations are plain DDL files
 * (Spanner's `libs/spanner/ddl/`, ClickHouse's `clickhouse/migrations/`): named
 * `NNNN_<what_it_does>.sql`, applied in order, each recorded with its checksum.
 */
export interface SqlFile {
  /** File name without `.sql`, e.g. `0001_create_sale_lines`: what the bookkeeping table records. */
  readonly version: string;
  readonly statements: readonly string[];
  /** sha256 of the file's bytes. */
  readonly checksum: string;
}

export class SqlFileError extends Error {
  override readonly name = 'SqlFileError';
}

const SQL_FILE = /^(\d{4})_[a-z0-9_]+\.sql$/;

/** Finds `relative` (a folder holding `marker`) in `from` or the nearest folder above it (.sql files are not built into dist/). */
export function findUp(relative: string, marker: string, from: string = process.cwd()): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, relative);
    if (existsSync(path.join(candidate, marker))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`cannot find ${relative} above ${from}`);
  }
}

/** The SQL files of `dir` in order, each split into statements (`--` comments removed). */
export function loadSqlFiles(dir: string): SqlFile[] {
  const names = readdirSync(dir)
    .filter((name) => name.endsWith('.sql'))
    .sort();
  const numbers = new Set<string>();
  return names.map((name) => {
    const match = SQL_FILE.exec(name);
    if (!match) throw new SqlFileError(`${name}: migration files are named NNNN_<what_it_does>.sql`);
    if (numbers.has(match[1]!)) throw new SqlFileError(`${name}: number ${match[1]} is used twice`);
    numbers.add(match[1]!);
    const text = readFileSync(path.join(dir, name), 'utf8');
    const statements = splitStatements(text);
    if (statements.length === 0) throw new SqlFileError(`${name} holds no statement`);
    return {
      version: name.slice(0, -'.sql'.length),
      statements,
      checksum: createHash('sha256').update(text).digest('hex'),
    };
  });
}

/**
 * Statements of a DDL file: `--` comments dropped, split at `;`. DDL carries no string literals
 * holding `;` or `--` (keep it that way: this is not a SQL parser).
 */
export function splitStatements(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/--.*$/, ''))
    .join('\n')
    .split(';')
    .map((statement) => statement.trim())
    .filter((statement) => statement !== '');
}
