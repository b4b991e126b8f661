import {
  Aggregate,
  CUSTOMER_STRIDE,
  customerFiguresAt,
  type FigureTable,
  KEY_STRIDE,
  keyFiguresAt,
  type StoredPart,
} from './aggregate.js';
import { KEYS, type KeyDictionary } from './key-dictionary.js';
import { type MoneySum, moneyBigint } from './money.js';
import type { RollingWindow } from './rolling-window.js';
import { layoutFingerprint, type WindowLayout } from './window-spec.js';
import { WindowState } from './window-state.js';

/**
 * The window state as bytes, and back: a JSON header line, then aggregates as float64s.
 *
 * Checkpoints are incremental. Most of a day's state is closed buckets that no longer change,
 * so a checkpoint writes only the buckets that changed since the last one into an object of its
 * own and refers to the others where an earlier checkpoint object holds them. The running and
 * all-time totals change between almost any two checkpoints: each checkpoint writes them all,
 * into a companion object of its own (COMPANION in the header), so no object is kept alive by
 * totals that went stale. A snapshot is therefore the newest object, its companion and the
 * earlier objects its header names (`objects`); `snapshotReferences` lists the earlier ones and
 * `decodeSnapshot` reads them all together. Without a ledger (encodeSnapshot) everything is in
 * one object.
 *
 * Header: the layout fingerprint (a snapshot taken under another layout cannot be reused), the
 * clock, the key dictionaries (ids are per process, so names travel once and ids are remapped
 * on restore), the objects holding parts (0: this object, 1: its companion), and per scope and window the
 * clock, the bucket indexes and where each aggregate is: [object, offset, length] in float64s
 * from the start of that object's body. The header is padded to a multiple of 8 bytes so the
 * body can be read in place as a Float64Array.
 *
 * Ids in the parts of earlier objects are read with the newest header's dictionaries: within a
 * process a dictionary only grows, and a restored process writes everything anew (restored
 * aggregates are not `saved`), so every object a header names was written by its process.
 *
 * Body: the aggregates written by this checkpoint, back to back. An aggregate is its 7 scalars
 * (sales, returns, units, gross lo/hi, returned lo/hi), then for categories, products and
 * customers the source table's capacity, a count n, a format and n rows in the source's slot
 * order: as int32s where every value but the money's low part fits (format 1, the usual case),
 * else as float64s (format 0). Running totals are stored, not rebuilt: rebuilding merges every
 * bucket, seconds on a day's state. Every number is an integer below 2^53, so float64 holds it
 * exactly.
 */
const FORMAT = 5;

/** Where an aggregate is: index in the header's `objects`, offset and length in float64s. */
type Location = readonly [object: number, offset: number, length: number];

interface SnapshotHeader {
  readonly format: typeof FORMAT;
  readonly layout: string;
  readonly nowMs: number;
  readonly dictionaries: { categories: string[]; products: string[]; customers: string[] };
  /**
   * Object names: [0] is this object (left empty), [1] its companion (COMPANION, or empty when
   * there is none), the rest earlier checkpoints' objects.
   */
  readonly objects: readonly string[];
  readonly scopes: readonly {
    readonly id: string;
    readonly all: Location;
    readonly windows: readonly {
      readonly clock: number;
      readonly buckets: readonly (readonly [index: number, at: Location])[];
      readonly running: Location;
    }[];
  }[];
}

/** A checkpoint's objects, as SnapshotWriter.objects() hands them to the store. */
export interface SnapshotObjects {
  /** The new object: its header, then the buckets it writes. */
  readonly chunks: readonly Uint8Array[];
  /** Its companion (the running and all-time totals); only with a ledger. */
  readonly companion: readonly Uint8Array[] | undefined;
  /** The earlier objects it refers to, to be kept while it is the newest. */
  readonly references: readonly string[];
}

/**
 * An object's bytes: one buffer, or consecutive pieces of it (a compressed object's frames, as
 * the store decompresses them), which decodeSnapshot reads in place without joining them.
 */
export type SnapshotBytes = Uint8Array | readonly Uint8Array[];

export class SnapshotLayoutError extends Error {
  override readonly name = 'SnapshotLayoutError';
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The whole state as one object's chunks (header first), for decodeSnapshot alone. */
export function encodeSnapshot(state: WindowState): Uint8Array[] {
  const writer = SnapshotWriter.begin(state);
  writer.step(Number.POSITIVE_INFINITY);
  return writer.chunks();
}

/**
 * The app's garbage bound: a restart loads at most 1.25 times the state. Each checkpoint leaves
 * behind mostly whole objects of stale running totals (deleted for free); what it costs is
 * writing again the few live buckets of the emptiest objects.
 */
export const DEFAULT_MAX_GARBAGE = 0.25;

/**
 * What the checkpoints of one process have stored: the body size (float64s) of each object that
 * aggregates may still be `saved` in. The garbage bound: the objects a checkpoint refers to
 * hold at most `1 + maxGarbage` times the figures it needs from them; beyond that, the parts of
 * the emptiest objects are written again and those objects let go.
 */
export class SnapshotLedger {
  readonly objects = new Map<string, number>();
  constructor(readonly maxGarbage = DEFAULT_MAX_GARBAGE) {}

  /** Body bytes of the objects the newest checkpoint needs. */
  get storedBytes(): number {
    let floats = 0;
    for (const size of this.objects.values()) floats += size;
    return floats * 8;
  }
}

/**
 * A snapshot of the state as it is at `begin`, encoded a slice at a time while the state moves
 * on: the aggregator keeps folding sales between slices, so a checkpoint never stops it for
 * longer than a slice.
 *
 * Incremental: with a ledger, aggregates still `saved` in one of its objects are referred to
 * there and not encoded (they have not changed since that checkpoint). `commit(name)`, once the
 * object is stored under that name, records where this checkpoint put the rest.
 *
 * Consistency is copy-on-write at the level of aggregates. `begin` lands the staged sales,
 * records the structure (scopes, clocks, which aggregate is which bucket, running total or
 * all-time total) and the dictionaries, and marks each aggregate to encode. Before a marked
 * aggregate changes (a sale, a merge, a compaction), it calls `capture`, which copies it first;
 * `step` encodes the rest in order. Aggregates created after `begin` (new buckets, new scopes)
 * are not in the plan, and ones dropped after it (expired buckets) are left intact, so every
 * figure encoded is the figure at `begin`, which is what `appliedThrough` at `begin` covers.
 * An aggregate referred to in an earlier object that changes meanwhile is no longer `saved`,
 * but that object still holds its figures at `begin`.
 */
export class SnapshotWriter {
  /** The aggregates this checkpoint encodes. */
  readonly #plan: Aggregate[] = [];
  /** Per planned aggregate, once encoded: its offset in its object's body and its length, in float64s. */
  readonly #offsets: number[] = [];
  readonly #lengths: number[] = [];
  /** The bodies being written: this object's (buckets), and its companion's (the hot totals). */
  readonly #bodies = [new BodyPages(), new BodyPages()] as const;
  /** Copies of planned aggregates that changed before their turn to be encoded. */
  readonly #copies: (Aggregate | undefined)[] = [];
  /** Every aggregate of the structure: a plan index, or where an earlier object holds it. */
  readonly #where: (number | StoredPart)[] = [];
  readonly #structure: {
    id: string;
    all: number;
    windows: { clock: number; buckets: [number, number][]; running: number }[];
  }[] = [];
  /** Earlier objects referred to, in header order (after this object and its companion). */
  readonly #objects: string[] = [];
  /**
   * Plan indexes of the running and all-time totals, with a ledger: they change between almost
   * any two checkpoints, so they are always written, into a companion object of their own
   * (COMPANION), never referred to later. The main object then holds only buckets, which stay
   * valid for long: no earlier object is kept alive by figures that went stale at once.
   */
  readonly #hot = new Set<number>();
  readonly #ledger: SnapshotLedger | undefined;
  /** Set as `saved` on the planned aggregates: still there at commit means unchanged since begin. */
  readonly #token: StoredPart = { object: '', offset: -1, length: -1 };
  readonly #dictionaries: SnapshotHeader['dictionaries'];
  readonly #layout: string;
  readonly #nowMs: number;
  #cursor = 0;

  private constructor(state: WindowState, ledger: SnapshotLedger | undefined) {
    state.flush();
    this.#ledger = ledger;
    const aggregates: Aggregate[] = [];
    const add = (agg: Aggregate) => aggregates.push(agg) - 1;
    for (const [id, scope] of state.scopes) {
      const all = add(scope.all);
      const windows = scope.windows.map((w) => ({
        clock: w.clock,
        buckets: [...w.buckets].map(([index, bucket]): [number, number] => [index, add(bucket)]),
        running: add(w.running),
      }));
      this.#structure.push({ id, all, windows });
    }
    const hot = new Set<number>();
    if (ledger !== undefined) {
      for (const scope of this.#structure) {
        hot.add(scope.all);
        for (const w of scope.windows) hot.add(w.running);
      }
    }
    const kept = this.#keptObjects(aggregates.filter((_, i) => !hot.has(i)));
    for (const [i, agg] of aggregates.entries()) {
      const saved = agg.saved;
      if (!hot.has(i) && saved !== undefined && kept.has(saved.object)) {
        this.#where.push(saved);
      } else {
        if (hot.has(i)) this.#hot.add(this.#plan.length);
        if (agg.pendingSnapshot !== undefined)
          throw new Error('another snapshot of this state is being encoded');
        agg.snapshotSlot = this.#plan.length;
        agg.pendingSnapshot = this;
        agg.saved = this.#token;
        this.#where.push(this.#plan.length);
        this.#plan.push(agg);
      }
    }
    this.#objects = [...kept];
    this.#dictionaries = {
      categories: namesOf(KEYS.categories),
      products: namesOf(KEYS.products),
      customers: namesOf(KEYS.customers),
    };
    this.#layout = layoutFingerprint(state.layout);
    this.#nowMs = state.nowMs;
  }

  /** `ledger`: refer to what earlier checkpoints of this process stored (incremental). */
  static begin(state: WindowState, ledger?: SnapshotLedger): SnapshotWriter {
    return new SnapshotWriter(state, ledger);
  }

  /** Aggregates this checkpoint encodes. */
  get encoding(): number {
    return this.#plan.length;
  }

  /** Aggregates referred to where earlier objects hold them. */
  get referring(): number {
    return this.#where.length - this.#plan.length;
  }

  /** Earlier objects this checkpoint refers to: they must be kept while it is the newest. */
  get references(): readonly string[] {
    return this.#objects;
  }

  /** Encodes marked aggregates in order for about `budgetMs`; true once all are encoded. */
  step(budgetMs: number): boolean {
    const until = performance.now() + budgetMs;
    while (this.#cursor < this.#plan.length) {
      const i = this.#cursor++;
      const copy = this.#copies[i];
      let encoded: Float64Array;
      if (copy === undefined) {
        this.#plan[i]!.pendingSnapshot = undefined;
        encoded = encodeAggregate(this.#plan[i]!);
      } else {
        encoded = encodeAggregate(copy);
        this.#copies[i] = undefined;
      }
      this.#offsets[i] = this.#bodies[this.#hot.has(i) ? 1 : 0].write(encoded);
      this.#lengths[i] = encoded.length;
      // After every aggregate: one may hold tens of thousands of rows (a day's running total).
      if (performance.now() >= until) break;
    }
    return this.#cursor >= this.#plan.length;
  }

  /**
   * Keeps a copy of a marked aggregate about to change (called by Aggregate), encoded in turn:
   * the aggregates a tick changes are the ones a checkpoint writes (open buckets, running
   * totals), so encoding them here would do most of the encoding inside that one tick.
   */
  capture(agg: Aggregate): void {
    agg.pendingSnapshot = undefined;
    this.#copies[agg.snapshotSlot] = agg.copy();
  }

  /** Unmarks whatever is not encoded yet (a checkpoint given up): nothing calls back any more. */
  release(): void {
    for (const agg of this.#plan) agg.pendingSnapshot = undefined;
  }

  /** The new object's bytes (header, then the encoded aggregates), once step() returned true. */
  chunks(): Uint8Array[] {
    if (this.#cursor < this.#plan.length) throw new Error('snapshot not fully encoded yet');
    const offsets = this.#offsets;
    const objectIndex = new Map(this.#objects.map((name, i) => [name, i + 2]));
    const locate = (i: number): Location => {
      const where = this.#where[i]!;
      if (typeof where === 'number')
        return [this.#hot.has(where) ? 1 : 0, offsets[where]!, this.#lengths[where]!];
      return [objectIndex.get(where.object)!, where.offset, where.length];
    };
    const header: SnapshotHeader = {
      format: FORMAT,
      layout: this.#layout,
      nowMs: this.#nowMs,
      dictionaries: this.#dictionaries,
      objects: ['', this.#hot.size > 0 ? COMPANION : '', ...this.#objects],
      scopes: this.#structure.map((scope) => ({
        id: scope.id,
        all: locate(scope.all),
        windows: scope.windows.map((w) => ({
          clock: w.clock,
          buckets: w.buckets.map(([index, i]) => [index, locate(i)] as const),
          running: locate(w.running),
        })),
      })),
    };
    return [headerLine(header), ...this.#bodies[0].chunks()];
  }

  /** What the store takes, once step() returned true: both objects' bytes and the references. */
  objects(): SnapshotObjects {
    return { chunks: this.chunks(), companion: this.companionChunks(), references: this.references };
  }

  /** The companion object's bytes (the running and all-time totals), or undefined without a ledger. */
  companionChunks(): Uint8Array[] | undefined {
    if (this.#hot.size === 0) return undefined;
    return [headerLine({ companion: true }), ...this.#bodies[1].chunks()];
  }

  /**
   * Gives the bodies' pages back for the next checkpoint to write into, once nothing reads the
   * chunks any more (stored, compression finished). Not calling it is safe: they are garbage.
   */
  releasePages(): void {
    for (const body of this.#bodies) body.release();
  }

  /**
   * The object from chunks() is stored as `object` and is now the newest: the aggregates it
   * holds that have not changed since `begin` are `saved` there, and the ledger keeps only the
   * objects this checkpoint refers to, and this one.
   */
  commit(object: string): void {
    const ledger = this.#ledger;
    const offsets = this.#offsets;
    if (ledger === undefined || this.#cursor < this.#plan.length)
      throw new Error('commit needs a ledger and a fully encoded snapshot');
    let size = 0;
    this.#plan.forEach((agg, i) => {
      const length = this.#lengths[i]!;
      if (this.#hot.has(i)) {
        if (agg.saved === this.#token) agg.saved = undefined;
        return;
      }
      size += length;
      if (agg.saved === this.#token) agg.saved = { object, offset: offsets[i]!, length };
    });
    const kept = new Set(this.#objects);
    for (const name of ledger.objects.keys()) if (!kept.has(name)) ledger.objects.delete(name);
    ledger.objects.set(object, size);
  }

  /**
   * The ledger's objects this checkpoint refers to: those holding saved aggregates, less the
   * emptiest ones while the figures no longer needed in the kept objects (garbage) exceed
   * maxGarbage times the state's size; the aggregates of the objects let go are written again.
   * So what a restart loads stays within (1 + maxGarbage) times the state.
   */
  #keptObjects(aggregates: readonly Aggregate[]): Set<string> {
    const ledger = this.#ledger;
    if (ledger === undefined) return new Set();
    const needed = new Map<string, number>();
    let state = 0;
    for (const agg of aggregates) {
      const saved = agg.saved;
      if (saved === undefined || !ledger.objects.has(saved.object)) {
        state += encodedSizeOf(agg);
        continue;
      }
      state += saved.length;
      needed.set(saved.object, (needed.get(saved.object) ?? 0) + saved.length);
    }
    const kept = [...needed].map(([name, live]) => ({ name, live, size: ledger.objects.get(name)! }));
    // Fullest first: the emptiest are let go first (the most garbage per float written again).
    kept.sort((a, b) => b.live / b.size - a.live / a.size);
    let garbage = 0;
    for (const o of kept) garbage += o.size - o.live;
    while (kept.length > 0 && garbage > ledger.maxGarbage * state) {
      const dropped = kept.pop()!;
      garbage -= dropped.size - dropped.live;
    }
    return new Set(kept.map((o) => o.name));
  }
}

/** The earlier objects a snapshot's newest object refers to (decodeSnapshot needs them too). */
export function snapshotReferences(newest: SnapshotBytes): string[] {
  return readObject(newest).header.objects?.slice(2) ?? [];
}

/** The name a snapshot's header gives its companion object (see SnapshotWriter): the store maps it to the real one. */
export const COMPANION = '+companion';

/** A JSON header line padded with spaces to a multiple of 8 bytes, so a body after it is 8-aligned. */
function headerLine(header: unknown): Uint8Array {
  const json = encoder.encode(JSON.stringify(header));
  const padded = new Uint8Array(Math.ceil((json.length + 1) / 8) * 8).fill(0x20);
  padded.set(json);
  padded[padded.length - 1] = 0x0a;
  return padded;
}

/**
 * Inverse of SnapshotWriter: the newest object and the earlier objects it refers to, by name,
 * each whole or in pieces. Throws SnapshotLayoutError for another window layout or format.
 */
export function decodeSnapshot(
  newest: SnapshotBytes,
  layout: WindowLayout,
  earlier: ReadonlyMap<string, SnapshotBytes> = new Map(),
): WindowState {
  const { header, body } = readObject(newest);
  if (header.format !== FORMAT || header.layout !== layoutFingerprint(layout)) {
    throw new SnapshotLayoutError(
      `snapshot layout ${header.layout} (format ${header.format}) differs from the configured ${layoutFingerprint(layout)} (format ${FORMAT})`,
    );
  }
  const bodies = header.objects.map((name, i) => {
    if (i === 0) return body;
    if (name === '') return Body.EMPTY;
    const bytes = earlier.get(name);
    if (bytes === undefined) throw new Error(`snapshot refers to object ${name}, which was not given`);
    return readObject(bytes).body;
  });
  const reader: FloatReader = {
    floats: EMPTY_FLOATS,
    at: 0,
    categories: remap(header.dictionaries.categories, KEYS.categories),
    products: remap(header.dictionaries.products, KEYS.products),
    customers: remap(header.dictionaries.customers, KEYS.customers),
  };
  const read = (at: Location, into: Aggregate, oneBlock = false) => {
    const [object, offset, length] = at;
    const body = bodies[object];
    if (body === undefined) throw new Error(`snapshot part at ${object}/${offset}: no object ${object}`);
    reader.floats = body.floats(offset, length, object);
    reader.at = 0;
    readAggregate(reader, into, oneBlock);
    if (reader.at !== length)
      throw new Error(`snapshot part at ${object}/${offset} is ${reader.at} floats, not ${length}`);
  };
  const state = new WindowState(layout, header.nowMs);
  for (const s of header.scopes) {
    const scope = state.scope(s.id);
    read(s.all, scope.all);
    s.windows.forEach((data, i) => {
      const window = scope.windows[i] as RollingWindow;
      window.clock = data.clock;
      for (const [index, at] of data.buckets) {
        const bucket = new Aggregate();
        read(at, bucket, true);
        window.buckets.set(index, bucket);
      }
      read(data.running, window.running);
    });
  }
  return state;
}

const EMPTY_FLOATS = new Float64Array(0);

/**
 * An object's body (what follows its header line) as float64s, held in consecutive pieces of
 * bytes: an aggregate lying in one piece at an 8-byte-aligned place is read in place, through a
 * view; one across two pieces (or misaligned) is copied out first.
 */
class Body {
  static readonly EMPTY = new Body([], 0);
  readonly #pieces: readonly Uint8Array[];
  /** Where each piece starts, in bytes from the start of the body. */
  readonly #starts: number[] = [];
  readonly #bytes: number;
  /** The piece the last read started in (reads go mostly forward). */
  #last = 0;

  /** `pieces` hold the whole object; its body starts at byte `start` of the first. */
  constructor(pieces: readonly Uint8Array[], start: number) {
    const held: Uint8Array[] = [];
    let at = 0;
    for (const [i, piece] of pieces.entries()) {
      const part = i === 0 ? piece.subarray(start) : piece;
      if (part.length === 0) continue;
      held.push(part);
      this.#starts.push(at);
      at += part.length;
    }
    this.#pieces = held;
    this.#bytes = at;
  }

  /** `length` float64s from float `offset` of the body (of object `object`, for errors). */
  floats(offset: number, length: number, object: number): Float64Array {
    const from = offset * 8;
    const to = from + length * 8;
    if (
      !(
        Number.isInteger(offset) &&
        Number.isInteger(length) &&
        offset >= 0 &&
        length >= 0 &&
        to <= this.#bytes
      )
    )
      throw new Error(`snapshot part at ${object}/${offset} (${length} floats) lies beyond its object's end`);
    if (length === 0) return EMPTY_FLOATS;
    const i = this.#pieceAt(from);
    const piece = this.#pieces[i]!;
    const inPiece = from - this.#starts[i]!;
    const byteOffset = piece.byteOffset + inPiece;
    if (inPiece + length * 8 <= piece.length && byteOffset % 8 === 0)
      return new Float64Array(piece.buffer, byteOffset, length);
    const out = new Float64Array(length);
    const bytes = new Uint8Array(out.buffer);
    let written = 0;
    for (let j = i; written < bytes.length; j++) {
      const part = this.#pieces[j]!;
      const skip = j === i ? inPiece : 0;
      const n = Math.min(part.length - skip, bytes.length - written);
      bytes.set(part.subarray(skip, skip + n), written);
      written += n;
    }
    return out;
  }

  #pieceAt(byte: number): number {
    const starts = this.#starts;
    let i = this.#last;
    if (!(starts[i]! <= byte && (i + 1 === starts.length || byte < starts[i + 1]!))) {
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid]! <= byte) lo = mid;
        else hi = mid - 1;
      }
      i = lo;
    }
    this.#last = i;
    return i;
  }
}

/** An object's header and its body. The header line must lie in the first piece (else the pieces are joined). */
function readObject(bytes: SnapshotBytes): { header: SnapshotHeader; body: Body } {
  let pieces: readonly Uint8Array[] = bytes instanceof Uint8Array ? [bytes] : bytes;
  let newline = pieces.length === 0 ? -1 : pieces[0]!.indexOf(0x0a);
  if (newline < 0 && pieces.length > 1) {
    pieces = [concat(pieces)];
    newline = pieces[0]!.indexOf(0x0a);
  }
  if (newline < 0) throw new Error('snapshot has no header line');
  const header = JSON.parse(decoder.decode(pieces[0]!.subarray(0, newline))) as SnapshotHeader;
  return { header, body: new Body(pieces, newline + 1) };
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

/** Float64s of one encoded table: capacity, n, format, then its rows in format 1 or 0. */
function tableSize(t: FigureTable, compact: boolean): number {
  return 3 + (compact ? Math.ceil((t.live * t.stride) / 2) + t.live : t.live * (1 + t.stride));
}

/** encodeAggregate's output, reused: grown to the largest aggregate encoded so far. */
let scratch = new Float64Array(1 << 16);

/**
 * Bytes of one page of a body: the compression frame size (snapshot-compression.ts), so each
 * full page is compressed as a frame of its own, without being copied into one.
 */
export const SNAPSHOT_PAGE_BYTES = 4 * 1024 * 1024;
const PAGE_FLOATS = SNAPSHOT_PAGE_BYTES / 8;
/** Pages kept for the next checkpoint: a steady state writes about as much each time. */
const PAGE_POOL_MAX = 16;
const pagePool: Float64Array[] = [];

/**
 * An object's body as it is written: float64 pages of SNAPSHOT_PAGE_BYTES, filled in order (an
 * aggregate may span two), taken from a pool of pages earlier checkpoints gave back. A
 * checkpoint so allocates no memory for its body in a steady state, where it used to allocate
 * it three times over (per aggregate, joined into frames, then compressed).
 */
class BodyPages {
  readonly #pages: Float64Array[] = [];
  /** Floats written so far: the offset of the next write. */
  #size = 0;

  /** Appends `part`; returns its offset in the body, in float64s. */
  write(part: Float64Array): number {
    const offset = this.#size;
    let from = 0;
    while (from < part.length) {
      const at = this.#size % PAGE_FLOATS;
      if (at === 0) this.#pages.push(pagePool.pop() ?? new Float64Array(PAGE_FLOATS));
      const n = Math.min(part.length - from, PAGE_FLOATS - at);
      this.#pages[this.#pages.length - 1]!.set(part.subarray(from, from + n), at);
      from += n;
      this.#size += n;
    }
    return offset;
  }

  /** The body's bytes, a page each (the last one cut to what was written). */
  chunks(): Uint8Array[] {
    return this.#pages.map((page, i) => {
      const floats = i < this.#pages.length - 1 ? PAGE_FLOATS : this.#size - i * PAGE_FLOATS;
      return new Uint8Array(page.buffer, page.byteOffset, floats * 8);
    });
  }

  release(): void {
    while (this.#pages.length > 0 && pagePool.length < PAGE_POOL_MAX) pagePool.push(this.#pages.pop()!);
    this.#pages.length = 0;
    this.#size = 0;
  }
}

/** encodeAggregate's size when every table takes format 1 (the usual case; format 0 is larger). */
function encodedSizeOf(a: Aggregate): number {
  return 7 + tableSize(a.categories, true) + tableSize(a.products, true) + tableSize(a.customers, true);
}

/**
 * One aggregate as float64s: a view of a scratch array reused by every call (valid until the
 * next one), which the caller copies into its pages. One array per aggregate made a checkpoint
 * allocate its whole size outside the heap in small pieces, then again to join them into frames:
 * each ~64 MiB of that starts a full garbage collection, several per checkpoint (measured).
 */
function encodeAggregate(a: Aggregate): Float64Array {
  const tables = [a.categories, a.products, a.customers];
  const compact = tables.map(fitsInt32);
  let size = 7;
  tables.forEach((t, i) => {
    size += tableSize(t, compact[i]!);
  });
  if (scratch.length < size) scratch = new Float64Array(2 ** Math.ceil(Math.log2(size)));
  const out = scratch.subarray(0, size);
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
  const ints = new Int32Array(out.buffer, out.byteOffset + intsAt * 8, Math.ceil((n * stride) / 2) * 2);
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
  // The int32 that pads an odd count to 8 bytes: zero, not what the scratch array held.
  if (w % 2 === 1) ints[w] = 0;
  return losAt + n;
}

interface FloatReader {
  floats: Float64Array;
  at: number;
  readonly categories: Int32Array;
  readonly products: Int32Array;
  readonly customers: Int32Array;
}

/**
 * Reads one aggregate at r.at into `a` (empty). `oneBlock`: its tables' arrays are carved out of
 * one block sized from the three tables' row counts (buckets, which do not grow once closed);
 * otherwise each table is reserved on its own (running and all-time totals, which grow).
 */
function readAggregate(r: FloatReader, a: Aggregate, oneBlock: boolean): void {
  const f = r.floats;
  a.sales = f[r.at++]!;
  a.returns = f[r.at++]!;
  a.units = f[r.at++]!;
  a.gross.lo = f[r.at++]!;
  a.gross.hi = f[r.at++]!;
  a.returned.lo = f[r.at++]!;
  a.returned.hi = f[r.at++]!;
  if (oneBlock) {
    const categories = tableRows(f, r.at, KEY_STRIDE);
    const products = tableRows(f, categories.end, KEY_STRIDE);
    const customers = tableRows(f, products.end, CUSTOMER_STRIDE);
    a.reserveInOneBlock(categories.n, products.n, customers.n);
  }
  readTable(r, a.categories, r.categories, !oneBlock);
  readTable(r, a.products, r.products, !oneBlock);
  readTable(r, a.customers, r.customers, !oneBlock);
}

/** Float64s a table takes after its 3 heads, in format 1 (else 0). */
function tableBody(n: number, stride: number, format: number): number {
  return format === 0 ? n * (1 + stride) : Math.ceil((n * stride) / 2) + n;
}

/** The process's key id of a snapshot key id (its place in the snapshot's dictionary). */
function keyOf(ids: Int32Array, id: number): number {
  if (!(id >= 0 && id < ids.length)) throw new Error(`snapshot key id ${id} is not in its dictionary`);
  return ids[id]!;
}

/** A table's row count, from its head at `at`, and where the next table starts. */
function tableRows(f: Float64Array, at: number, stride: number): { n: number; end: number } {
  const n = f[at + 1]!;
  const end = at + 3 + tableBody(n, stride, f[at + 2]!);
  if (!(Number.isInteger(n) && n >= 0 && end <= f.length))
    throw new Error(`snapshot table of ${n} rows runs past its part`);
  return { n, end };
}

/** One table at r.at into `t` (empty): reserved here if `reserve`, else already sized for its rows. */
function readTable(r: FloatReader, t: FigureTable, ids: Int32Array, reserve: boolean): void {
  const f = r.floats;
  const capacity = f[r.at]!;
  const { n } = tableRows(f, r.at, t.stride);
  const format = f[r.at + 2]!;
  r.at += 3;
  const stride = t.stride;
  if (reserve) t.reserve(n, capacity);
  const rows = t.rows;
  if (format === 0) {
    for (let e = 0; e < n; e++) {
      const o = t.slot(keyOf(ids, f[r.at++]!));
      for (let c = 0; c < stride; c++) rows[o + c] = f[r.at + c]!;
      r.at += stride;
    }
  } else {
    const ints = new Int32Array(f.buffer, f.byteOffset + r.at * 8, n * stride);
    const losAt = r.at + Math.ceil((n * stride) / 2);
    // Each row: the key id, then every column but lo as int32s; the lo values after all rows.
    // Unrolled per stride (a product/category row, else a customer row: the only two).
    if (stride === KEY_STRIDE) {
      for (let e = 0, q = 0; e < n; e++, q += 6) {
        const o = t.slot(keyOf(ids, ints[q]!));
        rows[o] = ints[q + 1]!;
        rows[o + 1] = ints[q + 2]!;
        rows[o + 2] = ints[q + 3]!;
        rows[o + 3] = ints[q + 4]!;
        rows[o + 4] = f[losAt + e]!;
        rows[o + 5] = ints[q + 5]!;
      }
    } else {
      for (let e = 0, q = 0; e < n; e++, q += CUSTOMER_STRIDE) {
        const o = t.slot(keyOf(ids, ints[q]!));
        rows[o] = ints[q + 1]!;
        rows[o + 1] = ints[q + 2]!;
        rows[o + 2] = f[losAt + e]!;
        rows[o + 3] = ints[q + 3]!;
      }
    }
    r.at = losAt + n;
  }
  t.live += n;
}
