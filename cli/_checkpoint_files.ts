// The two ways a checkpoint's files arrive, streamed into a directory:
// every file of an external-weights checkpoint through its signed URLs
// (re-signed five minutes before they expire), or the checkpoint's archive
// (fetch → gunzip when gzip → tar reader → files). Used by `download.ts`
// (and through it by `tinker checkpoint download`).

import type { RestClient } from "../rest_client.ts";
import { CliError, EXIT, Interrupted } from "./_errors.ts";
import {
  type BodySource,
  bodySource,
  type DownloadWords,
  openDownload,
  saveError,
  TooLargeError,
  type TransferContext,
  transferError,
  type TransferLimits,
  writeBody,
} from "./_fetch.ts";
import {
  type ChunkSource,
  readTar,
  safePath,
  TarError,
  type TarSink,
  TarSizeError,
} from "./_tar.ts";
import type { Files } from "./_fs.ts";
import { quoted } from "./_inert.ts";

/** The wording of a failed checkpoint transfer. */
export const WORDS: DownloadWords = {
  label: "Downloading archive",
  failure: "Failed to download checkpoint",
  hint: "Please check your network connection and try again.",
};
const RESIGN_MARGIN_MS = 5 * 60_000;
/**
 * Compressed bytes handed to the gzip decoder at a time. The decoder writes
 * out all it can from one piece at once, up to ~1,000 times the piece (a gzip
 * bomb): 16 KiB in keeps that under 17 MiB out. (Weights barely compress, so
 * small pieces cost nothing measurable there.)
 */
const GUNZIP_FEED = 16 << 10;

/** Hears about each file as it arrives. */
export interface FileEvents {
  /** A file starts: its name, its place (1-based) among `count`, its length if announced. */
  start(name: string, index: number, count: number, length: number | undefined): void;
  /** `bytes` more of the current file are on disk (or on their way, for an archive). */
  bytes(bytes: number): void;
  /** The current file is complete (or failed). */
  end(): void;
}

/** What one transfer of a checkpoint's files works with. */
export interface FilesJob {
  ctx: TransferContext;
  rest: RestClient;
  /** The (temporary) directory the files go to; it exists. */
  dir: string;
  fs: Files;
  limits: TransferLimits;
  events: FileEvents;
  /** Receives the relative path of every file written. */
  written: string[];
  /** The clock that decides when URLs are re-signed, in milliseconds. */
  now: () => number;
}

/**
 * weights/… on a server with the archive route: the signed archive URL, then
 * fetch → (gunzip) → tar reader → files, all streamed. Returns the archive's
 * size.
 */
export async function downloadArchive(job: FilesJob, path: string): Promise<number> {
  const { ctx, rest, limits, events } = job;
  const { url } = await rest.getCheckpointArchiveUrlFromTinkerPath(path, { signal: ctx.signal });
  const download = await openDownload(ctx, url, WORDS, limits);
  events.start(WORDS.label, 1, 1, download.length);
  let received = 0;
  let source: BodySource | undefined;
  try {
    source = bodySource(
      ctx,
      download,
      (n) => {
        received += n;
        events.bytes(n);
      },
      WORDS,
      limits.maxBytes,
    );
    await readTar(await decompressed(source), fileSink(job), {
      signal: ctx.signal,
      maxBytes: limits.maxBytes,
    });
  } catch (error) {
    await source?.cancel().catch(() => {});
    throw archiveError(ctx, error);
  } finally {
    events.end();
  }
  return received;
}

/** Detects gzip from the magic bytes; plain tar passes through. */
async function decompressed(source: BodySource): Promise<ChunkSource> {
  // The first bytes, copied if the source reuses its buffer.
  const head: Uint8Array[] = [];
  let headBytes = 0;
  while (headBytes < 6) {
    const chunk = await source.read();
    if (chunk === null) break;
    head.push(source.reuses ? chunk.slice() : chunk);
    headBytes += chunk.byteLength;
  }
  const first = new Uint8Array(Math.min(headBytes, 6));
  let at = 0;
  for (const chunk of head) {
    const take = Math.min(chunk.byteLength, first.byteLength - at);
    first.set(chunk.subarray(0, take), at);
    at += take;
    if (at === first.byteLength) break;
  }
  const joined: ChunkSource = {
    read: () => head.length > 0 ? Promise.resolve(head.shift()!) : source.read(),
    cancel: (reason) => source.cancel(reason),
  };
  if (first[0] === 0x1f && first[1] === 0x8b) {
    // Small pieces, one at a time, and only when the tar reader asks for
    // more: the bytes in flight stay bounded whatever the expansion. Each
    // piece is a copy (the decompressor may hold on to its input).
    let rest: Uint8Array = new Uint8Array();
    const compressed = new ReadableStream<Uint8Array>({
      async pull(controller) {
        while (rest.byteLength === 0) {
          const chunk = await joined.read();
          if (chunk === null) return controller.close();
          rest = chunk;
        }
        const piece = rest.slice(0, GUNZIP_FEED);
        rest = rest.subarray(piece.byteLength);
        controller.enqueue(piece);
      },
      cancel: (reason) => joined.cancel(reason),
    }, { highWaterMark: 0 });
    const stream = compressed.pipeThrough(
      new DecompressionStream("gzip") as TransformStream<Uint8Array, Uint8Array>,
    );
    const reader = stream.getReader();
    return {
      read: async () => {
        const { done, value } = await reader.read();
        return done ? null : value;
      },
      cancel: (reason) => reader.cancel(reason).catch(() => {}),
    };
  }
  const text = String.fromCharCode(...first);
  if (text.startsWith("BZh") || text.startsWith("\xfd7zXZ")) {
    await joined.cancel();
    throw new TarError("The archive uses bzip2/xz compression, which this CLI cannot read");
  }
  return joined;
}

/**
 * Extracts into the job's directory with synchronous writes: each chunk is
 * on disk before the next is read (the source may reuse its buffer), without
 * a promise per write.
 */
function fileSink({ dir: root, fs, written }: FilesJob): TarSink {
  const inside = (rel: string) => {
    const full = fs.resolve(root, ...rel.split("/"));
    if (!full.startsWith(root + fs.sep)) {
      throw new TarError(`Unsafe path in the archive: ${rel}`, true);
    }
    return full;
  };
  return {
    directory(rel) {
      fs.mkdirSync(inside(rel));
      return Promise.resolve();
    },
    async file(entry, data) {
      const full = inside(entry.path);
      fs.mkdirSync(fs.dirname(full));
      const file = fs.openSync(full, entry.mode & 0o111 ? 0o755 : 0o644);
      try {
        for await (const chunk of data) {
          for (let offset = 0; offset < chunk.byteLength;) {
            const n = file.write(chunk, offset, chunk.byteLength - offset);
            if (n <= 0) throw new Error("write returned 0 bytes");
            offset += n;
          }
        }
      } finally {
        file.close();
      }
      written.push(entry.path);
      if (entry.mtime > 0) {
        try {
          fs.setTimesSync(full, entry.mtime);
        } catch {
          // Keeping the time is a nicety.
        }
      }
    },
  };
}

function archiveError(ctx: TransferContext, error: unknown): Error {
  if (error instanceof CliError || error instanceof Interrupted) return error;
  if (ctx.signal.aborted) return new Interrupted();
  if (error instanceof TarSizeError) return new TooLargeError(WORDS, error.limit);
  if (error instanceof TarError) {
    return new CliError(
      `Failed to extract archive: ${error.message}`,
      error.unsafe
        ? "Archive may be corrupted or malicious."
        : "The downloaded file may be corrupted. Try downloading again.",
      EXIT.local,
    );
  }
  const code = (error as { code?: string })?.code;
  if (typeof code === "string" && /^E[A-Z]+$/.test(code)) {
    return saveError(error, "the output directory/x", WORDS);
  }
  // DecompressionStream and body errors: a broken or cut transfer, or a corrupt gzip.
  const message = error instanceof Error ? error.message : String(error);
  if (/gzip|deflate|decompress|compressed|zlib|header check|invalid/i.test(message)) {
    return new CliError(
      `Failed to extract archive: the gzip data is corrupt or truncated (${message})`,
      "The downloaded file may be corrupted. Try downloading again.",
      EXIT.local,
      { cause: error },
    );
  }
  return transferError(ctx, error, WORDS);
}

const words = (name: string): DownloadWords => ({ ...WORDS, label: name });

/**
 * external_weights/…: every file of the signed URL map, in name order,
 * re-signed when within five minutes of expiry. With `renewTtlSeconds`, each
 * signing also resets the checkpoint's TTL (after the URLs, as SDK 0.38
 * does), so a temporary export outlives its URLs. Returns the bytes written.
 */
export async function downloadExternal(
  job: FilesJob,
  path: string,
  renewTtlSeconds?: number,
): Promise<number> {
  const { ctx, rest, dir, fs, limits, events } = job;
  const signal = ctx.signal;
  const sign = async () => {
    const signed = await rest.getExternalWeightsUrls(path, { signal });
    if (renewTtlSeconds !== undefined) {
      await rest.setCheckpointTtlFromTinkerPath(path, renewTtlSeconds, { signal });
    }
    return signed;
  };
  let signed = await sign();
  const names = Object.keys(signed.urls).sort();
  if (names.length === 0) {
    throw new CliError(
      `External weights checkpoint has no files: ${path}`,
      undefined,
      EXIT.notFound,
    );
  }
  const paths = new Map<string, string>();
  for (const name of names) {
    let safe: string;
    try {
      safe = safePath(name);
      if (safe === "") throw new TarError("empty", true);
    } catch {
      throw new CliError(
        `Unsafe file path in checkpoint: ${quoted(name)}`,
        "The checkpoint may be corrupted or malicious.",
        EXIT.local,
      );
    }
    const twin = paths.get(safe);
    if (twin !== undefined) {
      throw new CliError(
        `Two files of the checkpoint have the same path: ${quoted(twin)} and ${quoted(name)}`,
        "The checkpoint may be corrupted or malicious.",
        EXIT.local,
      );
    }
    paths.set(safe, name);
  }
  // A file cannot also be a directory ("a" and "a/b").
  for (const [safe, name] of paths) {
    const parts = safe.split("/");
    for (let i = 1; i < parts.length; i++) {
      const file = paths.get(parts.slice(0, i).join("/"));
      if (file !== undefined) {
        throw new CliError(
          `The checkpoint's file ${quoted(file)} would also be the directory of ${quoted(name)}`,
          "The checkpoint may be corrupted or malicious.",
          EXIT.local,
        );
      }
    }
  }
  let total = 0;
  for (const [index, name] of names.entries()) {
    if (signal.aborted) throw new Interrupted();
    if (job.now() >= Date.parse(signed.expires) - RESIGN_MARGIN_MS) signed = await sign();
    const url = signed.urls[name];
    if (!url) {
      throw new CliError(`The re-signed URLs no longer include ${name}`, undefined, EXIT.error);
    }
    const relative = safePath(name);
    const target = fs.join(dir, ...relative.split("/"));
    await fs.mkdir(fs.dirname(target)).catch((error) => {
      throw saveError(error, target, words(name));
    });
    const download = await openDownload(ctx, url, words(name), limits);
    events.start(name, index + 1, names.length, download.length);
    try {
      const left = (limits.maxBytes ?? Infinity) - total;
      const source = bodySource(ctx, download, (n) => events.bytes(n), words(name), left);
      total += await writeBody(source, target, words(name));
      job.written.push(relative);
    } catch (error) {
      // The cap is on the whole checkpoint: name the whole limit.
      if (error instanceof TooLargeError) throw new TooLargeError(WORDS, limits.maxBytes!);
      throw error;
    } finally {
      events.end();
    }
  }
  return total;
}
