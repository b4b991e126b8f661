import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Gauge, Registry } from 'prom-client';
import type { ReconcileReport } from './reconcile.service.js';

/**
 * Gauges of the last reconciliation, for alerting on drift. The drift gauges hold the last run
 * that completed; a failed run sets only last_run_ok to 0 (and the timestamp), so "drift" and
 * "could not check" are separate alerts.
 */
export class ReconcileMetrics {
  readonly registry = new Registry();

  readonly daysCompared = new Gauge({
    name: 'tally_reconcile_days_compared',
    help: '(branch, UTC day) groups compared by the last completed run',
    registers: [this.registry],
  });

  readonly daysDiffering = new Gauge({
    name: 'tally_reconcile_days_differing',
    help: '(branch, UTC day) groups whose count, net sum or sale-id digest differ between Postgres and Spanner',
    registers: [this.registry],
  });

  readonly salesMissing = new Gauge({
    name: 'tally_reconcile_sales_missing',
    help: 'Sales one store holds and the store labelled lacks',
    labelNames: ['store'] as const,
    registers: [this.registry],
  });

  readonly salesDiffering = new Gauge({
    name: 'tally_reconcile_sales_differing',
    help: 'Sales both stores hold in different versions (net total, branch or day)',
    registers: [this.registry],
  });

  readonly lastRunTimestamp = new Gauge({
    name: 'tally_reconcile_last_run_timestamp_seconds',
    help: 'When the last run ended (completed or failed), Unix seconds',
    registers: [this.registry],
  });

  readonly lastRunOk = new Gauge({
    name: 'tally_reconcile_last_run_ok',
    help: '1 if the last run read both stores, 0 if it failed',
    registers: [this.registry],
  });

  recordRun(report: ReconcileReport, at: Date = new Date()): void {
    this.daysCompared.set(report.daysCompared);
    this.daysDiffering.set(report.days.length);
    this.salesMissing.set({ store: 'postgres' }, report.missing.postgres);
    this.salesMissing.set({ store: 'spanner' }, report.missing.spanner);
    this.salesDiffering.set(report.differing.length);
    this.lastRunOk.set(1);
    this.lastRunTimestamp.set(at.getTime() / 1000);
  }

  recordFailure(at: Date = new Date()): void {
    this.lastRunOk.set(0);
    this.lastRunTimestamp.set(at.getTime() / 1000);
  }
}

export interface MetricsServer {
  /** `http://host:port/metrics` */
  readonly url: string;
  close(): Promise<void>;
}

/** `GET /metrics` in the Prometheus text format; anything else 404. */
export async function serveMetrics(registry: Registry, port: number, host: string): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
