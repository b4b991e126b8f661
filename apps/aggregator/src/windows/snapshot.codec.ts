import { Aggregate, type CustomerFigures, type KeyFigures } from './aggregate.js';
import { RollingWindow } from './rolling-window.js';
import { layoutFingerprint } from './window-spec.js';
import { WindowState } from './window-state.js';

/**
 * The window state as plain JSON-able data, and back. Aggregates are flat arrays (a key's
 * figures follow its name) to keep snapshots of millions of entries compact and quick to parse.
 * Running totals are not stored: they are rebuilt from the buckets on restore.
 */
export interface StateSnapshot {
  readonly format: 1;
  /** layoutFingerprint of the layout the state was built with. */
  readonly layout: string;
  readonly nowMs: number;
  readonly scopes: readonly ScopeSnapshot[];
}

interface ScopeSnapshot {
  readonly id: string;
  readonly all: AggregateData;
  /** Per window, in layout order: the clock and the [index, aggregate] buckets. */
  readonly windows: readonly {
    readonly clock: number;
    readonly buckets: readonly [number, AggregateData][];
  }[];
}

/** [sales, returns, units, grossLo, grossHi, returnedLo, returnedHi, categories, products, customers] */
type AggregateData = [number, number, number, number, number, number, number, KeyData, KeyData, CustomerData];
/** key, refs, lines, sales, units, revenueLo, revenueHi, key, ... */
type KeyData = (string | number)[];
/** key, refs, sales, revenueLo, revenueHi, key, ... */
type CustomerData = (string | number)[];

export class SnapshotLayoutError extends Error {
  override readonly name = 'SnapshotLayoutError';
}

export function snapshotOf(state: WindowState): StateSnapshot {
  const scopes: ScopeSnapshot[] = [];
  for (const [id, scope] of state.scopes) {
    scopes.push({
      id,
      all: encodeAggregate(scope.all),
      windows: scope.windows.map((w) => ({
        clock: w.clock,
        buckets: [...w.buckets].map(([index, b]) => [index, encodeAggregate(b)]),
      })),
    });
  }
  return { format: 1, layout: layoutFingerprint(state.layout), nowMs: state.nowMs, scopes };
}

/** Rebuilds a state; throws SnapshotLayoutError if it was taken under another window layout. */
export function restoreState(snapshot: StateSnapshot, layout: WindowState['layout']): WindowState {
  if (snapshot.format !== 1 || snapshot.layout !== layoutFingerprint(layout)) {
    throw new SnapshotLayoutError(
      `snapshot layout ${snapshot.layout} differs from the configured ${layoutFingerprint(layout)}`,
    );
  }
  const state = new WindowState(layout, snapshot.nowMs);
  for (const s of snapshot.scopes) {
    const scope = state.scope(s.id);
    scope.all.merge(decodeAggregate(s.all), 1);
    s.windows.forEach((data, i) => {
      const window = scope.windows[i] as RollingWindow;
      window.clock = data.clock;
      for (const [index, agg] of data.buckets) window.buckets.set(index, decodeAggregate(agg));
      window.recomputeRunning();
    });
  }
  return state;
}

function encodeAggregate(a: Aggregate): AggregateData {
  return [
    a.sales,
    a.returns,
    a.units,
    a.gross.lo,
    a.gross.hi,
    a.returned.lo,
    a.returned.hi,
    encodeKeys(a.categories),
    encodeKeys(a.products),
    encodeCustomers(a.customers),
  ];
}

function encodeKeys(map: Map<string, KeyFigures>): KeyData {
  const out: KeyData = [];
  for (const [k, f] of map) out.push(k, f.refs, f.lines, f.sales, f.units, f.lo, f.hi);
  return out;
}

function encodeCustomers(map: Map<string, CustomerFigures>): CustomerData {
  const out: CustomerData = [];
  for (const [k, f] of map) out.push(k, f.refs, f.sales, f.lo, f.hi);
  return out;
}

function decodeAggregate(d: AggregateData): Aggregate {
  const a = new Aggregate();
  [a.sales, a.returns, a.units, a.gross.lo, a.gross.hi, a.returned.lo, a.returned.hi] = d;
  const [, , , , , , , cats, prods, custs] = d;
  decodeKeys(cats, a.categories);
  decodeKeys(prods, a.products);
  for (let i = 0; i < custs.length; i += 5) {
    a.customers.set(custs[i] as string, {
      refs: custs[i + 1] as number,
      sales: custs[i + 2] as number,
      lo: custs[i + 3] as number,
      hi: custs[i + 4] as number,
    });
  }
  return a;
}

function decodeKeys(data: KeyData, into: Map<string, KeyFigures>): void {
  for (let i = 0; i < data.length; i += 7) {
    into.set(data[i] as string, {
      refs: data[i + 1] as number,
      lines: data[i + 2] as number,
      sales: data[i + 3] as number,
      units: data[i + 4] as number,
      lo: data[i + 5] as number,
      hi: data[i + 6] as number,
    });
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The snapshot as bytes: newline-delimited JSON, a header line then one line per scope. One
 * JSON string for the whole state would hit V8's string limit (~512 MiB) on a large state; a
 * line per scope keeps every string to one scope's size.
 */
export function encodeSnapshot(state: WindowState): Uint8Array {
  const { scopes, ...header } = snapshotOf(state);
  const parts = [encoder.encode(`${JSON.stringify(header)}\n`)];
  for (const scope of scopes) parts.push(encoder.encode(`${JSON.stringify(scope)}\n`));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Inverse of encodeSnapshot; throws SnapshotLayoutError for another window layout. */
export function decodeSnapshot(bytes: Uint8Array, layout: WindowState['layout']): WindowState {
  const lines: string[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 10) {
      lines.push(decoder.decode(bytes.subarray(start, i)));
      start = i + 1;
    }
  }
  const [header, ...scopes] = lines;
  if (header === undefined) throw new Error('empty snapshot');
  const snapshot = { ...JSON.parse(header), scopes: scopes.map((line) => JSON.parse(line) as ScopeSnapshot) };
  return restoreState(snapshot as StateSnapshot, layout);
}
