import { type KV, Kvm } from '@nats-io/kv';
import { type ObjectStore, Objm, setSha256Backend } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/transport-node';
import { COMPANION, type SnapshotBytes, type SnapshotObjects } from '../windows/snapshot.codec.js';
import { compressSnapshot, SnapshotInflater } from './snapshot-compression.js';

/** A checkpoint's companion object is named after it with this suffix. */
const COMPANION_SUFFIX = '.companion';

/**
 * Where the aggregator's checkpoints live, in NATS itself (no other store to run):
 *
 * - KV bucket `<bucket>`: per consumer, a small pointer `<consumer>.checkpoint` (the stream
 *   sequence the snapshot covers and the newest snapshot object's name) and a lease
 *   `<consumer>.lease` (which instance folds the consumer, until when).
 * - Object store `<bucket>_snapshots`: the snapshot objects, zstd-compressed
 *   (snapshot-compression.ts) and chunked, so a state of any size fits (a KV value is limited to
 *   the server's max payload, 1 MiB by default). Checkpoints are
 *   incremental (see SnapshotWriter): the newest object may refer to parts of earlier ones,
 *   which are kept while it does (`references`).
 *
 * A checkpoint is written object first, pointer second, with a compare-and-set on the pointer's
 * revision: a crash between the two leaves an orphan object (deleted by the next checkpoint)
 * and the previous pointer, which is still whole, as are the objects it refers to. The
 * compare-and-set also fences a second instance that somehow folds the same consumer: its
 * write fails instead of overwriting. Once the pointer moved, every object of the consumer that
 * the new snapshot does not need is deleted.
 */
export interface CheckpointPointer {
  /** Every message of the consumer's filter up to this stream sequence is in the snapshot. */
  readonly seq: number;
  readonly object: string;
  readonly layout: string;
  readonly takenAt: string;
  /** Bytes of the newest object: what this checkpoint wrote (compressed). */
  readonly bytes: number;
  /** The same before compression (see snapshot-compression.ts). */
  readonly rawBytes: number;
  /** Earlier objects the newest refers to. */
  readonly references: readonly string[];
  /** The newest object's companion (its running and all-time totals), if it has one. */
  readonly companion?: string;
  readonly instanceId: string;
}

export interface LoadedCheckpoint {
  readonly pointer: CheckpointPointer;
  readonly revision: number;
  /** Undefined when the pointer names an object that is gone. */
  readonly snapshot: SnapshotBytes | undefined;
  /** The earlier objects it refers to; undefined when one of them is gone. */
  readonly earlier: Map<string, SnapshotBytes> | undefined;
}

export interface Lease {
  readonly instanceId: string;
  readonly expiresAt: number;
}

export class CheckpointConflictError extends Error {
  override readonly name = 'CheckpointConflictError';
}

/** Object store chunk (one stream message each): large, but well below the 1 MiB max payload. */
const SNAPSHOT_CHUNK_BYTES = 512 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class CheckpointRepository {
  private constructor(
    private readonly kv: KV,
    private readonly objects: ObjectStore,
    private readonly onClose: (() => Promise<void>) | undefined,
  ) {}

  /**
   * `onClose`: what close() does, e.g. close a connection of the repository's own. The app gives
   * checkpoints their own connection: a snapshot of hundreds of MiB written through the
   * connection that pulls and acks sales would queue those pulls and acks behind it.
   */
  static async open(
    nc: NatsConnection,
    bucket: string,
    onClose?: () => Promise<void>,
  ): Promise<CheckpointRepository> {
    // Every snapshot is hashed on put and get: Node's SHA-256 rather than the client's pure-JS
    // default, which held a 1.4 GB snapshot's load to ~50 MB/s.
    setSha256Backend('native');
    const kv = await new Kvm(nc).create(bucket, {
      history: 1,
      description: 'Tally aggregator checkpoints and leases',
    });
    const objects = await new Objm(nc).create(`${bucket}_snapshots`, {
      description: 'Tally aggregator window snapshots',
    });
    return new CheckpointRepository(kv, objects, onClose);
  }

  async close(): Promise<void> {
    await this.onClose?.();
  }

  async load(consumer: string): Promise<LoadedCheckpoint | undefined> {
    const entry = await this.kv.get(pointerKey(consumer));
    if (entry === null || entry.operation !== 'PUT') return undefined;
    const pointer = JSON.parse(decoder.decode(entry.value)) as CheckpointPointer;
    // One object read at a time (several concurrent reads from one store were seen to stall);
    // each one's frames are decompressed on the thread pool as they arrive, while the rest of it
    // and the next objects are read.
    const names = pointer.references ?? [];
    const companion = pointer.companion;
    const decompressing: Promise<SnapshotBytes | undefined>[] = [];
    for (const name of [pointer.object, ...names, ...(companion === undefined ? [] : [companion])]) {
      const { bytes } = await this.read(name);
      // Observed now, thrown by Promise.all below: a corrupt object must not fail the process as
      // an unhandled rejection while the next one is still being read.
      bytes.catch(() => undefined);
      decompressing.push(bytes);
    }
    const [snapshot, ...others] = await Promise.all(decompressing);
    // The header calls the companion COMPANION; the map gives it under that name.
    const keys = companion === undefined ? names : [...names, COMPANION];
    const earlier = others.some((o) => o === undefined)
      ? undefined
      : new Map(keys.map((name, i) => [name, others[i]!]));
    return { pointer, revision: entry.revision, snapshot, earlier };
  }

  /**
   * Stores a checkpoint's objects and moves the pointer to them if it is still at `revision`
   * (0: no pointer yet), then deletes the consumer's objects the new snapshot does not need (and
   * `previousObject`, the object the pointer named, if not needed). Returns the new revision;
   * throws CheckpointConflictError if someone else moved the pointer.
   */
  async save(
    consumer: string,
    revision: number,
    pointer: Omit<CheckpointPointer, 'object' | 'bytes' | 'rawBytes' | 'references' | 'companion'>,
    snapshot: SnapshotObjects,
    previousObject?: string,
  ): Promise<{ revision: number; pointer: CheckpointPointer }> {
    const object = `${objectPrefix(consumer)}${pointer.seq}-${Date.now()}`;
    const companionName = snapshot.companion === undefined ? undefined : `${object}${COMPANION_SUFFIX}`;
    const main = await this.put(object, snapshot.chunks);
    const companion =
      companionName === undefined
        ? { bytes: 0, rawBytes: 0 }
        : await this.put(companionName, snapshot.companion!);
    const references = snapshot.references;
    const bytes = main.bytes + companion.bytes;
    const rawBytes = main.rawBytes + companion.rawBytes;
    const full: CheckpointPointer = {
      ...pointer,
      object,
      bytes,
      rawBytes,
      references: [...references],
      ...(companionName !== undefined && { companion: companionName }),
    };
    const value = encoder.encode(JSON.stringify(full));
    let next: number;
    try {
      next =
        revision === 0
          ? await this.kv.create(pointerKey(consumer), value)
          : await this.kv.update(pointerKey(consumer), value, revision);
    } catch (error) {
      await this.objects.delete(object).catch(() => undefined);
      if (companionName !== undefined) await this.objects.delete(companionName).catch(() => undefined);
      throw new CheckpointConflictError(
        `checkpoint of consumer ${consumer} moved since revision ${revision}: another instance is folding it (${(error as Error).message})`,
      );
    }
    const needed = new Set([object, ...references, ...(companionName === undefined ? [] : [companionName])]);
    if (previousObject !== undefined && !needed.has(previousObject)) {
      // Also an object named before this naming scheme.
      await this.objects.delete(previousObject).catch(() => undefined);
    }
    await this.deleteUnneeded(consumer, needed).catch(() => undefined);
    return { revision: next, pointer: full };
  }

  /**
   * Reads one object to its end, handing it to a SnapshotInflater slice by slice; resolves once
   * it is read with the promise of its bytes (undefined if there is no such object), which are
   * still being decompressed. Rejects on a digest mismatch, a short object or a corrupt frame.
   */
  private async read(name: string): Promise<{ bytes: Promise<SnapshotBytes | undefined> }> {
    const result = await this.objects.get(name);
    if (result === null) return { bytes: Promise.resolve(undefined) };
    // Observed at once: it rejects when the read fails, also after a reader stopped early.
    result.error.catch(() => undefined);
    const inflater = new SnapshotInflater();
    const reader = result.data.getReader();
    let bytes = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.length;
        inflater.push(value);
      }
    } catch (error) {
      await reader.cancel().catch(() => undefined);
      throw new Error(`snapshot object ${name} could not be read: ${(error as Error).message}`);
    }
    const failure = await result.error.catch((error: Error) => error);
    if (failure) throw new Error(`snapshot object ${name} could not be read: ${failure.message}`);
    if (bytes !== result.info.size)
      throw new Error(`snapshot object ${name} is ${bytes} bytes, not the ${result.info.size} stored`);
    // Not awaited here: the caller reads the next object meanwhile (see load).
    return { bytes: inflater.end().then((pieces) => (pieces.length === 1 ? pieces[0]! : pieces)) };
  }

  /** Stores one object, compressed and streamed chunk by chunk (never copied into one buffer). */
  private async put(
    name: string,
    parts: readonly Uint8Array[],
  ): Promise<{ bytes: number; rawBytes: number }> {
    const chunks = await compressSnapshot(parts);
    await this.objects.put({ name, options: { max_chunk_size: SNAPSHOT_CHUNK_BYTES } }, streamOf(chunks));
    return {
      bytes: chunks.reduce((n, c) => n + c.length, 0),
      rawBytes: parts.reduce((n, c) => n + c.length, 0),
    };
  }

  /** Names of the consumer's stored snapshot objects. */
  async objectNames(consumer: string): Promise<string[]> {
    const prefix = objectPrefix(consumer);
    const infos = await this.objects.list();
    return infos.filter((i) => !i.deleted && i.name.startsWith(prefix)).map((i) => i.name);
  }

  private async deleteUnneeded(consumer: string, needed: ReadonlySet<string>): Promise<void> {
    for (const name of await this.objectNames(consumer)) {
      if (!needed.has(name)) await this.objects.delete(name).catch(() => undefined);
    }
  }

  /**
   * Takes or renews the consumer's lease for `instanceId`. Succeeds if the lease is free,
   * expired, or already this instance's (a restart of the same instance takes it at once);
   * otherwise returns the holder.
   */
  async acquireLease(
    consumer: string,
    instanceId: string,
    ttlMs: number,
    now: number = Date.now(),
  ): Promise<{ ok: true } | { ok: false; holder: Lease }> {
    const key = leaseKey(consumer);
    const entry = await this.kv.get(key);
    const lease: Lease = { instanceId, expiresAt: now + ttlMs };
    const value = encoder.encode(JSON.stringify(lease));
    try {
      if (entry === null || entry.operation !== 'PUT') {
        await (entry === null ? this.kv.create(key, value) : this.kv.update(key, value, entry.revision));
        return { ok: true };
      }
      const holder = JSON.parse(decoder.decode(entry.value)) as Lease;
      if (holder.instanceId !== instanceId && holder.expiresAt > now) return { ok: false, holder };
      await this.kv.update(key, value, entry.revision);
      return { ok: true };
    } catch {
      // Someone wrote the lease between our read and our write: read it again next time.
      const again = await this.kv.get(key);
      const holder = again?.operation === 'PUT' ? (JSON.parse(decoder.decode(again.value)) as Lease) : lease;
      return holder.instanceId === instanceId ? { ok: true } : { ok: false, holder };
    }
  }

  async releaseLease(consumer: string, instanceId: string): Promise<void> {
    const entry = await this.kv.get(leaseKey(consumer));
    if (entry === null || entry.operation !== 'PUT') return;
    const holder = JSON.parse(decoder.decode(entry.value)) as Lease;
    if (holder.instanceId === instanceId)
      await this.kv.delete(leaseKey(consumer), { previousSeq: entry.revision });
  }
}

function pointerKey(consumer: string): string {
  return `${consumer}.checkpoint`;
}

/**
 * Every snapshot object of a consumer is named `<consumer>/<seq>-<time>`: a durable consumer's
 * name holds no `/`, so no consumer's prefix is another's.
 */
function objectPrefix(consumer: string): string {
  return `${consumer}/`;
}

function leaseKey(consumer: string): string {
  return `${consumer}.lease`;
}

function streamOf(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[next++];
      if (chunk === undefined) controller.close();
      else controller.enqueue(chunk);
    },
  });
}
