/**
 * What the simulator needs that the catalog CSV files do not say: how popular each product is
 * and how many registers each branch has (and how many of those are older tills that send lines
 * without category). Keyed by the catalog's ids; the catalog itself (names, categories, prices,
 * branches) comes only from the CSV files.
 *
 * A product or branch of another file (`--catalog`, `--branches`) that this table does not name
 * gets values derived from its id (a hash), so a run is still deterministic for a seed.
 */
export interface BranchFloor {
  readonly registers: number;
  readonly leanRegisters: number;
}

export interface ShopFloor {
  /** Basket weight per productId. */
  readonly popularity: Readonly<Record<string, number>>;
  /** Registers per branchId. */
  readonly branches: Readonly<Record<string, BranchFloor>>;
  /** Units of one product per purchase: the seed's rule, also given to ingest (MAX_UNITS_PER_PRODUCT). */
  readonly maxUnitsPerProduct: number;
}

/** The supermarket seed's shop floor, for apps/catalog/samples/supermarket-*.csv. */
export const SUPERMARKET_SHOP_FLOOR: ShopFloor = {
  maxUnitsPerProduct: 1,
  popularity: {
    P001: 10,
    P002: 8,
    P003: 6,
    P004: 7,
    P005: 4,
    P006: 3,
    P007: 4,
    P008: 6,
    P009: 5,
    P010: 5,
  },
  branches: {
    'branch-north': { registers: 4, leanRegisters: 1 },
    'branch-centre': { registers: 6, leanRegisters: 2 },
    'branch-south': { registers: 3, leanRegisters: 1 },
  },
};

/** A product's basket weight: the table's, else 1–10 from its id. */
export function popularityOf(floor: ShopFloor, productId: string): number {
  return floor.popularity[productId] ?? 1 + (hash(productId) % 10);
}

/** A branch's registers: the table's, else 2–6 from its id, one of them lean. */
export function branchFloorOf(floor: ShopFloor, branchId: string): BranchFloor {
  return floor.branches[branchId] ?? { registers: 2 + (hash(branchId) % 5), leanRegisters: 1 };
}

/** FNV-1a, 32 bits: a stable number from an id. */
function hash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
