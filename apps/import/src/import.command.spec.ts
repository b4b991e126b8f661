import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EXIT, runImport } from './import.command.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../test/fixtures');
const dir = mkdtempSync(path.join(tmpdir(), 'import-command-'));

async function run(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runImport(argv, env, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    cwd: fixtures,
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('npm run import', () => {
  it('prints the usage with --help', async () => {
    const { code, out } = await run(['--help']);
    expect(code).toBe(EXIT.ok);
    expect(out).toContain('usage: npm run import -- <file.csv> --mapping');
  });

  it('exits 2 naming the flag, the preset or the column that is wrong', async () => {
    expect(await run(['--mapping', 'marketplace'])).toMatchObject({
      code: EXIT.usage,
      err: expect.stringContaining('<file.csv>: required'),
    });
    expect(await run(['marketplace.csv'])).toMatchObject({
      code: EXIT.usage,
      err: expect.stringContaining('--mapping: required'),
    });
    expect(await run(['marketplace.csv', '--mapping', 'marketplace', '--batch-size', '6000'])).toMatchObject({
      code: EXIT.usage,
      err: expect.stringContaining('--batch-size: must be an integer from 1 to 5000'),
    });
    expect(await run(['marketplace.csv', '--mapping', 'shopify'])).toMatchObject({
      code: EXIT.usage,
      err: expect.stringContaining('no such preset'),
    });
    expect(
      await run(['marketplace.csv', '--mapping', 'supermarket', '--rejects', path.join(dir, 'r.csv')]),
    ).toMatchObject({
      code: EXIT.usage,
      err: expect.stringContaining('receipt.key: column "purchase_id" is not in the file'),
    });
    expect(await run(['nowhere.csv', '--mapping', 'marketplace'])).toMatchObject({
      code: EXIT.usage,
      err: expect.stringContaining('ENOENT'),
    });
    expect(
      await run(['marketplace.csv', '--mapping', 'marketplace', '--timezone', 'Mars/Base']),
    ).toMatchObject({
      code: EXIT.usage,
      err: expect.stringContaining('timezone Mars/Base'),
    });
  });

  it('maps and validates without sending in a dry run, resolving paths against the caller folder', async () => {
    const rejects = path.join(dir, 'dry.csv');
    const { code, out } = await run([
      'purchases.csv',
      '--mapping',
      'supermarket',
      '--dry-run',
      '--rejects',
      rejects,
    ]);
    expect(code).toBe(EXIT.ok);
    expect(out).toContain('dry run of');
    expect(out).toContain('6 read: 0 imported, 0 rejected, 6 valid (not sent)');
    expect(out).toContain('receipts   3: 3 valid, 0 rejected');
    expect(readFileSync(rejects, 'utf8')).toBe('line,order_id,sale_id,rule,reason,raw\n');
  });

  it('stops before sending anything when the file is evidently not grouped by its order id', async () => {
    const file = path.join(dir, 'shuffled.csv');
    const rows = ['date,order_id,product,amount_sgd'];
    for (let round = 0; round < 3; round++)
      for (let order = 0; order < 200; order++) rows.push(`2024-05-02,O${order},Tea,1`);
    writeFileSync(file, `${rows.join('\n')}\n`);
    const { code, out } = await run(
      [
        file,
        '--mapping',
        'django-sales',
        '--url',
        'http://127.0.0.1:9',
        '--rejects',
        path.join(dir, 's.csv'),
      ],
      { IMPORT_MAX_SPLIT_ORDERS: '100' },
    );
    expect(code).toBe(EXIT.stopped);
    expect(out).toContain('the file is not grouped by order_id');
    expect(out).toContain('nothing was sent');
  });

  it('exits 3 when ingest cannot be reached, after retrying for --retry-for', async () => {
    const { code, out, err } = await run(
      [
        'django-sales.csv',
        '--mapping',
        'django-sales',
        '--url',
        'http://127.0.0.1:9',
        '--retry-for',
        '300ms',
        '--rejects',
        path.join(dir, 'u.csv'),
      ],
      { IMPORT_RETRY_MIN: '50ms' },
    );
    expect(code).toBe(EXIT.stopped);
    expect(err).toContain('retrying in');
    expect(out).toMatch(/STOPPED +ingest at http:\/\/127\.0\.0\.1:9 stayed unavailable/);
    expect(out).toContain('4 not sent');
  });
});
