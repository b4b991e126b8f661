import { seededRandom } from '@tally/common';
import { fromUnits, type Sale, type StreamedSale, toUnits } from '@tally/contracts';
import { ClickHouseFixture, makeStreamSale } from '@tally/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseFlusher } from '../clickhouse/clickhouse-flusher.js';
import { loadReportQueries, prepareReport, REPORTS } from './report-catalog.js';

/**
 * Every report on a generated data set (three weeks from 2021-01-01, four countries, repeat
 * customers, returns), flushed through the real flusher into chdb, against the same figure
 * computed here in TypeScript with bigint money, independently of ClickHouse.
 */
let fixture: ClickHouseFixture;
const sales: Sale[] = [];
const queries = loadReportQueries();
const START = Date.parse('2021-01-01T00:00:00Z');
const DAY = 86_400_000;

beforeAll(async () => {
  fixture = await ClickHouseFixture.create();
  const random = seededRandom(20210101);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const countries = ['DE', 'FR', 'IT', 'ES'];
  for (let i = 0; i < 400; i++) {
    const at = START + Math.floor(random() * 21 * DAY);
    const isReturn = i > 20 && random() < 0.1;
    const original = isReturn ? sales[Math.floor(random() * sales.length)]! : undefined;
    const sale = makeStreamSale(
      {
        saleId: `r-${i}`,
        kind: isReturn ? 'return' : 'sale',
        ...(original ? { originalSaleId: original.saleId } : {}),
        branchId: pick(['b-1', 'b-2', 'b-3']),
        customerId: `c-${Math.floor(random() * 40)}`,
        buyerCountry: pick(countries),
        sellerCountry: pick(countries),
        occurredAt: new Date(at).toISOString(),
        lines: Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({
          productId: `p-${Math.floor(random() * 12)}`,
          category: pick(['fruit', 'dairy', 'bakery']),
          quantity: 1 + Math.floor(random() * 4),
          unitPrice: `${1 + Math.floor(random() * 50)}.${Math.floor(random() * 100)}`,
        })),
      },
      at + 1000,
    );
    sales.push(sale);
  }
  const flusher = new ClickHouseFlusher(
    fixture.client,
    { maxRows: 200, maxMessages: 1000, maxWaitMs: 20, rollupEveryMs: 20, retryMinMs: 10, retryMaxMs: 100 },
    { flushed: () => undefined, failed: () => undefined },
    pino({ level: 'silent' }),
  );
  const streamed: StreamedSale[] = sales.map((sale, i) => ({ sale, streamSeq: i + 1 }));
  const durable = [];
  for (let i = 0; i < streamed.length; i += 37) {
    durable.push((await flusher.accept({ sales: streamed.slice(i, i + 37), messages: [] })).durable);
  }
  // A replay of a third of it in other blocks, as after a crash before the acks: the copies
  // are physically there (other deduplication tokens) and every report must read through them.
  for (let i = 0; i < streamed.length / 3; i += 11) {
    durable.push((await flusher.accept({ sales: streamed.slice(i + 3, i + 14), messages: [] })).durable);
  }
  await Promise.all(durable);
  await flusher.close();
}, 60_000);

afterAll(async () => {
  await fixture?.dispose();
});

// biome-ignore lint/suspicious/noExplicitAny: report rows are JSON
async function report(name: string, query: Record<string, string> = {}): Promise<any[]> {
  const spec = REPORTS.find((r) => r.name === name)!;
  const { report: prepared, errors } = prepareReport(spec, queries.get(name)!, query);
  expect(errors).toEqual([]);
  return fixture.client.rows(prepared.sql, prepared.params);
}

const sign = (s: Sale) => (s.kind === 'return' ? -1n : 1n);
const day = (s: Sale) => s.occurredAt.slice(0, 10);
const net = (s: Sale, amount: string) => sign(s) * toUnits(amount);

function sumBy<K>(entries: Iterable<[K, bigint]>): Map<K, bigint> {
  const out = new Map<K, bigint>();
  for (const [k, v] of entries) out.set(k, (out.get(k) ?? 0n) + v);
  return out;
}

describe('BI reports against an independent computation', () => {
  it('the data set holds replayed copies that only FINAL collapses', async () => {
    const [{ raw, final }] = (await fixture.client.rows<{ raw: string; final: string }>(
      'SELECT (SELECT count() FROM sale_lines) AS raw, (SELECT count() FROM sale_lines FINAL) AS final',
    )) as [{ raw: string; final: string }];
    expect(Number(final)).toBe(sales.reduce((n, s) => n + s.lines.length, 0));
    expect(Number(raw)).toBeGreaterThan(Number(final));
  });

  it('country contribution: each seller country with its net revenue and items, shares summing to 100', async () => {
    const revenue = sumBy(
      sales.flatMap((s) => s.lines.map((l) => [s.sellerCountry!, net(s, l.amount)] as [string, bigint])),
    );
    const items = sumBy(
      sales.flatMap((s) =>
        s.lines.map((l) => [s.sellerCountry!, sign(s) * BigInt(l.quantity)] as [string, bigint]),
      ),
    );
    const rows = await report('country-contribution');
    expect(rows.map((r) => [r.country, r.revenue, Number(r.items)])).toEqual(
      [...revenue]
        .sort((a, b) => (b[1] > a[1] ? 1 : b[1] < a[1] ? -1 : a[0] < b[0] ? -1 : 1))
        .map(([c, v]) => [c, fromUnits(v), Number(items.get(c))]),
    );
    expect(rows.reduce((n, r) => n + r.revenue_share_pct, 0)).toBeCloseTo(100, 2);
    expect(rows.reduce((n, r) => n + r.items_share_pct, 0)).toBeCloseTo(100, 2);
  });

  it('top trading relationship: the country pair with the highest combined net revenue, either direction', async () => {
    const pairs = sumBy(
      sales.flatMap((s) => {
        const key = [s.buyerCountry!, s.sellerCountry!].sort().join('↔');
        return s.lines.map((l) => [key, net(s, l.amount)] as [string, bigint]);
      }),
    );
    const [best] = [...pairs].sort((a, b) => (b[1] > a[1] ? 1 : b[1] < a[1] ? -1 : a[0] < b[0] ? -1 : 1));
    const rows = await report('top-country-relationships');
    expect(rows).toHaveLength(1);
    expect([`${rows[0].country_a}↔${rows[0].country_b}`, rows[0].revenue]).toEqual([
      best![0],
      fromUnits(best![1]),
    ]);
  });

  it('repeat buyers: revenue of customers with two or more purchases, in the first and second week of January 2021', async () => {
    const weekOf = (s: Sale) => Math.floor((Date.parse(`${day(s)}T00:00:00Z`) - START) / (7 * DAY));
    const expected = [0, 1].map((week) => {
      const inWeek = sales.filter((s) => weekOf(s) === week);
      const purchases = new Map<string, number>();
      for (const s of inWeek)
        if (s.kind === 'sale') purchases.set(s.customerId!, (purchases.get(s.customerId!) ?? 0) + 1);
      const repeat = new Set([...purchases].filter(([, n]) => n >= 2).map(([c]) => c));
      const revenue = inWeek
        .filter((s) => repeat.has(s.customerId!))
        .reduce((t, s) => t + net(s, s.total), 0n);
      return { revenue, buyers: repeat.size };
    });
    const [row] = await report('repeat-buyer-revenue', { week: '2021-01-01' });
    expect(row).toMatchObject({
      week1_revenue: fromUnits(expected[0]!.revenue),
      week2_revenue: fromUnits(expected[1]!.revenue),
      week1_repeat_buyers: String(expected[0]!.buyers),
      week2_repeat_buyers: String(expected[1]!.buyers),
      change: fromUnits(expected[1]!.revenue - expected[0]!.revenue),
    });
    expect(expected[0]!.buyers).toBeGreaterThan(0);
  });

  it('daily revenue per branch, with sales and returns counted', async () => {
    const key = (s: Sale) => `${day(s)} ${s.branchId}`;
    const revenue = sumBy(sales.map((s) => [key(s), net(s, s.total)] as [string, bigint]));
    const rows = await report('daily-revenue-per-branch', {
      from: '2021-01-01T00:00:00Z',
      to: '2021-01-22T00:00:00Z',
    });
    expect(new Map(rows.map((r) => [`${r.day} ${r.branch_id}`, r.revenue]))).toEqual(
      new Map([...revenue].map(([k, v]) => [k, fromUnits(v)])),
    );
    expect(rows.reduce((n, r) => n + Number(r.sales) + Number(r.returns), 0)).toBe(sales.length);
  });

  it('top products by net revenue, with lines sold and net units', async () => {
    const revenue = sumBy(
      sales.flatMap((s) => s.lines.map((l) => [l.productId, net(s, l.amount)] as [string, bigint])),
    );
    const top = [...revenue]
      .sort((a, b) => (b[1] > a[1] ? 1 : b[1] < a[1] ? -1 : a[0] < b[0] ? -1 : 1))
      .slice(0, 5);
    const rows = await report('top-products', { limit: '5' });
    expect(rows.map((r) => [r.product_id, r.revenue])).toEqual(top.map(([p, v]) => [p, fromUnits(v)]));
  });

  it('loyal customers: purchases per customer, at least the minimum', async () => {
    const purchases = new Map<string, number>();
    for (const s of sales)
      if (s.kind === 'sale') purchases.set(s.customerId!, (purchases.get(s.customerId!) ?? 0) + 1);
    const rows = await report('loyal-customers', { min: '12', limit: '1000' });
    expect(new Map(rows.map((r) => [r.customer_id, Number(r.purchases)]))).toEqual(
      new Map([...purchases].filter(([, n]) => n >= 12)),
    );
  });

  it('unique customers per day and per ISO week', async () => {
    const perDay = new Map<string, Set<string>>();
    for (const s of sales)
      (perDay.get(day(s)) ?? perDay.set(day(s), new Set()).get(day(s))!).add(s.customerId!);
    const daily = await report('unique-customers', { period: 'day' });
    expect(new Map(daily.map((r) => [r.period_start, Number(r.customers)]))).toEqual(
      new Map([...perDay].map(([d, c]) => [d, c.size])),
    );
    const weekly = await report('unique-customers', { period: 'week' });
    const monday = (s: Sale) => {
      const t = Date.parse(`${day(s)}T00:00:00Z`);
      return new Date(t - ((new Date(t).getUTCDay() + 6) % 7) * DAY).toISOString().slice(0, 10);
    };
    const perWeek = new Map<string, Set<string>>();
    for (const s of sales)
      (perWeek.get(monday(s)) ?? perWeek.set(monday(s), new Set()).get(monday(s))!).add(s.customerId!);
    expect(new Map(weekly.map((r) => [r.period_start, Number(r.customers)]))).toEqual(
      new Map([...perWeek].map(([d, c]) => [d, c.size])),
    );
  });

  it('category revenue trend from the per-minute rollup equals the raw lines, returns included', async () => {
    const revenue = sumBy(
      sales.flatMap((s) =>
        s.lines.map((l) => [`${day(s)} ${l.category}`, net(s, l.amount)] as [string, bigint]),
      ),
    );
    const rows = await report('category-revenue-trend');
    expect(new Map(rows.map((r) => [`${r.day} ${r.category}`, r.revenue]))).toEqual(
      new Map([...revenue].map(([k, v]) => [k, fromUnits(v)])),
    );
  });

  it('parameters are checked, naming each and its rule', () => {
    const spec = REPORTS.find((r) => r.name === 'unique-customers')!;
    const { errors } = prepareReport(spec, '', { period: 'month', from: 'yesterday', color: 'red' });
    expect(errors.map((e) => [e.pointer, e.rule])).toEqual([
      ['/query/color', 'unknown'],
      ['/query/from', 'rfc3339'],
      ['/query/period', 'enum'],
    ]);
  });
});
