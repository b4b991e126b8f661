/**
 * What the simulator sells and where. It is built from the catalog CSV files (the same files the
 * demo imports into Postgres and the KV bucket ingest reads) plus the demo's shop-floor data
 * (catalog/shop-floor.data.ts: popularity, registers), so ingest and the simulator never hold
 * two different copies of a product. Nothing in the simulator hard-codes a product or a branch.
 */
export interface StoreBranch {
  readonly branchId: string;
  readonly name: string;
  /** Country code of the branch (the sale's sellerCountry); the CSV may leave it out. */
  readonly country?: string;
  /** Registers (tills) open at this branch, each with its cashier: tills 1..registers. */
  readonly registers: number;
  /**
   * How many of them are older tills that send lines with only productId, quantity and price
   * (and a discount), leaving the name, category and brand to ingest's catalog: the highest
   * numbered ones.
   */
  readonly leanRegisters: number;
}

export interface StoreProduct {
  readonly productId: string;
  readonly name: string;
  readonly category: string;
  readonly brand?: string;
  /** Canonical decimal text, at most 4 fractional digits. */
  readonly listPrice: string;
  /** Relative weight of the product in baskets (staples high, treats low). */
  readonly popularity: number;
}

export interface StoreCatalog {
  /** ISO 4217 code of every price. */
  readonly currency: string;
  readonly branches: readonly StoreBranch[];
  readonly products: readonly StoreProduct[];
  /** Units of one product a single purchase may hold: 1 in the supermarket seed. */
  readonly maxUnitsPerProduct: number;
}

/** Whether a till of a branch sends lean lines (no name, category or brand). */
export function isLeanRegister(branch: StoreBranch, till: number): boolean {
  return till > branch.registers - branch.leanRegisters;
}
