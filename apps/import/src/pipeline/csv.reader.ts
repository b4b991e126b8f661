import { createReadStream } from 'node:fs';
import { type CsvError, parse } from 'csv-parse';

/**
 * Streams a CSV file record by record (csv-parse, constant memory: the file is read in
 * chunks and each record is dropped once consumed), with the line it starts on.
 *
 * Records whose field count differs from the header still come through (the row mapper
 * rejects them, knowing their order id); records the parser cannot read at all (a quote that
 * never closes, text after a closing quote) come as `unreadable` with the parser's reason,
 * in file order: nothing is dropped silently.
 */

export interface CsvFormat {
  readonly delimiter: string;
  readonly quote: string;
  readonly escape: string;
  readonly encoding: 'utf8' | 'latin1' | 'utf16le';
}

export type CsvItem =
  | {
      readonly kind: 'row';
      /** 1-based line the record starts on (a quoted field may span lines). */
      readonly line: number;
      readonly fields: string[];
      readonly raw: string;
    }
  | {
      readonly kind: 'unreadable';
      readonly line: number;
      readonly raw: string;
      readonly rule: string;
      readonly message: string;
    };

export interface CsvSource {
  readonly items: AsyncGenerator<CsvItem>;
  /** Bytes of the file read so far. */
  bytesRead(): number;
}

interface ParsedRecord {
  readonly record: string[];
  readonly raw: string;
  readonly info: { readonly lines: number };
}

export function readCsv(file: string, format: CsvFormat): CsvSource {
  const input = createReadStream(file, { highWaterMark: 256 * 1024 });
  const skipped: CsvItem[] = [];
  /** Line breaks csv-parse counted twice so far (see recordLines). */
  let drift = 0;
  const parser = parse({
    delimiter: format.delimiter,
    quote: format.quote,
    escape: format.escape,
    encoding: format.encoding,
    bom: true,
    info: true,
    raw: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    on_skip: (error: CsvError | undefined, raw: string | undefined) => {
      const text = raw ?? '';
      const endLine = (error as { lines?: number } | undefined)?.lines ?? 0;
      skipped.push({
        kind: 'unreadable',
        line: Math.max(1, endLine - drift - lineBreaks(trimRaw(text))),
        raw: trimRaw(text),
        rule: `csv:${error?.code ?? 'unreadable'}`,
        message: error?.message ?? 'the CSV parser could not read this record',
      });
      return undefined;
    },
  });
  input.pipe(parser);
  input.on('error', (error) => parser.destroy(error));

  async function* items(): AsyncGenerator<CsvItem> {
    try {
      for await (const record of parser as AsyncIterable<ParsedRecord>) {
        const { line, drift: more } = recordLines(record.record, record.info.lines - drift);
        drift += more;
        while (skipped.length > 0 && skipped[0]!.line < line) yield skipped.shift()!;
        yield { kind: 'row', line, fields: record.record, raw: trimRaw(record.raw) };
      }
      yield* skipped.splice(0);
    } finally {
      // Stopped early (an aborted import): release the file.
      input.destroy();
      parser.destroy();
    }
  }

  return { items: items(), bytesRead: () => input.bytesRead };
}

/**
 * The line a record starts on, from the line csv-parse says it ends on. csv-parse counts every
 * CR and LF it steps over, so a CRLF inside a quoted field (and a CR ending the last field before
 * an LF terminator) counts as two lines; `drift` is how many such extra counts this record adds,
 * to be subtracted from this and every later record.
 */
export function recordLines(fields: readonly string[], reportedEnd: number): { line: number; drift: number } {
  let breaks = 0;
  let drift = 0;
  for (const field of fields) {
    if (field.indexOf('\r') < 0 && field.indexOf('\n') < 0) continue;
    breaks += lineBreaks(field);
    for (let i = field.indexOf('\r\n'); i >= 0; i = field.indexOf('\r\n', i + 2)) drift++;
  }
  const last = fields[fields.length - 1];
  if (last?.endsWith('\r')) {
    breaks--;
    drift++;
  }
  return { line: reportedEnd - drift - breaks, drift };
}

function lineBreaks(text: string): number {
  return text.match(/\r\n|\r|\n/g)?.length ?? 0;
}

function trimRaw(raw: string): string {
  return raw.replace(/^[\r\n]+/, '').replace(/[\r\n]+$/, '');
}
