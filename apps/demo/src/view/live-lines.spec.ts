import { describe, expect, it } from 'vitest';
import { type LiveSnapshot, liveLines, plainLiveLine } from './live-lines.js';

const snapshot: LiveSnapshot = {
  elapsedMs: 12_345,
  acceptedPerSecond: 201,
  acknowledged: 2463,
  target: 5000,
  rejected: 0,
  failed: 0,
  lags: [
    { sink: 'Postgres', messages: 12 },
    { sink: 'Spanner', error: 'timeout' },
    { sink: 'aggregator', messages: 3 },
  ],
  topCategories: {
    window: '15m',
    categories: [
      { category: 'dairy', count: 1932, revenue: '5747.02' },
      { category: 'produce', count: 1244, revenue: '2482.5' },
      { category: 'pantry', count: 1041, revenue: '8485.2' },
    ],
  },
  urls: [
    { label: 'ingest OpenAPI', url: 'http://127.0.0.1:3000/docs' },
    { label: 'feedback', url: 'http://127.0.0.1:3001/v1/feedback' },
  ],
};

describe('the live view', () => {
  it('shows sales/s accepted, each sink lag, the top three categories and the URLs on a terminal', () => {
    expect(liveLines(snapshot)).toEqual([
      'selling    201 sales/s accepted · 2,463 of 5,000 acknowledged   (12 s)',
      'lag        Postgres 12 · Spanner ? (timeout) · aggregator 3   (messages not yet stored)',
      'top 3      dairy 1,932 lines 5747.02 · produce 1,244 lines 2482.50 · pantry 1,041 lines 8485.20   (window 15m)',
      'urls       ingest OpenAPI  http://127.0.0.1:3000/docs',
      '           feedback        http://127.0.0.1:3001/v1/feedback',
    ]);
  });

  it('is one plain line per second in a log, with problems and unreadable figures said', () => {
    const line = plainLiveLine({
      ...snapshot,
      target: undefined,
      rejected: 2,
      failed: 1,
      topCategories: { error: 'HTTP 503' },
    });
    expect(line).toBe(
      '[ 12.3 s] 201 sales/s accepted · 2,463 acknowledged · 2 rejected · 1 failed; lag Postgres 12 · Spanner ? (timeout) · aggregator 3; top ? (HTTP 503)',
    );
  });
});
