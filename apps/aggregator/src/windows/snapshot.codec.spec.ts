import type { SaleInput } from '@tally/contracts';
import { makeStreamSale } from '@tally/testing';
import { describe, expect, it } from 'vitest';
import { contributionOf } from './sale-contribution.js';
import {
  COMPANION,
  decodeSnapshot,
  encodeSnapshot,
  SNAPSHOT_PAGE_BYTES,
  SnapshotLedger,
  SnapshotWriter,
  stateFigures,
} from './snapshot.codec.js';
import { windowLayout } from './window-spec.js';
import { WindowState } from './window-state.js';

const T0 = Date.UTC(2026, 0, 15);
const SEC = 1_000;
const MIN = 60 * SEC;
const LAYOUT = windowLayout(60, 2 * MIN);

/** Three branches, many keys, returns: aggregates of many sizes. */
function busyState(): WindowState {
  const now = T0 + 20 * MIN;
  const state = new WindowState(LAYOUT, now);
  for (let i = 0; i < 300; i++) {
    const received = now - (i % 40) * 29 * SEC;
    const overrides: Partial<SaleInput> = {
      occurredAt: new Date(received - (i % 3) * SEC).toISOString(),
      branchId: `b${i % 3}`,
      customerId: i % 6 === 0 ? undefined : `c${i % 37}`,
      lines: [
        {
          productId: `p${i % 23}`,
          category: `cat${i % 4}`,
          quantity: 1 + (i % 3),
          unitPrice: `${i}.${i % 10}5`,
        },
        { productId: `p${(i * 7) % 31}`, category: `cat${i % 5}`, quantity: 1, unitPrice: '2.50' },
      ],
    };
    if (i % 5 === 0) Object.assign(overrides, { kind: 'return', originalSaleId: `orig-${i}` });
    state.apply(contributionOf(makeStreamSale(overrides, received)));
  }
  state.flush();
  return state;
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(chunks));
}

/** `bytes` cut into consecutive pieces of `size` bytes, each in a buffer of its own. */
function pieces(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.slice(at, at + size));
  return out;
}

/** The object's header line parsed, changed by `edit`, and written back padded to 8 bytes. */
function withHeader(bytes: Uint8Array, edit: (header: { scopes: { all: number[] }[] }) => void): Uint8Array {
  const newline = bytes.indexOf(0x0a);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(0, newline)));
  edit(header);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const line = new Uint8Array(Math.ceil((json.length + 1) / 8) * 8).fill(0x20);
  line.set(json);
  line[line.length - 1] = 0x0a;
  return concat([line, bytes.subarray(newline + 1)]);
}

describe('decodeSnapshot of objects in pieces', () => {
  it('reads an object given in pieces (cut between, inside and at odd bytes of aggregates) to the same figures as the whole object', () => {
    const state = busyState();
    const whole = concat(encodeSnapshot(state));
    const expected = stateFigures(state);
    expect(stateFigures(decodeSnapshot(whole, LAYOUT))).toEqual(expected);
    // 8-aligned cuts (as frames are) and odd ones (every aggregate across a cut is copied out);
    // 5 bytes: even the header line spans pieces.
    for (const size of [whole.length - 8, 4096, 1000, 333, 5]) {
      expect(stateFigures(decodeSnapshot(pieces(whole, size), LAYOUT))).toEqual(expected);
    }
  });

  it('reads a piece that sits at an odd place in its buffer by copying it, not misreading it', () => {
    const state = busyState();
    const whole = concat(encodeSnapshot(state));
    const shifted = new Uint8Array(whole.length + 3).subarray(3);
    shifted.set(whole);
    expect(stateFigures(decodeSnapshot([shifted], LAYOUT))).toEqual(stateFigures(state));
  });

  it('reads an incremental snapshot whose earlier object and companion are given in pieces', () => {
    const state = busyState();
    const ledger = new SnapshotLedger(1);
    const first = SnapshotWriter.begin(state, ledger);
    first.step(Number.POSITIVE_INFINITY);
    const earlier = concat(first.chunks());
    first.commit('one');
    state.apply(
      contributionOf(
        makeStreamSale(
          { occurredAt: new Date(state.nowMs - SEC).toISOString(), branchId: 'b1' },
          state.nowMs,
        ),
      ),
    );
    state.flush();
    const second = SnapshotWriter.begin(state, ledger);
    second.step(Number.POSITIVE_INFINITY);
    const newest = concat(second.chunks());
    const companion = concat(second.companionChunks()!);
    expect(second.references).toEqual(['one']);
    const restored = decodeSnapshot(
      pieces(newest, 512),
      LAYOUT,
      new Map([
        ['one', pieces(earlier, 1024)],
        [COMPANION, pieces(companion, 96)],
      ]),
    );
    expect(stateFigures(restored)).toEqual(stateFigures(state));
  });

  it('writes a body of many pages (aggregates cut across pages) and reuses the pages given back, both read to the same figures', () => {
    // 15,000 customers and products in one branch: every aggregate holding them all is
    // ~105,000 float64s, so the bodies run over several 4 MiB pages and parts straddle pages.
    const now = T0 + 20 * MIN;
    const state = new WindowState(LAYOUT, now);
    const sale = (i: number) =>
      contributionOf(
        makeStreamSale(
          {
            saleId: `s${i}`,
            occurredAt: new Date(now - (i % 10) * SEC).toISOString(),
            branchId: 'b0',
            customerId: `c${i}`,
            lines: [{ productId: `p${i}`, category: `cat${i % 7}`, quantity: 1, unitPrice: '1.25' }],
          },
          now,
        ),
      );
    for (let i = 0; i < 15_000; i++) state.apply(sale(i));
    const ledger = new SnapshotLedger();
    const first = SnapshotWriter.begin(state, ledger);
    first.step(Number.POSITIVE_INFINITY);
    const chunks = first.chunks();
    expect(chunks.filter((c) => c.length === SNAPSHOT_PAGE_BYTES).length).toBeGreaterThanOrEqual(2);
    const firstBytes = concat(chunks);
    const firstCompanion = concat(first.companionChunks()!);
    const firstFigures = stateFigures(state);
    first.commit('one');
    first.releasePages();

    for (let i = 15_000; i < 15_500; i++) state.apply(sale(i));
    const second = SnapshotWriter.begin(state, ledger);
    second.step(Number.POSITIVE_INFINITY);
    const restored = decodeSnapshot(
      concat(second.chunks()),
      LAYOUT,
      new Map([
        ['one', firstBytes],
        [COMPANION, concat(second.companionChunks()!)],
      ]),
    );
    expect(stateFigures(restored)).toEqual(stateFigures(state));
    expect(stateFigures(decodeSnapshot(firstBytes, LAYOUT, new Map([[COMPANION, firstCompanion]])))).toEqual(
      firstFigures,
    );
  }, 60_000);

  it('refuses a part that its header places beyond the end of its object', () => {
    const whole = concat(encodeSnapshot(busyState()));
    const broken = withHeader(whole, (header) => {
      header.scopes[0]!.all[1] = whole.length;
    });
    expect(() => decodeSnapshot(pieces(broken, 4096), LAYOUT)).toThrow(/beyond its object's end/);
  });

  it('refuses a part whose length in the header does not match what it holds', () => {
    const whole = concat(encodeSnapshot(busyState()));
    const broken = withHeader(whole, (header) => {
      header.scopes[0]!.all[2]! += 1;
    });
    expect(() => decodeSnapshot(broken, LAYOUT)).toThrow(/floats, not/);
  });
});
