import type { SaleInput } from '@tally/contracts';
import { describe, expect, it } from 'vitest';
import { BasketSimulator, netUnits } from './basket-simulator.js';
import type { SubmitOutcome } from './ingest.client.js';
import { TrafficGenerator } from './traffic.generator.js';

describe('the traffic generator', () => {
  it('keeps as reference only what ingest acknowledged (accepted or duplicate), with exact net revenue', async () => {
    const simulator = new BasketSimulator({ runId: 'r', seed: 3 });
    const sent: SaleInput[] = [];
    const answers: SubmitOutcome['status'][] = ['accepted', 'duplicate', 'rejected', 'failed'];
    const traffic = new TrafficGenerator(
      () => simulator.next(),
      async (sale) => {
        const status = answers[sent.length % answers.length]!;
        sent.push(sale);
        return status === 'accepted' || status === 'duplicate'
          ? { status, attempts: status === 'duplicate' ? 2 : 1 }
          : { status, attempts: 1, problem: 'HTTP 422 /lines/0/quantity maximum' };
      },
      { rate: 10_000, total: 40 },
    );
    const stats = await traffic.run(() => false);
    const acknowledged = sent.filter((_, i) => i % 4 < 2);
    expect(stats).toMatchObject({ sent: 40, acknowledged: 20, rejected: 10, failed: 10, retries: 10 });
    expect(stats.tally).toEqual({
      count: 20,
      netUnits: acknowledged.reduce((sum, s) => sum + netUnits(s), 0n),
    });
    expect(stats.problems).toHaveLength(5);
    expect(stats.problems[0]).toMatch(/^r-3 rejected: HTTP 422/);
  });

  it('paces sales at the rate asked for', async () => {
    const simulator = new BasketSimulator({ runId: 'r' });
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
    const simulator = new BasketSimulator({ runId: 'r' });
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
