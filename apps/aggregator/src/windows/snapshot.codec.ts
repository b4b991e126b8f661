import { Aggregate, customerFiguresAt, type FigureTable, keyFiguresAt } from './aggregate.js';
import { KEYS, type KeyDictionary } from './key-dictionary.js';
import { type MoneySum, moneyBigint } from './money.js';
import type { RollingWindow } from './rolling-window.js';
import { layoutFingerprint, type WindowLayout } from './window-spec.js';
import { WindowState } from './window-state.js';

/**
 * The window state as bytes, and back: a JSON header line, then every aggregate as float64s.
 *
 * Header: the layout fingerprint (a snapshot taken under another layout cannot be reused), the
 * clock, the key dictionaries (ids are per process, so names travel once and ids are remapped
 * on restore), and per scope and window the clock and the bucket indexes. The header is padded
 * to a multiple of 8 bytes so the body can be read in place as a Float64Array.
 *
 * Body, per scope: the all-time aggregate, then per window its buckets in header order and its
 * running total (stored, not rebuilt: rebuilding merges every bucket, seconds on a day's state). An
 * aggregate is its 7 scalars (sales, returns, units, gross lo/hi, returned lo/hi), then for
 * categories, products and customers the source table's capacity, a count n, a format and n
 * rows in the source's slot order: as int32s where every value but the money's low part fits
 * (format 1, the usual case), else as float64s (format 0). Every number is an integer below
 * 2^53, so float64 holds it exactly.
 *
 * Encoding copies rows out of the typed-array tables (no object per entry, no JSON per
 * entry), one exactly sized array per aggregate, so no single buffer has to hold a large state
 * (and see SnapshotWriter: encoding proceeds in slices while the state moves on).
 */
const FORMAT = 4;

interface SnapshotHeader {
  readonly format: typeof FORMAT;
  readonly layout: string;
  readonly nowMs: number;
  readonly dictionaries: { categories: string[]; products: string[]; customers: string[] };
  readonly scopes: readonly {
    readonly id: string;
    readonly windows: readonly { readonly clock: number; readonly buckets: readonly number[] }[];
  }[];
}

export class SnapshotLayoutError extends Error {
  override readonly name = 'SnapshotLayoutError';
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The state as chunks of bytes (header first); their concatenation is what decodeSnapshot reads. */
export function encodeSnapshot(state: WindowState): Uint8Array[] {
  const writer = SnapshotWriter.begin(state);
  writer.step(Number.POSITIVE_INFINITY);
  return writer.chunks();
}

/**
 * A snapshot of the state as it is at `begin`, encoded a slice at a time while the state moves
 * on: the aggregator keeps folding sales between slices, so a checkpoint never stops it for
 * longer than a slice.
 *
 * Consistency is copy-on-write at the level of aggregates. `begin` lands the staged sales,
 * records the structure (scopes, clocks, which aggregate is which bucket, running total or
 * all-time total) and the dictionaries, and marks each of those aggregates. Before a marked
 * aggregate changes (a sale, a merge, a compaction), it calls `capture`, which encodes it first;
 * `step` encodes the rest in order. Aggregates created after `begin` (new buckets, new scopes)
 * are not in the plan, and ones dropped after it (expired buckets) are left intact, so every
 * figure encoded is the figure at `begin`, which is what `appliedThrough` at `begin` covers.
 */
export class SnapshotWriter {
  readonly #plan: Aggregate[] = [];
  readonly #parts: (Float64Array | undefined)[] = [];
  readonly #header: Uint8Array;
  #cursor = 0;

  private constructor(state: WindowState) {
    state.flush();
    const scopes: SnapshotHeader['scopes'][number][] = [];
    for (const [id, scope] of state.scopes) {
      this.#add(scope.all);
      const windows = scope.windows.map((w) => {
        const indexes = [...w.buckets.keys()];
        for (const index of indexes) this.#add(w.buckets.get(index)!);
        this.#add(w.running);
        return { clock: w.clock, buckets: indexes };
      });
      scopes.push({ id, windows });
    }
    const header: SnapshotHeader = {
      format: FORMAT,
      layout: layoutFingerprint(state.layout),
      nowMs: state.nowMs,
      dictionaries: {
        categories: namesOf(KEYS.categories),
        products: namesOf(KEYS.products),
        customers: namesOf(KEYS.customers),
      },
      scopes,
    };
    const json = encoder.encode(JSON.stringify(header));
    const padded = new Uint8Array(Math.ceil((json.length + 1) / 8) * 8).fill(0x20);
    padded.set(json);
    padded[padded.length - 1] = 0x0a;
    this.#header = padded;
  }

  static begin(state: WindowState): SnapshotWriter {
    return new SnapshotWriter(state);
  }

  /** Encodes marked aggregates in order for about `budgetMs`; true once all are encoded. */
  step(budgetMs: number): boolean {
    const until = performance.now() + budgetMs;
    while (this.#cursor < this.#plan.length) {
      const i = this.#cursor++;
      if (this.#parts[i] === undefined) this.#encode(i);
      if ((this.#cursor & 15) === 0 && performance.now() >= until) break;
    }
    return this.#cursor >= this.#plan.length;
  }

  /** Encodes one marked aggregate now, before it changes (called by Aggregate). */
  capture(agg: Aggregate): void {
    this.#encode(agg.snapshotSlot);
  }

  /** Unmarks whatever is not encoded yet (a checkpoint given up): nothing calls back any more. */
  release(): void {
    for (const agg of this.#plan) agg.pendingSnapshot = undefined;
  }

  /** The snapshot's bytes, once step() returned true. */
  chunks(): Uint8Array[] {
    if (this.#cursor < this.#plan.length) throw new Error('snapshot not fully encoded yet');
    return [this.#header, ...this.#parts.map((f) => new Uint8Array(f!.buffer, f!.byteOffset, f!.byteLength))];
  }

  #add(agg: Aggregate): void {
    if (agg.pendingSnapshot !== undefined) throw new Error('another snapshot of this state is being encoded');
    agg.snapshotSlot = this.#plan.length;
    agg.pendingSnapshot = this;
    this.#plan.push(agg);
    this.#parts.push(undefined);
  }

  #encode(i: number): void {
    const agg = this.#plan[i]!;
    agg.pendingSnapshot = undefined;
    this.#parts[i] = encodeAggregate(agg);
  }
}

/** Inverse of encodeSnapshot; throws SnapshotLayoutError for another window layout. */
export function decodeSnapshot(bytes: Uint8Array | readonly Uint8Array[], layout: WindowLayout): WindowState {
  const all = concat(bytes);
  const newline = all.indexOf(0x0a);
  if (newline < 0) throw new Error('snapshot has no header line');
  const header = JSON.parse(decoder.decode(all.subarray(0, newline))) as SnapshotHeader;
  if (header.format !== FORMAT || header.layout !== layoutFingerprint(layout)) {
    throw new SnapshotLayoutError(
      `snapshot layout ${header.layout} (format ${header.format}) differs from the configured ${layoutFingerprint(layout)} (format ${FORMAT})`,
    );
  }
  const start = newline + 1;
  const aligned = (all.byteOffset + start) % 8 === 0 ? all : all.slice();
  const floats = new Float64Array(aligned.buffer, aligned.byteOffset + start, (aligned.length - start) / 8);
  const reader: FloatReader = {
    floats,
    at: 0,
    categories: remap(header.dictionaries.categories, KEYS.categories),
    products: remap(header.dictionaries.products, KEYS.products),
    customers: remap(header.dictionaries.customers, KEYS.customers),
  };
  const state = new WindowState(layout, header.nowMs);
  for (const s of header.scopes) {
    const scope = state.scope(s.id);
    readAggregate(reader, scope.all);
    s.windows.forEach((data, i) => {
      const window = scope.windows[i] as RollingWindow;
      window.clock = data.clock;
      for (const index of data.buckets) {
        const bucket = new Aggregate();
        readAggregate(reader, bucket);
        window.buckets.set(index, bucket);
      }
      readAggregate(reader, window.running);
    });
  }
  if (reader.at !== floats.length)
    throw new Error(`snapshot body has ${floats.length - reader.at} floats left over`);
  return state;
}

/**
 * Every figure of a state as plain data with keys by name, in a canonical order: two states
 * hold the same figures exactly when these are deep-equal (tests compare recovered states).
 */
export function stateFigures(state: WindowState): unknown {
  state.flush();
  const scopes = [...state.scopes.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    layout: layoutFingerprint(state.layout),
    nowMs: state.nowMs,
    scopes: scopes.map(([id, scope]) => ({
      id,
      all: aggregateFigures(scope.all),
      windows: scope.windows.map((w) => ({
        clock: w.clock,
        running: aggregateFigures(w.running),
        buckets: [...w.buckets.keys()]
          .sort((a, b) => a - b)
          .map((i) => [i, aggregateFigures(w.buckets.get(i)!)]),
      })),
    })),
  };
}

function aggregateFigures(a: Aggregate): unknown {
  // Money by value: lo + hi × 2^40 has more than one spelling of the same amount.
  const money = ({ lo, hi, ...rest }: MoneySum & Record<string, number>) => ({
    ...rest,
    money: moneyBigint({ lo, hi }).toString(),
  });
  const rows = (t: FigureTable, read: (t: FigureTable, o: number) => MoneySum) => {
    const out: [string, unknown][] = [];
    t.forEachLive((id, o) =>
      out.push([t.dictionary.name(id), money(read(t, o) as MoneySum & Record<string, number>)]),
    );
    return out.sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  };
  return {
    sales: a.sales,
    returns: a.returns,
    units: a.units,
    gross: moneyBigint(a.gross).toString(),
    returned: moneyBigint(a.returned).toString(),
    categories: rows(a.categories, keyFiguresAt),
    products: rows(a.products, keyFiguresAt),
    customers: rows(a.customers, customerFiguresAt),
  };
}

function namesOf(dictionary: KeyDictionary): string[] {
  const names = new Array<string>(dictionary.size);
  for (let i = 0; i < names.length; i++) names[i] = dictionary.name(i);
  return names;
}

/** Snapshot id → this process's id for the same name. */
function remap(names: readonly string[], dictionary: KeyDictionary): Int32Array {
  const map = new Int32Array(names.length);
  for (let i = 0; i < names.length; i++) map[i] = dictionary.id(names[i]!);
  return map;
}

function concat(bytes: Uint8Array | readonly Uint8Array[]): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes.length === 1) return bytes[0]!;
  const out = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of bytes) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

/** One aggregate as float64s, in an array of exactly its size. */
function encodeAggregate(a: Aggregate): Float64Array {
  const tables = [a.categories, a.products, a.customers];
  const compact = tables.map(fitsInt32);
  let size = 7;
  tables.forEach((t, i) => {
    size += 3 + (compact[i] ? Math.ceil((t.live * t.stride) / 2) + t.live : t.live * (1 + t.stride));
  });
  const out = new Float64Array(size);
  out[0] = a.sales;
  out[1] = a.returns;
  out[2] = a.units;
  out[3] = a.gross.lo;
  out[4] = a.gross.hi;
  out[5] = a.returned.lo;
  out[6] = a.returned.hi;
  let at = 7;
  tables.forEach((t, i) => {
    at = compact[i] ? writeCompactTable(out, at, t) : writeTable(out, at, t);
  });
  return out;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * Whether every column of every live row but the money's low part fits an int32 (counts of a
 * bucket or a day always do; all-time counts of a busy key may not). lo (< 2^40) never does.
 */
function fitsInt32(t: FigureTable): boolean {
  const { keys, rows, stride } = t;
  const lo = stride - 2;
  for (let i = 0; i < keys.length; i++) {
    if (keys[i] === 0) continue;
    const o = i * stride;
    for (let c = 0; c < stride; c++) {
      if (c === lo) continue;
      const v = rows[o + c]!;
      if (v < INT32_MIN || v > INT32_MAX) return false;
    }
  }
  return true;
}

/** Format 0: capacity, n, 0, then n rows of (key id, columns...) as float64s, in slot order. */
function writeTable(out: Float64Array, start: number, t: FigureTable): number {
  const { keys, rows, stride } = t;
  let at = start;
  out[at++] = t.capacity;
  out[at++] = t.live;
  out[at++] = 0;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const o = i * stride;
    if (k === 0 || rows[o] === 0) continue;
    out[at++] = k - 1;
    for (let c = 0; c < stride; c++) out[at++] = rows[o + c]!;
  }
  return at;
}

/**
 * Format 1, when fitsInt32: capacity, n, 1, then n rows of (key id, columns but lo) as int32s
 * (padded to 8 bytes), then the n lo values as float64s: about 40 % fewer bytes than format 0.
 */
function writeCompactTable(out: Float64Array, start: number, t: FigureTable): number {
  const { keys, rows, stride } = t;
  const n = t.live;
  const lo = stride - 2;
  out[start] = t.capacity;
  out[start + 1] = n;
  out[start + 2] = 1;
  const intsAt = start + 3;
  const ints = new Int32Array(out.buffer, out.byteOffset + intsAt * 8, n * stride);
  const losAt = intsAt + Math.ceil((n * stride) / 2);
  let w = 0;
  let e = 0;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const o = i * stride;
    if (k === 0 || rows[o] === 0) continue;
    ints[w++] = k - 1;
    for (let c = 0; c < stride; c++) if (c !== lo) ints[w++] = rows[o + c]!;
    out[losAt + e++] = rows[o + lo]!;
  }
  return losAt + n;
}

interface FloatReader {
  readonly floats: Float64Array;
  at: number;
  readonly categories: Int32Array;
  readonly products: Int32Array;
  readonly customers: Int32Array;
}

function readAggregate(r: FloatReader, a: Aggregate): void {
  const f = r.floats;
  a.sales = f[r.at++]!;
  a.returns = f[r.at++]!;
  a.units = f[r.at++]!;
  a.gross.lo = f[r.at++]!;
  a.gross.hi = f[r.at++]!;
  a.returned.lo = f[r.at++]!;
  a.returned.hi = f[r.at++]!;
  readTable(r, a.categories, r.categories);
  readTable(r, a.products, r.products);
  readTable(r, a.customers, r.customers);
}

function readTable(r: FloatReader, t: FigureTable, ids: Int32Array): void {
  const f = r.floats;
  const capacity = f[r.at]!;
  const n = f[r.at + 1]!;
  const format = f[r.at + 2]!;
  r.at += 3;
  const stride = t.stride;
  t.reserve(n, capacity);
  const rows = t.rows;
  if (format === 0) {
    for (let e = 0; e < n; e++) {
      const o = t.slot(ids[f[r.at++]!]!);
      for (let c = 0; c < stride; c++) rows[o + c] = f[r.at + c]!;
      r.at += stride;
    }
  } else {
    const lo = stride - 2;
    const ints = new Int32Array(f.buffer, f.byteOffset + r.at * 8, n * stride);
    const losAt = r.at + Math.ceil((n * stride) / 2);
    let q = 0;
    for (let e = 0; e < n; e++) {
      const o = t.slot(ids[ints[q++]!]!);
      for (let c = 0; c < stride; c++) rows[o + c] = c === lo ? f[losAt + e]! : ints[q++]!;
    }
    r.at = losAt + n;
  }
  t.live += n;
}
