/**
 * A table of figures keyed by integer key ids (see key-dictionary.ts): open addressing with
 * linear probing over two typed arrays, `keys` (id + 1; 0 marks a free slot) and `rows`
 * (`stride` float64 columns per slot, column 0 always `refs`).
 *
 * Why not a Map of objects: the aggregator holds tens of millions of entries (keys × buckets ×
 * windows × branches). As two flat arrays of unboxed numbers they cost no object per entry,
 * nothing for the garbage collector to trace, one cache line per update, and a snapshot is a
 * copy of rows. Every column holds integers (counts, money in units of
 * 1/10,000 split as lo + hi × 2^40, see money.ts), so float64 arithmetic on them is exact.
 *
 * Entries are never removed one by one: a row whose `refs` falls to 0 stays in place with all
 * its figures 0 (exactly, since every figure is additive with an inverse) and is skipped by
 * readers; `compact()` drops such rows once they are the majority. Buckets never need it (they
 * only grow, then go whole); running totals do, as keys come and go.
 */
export const CARRY = 2 ** 40;

const MIN_CAPACITY = 4;

export class KeyTable {
  /** id + 1 per slot, 0 for a free slot. */
  keys: Int32Array;
  /** `stride` columns per slot. */
  rows: Float64Array;
  /**
   * The occupied slots' indexes, in the order they were taken (`used` of them): merging or
   * clearing a table walks its entries, not its capacity. A staging table reused for a quiet
   * branch holds a handful of keys in a table sized for a busy tick.
   */
  order: Int32Array;
  /** Occupied slots, rows with refs 0 included. */
  used = 0;
  /** Rows with refs ≠ 0: the entries that exist. */
  live = 0;
  #shift: number;
  #mask: number;

  constructor(
    readonly stride: number,
    capacity: number = MIN_CAPACITY,
  ) {
    const cap = capacityFor(capacity);
    this.keys = smallIntegers(cap);
    this.rows = doubles(cap * stride);
    this.order = smallIntegers(maxUsed(cap));
    this.#shift = 32 - Math.log2(cap);
    this.#mask = cap - 1;
  }

  get capacity(): number {
    return this.keys.length;
  }

  /** Offset in `rows` of key `id`'s row, added (all zero) if absent. */
  slot(id: number): number {
    const i = this.#probe(id + 1);
    if (i >= 0) return i * this.stride;
    if ((this.used + 1) * 4 > this.keys.length * 3) {
      this.#rehash(this.keys.length * 2);
      return this.slot(id);
    }
    const free = ~i;
    this.keys[free] = id + 1;
    this.order[this.used++] = free;
    return free * this.stride;
  }

  /** Offset of key `id`'s row, or -1 if absent. */
  find(id: number): number {
    const i = this.#probe(id + 1);
    return i >= 0 ? i * this.stride : -1;
  }

  /** The slot holding `tag` (id + 1), or ~slot of the free slot where it would go. */
  #probe(tag: number): number {
    const keys = this.keys;
    const mask = this.#mask;
    let i = Math.imul(tag, 0x9e3779b1) >>> this.#shift;
    for (;;) {
      const k = keys[i]!;
      if (k === tag) return i;
      if (k === 0) return ~i;
      i = (i + 1) & mask;
    }
  }

  /** refs += delta on the row at `o`, keeping `live` right. */
  ref(o: number, delta: number): void {
    const before = this.rows[o]!;
    const after = before + delta;
    this.rows[o] = after;
    if (before === 0) this.live++;
    else if (after === 0) this.live--;
  }

  /** The money pair at columns col, col + 1 of the row at `o` += sign × (lo + hi × 2^40). */
  addMoney(o: number, col: number, lo: number, hi: number, sign: number): void {
    const rows = this.rows;
    let l = rows[o + col]! + sign * lo;
    let h = rows[o + col + 1]! + sign * hi;
    if (l >= CARRY || l <= -CARRY) {
      const q = Math.trunc(l / CARRY);
      h += q;
      l -= q * CARRY;
    }
    rows[o + col] = l;
    rows[o + col + 1] = h;
  }

  /** Calls fn for each live entry with its key id and row offset. */
  forEachLive(fn: (id: number, o: number) => void): void {
    const { keys, rows, stride } = this;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (k !== 0 && rows[i * stride] !== 0) fn(k - 1, i * stride);
    }
  }

  /** Empties the table, keeping its capacity (a reused staging table). */
  clear(): void {
    const used = this.used;
    if (used === 0) return;
    if (used * 4 < this.keys.length) {
      const { keys, rows, order, stride } = this;
      for (let j = 0; j < used; j++) {
        const i = order[j]!;
        keys[i] = 0;
        rows.fill(0, i * stride, i * stride + stride);
      }
    } else {
      this.keys.fill(0);
      this.rows.fill(0);
    }
    this.used = 0;
    this.live = 0;
  }

  /**
   * Makes room for `n` more rows without rehashing on the way (restoring a snapshot); an empty
   * table takes `capacity` if larger, so rows written in the source table's slot order land in
   * the same order here (sequential writes) when the ids are the same.
   */
  reserve(n: number, capacity = 0): void {
    if (this.used === 0 && capacity > this.keys.length && (n * 4) / 3 <= capacity) {
      const cap = capacityFor(capacity);
      this.keys = smallIntegers(cap);
      this.rows = doubles(cap * this.stride);
      this.order = smallIntegers(maxUsed(cap));
      this.#shift = 32 - Math.log2(cap);
      this.#mask = cap - 1;
      return;
    }
    if ((this.used + n) * 4 > this.keys.length * 3) this.#rehash(((this.used + n) * 4) / 3 + 1);
  }

  /**
   * Capacity of a table made to hold `n` rows without growing, and the length of its `order`:
   * what adopt() takes (see Aggregate.reserveInOneBlock).
   */
  static sizedFor(n: number): { capacity: number; order: number } {
    const capacity = capacityFor(Math.ceil((n * 4) / 3));
    return { capacity, order: maxUsed(capacity) };
  }

  /**
   * Restoring a snapshot: an empty table takes `keys`, `rows` and `order` (zeroed, sized by
   * sizedFor for one capacity) as its arrays instead of allocating its own, e.g. views into one
   * block that an aggregate's three tables share.
   */
  adopt(keys: Int32Array, rows: Float64Array, order: Int32Array): void {
    const cap = keys.length;
    if (
      this.used !== 0 ||
      cap < MIN_CAPACITY ||
      (cap & (cap - 1)) !== 0 ||
      rows.length !== cap * this.stride ||
      order.length !== maxUsed(cap)
    )
      throw new Error('KeyTable.adopt: an empty table, and arrays sized by sizedFor for one capacity');
    this.keys = keys;
    this.rows = rows;
    this.order = order;
    this.#shift = 32 - Math.log2(cap);
    this.#mask = cap - 1;
  }

  /** Becomes a copy of `other` (same stride): its arrays copied whole, a memcpy per array. */
  copyFrom(other: KeyTable): void {
    this.keys = other.keys.slice();
    this.rows = other.rows.slice();
    this.order = other.order.slice();
    this.used = other.used;
    this.live = other.live;
    this.#shift = other.#shift;
    this.#mask = other.#mask;
  }

  /** Drops rows with refs 0 when they outnumber the live ones (and the table is not tiny). */
  compact(): void {
    if (this.wantsCompaction) this.#rehash(this.live * 2);
  }

  /** Whether compact() would do anything. */
  get wantsCompaction(): boolean {
    return this.used - this.live > Math.max(this.live, MIN_CAPACITY);
  }

  #rehash(capacity: number): void {
    const { keys, rows, order, used, stride } = this;
    const cap = capacityFor(Math.max(capacity, ((this.live + 1) * 4) / 3));
    this.keys = smallIntegers(cap);
    this.rows = doubles(cap * stride);
    this.order = smallIntegers(maxUsed(cap));
    this.#shift = 32 - Math.log2(cap);
    this.#mask = cap - 1;
    this.used = 0;
    for (let j = 0; j < used; j++) {
      const i = order[j]!;
      const k = keys[i]!;
      if (rows[i * stride] === 0) continue;
      const o = this.slot(k - 1);
      for (let c = 0; c < stride; c++) this.rows[o + c] = rows[i * stride + c]!;
    }
  }
}

/**
 * Typed arrays: allocated zeroed by the system (a large table costs nothing to create, where a
 * plain array is written element by element), outside the JS heap, never traced by the GC.
 */
function doubles(n: number): Float64Array {
  return new Float64Array(n);
}

function smallIntegers(n: number): Int32Array {
  return new Int32Array(n);
}

/** The most slots a table of `capacity` holds before it grows (a load factor of 3/4). */
function maxUsed(capacity: number): number {
  return (capacity * 3) >> 2;
}

function capacityFor(n: number): number {
  let cap = MIN_CAPACITY;
  while (cap < n) cap *= 2;
  return cap;
}
