import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { SNAPSHOT_PAGE_BYTES } from '../windows/snapshot.codec.js';

/**
 * Snapshot objects are stored zstd-compressed, in independent frames:
 *
 *   "TZS1" · per frame: raw length (u32 LE) · compressed length (u32 LE) · zstd frame
 *
 * Why: a snapshot is int32 rows of small counts and ids, which zstd at level 1 shrinks about
 * 4× (measured on the benchmark's state). The object store moves bytes at ~130 MB/s here, so a
 * restart loads a quarter of the bytes; NATS and its disk carry a quarter too. Frames of
 * FRAME_BYTES are compressed and decompressed on libuv's thread pool (the async zlib calls), in
 * parallel and off the event loop, so neither a checkpoint nor a restore runs zstd on the thread
 * that folds sales and answers requests. A restore hands each frame to the thread pool as soon as
 * its bytes have arrived from the store (SnapshotInflater), so decompressing overlaps reading,
 * and keeps the frames' outputs as pieces that decodeSnapshot reads in place (no joined copy).
 *
 * An object without the magic is an uncompressed snapshot and is returned as it is.
 */
const MAGIC = new Uint8Array([0x54, 0x5a, 0x53, 0x31]); // "TZS1"
/** A frame's raw bytes: a body page of SnapshotWriter's (compressed without being copied). */
const FRAME_BYTES = SNAPSHOT_PAGE_BYTES;
const LEVEL = 1;

const compress = promisify(zlib.zstdCompress);
const decompress = promisify(zlib.zstdDecompress) as (
  buffer: Uint8Array,
  options: zlib.ZstdOptions,
) => Promise<Buffer>;
// chunkSize: zlib's default (16 KiB) would pass each frame back and forth between the thread pool
// and the event loop hundreds of times; one step per frame instead.
// Half a frame: zstd at level 1 makes a frame about 4× smaller, so its output still comes back in
// one step, and the output buffer zlib allocates per frame (and the compressed frame keeps alive
// until stored) is half the size.
const compressOptions = {
  chunkSize: FRAME_BYTES / 2,
  params: { [zlib.constants.ZSTD_c_compressionLevel]: LEVEL },
};
/** zlib's bounds on chunkSize; a frame's output buffer is its raw size within them. */
const MIN_CHUNK_BYTES = 64;
const MAX_CHUNK_BYTES = 64 * 1024 * 1024;
/** Larger than any frame compressSnapshot writes (FRAME_BYTES plus one chunk): a head claiming more is corrupt. */
const MAX_FRAME_RAW_BYTES = 1024 * 1024 * 1024;

/** The snapshot's chunks as one compressed object's parts (magic, then each frame with its lengths). */
export async function compressSnapshot(chunks: readonly Uint8Array[]): Promise<Uint8Array[]> {
  const frames: Promise<Uint8Array[]>[] = [];
  let pending: Uint8Array[] = [];
  let size = 0;
  const cut = () => {
    if (size === 0) return;
    const raw = pending.length === 1 ? pending[0]! : Buffer.concat(pending, size);
    frames.push(
      compress(raw, compressOptions).then((packed) => [lengths(raw.length, packed.length), packed]),
    );
    pending = [];
    size = 0;
  };
  for (const chunk of chunks) {
    // A body page (SnapshotWriter writes them frame-sized) starts a frame of its own, which it
    // then fills alone: compressed as it is, not copied.
    if (chunk.length >= FRAME_BYTES) cut();
    pending.push(chunk);
    size += chunk.length;
    if (size >= FRAME_BYTES) {
      cut();
      // Let folding run between two frames' copies.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  cut();
  return [MAGIC, ...(await Promise.all(frames)).flat()];
}

/**
 * The snapshot's bytes from a stored object held whole, compressed or not: one buffer (the object
 * itself when it is not compressed).
 */
export async function decompressSnapshot(stored: Uint8Array): Promise<Uint8Array> {
  const inflater = new SnapshotInflater();
  inflater.push(stored, true);
  return joined(await inflater.end());
}

/**
 * A stored object's bytes as they arrive, in any slices: push() each, then end(). Each zstd
 * frame goes to the thread pool as soon as its last byte is in, so decompressing overlaps reading
 * the rest of the object (and the next one). end() gives the snapshot's bytes as consecutive
 * pieces, one per frame, in order: decodeSnapshot reads them in place, where joining them would
 * copy the whole snapshot once more on the event loop.
 *
 * An object without the magic is an uncompressed snapshot: its bytes are returned as one piece.
 * A truncated object or a frame that does not decompress to its recorded length rejects end();
 * a frame that fails makes the next push() throw, so a reader stops early.
 */
export class SnapshotInflater {
  /** Bytes before the kind is known (fewer than the magic), then the uncompressed object's slices. */
  #plain: Uint8Array[] = [];
  #plainBytes = 0;
  #compressed: boolean | undefined;
  /** The frame head being read (raw length, compressed length), `#headFill` bytes of it so far. */
  readonly #head = new Uint8Array(8);
  readonly #headView = new DataView(this.#head.buffer);
  #headFill = 0;
  /** The compressed frame being read, `#frameFill` bytes of it so far, and its raw length. */
  #frame: Uint8Array | undefined;
  #frameFill = 0;
  #frameRaw = 0;
  /** Where the frame (its head) starts in the object, for error messages. */
  #frameAt = 0;
  /** Bytes of the object pushed so far. */
  #at = 0;
  readonly #outputs: Promise<Uint8Array>[] = [];
  #failure: Error | undefined;

  /**
   * The next slice of the object. `stable`: the caller never changes these bytes, so a frame
   * lying whole in the slice is decompressed from it in place (otherwise it is copied out).
   */
  push(bytes: Uint8Array, stable = false): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#compressed === undefined) {
      this.#plain.push(bytes);
      this.#plainBytes += bytes.length;
      if (this.#plainBytes < MAGIC.length) return;
      const first = joined(this.#plain).subarray(0, MAGIC.length);
      this.#compressed = isCompressed(first);
      if (!this.#compressed) return;
      const held = this.#plain;
      this.#plain = [];
      this.#plainBytes = 0;
      this.#at = MAGIC.length;
      let skip = MAGIC.length;
      for (const slice of held) {
        if (slice.length > skip) this.#frames(slice.subarray(skip), stable);
        skip = Math.max(0, skip - slice.length);
      }
      return;
    }
    if (this.#compressed) this.#frames(bytes, stable);
    else {
      this.#plain.push(bytes);
      this.#plainBytes += bytes.length;
    }
  }

  /** The snapshot's bytes as consecutive pieces, once every frame is decompressed. */
  async end(): Promise<Uint8Array[]> {
    if (this.#compressed !== true) return this.#plainBytes === 0 ? [] : [joined(this.#plain)];
    if (this.#headFill > 0 || this.#frame !== undefined) {
      throw new Error(
        `compressed snapshot truncated at byte ${this.#at}: the frame at byte ${this.#frameAt} is not whole`,
      );
    }
    return Promise.all(this.#outputs);
  }

  #frames(bytes: Uint8Array, stable: boolean): void {
    let i = 0;
    while (i < bytes.length) {
      if (this.#frame === undefined) {
        if (this.#headFill === 0) this.#frameAt = this.#at + i;
        const n = Math.min(8 - this.#headFill, bytes.length - i);
        this.#head.set(bytes.subarray(i, i + n), this.#headFill);
        this.#headFill += n;
        i += n;
        if (this.#headFill < 8) break;
        this.#headFill = 0;
        const raw = this.#headView.getUint32(0, true);
        const length = this.#headView.getUint32(4, true);
        if (raw > MAX_FRAME_RAW_BYTES || length === 0) {
          throw new Error(
            `compressed snapshot corrupt: the frame at byte ${this.#frameAt} claims ${raw} bytes from ${length}`,
          );
        }
        this.#frameRaw = raw;
        if (stable && bytes.length - i >= length) {
          this.#decompress(bytes.subarray(i, i + length));
          i += length;
          continue;
        }
        this.#frame = new Uint8Array(length);
        this.#frameFill = 0;
      }
      const frame = this.#frame;
      const n = Math.min(frame.length - this.#frameFill, bytes.length - i);
      frame.set(bytes.subarray(i, i + n), this.#frameFill);
      this.#frameFill += n;
      i += n;
      if (this.#frameFill === frame.length) {
        this.#frame = undefined;
        this.#decompress(frame);
      }
    }
    this.#at += bytes.length;
  }

  #decompress(frame: Uint8Array): void {
    const raw = this.#frameRaw;
    const at = this.#frameAt;
    const output = decompress(frame, {
      // The output in one buffer of exactly its size; a frame inflating beyond it is refused.
      chunkSize: Math.min(Math.max(raw, MIN_CHUNK_BYTES), MAX_CHUNK_BYTES),
      maxOutputLength: Math.max(raw, 1),
    }).then(
      (bytes) => {
        if (bytes.length !== raw)
          throw new Error(`snapshot frame at byte ${at} is ${bytes.length} bytes, not ${raw}`);
        return bytes;
      },
      (error: Error) => {
        throw new Error(`snapshot frame at byte ${at} does not decompress: ${error.message}`);
      },
    );
    // Observed at once (end() rethrows through Promise.all): a corrupt frame must not end the
    // process as an unhandled rejection while the rest is still being read.
    output.catch((error: Error) => {
      this.#failure ??= error;
    });
    this.#outputs.push(output);
  }
}

/** One buffer of the pieces (the piece itself when there is one). */
function joined(pieces: readonly Uint8Array[]): Uint8Array {
  if (pieces.length === 1) return pieces[0]!;
  return new Uint8Array(Buffer.concat(pieces));
}

function isCompressed(bytes: Uint8Array): boolean {
  return bytes.length >= MAGIC.length && MAGIC.every((b, i) => bytes[i] === b);
}

/** A frame's head: its raw and its compressed length. */
function lengths(raw: number, packed: number): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, raw, true);
  view.setUint32(4, packed, true);
  return out;
}
