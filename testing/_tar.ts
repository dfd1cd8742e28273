/**
 * A small streaming ustar writer, with optional gzip through `CompressionStream`.
 *
 * Entries are produced lazily, so a multi-gigabyte archive never sits in memory,
 * and {@linkcode tarSize} gives the exact byte length up front for `Content-Length`.
 *
 * @module
 */

/** One regular file of an archive. */
export interface TarEntry {
  /** Path inside the archive (at most 100 bytes). */
  name: string;
  /** Exact number of bytes `content()` yields. */
  size: number;
  /** Modification time, seconds since the epoch. */
  mtime: number;
  /** The file's bytes, in any chunking. */
  content(): Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
}

const BLOCK = 512;
const encoder = new TextEncoder();
const padded = (size: number) => Math.ceil(size / BLOCK) * BLOCK;

/** Exact byte length of the uncompressed archive of `entries`. */
export function tarSize(entries: readonly TarEntry[]): number {
  return entries.reduce((sum, e) => sum + BLOCK + padded(e.size), 2 * BLOCK);
}

/** Streams the uncompressed ustar archive of `entries`, ending with two zero blocks. */
export async function* tarStream(entries: readonly TarEntry[]): AsyncGenerator<Uint8Array> {
  for (const entry of entries) {
    yield header(entry);
    let written = 0;
    for await (const chunk of entry.content()) {
      written += chunk.byteLength;
      yield chunk;
    }
    if (written !== entry.size) {
      throw new Error(`tar entry ${entry.name}: wrote ${written} of ${entry.size} bytes`);
    }
    if (padded(written) > written) yield new Uint8Array(padded(written) - written);
  }
  yield new Uint8Array(2 * BLOCK);
}

/** Gzips a byte stream with the web-standard `CompressionStream`. */
export function gzip(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]();
  return new ReadableStream<BufferSource>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value as Uint8Array<ArrayBuffer>);
    },
    async cancel(reason) {
      await iterator.return?.(reason);
    },
  }).pipeThrough(new CompressionStream("gzip"));
}

function header(entry: TarEntry): Uint8Array {
  const block = new Uint8Array(BLOCK);
  const put = (offset: number, text: string) => block.set(encoder.encode(text), offset);
  const octal = (offset: number, width: number, value: number) =>
    put(offset, value.toString(8).padStart(width - 1, "0") + "\0");
  const name = encoder.encode(entry.name);
  if (name.byteLength > 100) throw new Error(`tar entry name too long: ${entry.name}`);
  block.set(name, 0);
  octal(100, 8, 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  if (entry.size < 8 ** 11) {
    octal(124, 12, entry.size);
  } else { // GNU base-256 for files of 8 GiB and more
    block[124] = 0x80;
    for (let i = 135, v = entry.size; i > 124; i--, v = Math.floor(v / 256)) block[i] = v % 256;
  }
  octal(136, 12, Math.floor(entry.mtime));
  put(148, "        ");
  put(156, "0");
  put(257, "ustar\u000000");
  put(265, "tinker");
  put(297, "tinker");
  octal(148, 7, block.reduce((a, b) => a + b, 0));
  put(155, " ");
  return block;
}
