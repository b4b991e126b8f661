import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type FieldProblem, findUp } from '@tally/common';
import { RFC3339_PATTERN } from '@tally/contracts';

/**
 * The BI reports: each a documented query in `clickhouse/queries/` with typed parameters, served
 * as `GET /v1/reports/:name`. The SQL files are the single source: BI tools can run the same
 * files against the server (substituting the `{name:Type}` parameters).
 */
type ParamKind = 'instant' | 'date' | 'count' | 'period';

interface ParamSpec {
  readonly kind: ParamKind;
  readonly fallback: string;
  readonly description: string;
}

export interface ReportSpec {
  readonly name: string;
  readonly file: string;
  readonly description: string;
  readonly params: Readonly<Record<string, ParamSpec>>;
}

const FROM: ParamSpec = {
  kind: 'instant',
  fallback: '1970-01-01T00:00:00Z',
  description: 'occurredAt from (inclusive), RFC 3339',
};
const TO: ParamSpec = {
  kind: 'instant',
  fallback: '2100-01-01T00:00:00Z',
  description: 'occurredAt to (exclusive), RFC 3339',
};
const range = { from: FROM, to: TO };

export const REPORTS: readonly ReportSpec[] = [
  {
    name: 'country-contribution',
    file: 'country_contribution.sql',
    description: "Each seller country's share of net revenue and items sold",
    params: range,
  },
  {
    name: 'top-country-relationships',
    file: 'top_country_relationships.sql',
    description:
      'Country pairs (buyer ↔ seller) by combined net revenue; the first is the top trading relationship',
    params: { ...range, limit: { kind: 'count', fallback: '1', description: 'pairs to return' } },
  },
  {
    name: 'repeat-buyer-revenue',
    file: 'repeat_buyer_revenue.sql',
    description:
      'Net revenue from repeat buyers (≥ 2 purchases in the week) in two consecutive weeks, and the change',
    params: {
      week: { kind: 'date', fallback: '2021-01-01', description: 'first day of the first week (YYYY-MM-DD)' },
    },
  },
  {
    name: 'daily-revenue-per-branch',
    file: 'daily_revenue_per_branch.sql',
    description: 'Net revenue, sales and returns per branch and UTC day',
    params: range,
  },
  {
    name: 'top-products',
    file: 'top_products.sql',
    description: 'Products by net revenue',
    params: { ...range, limit: { kind: 'count', fallback: '10', description: 'products to return' } },
  },
  {
    name: 'loyal-customers',
    file: 'loyal_customers.sql',
    description: 'Customers by number of purchases',
    params: {
      ...range,
      min: { kind: 'count', fallback: '2', description: 'least purchases' },
      limit: { kind: 'count', fallback: '100', description: 'customers to return' },
    },
  },
  {
    name: 'unique-customers',
    file: 'unique_customers.sql',
    description: 'Distinct customers per UTC day or ISO week',
    params: { ...range, period: { kind: 'period', fallback: 'day', description: 'day or week' } },
  },
  {
    name: 'category-revenue-trend',
    file: 'category_revenue_trend.sql',
    description: 'Net revenue and units per category and UTC day (from the per-minute rollup)',
    params: range,
  },
];

export interface PreparedReport {
  readonly spec: ReportSpec;
  readonly sql: string;
  readonly params: Record<string, string | number>;
}

const RFC3339 = new RegExp(RFC3339_PATTERN);

/** Reads the query files once (at boot). */
export function loadReportQueries(
  dir: string = findUp('clickhouse/queries', 'top_products.sql'),
): Map<string, string> {
  return new Map(REPORTS.map((r) => [r.name, readFileSync(path.join(dir, r.file), 'utf8')]));
}

/** Validates and converts the query string; problems name the parameter and the rule. */
export function prepareReport(
  spec: ReportSpec,
  sql: string,
  raw: Readonly<Record<string, string | string[] | undefined>>,
): { report: PreparedReport; errors: FieldProblem[] } {
  const errors: FieldProblem[] = [];
  const params: Record<string, string | number> = {};
  for (const name of Object.keys(raw)) {
    if (!(name in spec.params)) errors.push(problem(name, 'unknown', `is not a parameter of ${spec.name}`));
  }
  for (const [name, p] of Object.entries(spec.params)) {
    const value = raw[name];
    if (Array.isArray(value)) {
      errors.push(problem(name, 'single', 'may be given once'));
      continue;
    }
    const text = value === undefined || value === '' ? p.fallback : value;
    switch (p.kind) {
      case 'instant':
        if (!RFC3339.test(text) || Number.isNaN(Date.parse(text))) {
          errors.push(problem(name, 'rfc3339', 'must be an RFC 3339 date-time with offset'));
        } else params[name] = new Date(Date.parse(text)).toISOString().replace('T', ' ').replace('Z', '');
        break;
      case 'date':
        if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(Date.parse(`${text}T00:00:00Z`))) {
          errors.push(problem(name, 'date', 'must be a date YYYY-MM-DD'));
        } else params[name] = text;
        break;
      case 'count':
        if (!/^\d{1,6}$/.test(text) || Number(text) < 1)
          errors.push(problem(name, 'range', 'must be an integer from 1 to 999999'));
        else params[name] = Number(text);
        break;
      case 'period':
        if (text !== 'day' && text !== 'week') errors.push(problem(name, 'enum', 'must be day or week'));
        else params[name] = text;
        break;
    }
  }
  return { report: { spec, sql, params }, errors };
}

function problem(name: string, rule: string, message: string): FieldProblem {
  return { pointer: `/query/${name}`, rule, message };
}
