/**
 * The catalog rules the demo's ingest runs with: the supermarket seed's, which are CATALOG_ENFORCE=on
 * (a sale's branch and every product must be in the catalog) and MAX_UNITS_PER_PRODUCT=1 (one
 * unit of a product per purchase). `--no-rules` runs ingest with both off; ingest still fills a
 * line's missing category from the catalog either way.
 */
export interface IngestRules {
  readonly enforced: boolean;
  readonly maxUnitsPerProduct: number;
}

/** The ingest child's environment for the rules (overriding whatever the demo's own env says). */
export function ingestRulesEnv(rules: IngestRules): Record<string, string> {
  return rules.enforced
    ? { CATALOG_ENFORCE: 'on', MAX_UNITS_PER_PRODUCT: String(rules.maxUnitsPerProduct) }
    : { CATALOG_ENFORCE: 'off', MAX_UNITS_PER_PRODUCT: '' };
}

export function describeRules(rules: IngestRules): string {
  const env = ingestRulesEnv(rules);
  return rules.enforced
    ? `ingest rules CATALOG_ENFORCE=${env.CATALOG_ENFORCE} MAX_UNITS_PER_PRODUCT=${env.MAX_UNITS_PER_PRODUCT}`
    : 'ingest rules off (--no-rules)';
}
