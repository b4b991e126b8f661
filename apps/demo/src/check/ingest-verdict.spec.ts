import { describe, expect, it } from 'vitest';
import type { TrafficStats } from '../simulator/traffic.generator.js';
import { ingestNotes, rejectionLines } from './ingest-verdict.js';

const on = { enforced: true, maxUnitsPerProduct: 1 };
const off = { enforced: false, maxUnitsPerProduct: 1 };

function stats(overrides: Partial<TrafficStats>): TrafficStats {
  return {
    sent: 100,
    acknowledged: 100,
    rejected: 0,
    failed: 0,
    retries: 0,
    tally: { count: 100, netUnits: 0n },
    categories: new Map(),
    rejectedByRule: new Map(),
    deliberate: { sent: 0, refused: 0, accepted: 0, misjudged: 0 },
    unexpectedRejections: 0,
    problems: [],
    ...overrides,
  };
}

describe("the demo's verdict on ingest", () => {
  it('is silent when every sale was acknowledged and nothing broke a rule', () => {
    expect(rejectionLines(stats({}), on)).toEqual([]);
    expect(ingestNotes(stats({}), on)).toEqual([]);
  });

  it('counts rejections by rule, most first, and passes when each bad receipt was refused by its rule', () => {
    const sold = stats({
      acknowledged: 94,
      rejected: 6,
      rejectedByRule: new Map([
        ['unknown-branch', 2],
        ['max-units-per-product', 1],
        ['unknown-product', 3],
      ]),
      deliberate: { sent: 6, refused: 6, accepted: 0, misjudged: 0 },
    });
    expect(rejectionLines(sold, on)).toEqual([
      'rejected by rule: unknown-product 3, unknown-branch 2, max-units-per-product 1',
      'rule-breaking receipts: 6 sent, 6 refused by the rule they break, 0 accepted, 0 refused for another reason',
    ]);
    expect(ingestNotes(sold, on)).toEqual([]);
  });

  it('fails the run when a bad receipt gets through with the rules on, but not with --no-rules', () => {
    const sold = stats({ deliberate: { sent: 4, refused: 1, accepted: 3, misjudged: 0 } });
    expect(ingestNotes(sold, on)).toEqual([
      '3 rule-breaking receipts were accepted although the rules are on',
    ]);
    expect(ingestNotes(sold, off)).toEqual([]);
    expect(rejectionLines(sold, off)).toEqual([
      'rule-breaking receipts: 4 sent, 3 accepted (the rules are off: --no-rules)',
    ]);
  });

  it('fails the run for a valid sale refused, a sale never acknowledged, or a bad one refused for the wrong reason', () => {
    const sold = stats({
      unexpectedRejections: 2,
      failed: 1,
      deliberate: { sent: 3, refused: 2, accepted: 0, misjudged: 1 },
    });
    expect(ingestNotes(sold, on)).toEqual([
      "2 of the simulator's valid sales were rejected by ingest (see above)",
      '1 sales were not acknowledged by ingest (see above)',
      '1 rule-breaking receipts were refused without naming the rule they break',
    ]);
  });
});
