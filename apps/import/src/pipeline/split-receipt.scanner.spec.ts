import { describe, expect, it } from 'vitest';
import type { CsvItem } from './csv.reader.js';
import { keyHash, scanSplitReceipts } from './split-receipt.scanner.js';

const rows = (keys: Array<string | undefined>): CsvItem[] =>
  keys.map((key, i) =>
    key === undefined
      ? { kind: 'unreadable', line: i + 2, raw: '', rule: 'csv', message: 'x' }
      : { kind: 'row', line: i + 2, fields: [key], raw: key },
  );
async function* from(items: CsvItem[]) {
  yield* items;
}
const keyOf = (fields: readonly string[]) => (fields[0] === '' ? undefined : fields[0]);

describe('split-receipt scan', () => {
  it('finds order ids that come back after other orders, not those on consecutive rows', async () => {
    const result = await scanSplitReceipts(from(rows(['A', 'A', 'B', 'C', 'A', 'C', 'D', 'D'])), {
      keyOf,
      grouping: 'consecutive',
    });
    expect(result.rows).toBe(8);
    expect(result.split).toEqual(
      new Map([
        [keyHash('A'), 2],
        [keyHash('C'), 2],
      ]),
    );
    expect(result.tooManySplit).toBe(false);
  });

  it('does not let unreadable or key-less rows split a run (the grouper does the same)', async () => {
    const result = await scanSplitReceipts(from(rows(['A', undefined, 'A', '', 'A'])), {
      keyOf,
      grouping: 'consecutive',
    });
    expect(result.split.size).toBe(0);
    expect(result.rows).toBe(5);
  });

  it('with grouping none, finds every order id on more than one row, consecutive or not', async () => {
    const result = await scanSplitReceipts(from(rows(['A', 'A', 'B'])), { keyOf, grouping: 'none' });
    expect(result.split).toEqual(new Map([[keyHash('A'), 2]]));
  });

  it('gives the same answer when runs spill to sorted files and are merged', async () => {
    const keys: string[] = [];
    for (let i = 0; i < 5000; i++) keys.push(`k${i}`);
    keys.push('k17', 'k4999', 'k17', 'k2500');
    const inMemory = await scanSplitReceipts(from(rows(keys)), { keyOf, grouping: 'consecutive' });
    const spilled = await scanSplitReceipts(from(rows(keys)), {
      keyOf,
      grouping: 'consecutive',
      chunkEntries: 300,
    });
    expect(spilled.split).toEqual(inMemory.split);
    expect(spilled.split).toEqual(
      new Map([
        [keyHash('k17'), 3],
        [keyHash('k4999'), 2],
        [keyHash('k2500'), 2],
      ]),
    );
  });

  it('stops counting once more than maxSplit orders are split: the file is not grouped', async () => {
    const keys = ['A', 'B', 'C', 'D', 'A', 'B', 'C', 'D'];
    for (const chunkEntries of [1 << 10, 3]) {
      const result = await scanSplitReceipts(from(rows(keys)), {
        keyOf,
        grouping: 'consecutive',
        maxSplit: 2,
        chunkEntries,
      });
      expect(result.tooManySplit).toBe(true);
    }
  });
});
