import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMapping, presetNames } from './mapping.loader.js';

describe('mapping loader', () => {
  it('ships the three seed presets, each valid', () => {
    expect(presetNames()).toEqual(['django-sales', 'marketplace', 'supermarket']);
    for (const name of presetNames()) expect(loadMapping(name).name).toBe(name);
  });

  it('applies command-line overrides of branch, currency, zone and sale id prefix', () => {
    const mapping = loadMapping('marketplace', {
      branchId: 'shop-7',
      currency: 'USD',
      timezone: 'America/Chicago',
      saleIdPrefix: 'mkt2',
    });
    expect(mapping.sale.branchId).toEqual({ value: 'shop-7' });
    expect(mapping.sale.currency).toEqual({ value: 'USD' });
    expect(mapping.timezone).toBe('America/Chicago');
    expect(mapping.receipt.saleIdPrefix).toBe('mkt2');
  });

  it('names every broken field of a mapping file by pointer', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mapping-'));
    const file = path.join(dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'bad',
        receipt: { key: [], grouping: 'sometimes', saleIdPrefix: 'has space' },
        sale: { branchId: { value: 'b' }, currency: { value: 'EUR' }, colour: {} },
        line: {},
      }),
    );
    let message = '';
    try {
      loadMapping(file);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('/receipt/key');
    expect(message).toContain('/receipt/grouping');
    expect(message).toContain('/receipt/saleIdPrefix');
    expect(message).toContain('/sale/occurredAt: is required');
    expect(message).toContain('/sale/colour: is not a field of a mapping');
  });

  it('says which presets exist when the name is unknown', () => {
    expect(() => loadMapping('shopify')).toThrow(
      /no such preset \(presets: django-sales, marketplace, supermarket\)/,
    );
  });
});
