import { describe, expect, it } from 'vitest';
import { compressSnapshot, decompressSnapshot, SnapshotInflater } from './snapshot-compression.js';

/** Bytes shaped like a snapshot body: small int32 counts and ids, some repetition. */
function snapshotLike(bytes: number, seed: number): Uint8Array {
  const ints = new Int32Array(bytes / 4);
  let x = seed;
  for (let i = 0; i < ints.length; i++) {
    x = (x * 1_103_515_245 + 12_345) >>> 0;
    ints[i] = i % 7 === 0 ? x % 50_000 : x % 13;
  }
  return new Uint8Array(ints.buffer);
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(chunks));
}

/** Byte for byte (toEqual walks a large typed array element by element, for seconds). */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

/** `bytes` cut into slices of the given sizes in turn (the last slice takes the rest). */
function sliced(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    out.push(bytes.slice(at, at + n));
    at += n;
  }
  return out;
}

/** What the store does with an object read slice by slice. */
async function inflate(slices: readonly Uint8Array[]): Promise<Uint8Array> {
  const inflater = new SnapshotInflater();
  for (const slice of slices) inflater.push(slice);
  return concat(await inflater.end());
}

describe('snapshot compression', () => {
  it('round-trips a snapshot of many chunks over several frames, byte for byte, and makes it smaller', async () => {
    const chunks = [
      snapshotLike(1024, 1),
      ...Array.from({ length: 40 }, (_, i) => snapshotLike(256 * 1024, i + 2)),
    ];
    const raw = concat(chunks);
    const stored = concat(await compressSnapshot(chunks));
    expect(stored.length).toBeLessThan(raw.length / 2);
    expect(same(await decompressSnapshot(stored), raw)).toBe(true);
  });

  it('returns an object written before compression unchanged', async () => {
    const plain = new TextEncoder().encode('{"format":5}\n');
    expect(await decompressSnapshot(plain)).toBe(plain);
  });

  it('refuses a truncated object instead of returning part of a snapshot', async () => {
    const stored = concat(await compressSnapshot([snapshotLike(64 * 1024, 9)]));
    await expect(decompressSnapshot(stored.subarray(0, stored.length - 10))).rejects.toThrow(/truncated/);
  });

  it('decompresses an object read in slices of any size (magic, frame heads and frames cut anywhere) to the same bytes', async () => {
    const chunks = Array.from({ length: 12 }, (_, i) => snapshotLike(1024 * 1024, i + 20));
    const raw = concat(chunks);
    const stored = concat(await compressSnapshot(chunks));
    for (const sizes of [[1, 2, 3, 5, 7, 11], [512 * 1024], [stored.length], [3, 100_003]]) {
      expect(same(await inflate(sliced(stored, sizes)), raw)).toBe(true);
    }
  });

  it('gives a compressed object as one piece per frame, each the size its head records', async () => {
    const chunks = Array.from({ length: 12 }, (_, i) => snapshotLike(1024 * 1024, i + 40));
    const inflater = new SnapshotInflater();
    for (const slice of sliced(concat(await compressSnapshot(chunks)), [300_000])) inflater.push(slice);
    const pieces = await inflater.end();
    expect(pieces.length).toBe(3);
    expect(pieces.map((p) => p.length)).toEqual([4, 4, 4].map((m) => m * 1024 * 1024));
    expect(same(concat(pieces), concat(chunks))).toBe(true);
  });

  it('returns an uncompressed object read in slices as one piece, unchanged', async () => {
    const plain = snapshotLike(64 * 1024, 3);
    const inflater = new SnapshotInflater();
    for (const slice of sliced(plain, [2, 1, 1000])) inflater.push(slice);
    const pieces = await inflater.end();
    expect(pieces.length).toBe(1);
    expect(same(pieces[0]!, plain)).toBe(true);
  });

  it('refuses an object read in slices whose last frame was cut short', async () => {
    const stored = concat(await compressSnapshot([snapshotLike(5 * 1024 * 1024, 11)]));
    for (const cut of [stored.length - 1, 4 + 5]) {
      await expect(inflate(sliced(stored.subarray(0, cut), [4096]))).rejects.toThrow(/truncated/);
    }
  });

  it('refuses a frame whose compressed bytes were altered, and stops the reader at its next slice', async () => {
    const stored = concat(await compressSnapshot([snapshotLike(64 * 1024, 12)]));
    const altered = stored.slice();
    // Inside the zstd frame, past its own header: the frame's content is no longer what was written.
    for (let i = 4 + 8 + 20; i < 4 + 8 + 60; i++) altered[i] = 0xff - altered[i]!;
    await expect(inflate([altered])).rejects.toThrow(/frame at byte 4/);
    const inflater = new SnapshotInflater();
    inflater.push(altered);
    await expect(inflater.end()).rejects.toThrow(/frame at byte 4/);
    expect(() => inflater.push(new Uint8Array(8))).toThrow(/frame at byte 4/);
  });

  it('refuses a frame that decompresses to more bytes than its head records', async () => {
    const stored = concat(await compressSnapshot([snapshotLike(64 * 1024, 13)]));
    new DataView(stored.buffer, stored.byteOffset).setUint32(4, 1000, true);
    await expect(inflate([stored])).rejects.toThrow(/frame at byte 4/);
  });
});
