import { describe, expect, it } from 'vitest';
import { KeyTable } from './key-table.js';

/** id → refs of the live rows, read by walking every slot (not the order list). */
function liveBySlot(t: KeyTable): Map<number, number> {
  const out = new Map<number, number>();
  for (let i = 0; i < t.capacity; i++) {
    const k = t.keys[i]!;
    if (k !== 0 && t.rows[i * t.stride] !== 0) out.set(k - 1, t.rows[i * t.stride]!);
  }
  return out;
}

/** id → refs of the live rows, read through the order list (what merges walk). */
function liveByOrder(t: KeyTable): Map<number, number> {
  const out = new Map<number, number>();
  for (let j = 0; j < t.used; j++) {
    const i = t.order[j]!;
    if (t.rows[i * t.stride] !== 0) out.set(t.keys[i]! - 1, t.rows[i * t.stride]!);
  }
  return out;
}

describe('KeyTable', () => {
  it('lists every occupied slot in its order list, through growth and compaction', () => {
    const t = new KeyTable(2);
    for (let id = 0; id < 1000; id++) t.ref(t.slot(id * 7), 1 + (id % 3));
    expect(t.capacity).toBeGreaterThanOrEqual(1024);
    expect(liveByOrder(t)).toEqual(liveBySlot(t));
    expect(liveByOrder(t).size).toBe(1000);
    // Most rows fall to 0: compaction drops them and the order list follows.
    for (let id = 0; id < 900; id++) t.ref(t.find(id * 7), -(1 + (id % 3)));
    t.compact();
    expect(t.used).toBe(100);
    expect(liveByOrder(t)).toEqual(liveBySlot(t));
    expect([...liveByOrder(t).keys()].sort((a, b) => a - b)).toEqual(
      Array.from({ length: 100 }, (_, i) => (900 + i) * 7),
    );
  });

  it('a large table cleared after holding a few keys is empty and reusable (the sparse clear)', () => {
    const t = new KeyTable(3, 4096);
    for (const id of [5, 900, 4095]) {
      const o = t.slot(id);
      t.ref(o, 1);
      t.rows[o + 1] = 42;
      t.rows[o + 2] = -7;
    }
    t.clear();
    expect(t.used).toBe(0);
    expect(t.live).toBe(0);
    expect(t.keys.every((k) => k === 0)).toBe(true);
    expect(t.rows.every((v) => v === 0)).toBe(true);
    t.ref(t.slot(900), 1);
    expect(liveByOrder(t)).toEqual(new Map([[900, 1]]));
  });

  it('a table cleared when full is empty too (the whole-array clear)', () => {
    const t = new KeyTable(2, 8);
    for (let id = 0; id < 6; id++) t.ref(t.slot(id), 1);
    t.clear();
    expect(t.keys.every((k) => k === 0) && t.rows.every((v) => v === 0)).toBe(true);
    expect(liveBySlot(t).size).toBe(0);
  });
});
