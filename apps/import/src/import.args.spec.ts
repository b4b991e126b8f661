import { describe, expect, it } from 'vitest';
import { ArgsError, parseImportArgs } from './import.args.js';

describe('import arguments', () => {
  it('reads the file, the mapping and every option, --flag value and --flag=value alike', () => {
    expect(
      parseImportArgs([
        'sales.csv',
        '--mapping',
        'marketplace',
        '--url=http://ingest:3000',
        '--api-key',
        'k',
        '--rejects',
        'out.csv',
        '--batch-size',
        '500',
        '--concurrency',
        '2',
        '--branch',
        'shop-1',
        '--currency',
        'USD',
        '--timezone',
        'Europe/Paris',
        '--sale-id-prefix',
        'mk2',
        '--retry-for',
        '2m',
        '--dry-run',
        '--json',
        '--quiet',
      ]),
    ).toEqual({
      help: false,
      file: 'sales.csv',
      mapping: 'marketplace',
      url: 'http://ingest:3000',
      apiKey: 'k',
      rejects: 'out.csv',
      batchSize: 500,
      concurrency: 2,
      branchId: 'shop-1',
      currency: 'USD',
      timezone: 'Europe/Paris',
      saleIdPrefix: 'mk2',
      retryForMs: 120_000,
      dryRun: true,
      json: true,
      quiet: true,
    });
  });

  it('defaults to batches of 1,000 sales, 4 requests in flight', () => {
    expect(parseImportArgs(['f.csv', '--mapping', 'm.json'])).toEqual({
      help: false,
      file: 'f.csv',
      mapping: 'm.json',
      batchSize: 1000,
      concurrency: 4,
      dryRun: false,
      json: false,
      quiet: false,
    });
  });

  it('names the flag and the rule of a bad argument', () => {
    const message = (argv: string[]) => {
      try {
        parseImportArgs(argv);
      } catch (error) {
        expect(error).toBeInstanceOf(ArgsError);
        return (error as Error).message;
      }
      return 'no error';
    };
    expect(message(['f.csv', '--mapping', 'm', '--concurrency', '0'])).toBe(
      '--concurrency: must be an integer from 1 to 64',
    );
    expect(message(['f.csv', '--mapping', 'm', '--retry-for', 'soon'])).toBe(
      '--retry-for: must be a duration such as 30s, 5m or 1h',
    );
    expect(message(['f.csv', 'g.csv', '--mapping', 'm'])).toBe('unexpected argument g.csv');
    expect(message(['f.csv', '--mapping', 'm', '--colour'])).toMatch(/Unknown option '--colour'/);
  });
});
