import type { SaleSubmission } from '@tally/contracts';
import { describe, expect, it } from 'vitest';
import { loadDemoCatalog, sampleCatalogFiles } from '../catalog/demo-catalog.loader.js';
import { BasketSimulator, lineNetUnits, netUnits, type SimulatedSale } from './basket-simulator.js';
import type { SubmitOutcome } from './ingest.client.js';
import { TrafficGenerator } from './traffic.generator.js';

const { store } = await loadDemoCatalog(sampleCatalogFiles());

describe('the traffic generator', () => {
  it('keeps as reference only what ingest acknowledged (accepted or duplicate), with exact net revenue', async () => {
    const simulator = new BasketSimulator({ runId: 'r', seed: 3, catalog: store });
    const sent: SaleSubmission[] = [];
    const answers: SubmitOutcome['status'][] = ['accepted', 'duplicate', 'rejected', 'failed'];
    const traffic = new TrafficGenerator(
      () => simulator.next(),
      async (sale): Promise<SubmitOutcome> => {
        const status = answers[sent.length % answers.length]!;
        sent.push(sale);
        if (status === 'accepted' || status === 'duplicate') {
          return { status, attempts: status === 'duplicate' ? 2 : 1 };
        }
        return status === 'rejected'
          ? { status, attempts: 1, problem: 'HTTP 422 /lines/0/quantity maximum', rules: ['maximum'] }
          : { status, attempts: 1, problem: 'HTTP 503' };
      },
      { rate: 10_000, total: 40 },
    );
    const stats = await traffic.run(() => false);
    const acknowledged = sent.filter((_, i) => i % 4 < 2);
    expect(stats).toMatchObject({
      sent: 40,
      acknowledged: 20,
      rejected: 10,
      failed: 10,
      retries: 10,
      unexpectedRejections: 10,
    });
    expect(stats.tally).toMatchObject({
      count: 20,
      netUnits: acknowledged.reduce((sum, s) => sum + netUnits(s), 0n),
    });
    expect(stats.rejectedByRule).toEqual(new Map([['maximum', 10]]));
    expect(stats.problems).toHaveLength(5);
    expect(stats.problems[0]).toMatch(/^r-3 rejected: HTTP 422/);
    expect(stats.problems[1]).toMatch(/^r-4 failed: HTTP 503/);
  });

  it('sums each acknowledged line into the category it must be stored with, counting those sent without one', async () => {
    const sales: SimulatedSale[] = [
      {
        sale: sale('a', 'sale', [
          { productId: 'P001', quantity: 1, unitPrice: '1.15' },
          { productId: 'P002', category: 'bakery', quantity: 1, unitPrice: '3.40', discount: '0.30' },
        ]),
        categories: ['dairy', 'bakery'],
      },
      {
        sale: sale('b', 'return', [{ productId: 'P001', quantity: 1, unitPrice: '1.15' }]),
        categories: ['dairy'],
      },
      // Refused: in no category.
      {
        sale: sale('c', 'sale', [{ productId: 'P004', quantity: 2, unitPrice: '1.79' }]),
        categories: ['produce'],
      },
    ];
    let next = 0;
    const traffic = new TrafficGenerator(
      () => sales[next++]!,
      async (s): Promise<SubmitOutcome> =>
        s.saleId === 'c'
          ? { status: 'rejected', attempts: 1, problem: 'HTTP 422', rules: ['max-units-per-product'] }
          : { status: 'accepted', attempts: 1 },
      { rate: 10_000, total: 3 },
    );
    const stats = await traffic.run(() => false);
    expect(stats.categories).toEqual(
      new Map([
        ['dairy', { lines: 2, withoutCategory: 2, netUnits: 0n }],
        ['bakery', { lines: 1, withoutCategory: 0, netUnits: 31_000n }],
      ]),
    );
    expect(stats.tally).toEqual({
      count: 2,
      netUnits: 31_000n,
      categories: new Map([
        ['dairy', 0n],
        ['bakery', 31_000n],
      ]),
    });
    expect(lineNetUnits(sales[0]!.sale)).toEqual([11_500n, 31_000n]);
  });

  it('tells deliberately bad receipts refused by their rule from those accepted or refused for something else', async () => {
    const bad = (id: string, breaks: SimulatedSale['breaks']): SimulatedSale => ({
      sale: sale(id, 'sale', [{ productId: 'P001', category: 'dairy', quantity: 1, unitPrice: '1.15' }]),
      categories: ['dairy'],
      breaks,
    });
    const sales = [
      bad('u1', 'unknown-product'),
      bad('u2', 'unknown-branch'),
      bad('m1', 'max-units-per-product'),
      bad('ok', 'unknown-product'),
    ];
    const answers: Record<string, SubmitOutcome> = {
      u1: { status: 'rejected', attempts: 1, problem: '', rules: ['unknown-product', 'required'] },
      u2: { status: 'rejected', attempts: 1, problem: '', rules: ['unknown-branch'] },
      m1: { status: 'rejected', attempts: 1, problem: 'HTTP 403', rules: ['forbidden-branch'] },
      ok: { status: 'accepted', attempts: 1 },
    };
    let next = 0;
    const traffic = new TrafficGenerator(
      () => sales[next++]!,
      async (s) => answers[s.saleId]!,
      { rate: 10_000, total: sales.length },
    );
    const stats = await traffic.run(() => false);
    expect(stats.deliberate).toEqual({ sent: 4, refused: 2, accepted: 1, misjudged: 1 });
    expect(stats.unexpectedRejections).toBe(0);
    expect(stats.rejected).toBe(3);
    expect(stats.rejectedByRule).toEqual(
      new Map([
        ['unknown-product', 1],
        ['required', 1],
        ['unknown-branch', 1],
        ['forbidden-branch', 1],
      ]),
    );
    expect(stats.problems).toEqual(['m1 breaks max-units-per-product but was rejected for: HTTP 403']);
    // The accepted one is stored, so it is part of the reference.
    expect(stats.tally.count).toBe(1);
  });

  it('paces sales at the rate asked for', async () => {
    const simulator = new BasketSimulator({ runId: 'r', catalog: store });
    const traffic = new TrafficGenerator(
      () => simulator.next(),
      async () => ({ status: 'accepted', attempts: 1 }),
      { rate: 100, total: 50 },
    );
    const started = performance.now();
    await traffic.run(() => false);
    const seconds = (performance.now() - started) / 1000;
    // 50 sales at 100/s: the last is due at 0.49 s.
    expect(seconds).toBeGreaterThan(0.4);
    expect(seconds).toBeLessThan(2);
  });

  it('stops sending when told to, and waits for the answers in flight', async () => {
    const simulator = new BasketSimulator({ runId: 'r', catalog: store });
    let answered = 0;
    const traffic = new TrafficGenerator(
      () => simulator.next(),
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 30));
        answered++;
        return { status: 'accepted', attempts: 1 };
      },
      { rate: 1_000, total: Number.POSITIVE_INFINITY },
    );
    let stop = false;
    setTimeout(() => {
      stop = true;
    }, 100);
    const stats = await traffic.run(() => stop);
    expect(stats.sent).toBeGreaterThan(10);
    expect(stats.sent).toBeLessThan(1_000);
    expect(answered).toBe(stats.sent);
    expect(stats.acknowledged).toBe(stats.sent);
  });
});

function sale(saleId: string, kind: 'sale' | 'return', lines: SaleSubmission['lines']): SaleSubmission {
  return {
    saleId,
    kind,
    ...(kind === 'return' && { originalSaleId: 'a' }),
    branchId: 'branch-north',
    occurredAt: '2026-11-21T10:00:00Z',
    currency: 'EUR',
    lines,
  };
}
