/**
 * What the simulator sells and where: the one place its branches, registers and products are
 * defined. The default is the supermarket seed's (seed 003): three branches and ten products,
 * and its purchase rule that a customer buys at most one unit of any product per purchase.
 *
 * The shape is deliberately flat (one record per branch and per product, plain strings for
 * money) so that a loader of the supermarket catalog CSVs can produce a StoreCatalog later and
 * hand it to the simulator unchanged; nothing else in the demo knows these values.
 */
export interface CatalogBranch {
  readonly branchId: string;
  readonly name: string;
  /** Country code of the branch (the sale's sellerCountry). */
  readonly country: string;
  /** Registers (tills) open at this branch, each with its cashier. */
  readonly registers: number;
}

export interface CatalogProduct {
  readonly productId: string;
  readonly name: string;
  readonly category: string;
  readonly brand: string;
  /** Decimal text, at most 4 fractional digits. */
  readonly listPrice: string;
  /** Relative weight of the product in baskets (staples high, treats low). */
  readonly popularity: number;
}

export interface StoreCatalog {
  /** ISO 4217 code of every price. */
  readonly currency: string;
  readonly branches: readonly CatalogBranch[];
  readonly products: readonly CatalogProduct[];
  /** Units of one product a single purchase may hold: 1 in the supermarket seed. */
  readonly maxUnitsPerProduct: number;
}

export const SUPERMARKET_CATALOG: StoreCatalog = {
  currency: 'EUR',
  maxUnitsPerProduct: 1,
  branches: [
    { branchId: 'branch-north', name: 'North', country: 'ES', registers: 4 },
    { branchId: 'branch-centre', name: 'Centre', country: 'ES', registers: 6 },
    { branchId: 'branch-south', name: 'South', country: 'ES', registers: 3 },
  ],
  products: [
    p('P001', 'Whole milk 1L', 'dairy', 'Farmhouse', '1.15', 10),
    p('P002', 'Sourdough bread', 'bakery', 'Oven & Co', '3.40', 8),
    p('P003', 'Free-range eggs x12', 'dairy', 'Farmhouse', '3.99', 6),
    p('P004', 'Bananas 1kg', 'produce', 'Tropico', '1.79', 7),
    p('P005', 'Ground coffee 500g', 'pantry', 'Altura', '7.49', 4),
    p('P006', 'Olive oil 750ml', 'pantry', 'Oliva', '8.95', 3),
    p('P007', 'Cheddar 400g', 'dairy', 'Valley', '4.60', 4),
    p('P008', 'Tomatoes 500g', 'produce', 'Sunripe', '2.25', 6),
    p('P009', 'Sparkling water 6x1.5L', 'beverages', 'Fonte', '3.60', 5),
    p('P010', 'Dark chocolate 100g', 'snacks', 'Cacao+', '2.10', 5),
  ],
};

function p(
  productId: string,
  name: string,
  category: string,
  brand: string,
  listPrice: string,
  popularity: number,
): CatalogProduct {
  return { productId, name, category, brand, listPrice, popularity };
}
