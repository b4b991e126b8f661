import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Objm } from '@nats-io/obj';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { makeStreamSale, TEST_NATS_URL } from '@tally/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contributionOf } from '../windows/sale-contribution.js';
import {
  COMPANION,
  decodeSnapshot,
  SnapshotLedger,
  SnapshotWriter,
  stateFigures,
} from '../windows/snapshot.codec.js';
import { layoutFingerprint, windowLayout } from '../windows/window-spec.js';
import { WindowState } from '../windows/window-state.js';
import { CheckpointRepository } from './checkpoint.repository.js';
import { compressSnapshot, decompressSnapshot } from './snapshot-compression.js';

const LAYOUT = windowLayout(60, 30_000);
const BASE = Date.UTC(2026, 10, 21, 9);

let nc: NatsConnection;
const bucket = `ckpt_${randomBytes(4).toString('hex')}`;
let repository: CheckpointRepository;

beforeAll(async () => {
  nc = await connect({ servers: TEST_NATS_URL });
  repository = await CheckpointRepository.open(nc, bucket);
});

afterAll(async () => {
  const jsm = await jetstreamManager(nc);
  for (const stream of [`KV_${bucket}`, `OBJ_${bucket}_snapshots`]) {
    await jsm.streams.delete(stream).catch(() => undefined);
  }
  await nc.close();
});

function sell(state: WindowState, branchId: string, atMs: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const at = atMs + i * 1_000;
    state.advance(at);
    const sale = makeStreamSale(
      { saleId: `${branchId}-${at}-${i}`, branchId, occurredAt: new Date(at).toISOString() },
      at,
    );
    state.apply(contributionOf(sale));
  }
}

/** What AggregatorService.checkpoint() does: begin, encode, save, commit. */
async function checkpoint(
  consumer: string,
  state: WindowState,
  ledger: SnapshotLedger,
  revision: number,
  seq: number,
) {
  const writer = SnapshotWriter.begin(state, ledger);
  writer.step(Number.POSITIVE_INFINITY);
  writer.release();
  const saved = await repository.save(
    consumer,
    revision,
    { seq, layout: layoutFingerprint(LAYOUT), takenAt: new Date().toISOString(), instanceId: 'test' },
    writer.objects(),
  );
  writer.commit(saved.pointer.object);
  return { ...saved, written: writer.encoding, referred: writer.referring };
}

describe('checkpoints in the NATS object store', () => {
  it('incremental checkpoints write what changed, keep exactly the objects the newest needs, and load back to the same figures', async () => {
    const consumer = 'agg';
    const state = new WindowState(LAYOUT, BASE);
    const ledger = new SnapshotLedger(1);
    for (const branch of ['north', 'south', 'east', 'west']) sell(state, branch, BASE, 5);

    const first = await checkpoint(consumer, state, ledger, 0, 20);
    expect(first.referred).toBe(0);
    // The buckets in the object, the running and all-time totals in its companion.
    expect(first.pointer.companion).toBe(`${first.pointer.object}.companion`);
    expect((await repository.objectNames(consumer)).sort()).toEqual(
      [first.pointer.object, first.pointer.companion].sort(),
    );

    // Seconds later one branch sells: what the other branches hold is not written again.
    sell(state, 'north', BASE + 5_000, 3);
    const second = await checkpoint(consumer, state, ledger, first.revision, 23);
    expect(second.referred).toBeGreaterThan(0);
    expect(second.written).toBeLessThan(first.written);
    expect(second.pointer.bytes).toBeLessThan(first.pointer.bytes);
    expect(second.pointer.references).toEqual([first.pointer.object]);
    // The first companion is gone: its totals went stale, the second's replace them.
    expect((await repository.objectNames(consumer)).sort()).toEqual(
      [first.pointer.object, second.pointer.object, second.pointer.companion].sort(),
    );

    const loaded = await repository.load(consumer);
    expect(loaded?.pointer).toEqual(second.pointer);
    expect([...(loaded?.earlier?.keys() ?? [])]).toEqual([first.pointer.object, COMPANION]);
    const restored = decodeSnapshot(loaded!.snapshot!, LAYOUT, loaded!.earlier);
    expect(stateFigures(restored)).toEqual(stateFigures(state));
  });

  it('a snapshot whose earlier object is gone loads as missing, not as other figures', async () => {
    const consumer = 'gone';
    const state = new WindowState(LAYOUT, BASE);
    const ledger = new SnapshotLedger(1);
    for (const branch of ['north', 'south']) sell(state, branch, BASE, 3);
    const first = await checkpoint(consumer, state, ledger, 0, 6);
    sell(state, 'north', BASE + 5_000, 1);
    const second = await checkpoint(consumer, state, ledger, first.revision, 7);
    expect(second.pointer.references).toEqual([first.pointer.object]);

    const objects = await new Objm(nc).open(`${bucket}_snapshots`);
    await objects.delete(first.pointer.object);
    const loaded = await repository.load(consumer);
    expect(loaded?.snapshot).toBeDefined();
    expect(loaded?.earlier).toBeUndefined();
  });

  it("one consumer's clean-up never deletes another's objects, even when one name starts with the other", async () => {
    const state = new WindowState(LAYOUT, BASE);
    sell(state, 'north', BASE, 2);
    const other = await checkpoint('agg-eu', state, new SnapshotLedger(), 0, 2);
    const ledger = new SnapshotLedger(1);
    const a = await checkpoint('agg2', state, ledger, 0, 2);
    sell(state, 'north', BASE + 3_600_000, 2);
    await checkpoint('agg2', state, ledger, a.revision, 4);
    await checkpoint('agg2', state, ledger, a.revision + 1, 4).catch(() => undefined);
    expect((await repository.objectNames('agg-eu')).sort()).toEqual(
      [other.pointer.object, other.pointer.companion].sort(),
    );
  });

  /** A consumer with two checkpoints (an object, the earlier one it refers to, a companion) and its figures. */
  async function twoCheckpoints(consumer: string) {
    const state = new WindowState(LAYOUT, BASE);
    const ledger = new SnapshotLedger(1);
    for (const branch of ['north', 'south', 'east']) sell(state, branch, BASE, 4);
    const first = await checkpoint(consumer, state, ledger, 0, 12);
    sell(state, 'north', BASE + 5_000, 2);
    const second = await checkpoint(consumer, state, ledger, first.revision, 14);
    expect(second.pointer.references).toEqual([first.pointer.object]);
    return { pointer: second.pointer, figures: stateFigures(state), state };
  }

  /** Stores `bytes` as object `name` in place of what it held. */
  async function replace(name: string, bytes: Uint8Array): Promise<void> {
    const objects = await new Objm(nc).open(`${bucket}_snapshots`);
    await objects.putBlob({ name, options: { max_chunk_size: 4096 } }, bytes);
  }

  /** An object's bytes as the repository stores them: the snapshot's chunks, compressed. */
  async function compressedObject(state: WindowState): Promise<Uint8Array> {
    const writer = SnapshotWriter.begin(state);
    writer.step(Number.POSITIVE_INFINITY);
    return new Uint8Array(Buffer.concat(await compressSnapshot(writer.chunks())));
  }

  it('a stored object whose last frame was cut short fails the load with a truncation error, not as a smaller snapshot', async () => {
    const { pointer, state } = await twoCheckpoints('cut');
    const stored = await compressedObject(state);
    await replace(pointer.object, stored.subarray(0, stored.length - 7));
    await expect(repository.load('cut')).rejects.toThrow(/truncated/);
  });

  it('a stored frame that no longer decompresses fails the load, and the objects read after it leave no unhandled rejection', async () => {
    const { pointer, state } = await twoCheckpoints('corrupt');
    const stored = await compressedObject(state);
    // Inside the first zstd frame, past its own header; the object's digest is of these bytes.
    for (let i = 4 + 8 + 20; i < 4 + 8 + 60; i++) stored[i] = 0xff - stored[i]!;
    await replace(pointer.object, stored);
    await expect(repository.load('corrupt')).rejects.toThrow(/does not decompress/);
    // Let any rejection left unobserved surface (vitest fails the run on one).
    await new Promise((resolve) => setTimeout(resolve, 100));
  });

  it('an object whose chunks no longer match its digest fails the load', async () => {
    const { pointer } = await twoCheckpoints('digest');
    const objects = await new Objm(nc).open(`${bucket}_snapshots`);
    const info = await objects.info(pointer.companion!);
    // A chunk more on the object's subject: what is read is not what was stored. It reads as the
    // head of a frame still to come, so only the digest can tell.
    const head = new Uint8Array(8);
    new DataView(head.buffer).setUint32(0, 100, true);
    new DataView(head.buffer).setUint32(4, 100_000, true);
    await jetstream(nc).publish(`$O.${bucket}_snapshots.C.${info!.nuid}`, head);
    await expect(repository.load('digest')).rejects.toThrow(/digests do not match/);
  });

  it('an uncompressed object, as written before compression, still loads to the same figures', async () => {
    const { pointer, figures } = await twoCheckpoints('plain');
    const objects = await new Objm(nc).open(`${bucket}_snapshots`);
    const compressed = await objects.getBlob(pointer.object);
    await replace(pointer.object, await decompressSnapshot(compressed!));
    const loaded = await repository.load('plain');
    expect(stateFigures(decodeSnapshot(loaded!.snapshot!, LAYOUT, loaded!.earlier))).toEqual(figures);
  });
});
