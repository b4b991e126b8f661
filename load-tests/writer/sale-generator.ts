import { randomBytes } from 'node:crypto';
import { seededRandom } from '@tally/common';
import { type Sale, type SaleInput, type SaleLineInput, validateSale } from '@tally/contracts';

/**
 * Sales of a realistic shape for the writer benchmark, every one through the real validator
 * (so they are exactly what ingest would publish): 1–5 lines (mostly 1–2), 12 branches of
 * unequal traffic, 240 products in 12 categories, optional fields present or not as real tills
 * send them, a few discounts and about 4% returns of earlier sales. A seeded generator makes
 * every run the same shape; sale ids carry a random run id, so runs never collide.
 */

const CATEGORIES = [
  { name: 'fruit', cents: [49, 599] },
  { name: 'vegetables', cents: [39, 499] },
  { name: 'dairy', cents: [59, 899] },
  { name: 'bakery', cents: [79, 649] },
  { name: 'meat', cents: [299, 2999] },
  { name: 'frozen', cents: [149, 1299] },
  { name: 'beverages', cents: [59, 2499] },
  { name: 'snacks', cents: [79, 599] },
  { name: 'household', cents: [129, 1999] },
  { name: 'personal-care', cents: [99, 1499] },
  { name: 'electronics', cents: [999, 19999] },
  { name: 'apparel', cents: [499, 7999] },
] as const;
const BRANDS = ['acme', 'northwind', 'contoso', 'fabrikam', 'globex', 'initech', 'umbrella', 'hooli'];
const PRODUCTS_PER_CATEGORY = 20;
/** Branch weights: a few busy branches, a long tail of quiet ones. */
const BRANCH_WEIGHTS = [20, 16, 12, 10, 8, 7, 6, 6, 5, 4, 3, 3];
const COUNTRIES = ['DE', 'AT', 'NL', 'FR'];
/** Share of sales with 1, 2, 3, 4, 5 lines (mean ≈ 2.2 lines per sale). */
const LINE_COUNT_WEIGHTS = [35, 27, 18, 12, 8];
const RETURN_SHARE = 0.04;
const MAX_AGE_MS = 3 * 24 * 3600_000;

interface Product {
  readonly productId: string;
  readonly productName: string | undefined;
  readonly category: string;
  readonly brand: string | undefined;
  readonly cents: number;
}

export interface GeneratedSales {
  readonly sales: Sale[];
  /** Lines over all sales. */
  readonly lines: number;
  readonly returns: number;
  readonly branches: number;
  readonly products: number;
}

export function generateSales(count: number, seed = 20_260_521): GeneratedSales {
  const random = seededRandom(seed);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const weighted = (weights: readonly number[]) => {
    const total = weights.reduce((sum, w) => sum + w, 0);
    let r = random() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i]!;
      if (r < 0) return i;
    }
    return weights.length - 1;
  };
  const money = (cents: number) => (cents / 100).toFixed(2);

  const products: Product[] = CATEGORIES.flatMap((category, c) =>
    Array.from({ length: PRODUCTS_PER_CATEGORY }, (_, p) => ({
      productId: `p-${category.name}-${String(p + 1).padStart(3, '0')}`,
      productName: random() < 0.85 ? `${category.name} item ${c * PRODUCTS_PER_CATEGORY + p + 1}` : undefined,
      category: category.name,
      brand: random() < 0.7 ? pick(BRANDS) : undefined,
      cents: int(category.cents[0], category.cents[1]),
    })),
  );
  const branches = BRANCH_WEIGHTS.map((_, b) => ({
    branchId: `branch-${String(b + 1).padStart(2, '0')}`,
    country: COUNTRIES[b % COUNTRIES.length]!,
  }));

  const runId = randomBytes(4).toString('hex');
  const sales: Sale[] = [];
  let lines = 0;
  let returns = 0;
  let now = Date.now();
  for (let n = 0; n < count; n++) {
    // ingest stamps receivedAt per request; a new "request" every 1000 sales is close enough.
    if (n % 1000 === 0) now = Date.now();
    const branch = branches[weighted(BRANCH_WEIGHTS)]!;
    const saleId = `wb-${runId}-${n.toString(36)}`;
    // A return reverses a recent sale (never another return).
    const candidate = random() < RETURN_SHARE ? sales[int(Math.max(0, n - 5000), n - 1)] : undefined;
    const original = candidate?.kind === 'sale' ? candidate : undefined;
    let input: SaleInput;
    if (original === undefined) {
      const lineCount = weighted(LINE_COUNT_WEIGHTS) + 1;
      const saleLines: SaleLineInput[] = [];
      for (let l = 0; l < lineCount; l++) {
        const product = pick(products);
        const quantity = random() < 0.7 ? 1 : int(2, 6);
        const gross = product.cents * quantity;
        saleLines.push({
          productId: product.productId,
          ...(product.productName !== undefined && { productName: product.productName }),
          category: product.category,
          ...(product.brand !== undefined && { brand: product.brand }),
          quantity,
          unitPrice: money(product.cents),
          ...(random() < 0.15 && { discount: money(Math.floor(gross * 0.05 * int(1, 4))) }),
        });
      }
      input = {
        saleId,
        kind: 'sale',
        branchId: branch.branchId,
        registerId: `till-${branch.branchId}-${int(1, 6)}`,
        ...(random() < 0.8 && { cashierId: `cashier-${int(1, 400)}` }),
        ...(random() < 0.55 && { customerId: `cust-${int(1, 20_000)}` }),
        occurredAt: new Date(now - Math.floor(random() * MAX_AGE_MS)).toISOString(),
        currency: 'EUR',
        ...(random() < 0.3 && { buyerCountry: pick(COUNTRIES) }),
        sellerCountry: branch.country,
        paymentMethod: random() < 0.7 ? 'card' : random() < 0.85 ? 'cash' : 'voucher',
        lines: saleLines,
      };
    } else {
      // A return of one line of an earlier sale, at the branch where it was bought.
      const line = pick(original.lines);
      input = {
        saleId,
        kind: 'return',
        originalSaleId: original.saleId,
        branchId: original.branchId,
        ...(original.registerId !== undefined && { registerId: original.registerId }),
        ...(original.customerId !== undefined && { customerId: original.customerId }),
        occurredAt: new Date(now - Math.floor(random() * 3600_000)).toISOString(),
        currency: original.currency,
        ...(original.sellerCountry !== undefined && { sellerCountry: original.sellerCountry }),
        paymentMethod: original.paymentMethod ?? 'cash',
        lines: [
          {
            productId: line.productId,
            ...(line.productName !== undefined && { productName: line.productName }),
            category: line.category,
            ...(line.brand !== undefined && { brand: line.brand }),
            quantity: int(1, line.quantity),
            unitPrice: line.unitPrice,
          },
        ],
      };
      returns++;
    }
    const result = validateSale(input, { now, maxFutureSkewMs: 60_000 });
    if (!result.ok) throw new Error(`generated sale ${saleId} is invalid: ${JSON.stringify(result.errors)}`);
    sales.push(result.sale);
    lines += result.sale.lines.length;
  }
  return { sales, lines, returns, branches: branches.length, products: products.length };
}
