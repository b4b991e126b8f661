import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CsvFormat, type CsvItem, readCsv } from './csv.reader.js';

const COMMA: CsvFormat = { delimiter: ',', quote: '"', escape: '"', encoding: 'utf8' };
const dir = mkdtempSync(path.join(tmpdir(), 'csv-reader-'));
let n = 0;

async function read(content: string | Buffer, format = COMMA): Promise<CsvItem[]> {
  const file = path.join(dir, `f${++n}.csv`);
  writeFileSync(file, content);
  const items: CsvItem[] = [];
  for await (const item of readCsv(file, format).items) items.push(item);
  return items;
}
const summary = (items: CsvItem[]) =>
  items.map((i) => (i.kind === 'row' ? [i.line, i.fields] : [i.line, i.rule]));

describe('csv reader', () => {
  it('numbers records by the line they start on, across quoted line breaks and blank lines, LF or CRLF', async () => {
    for (const eol of ['\n', '\r\n']) {
      const text = ['a,b', '1,"two', 'lines"', '', '3,x', '5,"three', 'more', 'lines"', '6,y'].join(eol);
      const items = await read(text);
      expect(summary(items)).toEqual([
        [1, ['a', 'b']],
        [2, ['1', `two${eol}lines`]],
        [5, ['3', 'x']],
        [6, ['5', `three${eol}more${eol}lines`]],
        [9, ['6', 'y']],
      ]);
      expect(items[1]).toMatchObject({ raw: `1,"two${eol}lines"` });
    }
  });

  it('keeps counting right when a file mixes line endings', async () => {
    const items = await read('a,b\n1,"two\r\nlines"\n3,x\r\n4,y\n5,z');
    expect(items.map((i) => i.line)).toEqual([1, 2, 4, 5, 6]);
  });

  it('passes rows with another field count through, for the mapper to reject with their order id', async () => {
    expect(summary(await read('a,b,c\n1,2\n1,2,3,4\n'))).toEqual([
      [1, ['a', 'b', 'c']],
      [2, ['1', '2']],
      [3, ['1', '2', '3', '4']],
    ]);
  });

  it('keeps quotes inside an unquoted field as text, as exports write them', async () => {
    expect(summary(await read('a,b\n1,Dsquared2 "limited"\n'))[1]).toEqual([2, ['1', 'Dsquared2 "limited"']]);
  });

  it('reports a record it cannot read with its line and the parser reason, in file order', async () => {
    // A quote that never closes swallows the rest of the file: one unreadable record, from line 3.
    const items = await read('a,b\n1,2\n3,"x\n5,6\n7,8\n');
    expect(items).toHaveLength(3);
    expect(items[0]).toMatchObject({ kind: 'row', line: 1 });
    expect(items[1]).toMatchObject({ kind: 'row', line: 2 });
    expect(items[2]).toMatchObject({
      kind: 'unreadable',
      line: 3,
      rule: 'csv:CSV_QUOTE_NOT_CLOSED',
      raw: '3,"x\n5,6\n7,8',
    });
  });

  it('reads the delimiter, quote and encoding of the mapping, and drops a byte order mark', async () => {
    const latin1 = Buffer.from("produit;prix\n'Crème; brûlée';3,5\n", 'latin1');
    expect(
      summary(await read(latin1, { delimiter: ';', quote: "'", escape: "'", encoding: 'latin1' })),
    ).toEqual([
      [1, ['produit', 'prix']],
      [2, ['Crème; brûlée', '3,5']],
    ]);
    expect(summary(await read('\uFEFFID_ORDER,REVENUE\n1,2\n'))[0]).toEqual([1, ['ID_ORDER', 'REVENUE']]);
  });
});
