import { readdirSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { ROOT, readText } from './compose-file.js';

/**
 * Grafana's provisioning under clickhouse/grafana/ and the SQL its dashboards send, expanded the
 * way Grafana and the ClickHouse data source plugin expand it, so tests can run that SQL on the
 * real ClickHouse engine (chdb) and check what it references.
 */
export const GRAFANA_DIR = 'clickhouse/grafana';

export interface DataSourceRef {
  readonly type: string;
  readonly uid: string;
}

export interface ProvisionedDataSource {
  readonly name: string;
  readonly uid: string;
  readonly type: string;
  readonly jsonData: Readonly<Record<string, unknown>>;
  readonly secureJsonData?: Readonly<Record<string, string>>;
}

interface Target {
  readonly refId: string;
  readonly datasource?: DataSourceRef;
  readonly rawSql: string;
  readonly format: number;
  readonly queryType?: string;
  readonly editorType?: string;
}

interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly datasource?: DataSourceRef;
  readonly targets?: readonly Target[];
}

interface Variable {
  readonly name: string;
  readonly type: string;
  readonly datasource?: DataSourceRef;
  readonly query?: Target;
  readonly includeAll?: boolean;
  readonly multi?: boolean;
}

export interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly panels: readonly Panel[];
  readonly templating: { readonly list: readonly Variable[] };
}

/** One SQL query a dashboard sends: a panel target or a query variable. */
export interface DashboardQuery {
  readonly dashboard: string;
  readonly source: string;
  readonly datasource: DataSourceRef | undefined;
  readonly sql: string;
  /** 0 time series, 1 table (the plugin's `format`). */
  readonly format: number;
}

export function provisionedDataSources(): ProvisionedDataSource[] {
  const dir = `${GRAFANA_DIR}/provisioning/datasources`;
  return readdirSync(path.join(ROOT, dir))
    .filter((f) => /\.ya?ml$/.test(f))
    .flatMap((f) => (parse(readText(`${dir}/${f}`)) as { datasources: ProvisionedDataSource[] }).datasources);
}

export interface DashboardProvider {
  readonly name: string;
  readonly type: string;
  readonly options: { readonly path: string };
}

export function dashboardProviders(): DashboardProvider[] {
  const dir = `${GRAFANA_DIR}/provisioning/dashboards`;
  return readdirSync(path.join(ROOT, dir))
    .filter((f) => /\.ya?ml$/.test(f))
    .flatMap((f) => (parse(readText(`${dir}/${f}`)) as { providers: DashboardProvider[] }).providers);
}

/** Every dashboard JSON under clickhouse/grafana/dashboards, by file name. */
export function dashboards(): Map<string, Dashboard> {
  const dir = `${GRAFANA_DIR}/dashboards`;
  return new Map(
    readdirSync(path.join(ROOT, dir))
      .filter((f) => f.endsWith('.json'))
      .map((f) => [f, JSON.parse(readText(`${dir}/${f}`)) as Dashboard]),
  );
}

export function dashboardQueries(file: string, dashboard: Dashboard): DashboardQuery[] {
  const fromPanels = dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).map((t) => ({
      dashboard: file,
      source: `panel "${panel.title}" target ${t.refId}`,
      datasource: t.datasource ?? panel.datasource,
      sql: t.rawSql,
      format: t.format,
    })),
  );
  const fromVariables = dashboard.templating.list
    .filter((v) => v.type === 'query' && v.query !== undefined)
    .map((v) => ({
      dashboard: file,
      source: `variable $${v.name}`,
      datasource: v.datasource,
      sql: v.query!.rawSql,
      format: v.query!.format,
    }));
  return [...fromPanels, ...fromVariables];
}

/** Tables and views a query reads (`FROM x`, `JOIN x`), subqueries skipped. */
export function tablesReadBy(sql: string): string[] {
  return [...sql.matchAll(/\b(?:FROM|JOIN)\s+([A-Za-z_][\w.]*)/gi)].map((m) => m[1]!);
}

/** Tables and views clickhouse/migrations create, by name. */
export function clickHouseRelations(): Map<string, 'table' | 'view'> {
  const dir = 'clickhouse/migrations';
  const out = new Map<string, 'table' | 'view'>();
  for (const file of readdirSync(path.join(ROOT, dir)).filter((f) => f.endsWith('.sql'))) {
    for (const m of readText(`${dir}/${file}`).matchAll(
      /CREATE\s+(TABLE|VIEW|MATERIALIZED\s+VIEW)\s+IF\s+NOT\s+EXISTS\s+([A-Za-z_]\w*)/gi,
    )) {
      out.set(m[2]!, m[1]!.toUpperCase() === 'TABLE' ? 'table' : 'view');
    }
  }
  return out;
}

export interface ExpandOptions {
  readonly from: Date;
  readonly to: Date;
  /** Values of each template variable: the selected ones, or `'all'`. */
  readonly variables: Readonly<Record<string, readonly string[] | 'all'>>;
  /** Every value a variable offers (what `All` stands for). */
  readonly options: Readonly<Record<string, readonly string[]>>;
}

/**
 * Expands a query as Grafana and the ClickHouse plugin (v4) do before it reaches ClickHouse:
 * first `$__conditionalAll(condition, $var)` (the condition, or `1=1` when All is selected), then
 * template variables (`${var:singlequote}`, `$var`), then the time macros `$__timeFilter(col)`,
 * `$__fromTime`, `$__toTime` in whole seconds, as the plugin's documentation shows them. Anything
 * still starting with `$` is an error, so a macro this does not know cannot pass unnoticed.
 */
export function expandQuery(sql: string, options: ExpandOptions): string {
  const values = (name: string): readonly string[] => {
    const selected = options.variables[name];
    if (selected === undefined) throw new Error(`unknown template variable $${name}`);
    return selected === 'all' ? (options.options[name] ?? []) : selected;
  };
  const quote = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const from = Math.floor(options.from.getTime() / 1000);
  const to = Math.floor(options.to.getTime() / 1000);
  const expanded = sql
    .replace(
      /\$__conditionalAll\(((?:[^()]|\([^()]*\))*),\s*\$\{?(\w+)\}?\s*\)/g,
      (_m, cond: string, name) => (options.variables[name] === 'all' ? '1=1' : cond),
    )
    .replace(/\$\{(\w+):singlequote\}/g, (_m, name: string) => values(name).map(quote).join(','))
    .replace(
      /\$__timeFilter\((\w+)\)/g,
      (_m, col) => `${col} >= toDateTime(${from}) AND ${col} <= toDateTime(${to})`,
    )
    .replace(/\$__fromTime\b/g, `toDateTime(${from})`)
    .replace(/\$__toTime\b/g, `toDateTime(${to})`)
    .replace(/\$\{(\w+)\}|\$(?!__)(\w+)/g, (_m, a: string | undefined, b: string | undefined) =>
      values((a ?? b)!)
        .map(quote)
        .join(','),
    );
  const left = /\$\S*/.exec(expanded);
  if (left) throw new Error(`cannot expand ${left[0]} in: ${sql}`);
  return expanded;
}
