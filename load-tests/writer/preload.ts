import { round, seconds } from '../common/bench-math.js';
import { type BenchOptions, ENVELOPE_MAX_SALES } from './options.js';
import { type GeneratedSales, generateSales } from './sale-generator.js';
import type { Preloaded, SalesStream } from './sales-stream.js';

/** The benchmark's sales, generated and published to its stream, as ingest would publish them. */
export async function generateAndPreload(
  stream: SalesStream,
  options: BenchOptions,
  log: (message: string) => void,
): Promise<{ generated: GeneratedSales; preloaded: Preloaded }> {
  const t = performance.now();
  const generated = generateSales(options.sales);
  log(
    `generated ${options.sales} sales (${generated.lines} lines, ${generated.returns} returns) ` +
      `in ${seconds(t)} s`,
  );
  const preloaded = await stream.preload(generated.sales, options.packing);
  log(
    `preloaded ${preloaded.messages} messages (${options.packing}) in ${round(preloaded.seconds, 2)} s ` +
      `(${Math.round(preloaded.messages / preloaded.seconds)} messages/s)`,
  );
  return { generated, preloaded };
}

/** The fields of the `setup` line every store benchmark prints first. */
export function setupFields(
  counts: { sales: number; lines: number },
  generated: GeneratedSales,
  preloaded: Preloaded,
  options: BenchOptions,
): Record<string, unknown> {
  return {
    sales: counts.sales,
    lines: counts.lines,
    rows: counts.sales + counts.lines,
    returns: generated.returns,
    branches: generated.branches,
    products: generated.products,
    packing: options.packing,
    ...(options.packing === 'envelope' && { envelope_max_sales: ENVELOPE_MAX_SALES }),
    messages: preloaded.messages,
    payload_mb: round(preloaded.payloadBytes / 2 ** 20, 1),
    batch: options.batch,
  };
}
