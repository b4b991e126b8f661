import { promisify } from 'node:util';
import zlib from 'node:zlib';

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
 * that folds sales and answers requests.
 *
 * An object without the magic is an uncompressed snapshot and is returned as it is.
 */
const MAGIC = new Uint8Array([0x54, 0x5a, 0x53, 0x31]); // "TZS1"
const FRAME_BYTES = 4 * 1024 * 1024;
const LEVEL = 1;

const compress = promisify(zlib.zstdCompress);
const decompress = promisify(zlib.zstdDecompress);
// chunkSize: zlib's default (16 KiB) would pass each frame back and forth between the thread pool
// and the event loop hundreds of times; one step per frame instead.
const compressOptions = {
  chunkSize: FRAME_BYTES,
  params: { [zlib.constants.ZSTD_c_compressionLevel]: LEVEL },
};
const decompressOptions = { chunkSize: FRAME_BYTES };

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

/** The snapshot's bytes from a stored object, compressed or not. */
export async function decompressSnapshot(stored: Uint8Array): Promise<Uint8Array> {
  if (!isCompressed(stored)) return stored;
  const view = new DataView(stored.buffer, stored.byteOffset, stored.byteLength);
  const frames: { raw: number; at: number; length: number }[] = [];
  let total = 0;
  for (let at = MAGIC.length; at < stored.length; ) {
    if (at + 8 > stored.length) throw new Error(`compressed snapshot truncated at byte ${at}`);
    const raw = view.getUint32(at, true);
    const length = view.getUint32(at + 4, true);
    if (at + 8 + length > stored.length) throw new Error(`compressed snapshot truncated at byte ${at}`);
    frames.push({ raw, at: at + 8, length });
    total += raw;
    at += 8 + length;
  }
  const out = new Uint8Array(total);
  let offset = 0;
  const placed = frames.map((frame) => {
    const into = offset;
    offset += frame.raw;
    return decompress(stored.subarray(frame.at, frame.at + frame.length), decompressOptions).then((bytes) => {
      if (bytes.length !== frame.raw)
        throw new Error(`snapshot frame at byte ${frame.at} is ${bytes.length} bytes, not ${frame.raw}`);
      out.set(bytes, into);
    });
  });
  await Promise.all(placed);
  return out;
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
