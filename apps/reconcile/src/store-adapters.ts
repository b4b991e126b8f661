import type { JetStreamManager } from '@nats-io/jetstream';
import { decodeEnvelope, Headers } from '@tally/contracts';
import { type PostgresClient, redactUrl, SalesReadRepository, SalesWriteRepository } from '@tally/postgres';
import { databasePath, type SpannerClient, SpannerSalesRepository } from '@tally/spanner';
import type { ReconcileStore, SaleStream, StoreName, StreamMessage } from './reconcile.service.js';

/** A store could not be read or written: the message names the store and where it is. Exit code 3. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
}

export function postgresStore(client: PostgresClient, url: string): ReconcileStore {
  const reader = new SalesReadRepository(client);
  const writer = new SalesWriteRepository(client);
  return labelled('postgres', redactUrl(url), {
    dailyTotals: (query) => reader.dailyTotals(query),
    saleTotals: (query) => reader.saleTotals(query),
    findSales: (ids) => reader.findSales(ids),
    write: async (sales) => {
      await writer.insert(sales);
    },
  });
}

export function spannerStore(client: SpannerClient): ReconcileStore {
  const repository = new SpannerSalesRepository(client);
  const where = `${databasePath(client.config)}${client.config.emulatorHost ? ` on the emulator at ${client.config.emulatorHost}` : ''}`;
  return labelled('spanner', where, {
    dailyTotals: (query) => repository.dailyTotals(query),
    saleTotals: (query) => repository.saleTotals(query),
    findSales: (ids) => repository.findSales(ids),
    write: async (sales) => {
      await repository.write(sales);
    },
  });
}

/** Every call's failure becomes a StoreError naming the store, so the command can say which one failed. */
function labelled(store: StoreName, where: string, target: ReconcileStore): ReconcileStore {
  const wrap =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await fn(...args);
      } catch (error) {
        throw new StoreError(`${store} (${where}): ${(error as Error).message}`, { cause: error });
      }
    };
  return {
    dailyTotals: wrap(target.dailyTotals),
    saleTotals: wrap(target.saleTotals),
    findSales: wrap(target.findSales),
    write: wrap(target.write),
  };
}

/** Messages of the sales stream by sequence (JetStream's direct get of a stored message). */
export class JetStreamSaleStream implements SaleStream {
  constructor(
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
  ) {}

  async message(seq: number): Promise<StreamMessage | undefined> {
    // null: no message at seq (aged out, purged, or never there).
    const message = await this.jsm.streams.getMessage(this.stream, { seq });
    if (message === null) return undefined;
    let sales: StreamMessage['sales'];
    try {
      sales = decodeEnvelope(message.data);
    } catch {
      return undefined; // not a sales envelope: it cannot hold the sale
    }
    const requestId = message.header?.get(Headers.requestId) || undefined;
    return { sales, ...(requestId !== undefined && { requestId }) };
  }
}
