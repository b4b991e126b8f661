import { describe, expect, it } from 'vitest';
import { ArgsError, parseCatalogImportArgs } from './catalog-import.args.js';

describe('catalog:import arguments', () => {
  it('takes the products file as the plain argument and branches with --branches', () => {
    expect(parseCatalogImportArgs(['products.csv'])).toEqual({
      help: false,
      productsFile: 'products.csv',
      currency: 'EUR',
      dryRun: false,
    });
    expect(parseCatalogImportArgs(['--branches', 'b.csv'])).toEqual({
      help: false,
      branchesFile: 'b.csv',
      currency: 'EUR',
      dryRun: false,
    });
    expect(
      parseCatalogImportArgs(['--products=p.csv', '--branches=b.csv', '--currency', 'GBP', '--dry-run']),
    ).toEqual({ help: false, productsFile: 'p.csv', branchesFile: 'b.csv', currency: 'GBP', dryRun: true });
  });

  it('names the flag and the rule of a bad command line', () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /nothing to import/],
      [['--bogus'], /unknown flag --bogus/],
      [['--branches'], /--branches needs a value/],
      [['a.csv', 'b.csv'], /one plain argument/],
      [['a.csv', '--products', 'b.csv'], /products file is given twice/],
      [['a.csv', '--currency', 'euro'], /--currency euro: must be an ISO 4217 code/],
      [['--dry-run=yes', 'a.csv'], /--dry-run takes no value/],
    ];
    for (const [argv, message] of cases) {
      expect(() => parseCatalogImportArgs(argv), argv.join(' ')).toThrow(ArgsError);
      expect(() => parseCatalogImportArgs(argv), argv.join(' ')).toThrow(message);
    }
  });

  it('answers --help whatever else is given', () => {
    expect(parseCatalogImportArgs(['--help'])).toEqual({ help: true });
    expect(parseCatalogImportArgs(['x.csv', '-h'])).toEqual({ help: true });
  });
});
