import type { FieldError, Sale, SaleCheck } from '@tally/contracts';
import type { CatalogEnforcement } from '../config/ingest.config.js';

/**
 * Ingest's catalog rules, each switched on by configuration and run by the contract validator
 * next to its own checks (as `checks`), so a rejection is the usual problem+json 422 (in a batch:
 * that sale's result) naming the field by JSON pointer and the rule:
 *
 * - `unknown-branch` (CATALOG_ENFORCE=on|branches): the sale's branchId is not in the catalog.
 * - `unknown-product` (CATALOG_ENFORCE=on|products): a line's productId is not in the catalog.
 * - `max-units-per-product` (MAX_UNITS_PER_PRODUCT=N): the quantities of one productId summed
 *   over the sale's lines exceed N. With N=1 (the supermarket's "one unit of any product per
 *   purchase") a product may appear once, with quantity 1. Reported once per product, at the line
 *   that crosses N: its `quantity` when the product is on no earlier line, else its `productId`
 *   (the repeat is the fault). Returns are exempt: a return reverses part of a sale that was
 *   within the rule when it was made, and a reversal must always be recordable, even of a sale
 *   from before the limit was set.
 *
 * The catalog is read at the moment of the request (the in-memory copy ingest keeps up to date),
 * so a product added by an import is accepted from the moment its entry arrives, without restart.
 */
export interface CatalogLookup {
  product(productId: string): unknown;
  branch(branchId: string): unknown;
}

export interface CatalogRulesConfig {
  readonly catalogEnforce: CatalogEnforcement;
  readonly maxUnitsPerProduct: number | undefined;
}

/** The checks the configuration switches on (none by default). */
export function catalogChecks(config: CatalogRulesConfig, catalog: CatalogLookup): SaleCheck[] {
  const checks: SaleCheck[] = [];
  if (config.catalogEnforce.branches) checks.push(knownBranch(catalog));
  if (config.catalogEnforce.products) checks.push(knownProducts(catalog));
  if (config.maxUnitsPerProduct !== undefined) checks.push(maxUnitsPerProduct(config.maxUnitsPerProduct));
  return checks;
}

export function knownBranch(catalog: CatalogLookup): SaleCheck {
  return (sale) =>
    catalog.branch(sale.branchId) === undefined
      ? [
          {
            pointer: '/branchId',
            rule: 'unknown-branch',
            message: `branch ${sale.branchId} is not in the catalog`,
          },
        ]
      : [];
}

export function knownProducts(catalog: CatalogLookup): SaleCheck {
  return (sale) => {
    const errors: FieldError[] = [];
    sale.lines.forEach((line, i) => {
      if (catalog.product(line.productId) === undefined) {
        errors.push({
          pointer: `/lines/${i}/productId`,
          rule: 'unknown-product',
          message: `product ${line.productId} is not in the catalog`,
        });
      }
    });
    return errors;
  };
}

export function maxUnitsPerProduct(max: number): SaleCheck {
  const limit = `at most ${max} unit${max === 1 ? '' : 's'} of a product per sale`;
  return (sale: Sale) => {
    if (sale.kind === 'return') return [];
    const seen = new Map<string, { units: number; firstLine: number; reported: boolean }>();
    const errors: FieldError[] = [];
    sale.lines.forEach((line, i) => {
      const before = seen.get(line.productId);
      const product = before ?? { units: 0, firstLine: i, reported: false };
      product.units += line.quantity;
      if (before === undefined) seen.set(line.productId, product);
      if (product.units <= max || product.reported) return;
      product.reported = true;
      errors.push(
        before === undefined
          ? {
              pointer: `/lines/${i}/quantity`,
              rule: 'max-units-per-product',
              message: `${limit}: ${line.quantity} units of product ${line.productId}`,
            }
          : {
              pointer: `/lines/${i}/productId`,
              rule: 'max-units-per-product',
              message: `${limit}: product ${line.productId} is already at /lines/${product.firstLine} (${product.units} units in all)`,
            },
      );
    });
    return errors;
  };
}
