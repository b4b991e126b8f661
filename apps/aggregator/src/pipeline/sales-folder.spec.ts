import { encodeEnvelope, type Sale } from '@tally/contracts';
import type { InboundMessage } from '@tally/nats';
import { makeStreamSale } from '@tally/testing';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { AggregatorMetrics } from '../metrics/aggregator.metrics.js';
import { windowLayout } from '../windows/window-spec.js';
import { WindowState } from '../windows/window-state.js';
import { LAND_SETTLE_MS, SalesFolder } from './sales-folder.js';

const NOW = Date.parse('2026-11-21T12:00:00Z');

/** A strict fake: only what the folder may touch; settling a message here is a bug. */
function message(seq: number, data: Uint8Array): InboundMessage {
  const refuse = () => {
    throw new Error('the folder must not settle messages: the service acks after the batch sinks');
  };
  return {
    data,
    subject: 'sales.b1',
    seq,
    headers: { get: (key: string) => (key === 'Tally-Request-Id' ? `req-${seq}` : '') },
    info: { deliveryCount: 1, stream: 'SALES', pending: 0 },
    ack: refuse,
    nak: refuse,
    working: refuse,
    term: refuse,
  };
}

function folder(appliedThrough = 0): { folder: SalesFolder; metrics: AggregatorMetrics } {
  const metrics = new AggregatorMetrics();
  const state = new WindowState(windowLayout(60, 300_000), NOW);
  return { folder: new SalesFolder(state, appliedThrough, metrics, pino({ level: 'silent' })), metrics };
}

const sale = (saleId: string): Sale =>
  makeStreamSale({ saleId, occurredAt: new Date(NOW - 1000).toISOString() }, NOW);

describe('SalesFolder', () => {
  it('a long replay lands what it staged every 1,000 messages, with the clock standing still', () => {
    const { folder: f } = folder();
    for (let seq = 1; seq <= 999; seq++) f.replay(message(seq, encodeEnvelope([sale(`r${seq}`)])));
    expect(f.windows.landedKeyCount).toBe(0);
    f.replay(message(1000, encodeEnvelope([sale('r1000')])));
    expect(f.windows.landedKeyCount).toBeGreaterThan(0);
    expect(f.windows.view('all')!.sales).toBe(1000);
    expect(f.appliedThrough).toBe(1000);
  });

  it('before a read, lands everything staged (the current second too) a slice at a time, letting other work run between slices', async () => {
    const { folder: f } = folder();
    // Four branches × three seconds staged: with 0 ms slices each slice lands one branch's second.
    let seq = 0;
    for (const second of [3, 2, 1])
      for (const branch of ['b1', 'b2', 'b3', 'b4']) {
        const s = makeStreamSale(
          {
            saleId: `x${++seq}`,
            branchId: branch,
            occurredAt: new Date(NOW - second * 1000 + 1).toISOString(),
          },
          NOW,
        );
        f.fold(message(seq, encodeEnvelope([s])), 'applied', NOW);
      }
    expect(f.windows.landedKeyCount).toBe(0);
    let between = 0;
    let running = true;
    const other = () => {
      if (!running) return;
      between++;
      setImmediate(other);
    };
    setImmediate(other);
    await f.landForRead(0);
    running = false;
    const landed = f.windows.landedKeyCount;
    expect(between).toBeGreaterThanOrEqual(10);
    // Nothing was left for the read's own landing: the figures read now are those landed.
    expect(f.windows.view('all')!.sales).toBe(12);
    expect(f.windows.landedKeyCount).toBe(landed);
  });

  it('lands a staged second once it has settled (LAND_SETTLE_MS after it ended), a slice at a time, and everything before a read', () => {
    const { folder: f } = folder();
    f.fold(message(1, encodeEnvelope([sale('s1')])), 'applied', NOW);
    // The sale's second (NOW - 1 s) is over at NOW but may still get late sales: it stays staged...
    f.land();
    expect(f.windows.landedKeyCount).toBe(0);
    // ...until the clock is LAND_SETTLE_MS past its end.
    f.tick(NOW + LAND_SETTLE_MS);
    f.land();
    expect(f.windows.landedKeyCount).toBeGreaterThan(0);
    const current = makeStreamSale(
      { saleId: 's2', occurredAt: new Date(NOW + LAND_SETTLE_MS).toISOString() },
      NOW + LAND_SETTLE_MS,
    );
    const before = f.windows.landedKeyCount;
    f.fold(message(2, encodeEnvelope([current])), 'applied', NOW + LAND_SETTLE_MS);
    // Its second is the clock's, still gathering sales: it stays staged...
    f.land();
    expect(f.windows.landedKeyCount).toBe(before);
    // ...until a read, which lands everything first.
    expect(f.windows.view('1m')!.sales).toBe(2);
  });

  it('folds each message once: a sequence at or below the applied one is a redelivery and is skipped', async () => {
    const { folder: f, metrics } = folder();
    const m1 = message(1, encodeEnvelope([sale('s1'), sale('s2')]));
    const m2 = message(2, encodeEnvelope([sale('s3')]));
    expect(f.fold(m1, 'applied', NOW)).toHaveLength(2);
    expect(f.fold(m2, 'applied', NOW)).toHaveLength(1);
    // The same messages again (redelivered after a crash): handed on for the sinks, not counted.
    expect(f.fold(m1, 'applied', NOW).map((s) => s.sale.saleId)).toEqual(['s1', 's2']);
    expect(f.windows.view('all')!.sales).toBe(3);
    expect(f.appliedThrough).toBe(2);
    expect((await metrics.messages.get()).values).toContainEqual(
      expect.objectContaining({ labels: { outcome: 'skipped' }, value: 1 }),
    );
  });

  it('starts from a snapshot sequence: messages up to it are already in the figures', () => {
    const { folder: f } = folder(5);
    f.fold(message(5, encodeEnvelope([sale('old')])), 'replayed', NOW);
    f.fold(message(6, encodeEnvelope([sale('new')])), 'replayed', NOW);
    expect(f.windows.view('all')!.sales).toBe(1);
    expect(f.appliedThrough).toBe(6);
  });

  it('carries the request id and stream sequence of each sale for the batch sinks', () => {
    const { folder: f } = folder();
    const [folded] = f.fold(message(7, encodeEnvelope([sale('s7')])), 'applied', NOW);
    expect(folded).toMatchObject({ streamSeq: 7, requestId: 'req-7', sale: { saleId: 's7' } });
  });

  it('an undecodable message is counted and passed over without stopping the fold', async () => {
    const { folder: f, metrics } = folder();
    expect(f.fold(message(1, new TextEncoder().encode('not json')), 'applied', NOW)).toEqual([]);
    f.fold(message(2, encodeEnvelope([sale('after')])), 'applied', NOW);
    expect(f.windows.view('all')!.sales).toBe(1);
    expect(f.appliedThrough).toBe(2);
    expect((await metrics.messages.get()).values).toContainEqual(
      expect.objectContaining({ labels: { outcome: 'undecodable' }, value: 1 }),
    );
  });

  it('bumps its version when sales are folded and when the windows move a bucket, not on every tick', () => {
    const { folder: f } = folder();
    const v0 = f.version;
    f.tick(NOW + 10); // same 1 s bucket: nothing moved
    expect(f.version).toBe(v0);
    f.tick(NOW + 1000);
    expect(f.version).toBe(v0 + 1);
    f.fold(message(1, encodeEnvelope([sale('s1')])), 'applied', NOW + 1000);
    expect(f.version).toBe(v0 + 2);
  });
});
