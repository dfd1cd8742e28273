// A streaming tar reader (ustar, GNU long names, pax headers) that extracts
// into a directory and refuses anything unsafe: absolute paths, `..`,
// symlinks, hard links, device files and FIFOs. Memory stays flat: file data
// goes from the input's chunks to disk as views (no copies), each written
// before the next chunk is read. Plus a small tar writer for tests and benchmarks.

import { inert, quoted } from "./_inert.ts";

const BLOCK = 512;
/** The largest pax / GNU long-name record. */
const MAX_META_BYTES = 1 << 20;
/**
 * The most header-record bytes (pax `x`/`g`, GNU `L`/`K`) before one entry:
 * consecutive records accumulate, so each being small is not enough.
 */
const MAX_META_TOTAL = 4 << 20;
/** What is still read after the end-of-archive marker (to let gzip check its trailer). */
const MAX_AFTER_END = 1 << 20;
const decoder = new TextDecoder();

/** The archive is malformed or unsafe; the message says what and where. */
export class TarError extends Error {
  constructor(message: string, readonly unsafe = false) {
    super(message);
    this.name = "TarError";
  }
}

/** The archive is larger than the `maxBytes` it was allowed. */
export class TarSizeError extends TarError {
  constructor(readonly limit: number) {
    super(`The archive is larger than the ${limit} bytes allowed`);
    this.name = "TarSizeError";
  }
}

/** Options of {@linkcode readTar}. */
export interface ReadTarOptions {
  /** Checked between chunks. */
  signal?: AbortSignal | undefined;
  /**
   * The most bytes the tar stream may hold (headers, data and padding),
   * checked against each entry's declared size before anything of it is
   * written. Default: no limit.
   */
  maxBytes?: number | undefined;
}

/**
 * Where the archive's bytes come from, one chunk at a time. A chunk may be
 * reused (overwritten) by the next `read()`, so nothing is kept across reads
 * without a copy.
 */
export interface ChunkSource {
  /** The next chunk, or null at the end. */
  read(): Promise<Uint8Array | null>;
  cancel(reason?: unknown): Promise<void>;
}

/** A stream as a {@linkcode ChunkSource}. */
export function streamSource(stream: ReadableStream<Uint8Array>): ChunkSource {
  const reader = stream.getReader();
  return {
    read: async () => {
      const { done, value } = await reader.read();
      return done ? null : value;
    },
    cancel: (reason) => reader.cancel(reason),
  };
}

/**
 * Reads exact byte counts from chunks: header blocks and records are copied
 * (a chunk may be reused by the next read), file data is handed on as views.
 */
class ByteReader {
  #source: ChunkSource;
  #signal: AbortSignal | undefined;
  #chunk: Uint8Array = new Uint8Array(0);
  #offset = 0;
  #done = false;
  #max: number;
  /** Bytes of the stream received so far. */
  received = 0;

  constructor(source: ChunkSource, signal: AbortSignal | undefined, max = Infinity) {
    this.#source = source;
    this.#signal = signal;
    this.#max = max;
  }

  /** Bytes handed out so far. */
  get position(): number {
    return this.received - (this.#chunk.byteLength - this.#offset);
  }

  async #fill(): Promise<boolean> {
    while (this.#offset >= this.#chunk.byteLength) {
      if (this.#done) return false;
      const value = await this.#source.read();
      if (value === null) {
        this.#done = true;
        return false;
      }
      this.received += value.byteLength;
      if (this.received > this.#max) throw new TarSizeError(this.#max);
      this.#chunk = value;
      this.#offset = 0;
    }
    return true;
  }

  /** Exactly `n` bytes (a copy); null if the stream ends before the first byte; throws if it ends midway. */
  async exact(n: number, what: string): Promise<Uint8Array | null> {
    if (!(await this.#fill())) return null;
    if (this.#chunk.byteLength - this.#offset >= n) {
      const out = this.#chunk.slice(this.#offset, this.#offset + n);
      this.#offset += n;
      return out;
    }
    const out = new Uint8Array(n);
    let have = 0;
    while (have < n) {
      if (!(await this.#fill())) throw new TarError(`The archive is truncated (inside ${what})`);
      const take = Math.min(n - have, this.#chunk.byteLength - this.#offset);
      out.set(this.#chunk.subarray(this.#offset, this.#offset + take), have);
      this.#offset += take;
      have += take;
    }
    return out;
  }

  /** `n` bytes as chunks (views into the source's chunks, valid until the next one). */
  async *take(n: number, what: string): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      this.#signal?.throwIfAborted();
      if (!(await this.#fill())) throw new TarError(`The archive is truncated (inside ${what})`);
      const take = Math.min(left, this.#chunk.byteLength - this.#offset);
      const view = this.#chunk.subarray(this.#offset, this.#offset + take);
      this.#offset += take;
      left -= take;
      yield view;
    }
  }

  async skip(n: number, what: string): Promise<void> {
    let left = n;
    while (left > 0) {
      if (!(await this.#fill())) throw new TarError(`The archive is truncated (inside ${what})`);
      const take = Math.min(left, this.#chunk.byteLength - this.#offset);
      this.#offset += take;
      left -= take;
    }
  }

  /**
   * Reads and discards what is left, up to `limit` more bytes (or up to the
   * size limit: the archive is complete by then); true if that was the end.
   */
  async drain(limit: number): Promise<boolean> {
    const stop = this.received + limit;
    this.#offset = this.#chunk.byteLength;
    try {
      while (this.received <= stop) {
        if (!(await this.#fill())) return true;
        this.#offset = this.#chunk.byteLength;
      }
    } catch (error) {
      if (!(error instanceof TarSizeError)) throw error;
    }
    return false;
  }

  cancel(reason?: unknown): Promise<void> {
    return this.#source.cancel(reason).catch(() => {});
  }
}

/** One entry as the extractor sees it. */
export interface TarEntryInfo {
  /** The safe relative path (`/`-separated). */
  path: string;
  type: "file" | "directory";
  size: number;
  mode: number;
  mtime: number;
}

/** Where extracted entries go (the file system in the CLI, memory in tests). */
export interface TarSink {
  directory(path: string): Promise<void>;
  /**
   * Writes a file from `data`; must consume it fully, done with each chunk
   * (written or copied) before asking for the next: chunks may be reused.
   */
  file(entry: TarEntryInfo, data: AsyncIterable<Uint8Array>): Promise<void>;
}

/**
 * Reads a tar stream to its end-of-archive marker, handing each entry to
 * `sink`. What follows the marker is read (so a gzip trailer is checked) up
 * to 1 MiB, then the input is cancelled: an endless tail is not read. Throws
 * {@linkcode TarError} on a corrupt, truncated or unsafe archive, or one
 * larger than `maxBytes` ({@linkcode TarSizeError}).
 */
export async function readTar(
  input: ReadableStream<Uint8Array> | ChunkSource,
  sink: TarSink,
  options: ReadTarOptions = {},
): Promise<{ entries: number; bytes: number }> {
  const { signal, maxBytes = Infinity } = options;
  const reader = new ByteReader(
    input instanceof ReadableStream ? streamSource(input) : input,
    signal,
    maxBytes,
  );
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let metaBytes = 0;
  let entries = 0;
  let bytes = 0;
  try {
    for (let index = 0;; index++) {
      signal?.throwIfAborted();
      const header = await reader.exact(BLOCK, "a header");
      if (header === null) {
        throw new TarError(
          entries === 0
            ? "The archive is empty or truncated (no tar header)"
            : "The archive is truncated (no end-of-archive marker)",
        );
      }
      if (header.every((b) => b === 0)) {
        if (!(await reader.drain(MAX_AFTER_END))) await reader.cancel();
        return { entries, bytes };
      }
      checkChecksum(header, index);
      const type = String.fromCharCode(header[156]!);
      const size = pax.size !== undefined
        ? parsePaxSize(pax.size)
        : number(header, 124, 12, "size");
      const padding = (BLOCK - (size % BLOCK)) % BLOCK;
      if (type === "x" || type === "g" || type === "L" || type === "K") {
        if (size > MAX_META_BYTES) {
          throw new TarError(`A ${type} header record is too large (${size} bytes)`);
        }
        metaBytes += size;
        if (metaBytes > MAX_META_TOTAL) {
          throw new TarError(
            `The header records before one entry exceed ${MAX_META_TOTAL} bytes (in block ${index})`,
          );
        }
        const data = size === 0 ? new Uint8Array() : await reader.exact(size, "a header record");
        if (data === null) throw new TarError("The archive is truncated (inside a header record)");
        await reader.skip(padding, "padding");
        if (type === "x") pax = { ...pax, ...parsePax(data) };
        else if (type === "L") longName = cString(data);
        // "g" (global pax) and "K" (long link name) carry nothing we extract.
        continue;
      }
      const name = pax.path ?? longName ?? headerName(header);
      pax = {};
      longName = undefined;
      metaBytes = 0;
      if (reader.position + size > maxBytes) throw new TarSizeError(maxBytes);
      const path = safePath(name);
      const mode = number(header, 100, 8, "mode");
      const mtime = number(header, 136, 12, "mtime");
      if (type === "5") {
        if (path !== "") await sink.directory(path);
        await reader.skip(size + padding, "a directory");
      } else if (type === "0" || type === "\0" || type === "7") {
        if (path === "") throw new TarError(`A file entry has an empty name`, true);
        await sink.file(
          { path, type: "file", size, mode, mtime },
          reader.take(size, `file ${quoted(path)}`),
        );
        await reader.skip(padding, "padding");
        bytes += size;
      } else if (type === "1" || type === "2") {
        throw new TarError(
          `Refusing ${type === "2" ? "symlink" : "hard link"} ${quoted(name)} in the archive`,
          true,
        );
      } else if (type === "3" || type === "4" || type === "6") {
        const kind = type === "6" ? "FIFO" : "device file";
        throw new TarError(`Refusing ${kind} ${quoted(name)} in the archive`, true);
      } else {
        throw new TarError(
          `Unsupported tar entry type '${inert(type, true)}' for ${quoted(name)}`,
          true,
        );
      }
      entries++;
    }
  } catch (error) {
    await reader.cancel(error);
    throw error;
  }
}

/**
 * A tar member name as a safe relative path (`a/b`), `""` for the archive's
 * root (`./`). Throws for absolute paths, `..`, backslashes and NULs.
 */
export function safePath(name: string): string {
  if (name === "") throw new TarError("An entry has an empty name", true);
  if (name.includes("\0") || name.includes("\\")) {
    throw new TarError(`Unsafe path in the archive: ${quoted(name)}`, true);
  }
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name)) {
    throw new TarError(`Unsafe absolute path in the archive: ${quoted(name)}`, true);
  }
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) {
    throw new TarError(`Unsafe path (..) in the archive: ${quoted(name)}`, true);
  }
  return parts.join("/");
}

function checkChecksum(header: Uint8Array, index: number): void {
  const stored = number(header, 148, 8, "checksum");
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : header[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  if (stored !== unsigned && stored !== signed) {
    throw new TarError(`The archive is corrupt (bad header checksum in block ${index})`);
  }
}

/** An octal (or GNU base-256) numeric field. */
function number(header: Uint8Array, offset: number, length: number, what: string): number {
  const field = header.subarray(offset, offset + length);
  if (field[0]! & 0x80) {
    let value = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!;
    return value;
  }
  const text = decoder.decode(field).replace(/[\0 ]+$/, "").replace(/^[\0 ]+/, "");
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarError(`The archive is corrupt (bad ${what} field)`);
  return Number.parseInt(text, 8);
}

function parsePaxSize(value: string): number {
  if (!/^\d+$/.test(value)) {
    throw new TarError(`The archive is corrupt (bad pax size ${quoted(value)})`);
  }
  return Number(value);
}

function cString(data: Uint8Array): string {
  const nul = data.indexOf(0);
  return decoder.decode(nul < 0 ? data : data.subarray(0, nul));
}

function headerName(header: Uint8Array): string {
  const name = cString(header.subarray(0, 100));
  const magic = decoder.decode(header.subarray(257, 263));
  if (magic === "ustar\0") {
    const prefix = cString(header.subarray(345, 500));
    if (prefix) return `${prefix}/${name}`;
  }
  return name;
}

/** pax records: `"<len> <key>=<value>\n"` repeated. */
function parsePax(data: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < data.byteLength) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const length = Number(decoder.decode(data.subarray(at, space)));
    if (!Number.isInteger(length) || length <= 0 || at + length > data.byteLength) {
      throw new TarError("The archive is corrupt (bad pax record)");
    }
    const record = decoder.decode(data.subarray(space + 1, at + length - 1));
    const eq = record.indexOf("=");
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    at += length;
  }
  return out;
}

// ---- writer (tests and benchmarks) -----------------------------------------

/** An entry for {@linkcode tarEntries}. */
export interface TarWriteEntry {
  name: string;
  /** `0` file (default), `5` directory, `1` hard link, `2` symlink, `3`/`4` devices, `6` FIFO. */
  type?: string;
  data?: Uint8Array | undefined;
  /** Bytes of data for a file whose content is generated (zeros). */
  size?: number;
  linkname?: string;
  mode?: number;
  mtime?: number;
  /** How to store a name longer than 100 bytes. */
  longName?: "gnu" | "pax" | "ustar-prefix";
}

const encoder = new TextEncoder();

/** One 512-byte header. */
export function tarHeader(
  entry: TarWriteEntry & { size: number },
  nameOverride?: string,
): Uint8Array {
  const h = new Uint8Array(BLOCK);
  const name = encoder.encode(nameOverride ?? entry.name);
  let prefix = new Uint8Array();
  let short = name;
  if (entry.longName === "ustar-prefix" && name.byteLength > 100) {
    const text = nameOverride ?? entry.name;
    const cut = text.lastIndexOf("/", text.length - 1);
    prefix = encoder.encode(text.slice(0, cut));
    short = encoder.encode(text.slice(cut + 1));
  }
  h.set(short.subarray(0, 100), 0);
  const octal = (value: number, offset: number, length: number) =>
    h.set(encoder.encode(value.toString(8).padStart(length - 1, "0") + "\0"), offset);
  octal(entry.mode ?? (entry.type === "5" ? 0o755 : 0o644), 100, 8);
  octal(0, 108, 8);
  octal(0, 116, 8);
  if (entry.size > 0o77777777777) {
    h[124] = 0x80;
    let v = entry.size;
    for (let i = 135; i > 124; i--) {
      h[i] = v % 256;
      v = Math.floor(v / 256);
    }
  } else octal(entry.size, 124, 12);
  octal(entry.mtime ?? 1_700_000_000, 136, 12);
  h[156] = (entry.type ?? "0").charCodeAt(0);
  if (entry.linkname) h.set(encoder.encode(entry.linkname).subarray(0, 100), 157);
  h.set(encoder.encode("ustar\0"), 257);
  h.set(encoder.encode("00"), 263);
  h.set(prefix.subarray(0, 155), 345);
  h.fill(0x20, 148, 156);
  const sum = h.reduce((a, b) => a + b, 0);
  h.set(encoder.encode(sum.toString(8).padStart(6, "0") + "\0 "), 148);
  return h;
}

/** The blocks of a tar archive, as a generator (file data is zeros when only `size` is given). */
export function* tarEntries(entries: TarWriteEntry[], endMarker = true): Generator<Uint8Array> {
  for (const entry of entries) {
    const size = entry.data?.byteLength ?? entry.size ?? 0;
    const nameBytes = encoder.encode(entry.name).byteLength;
    if (nameBytes > 100 && entry.longName === "gnu") {
      const data = encoder.encode(`${entry.name}\0`);
      yield tarHeader({ name: "././@LongLink", type: "L", size: data.byteLength });
      yield* padded(data);
    } else if (nameBytes > 100 && entry.longName === "pax") {
      const data = paxRecord("path", entry.name);
      yield tarHeader({ name: "PaxHeaders/x", type: "x", size: data.byteLength });
      yield* padded(data);
    }
    yield tarHeader(
      { ...entry, size },
      nameBytes > 100 && entry.longName !== "ustar-prefix" ? entry.name.slice(0, 100) : undefined,
    );
    if (entry.data) yield* padded(entry.data);
    else if (size > 0) {
      const chunk = new Uint8Array(Math.min(size, 1 << 20));
      for (let left = size; left > 0; left -= chunk.byteLength) {
        yield left >= chunk.byteLength ? chunk : chunk.subarray(0, left);
      }
      const pad = (BLOCK - (size % BLOCK)) % BLOCK;
      if (pad) yield new Uint8Array(pad);
    }
  }
  if (endMarker) yield new Uint8Array(BLOCK * 2);
}

function* padded(data: Uint8Array): Generator<Uint8Array> {
  yield data;
  const pad = (BLOCK - (data.byteLength % BLOCK)) % BLOCK;
  if (pad) yield new Uint8Array(pad);
}

function paxRecord(key: string, value: string): Uint8Array {
  const body = ` ${key}=${value}\n`;
  const bodyLength = encoder.encode(body).byteLength;
  let total = bodyLength + 1;
  while (String(total).length + bodyLength !== total) total = String(total).length + bodyLength;
  return encoder.encode(`${total}${body}`);
}

/** Concatenates a tar generator into one buffer. */
export function tarBytes(entries: TarWriteEntry[], endMarker = true): Uint8Array {
  const parts = [...tarEntries(entries, endMarker)];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
