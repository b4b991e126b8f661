import { describe, expect, it } from 'vitest';
import type { ReconcileReport } from './reconcile.service.js';
import { formatRepair, formatReport, jsonRepair, jsonReport } from './report.format.js';

const query = { from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-03-03T00:00:00Z') };
const figures = (count: number, netTotal: string, digest: string) => ({ count, netTotal, digest });

const drift: ReconcileReport = {
  query,
  daysCompared: 4,
  days: [
    {
      branchId: 'b1',
      day: '2026-03-01',
      postgres: figures(3, '30.5', 'aaa'),
      spanner: figures(2, '20', 'bbb'),
      differences: ['count', 'total', 'digest'],
      missingInPostgres: [],
      missingInSpanner: ['s-1'],
      differs: [],
    },
    {
      branchId: 'b2',
      day: '2026-03-02',
      postgres: figures(1, '5', 'ccc'),
      spanner: figures(1, '7', 'ccc'),
      differences: ['total'],
      missingInPostgres: [],
      missingInSpanner: [],
      differs: ['s-9'],
    },
  ],
  differing: [
    {
      saleId: 's-9',
      postgres: { branchId: 'b2', day: '2026-03-02', netTotal: '5' },
      spanner: { branchId: 'b2', day: '2026-03-02', netTotal: '7' },
    },
  ],
  missing: { postgres: 0, spanner: 1 },
  agree: false,
};

describe('report output', () => {
  it('prints a table of the days that differ, their ids and a summary', () => {
    expect(formatReport(drift)).toEqual([
      'Postgres vs Spanner: 2026-03-01T00:00:00.000Z to 2026-03-03T00:00:00.000Z (exclusive), all branches',
      'branch  day         pg count  pg total  spanner count  spanner total  digest   missing in pg  missing in spanner  differs',
      'b1      2026-03-01         3      30.5              2             20  differs              0                   1        0',
      'b2      2026-03-02         1         5              1              7  match                0                   0        1',
      '  b1 2026-03-01 missing in spanner: s-1',
      '  b2 2026-03-02 differs: s-9',
      '  differs s-9: postgres b2 2026-03-02 5, spanner b2 2026-03-02 7',
      '4 days compared, 2 differ: 0 sales missing in postgres, 1 missing in spanner, 1 differing',
    ]);
    const agree = { ...drift, days: [], differing: [], missing: { postgres: 0, spanner: 0 }, agree: true };
    expect(formatReport({ ...agree, query: { ...query, branchId: 'b1' } })).toEqual([
      'Postgres vs Spanner: 2026-03-01T00:00:00.000Z to 2026-03-03T00:00:00.000Z (exclusive), branch b1',
      '4 days compared, the stores agree',
    ]);
    expect(formatReport(agree, 'after-repair')).toEqual(['after repair: 4 days compared, the stores agree']);
  });

  it('shortens long id lists in the table (JSON lines list them all)', () => {
    const ids = Array.from({ length: 12 }, (_, i) => `id-${i}`);
    const day = { ...drift.days[0]!, missingInSpanner: ids };
    const lines = formatReport({ ...drift, days: [day], differing: [] });
    expect(lines).toContain(
      '  b1 2026-03-01 missing in spanner: id-0, id-1, id-2, id-3, id-4, id-5, id-6, id-7, id-8, id-9 (+2 more; --json lists all)',
    );
    const json = jsonReport({ ...drift, days: [day], differing: [] }).map((l) => JSON.parse(l));
    expect(json[0]).toMatchObject({ type: 'day', missingInSpanner: ids });
  });

  it('writes JSON lines: each day, each differing sale, a summary', () => {
    const lines = jsonReport(drift).map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(['day', 'day', 'differing-sale', 'summary']);
    expect(lines[0]).toEqual({ type: 'day', ...drift.days[0] });
    expect(lines[3]).toEqual({
      type: 'summary',
      phase: 'check',
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-03-03T00:00:00.000Z',
      agree: false,
      daysCompared: 4,
      daysDiffering: 2,
      missingInPostgres: 0,
      missingInSpanner: 1,
      differing: 1,
    });
  });

  it('says what a repair copied, into which store and from where', () => {
    const repair = {
      repairs: [
        {
          into: 'spanner' as const,
          from: 'postgres' as const,
          fromStream: ['a', 'b'],
          fromStore: [],
          notFound: [],
        },
        {
          into: 'postgres' as const,
          from: 'spanner' as const,
          fromStream: [],
          fromStore: ['c'],
          notFound: ['d'],
        },
      ],
      streamError: 'stream not found',
    };
    expect(formatRepair(repair)).toEqual([
      'repaired spanner: copied 2 sales (2 from the stream, 0 from postgres)\n  from the stream: a, b',
      'repaired postgres: copied 1 sale (0 from the stream, 1 from spanner); 1 no longer in spanner: d\n  from spanner: c',
      'the stream could not be read (stream not found); copied from the other store instead',
    ]);
    expect(jsonRepair(repair).map((l) => JSON.parse(l))).toEqual([
      { type: 'repair', into: 'spanner', copied: { stream: ['a', 'b'], postgres: [] }, notFound: [] },
      { type: 'repair', into: 'postgres', copied: { stream: [], spanner: ['c'] }, notFound: ['d'] },
      { type: 'stream-error', message: 'stream not found' },
    ]);
  });
});
