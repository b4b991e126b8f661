import { describe, expect, it } from 'vitest';
import { describeRules, ingestRulesEnv } from './ingest-rules.config.js';

describe("the demo's ingest rules", () => {
  it("are the supermarket seed's by default: every id in the catalog, one unit of a product per purchase", () => {
    const rules = { enforced: true, maxUnitsPerProduct: 1 };
    expect(ingestRulesEnv(rules)).toEqual({ CATALOG_ENFORCE: 'on', MAX_UNITS_PER_PRODUCT: '1' });
    expect(describeRules(rules)).toBe('ingest rules CATALOG_ENFORCE=on MAX_UNITS_PER_PRODUCT=1');
  });

  it('with --no-rules, override both to off (an empty MAX_UNITS_PER_PRODUCT is no limit)', () => {
    const rules = { enforced: false, maxUnitsPerProduct: 1 };
    expect(ingestRulesEnv(rules)).toEqual({ CATALOG_ENFORCE: 'off', MAX_UNITS_PER_PRODUCT: '' });
    expect(describeRules(rules)).toBe('ingest rules off (--no-rules)');
  });
});
