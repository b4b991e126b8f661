import { seededRandom, splitStatements } from '@tally/common';
import { fromUnits, type Sale, type StreamedSale, toUnits } from '@tally/contracts';
import { ClickHouseFixture, makeStreamSale } from '@tally/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseFlusher } from '../../apps/aggregator/src/clickhouse/clickhouse-flusher.js';
import { readText } from './compose-file.js';
import {
  type Dashboard,
  type DashboardQuery,
  dashboardQueries,
  dashboards,
  expandQuery,
  GRAFANA_DIR,
} from './grafana-dashboard.js';

/**
 * The Grafana sales dashboard (clickhouse/grafana/dashboards) on the real ClickHouse engine: every
 * panel's SQL and the branch variable, expanded as Grafana and the ClickHouse plugin expand them,
 * run on chdb migrated with the real clickhouse/migrations and filled by the aggregator's real
 * flusher (with a replayed stretch, as after a crash). The figures each panel shows are compared
 * with the same figures computed here with bigint money. No Grafana runs: what is proven is that
 * the SQL is valid for the schema and answers what its title says; the rendering is not.
 */
let fixture: ClickHouseFixture;
const NOW = Date.now();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FROM = new Date(NOW - 7 * DAY);
const TO = new Date(NOW);
const BRANCHES = ['b-1', 'b-2', 'b-3'];
const sales: Sale[] = [];
let dashboard: Dashboard;
let queries: DashboardQuery[];

beforeAll(async () => {
  const [file, found] = [...dashboards()].find(([, d]) => d.uid === 'tally-sales')!;
  dashboard = found;
  queries = dashboardQueries(file, found);
  fixture = await ClickHouseFixture.create();
  const random = seededRandom(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  for (let i = 0; i < 140; i++) {
    // 120 sales in the last five hours; 20 ten days ago, outside the dashboard's 7 days.
    const at =
      i < 120 ? NOW - 60_000 - Math.floor(random() * 5 * HOUR) : NOW - 10 * DAY - Math.floor(random() * HOUR);
    const isReturn = i > 10 && random() < 0.15;
    const original = isReturn ? sales[Math.floor(random() * sales.length)]! : undefined;
    sales.push(
      makeStreamSale(
        {
          saleId: `g-${i}`,
          kind: isReturn ? 'return' : 'sale',
          ...(original ? { originalSaleId: original.saleId } : {}),
          branchId: pick(BRANCHES),
          customerId: `c-${Math.floor(random() * 25)}`,
          occurredAt: new Date(at).toISOString(),
          lines: Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({
            productId: `p-${Math.floor(random() * 15)}`,
            category: pick(['fruit', 'dairy', 'bakery', 'drinks']),
            quantity: 1 + Math.floor(random() * 4),
            unitPrice: `${1 + Math.floor(random() * 40)}.${Math.floor(random() * 100)}`,
          })),
        },
        at + 500,
      ),
    );
  }
  const flusher = new ClickHouseFlusher(
    fixture.client,
    { maxRows: 200, maxMessages: 1000, maxWaitMs: 20, rollupEveryMs: 20, retryMinMs: 10, retryMaxMs: 100 },
    { flushed: () => undefined, failed: () => undefined },
    pino({ level: 'silent' }),
  );
  const streamed: StreamedSale[] = sales.map((sale, i) => ({ sale, streamSeq: i + 1 }));
  const durable = [];
  for (let i = 0; i < streamed.length; i += 23) {
    durable.push((await flusher.accept({ sales: streamed.slice(i, i + 23), messages: [] })).durable);
  }
  // A replayed stretch in other blocks: the copies are physically there, and only the _final
  // views the dashboard reads collapse them.
  durable.push((await flusher.accept({ sales: streamed.slice(5, 40), messages: [] })).durable);
  await Promise.all(durable);
  await flusher.close();
}, 60_000);

afterAll(async () => {
  await fixture?.dispose();
});

// --- the expected figures, from the sales themselves ----------------------------------------

const inRange = (branches: readonly string[] = BRANCHES) =>
  sales.filter((s) => {
    const t = Date.parse(s.occurredAt);
    return t >= FROM.getTime() && t <= TO.getTime() && branches.includes(s.branchId);
  });
const sign = (s: Sale) => (s.kind === 'return' ? -1n : 1n);
const netOf = (s: Sale) => s.lines.reduce((n, l) => n + sign(s) * toUnits(l.amount), 0n);
const dayOf = (s: Sale) => new Date(s.occurredAt).toISOString().slice(0, 10);

function sumBy<K>(entries: Iterable<[K, bigint]>): Map<K, bigint> {
  const out = new Map<K, bigint>();
  for (const [k, v] of entries) out.set(k, (out.get(k) ?? 0n) + v);
  return out;
}

/** Revenue order as the dashboard sorts it: revenue descending, then the name ascending. */
const byRevenue = <K extends string>(a: [K, bigint], b: [K, bigint]) =>
  b[1] > a[1] ? 1 : b[1] < a[1] ? -1 : a[0] < b[0] ? -1 : 1;

// --- running the dashboard's queries --------------------------------------------------------

// biome-ignore lint/suspicious/noExplicitAny: rows are JSON
async function panelRows(title: string, branches: readonly string[] | 'all' = 'all'): Promise<any[]> {
  const panel = dashboard.panels.find((p) => p.title === title);
  if (!panel) throw new Error(`no panel "${title}" on the dashboard`);
  const [target] = panel.targets!;
  return run(target!.rawSql, branches);
}

// biome-ignore lint/suspicious/noExplicitAny: rows are JSON
function run(sql: string, branches: readonly string[] | 'all'): Promise<any[]> {
  const expanded = expandQuery(sql, {
    from: FROM,
    to: TO,
    variables: { branch: branches },
    options: { branch: BRANCHES },
  });
  return fixture.client.rows(expanded);
}

describe('the Grafana sales dashboard on the real ClickHouse schema', () => {
  it('every query of the dashboard runs and returns rows, for all branches and for one', async () => {
    expect(queries.length).toBeGreaterThanOrEqual(10);
    for (const q of queries) {
      for (const branches of ['all', ['b-2']] as const) {
        const rows = await run(q.sql, branches).catch((error: Error) => {
          throw new Error(`${q.source}: ${error.message}`);
        });
        expect(rows.length, `${q.source} (${String(branches)})`).toBeGreaterThan(0);
      }
    }
  });

  it('the branch variable offers every branch with sales', async () => {
    const variable = queries.find((q) => q.source === 'variable $branch')!;
    const rows = await run(variable.sql, 'all');
    expect(rows.map((r) => r.branch_id)).toEqual(BRANCHES);
  });

  it('headline figures: net revenue, sales, returns and average basket of the time range, exactly', async () => {
    for (const branches of [BRANCHES, ['b-3']]) {
      const chosen = branches === BRANCHES ? 'all' : branches;
      const selected = inRange(branches);
      const onlySales = selected.filter((s) => s.kind === 'sale');
      const gross = onlySales.reduce((n, s) => n + netOf(s), 0n);
      const count = BigInt(onlySales.length);
      const [net] = await panelRows('Net revenue', chosen);
      const [salesRow] = await panelRows('Sales', chosen);
      const [returnsRow] = await panelRows('Returns', chosen);
      const [basket] = await panelRows('Average basket', chosen);
      expect(net.net_revenue).toBe(fromUnits(selected.reduce((n, s) => n + netOf(s), 0n)));
      expect(Number(salesRow.sales)).toBe(onlySales.length);
      expect(Number(returnsRow.returns)).toBe(selected.length - onlySales.length);
      // Rounded half away from zero to 4 decimals, as the aggregator's summary does.
      expect(basket.average_basket).toBe(fromUnits((2n * gross + count) / (2n * count)));
    }
  });

  it('net revenue per day and branch, and the daily table, match the sales of each day', async () => {
    const expected = sumBy(inRange().map((s) => [`${dayOf(s)} ${s.branchId}`, netOf(s)] as [string, bigint]));
    const series = await panelRows('Net revenue per day and branch');
    expect(
      new Map(series.map((r) => [`${String(r.time).slice(0, 10)} ${r.branch_id}`, toUnitsSigned(r.revenue)])),
    ).toEqual(expected);
    const table = await panelRows('Daily revenue per branch');
    expect(new Map(table.map((r) => [`${r.day} ${r.branch_id}`, toUnitsSigned(r.revenue)]))).toEqual(
      expected,
    );
    const salesPerDay = sumBy(
      inRange()
        .filter((s) => s.kind === 'sale')
        .map((s) => [`${dayOf(s)} ${s.branchId}`, 1n] as [string, bigint]),
    );
    expect(new Map(table.map((r) => [`${r.day} ${r.branch_id}`, BigInt(r.sales)]))).toEqual(salesPerDay);
  });

  it('top categories and the per-minute rollup agree with the sale lines', async () => {
    const categories = sumBy(
      inRange().flatMap((s) =>
        s.lines.map((l) => [l.category, sign(s) * toUnits(l.amount)] as [string, bigint]),
      ),
    );
    const rows = await panelRows('Top categories by net revenue');
    expect(rows.map((r) => [r.category, r.revenue])).toEqual(
      [...categories].sort(byRevenue).map(([c, v]) => [c, fromUnits(v)]),
    );
    const minutes = await panelRows('Net revenue per minute');
    const total = minutes.reduce((n, r) => n + toUnitsSigned(r.revenue), 0n);
    expect(fromUnits(total)).toBe(fromUnits(inRange().reduce((n, s) => n + netOf(s), 0n)));
    const oneBranch = await panelRows('Top categories by net revenue', ['b-1']);
    const b1 = sumBy(
      inRange(['b-1']).flatMap((s) =>
        s.lines.map((l) => [l.category, sign(s) * toUnits(l.amount)] as [string, bigint]),
      ),
    );
    expect(oneBranch.map((r) => [r.category, r.revenue])).toEqual(
      [...b1].sort(byRevenue).map(([c, v]) => [c, fromUnits(v)]),
    );
  });

  it('top products and unique customers per day', async () => {
    const products = sumBy(
      inRange().flatMap((s) =>
        s.lines.map((l) => [l.productId, sign(s) * toUnits(l.amount)] as [string, bigint]),
      ),
    );
    const rows = await panelRows('Top products');
    expect(rows.map((r) => [r.product_id, r.revenue])).toEqual(
      [...products]
        .sort(byRevenue)
        .slice(0, 10)
        .map(([p, v]) => [p, fromUnits(v)]),
    );
    const customers = new Map<string, Set<string>>();
    for (const s of inRange()) {
      customers.set(dayOf(s), (customers.get(dayOf(s)) ?? new Set()).add(s.customerId!));
    }
    const perDay = await panelRows('Unique customers per day');
    expect(new Map(perDay.map((r) => [String(r.time).slice(0, 10), Number(r.customers)]))).toEqual(
      new Map([...customers].map(([d, set]) => [d, set.size])),
    );
  });
});

describe("the ClickHouse server's init scripts for the BI user", () => {
  it('parse with the ClickHouse parser (chdb has no users, so they are parsed, not run)', async () => {
    for (const file of ['clickhouse/bi-reader.sql', `${GRAFANA_DIR}/bi-reader-grafana.sql`]) {
      const statements = splitStatements(readText(file));
      expect(statements.length, file).toBeGreaterThan(0);
      for (const statement of statements) {
        await expect(fixture.client.rows(`EXPLAIN AST ${statement}`), statement).resolves.toBeDefined();
      }
    }
  });
});

function toUnitsSigned(text: string): bigint {
  return text.startsWith('-') ? -toUnits(text.slice(1)) : toUnits(text);
}
