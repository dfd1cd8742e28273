// `tinker checkpoint download`: archive (weights/, sampler_weights/) or
// file-by-file (external_weights/) into a temporary directory next to the
// target, renamed into place only when complete.

import type { RestClient } from "../mod.ts";
import type { Context } from "./_context.ts";
import { CliError, EXIT, Interrupted } from "./_errors.ts";
import {
  type BodySource,
  bodySource,
  type DownloadWords,
  idleTimeoutMs,
  openDownload,
  Progress,
  pythonJoin,
  removeStale,
  saveError,
  TooLargeError,
  transferError,
  type TransferLimits,
  writeBody,
} from "./_fetch.ts";
import { formatSize, type Value } from "./_format.ts";
import type { Handler } from "./_spec.ts";
import { propertyTable } from "./_table.ts";
import {
  type ChunkSource,
  readTar,
  safePath,
  TarError,
  type TarSink,
  TarSizeError,
} from "./_tar.ts";
import { type Files, files } from "./_fs.ts";
import { quoted } from "./_inert.ts";
import { processId } from "./_process.ts";

const WORDS: DownloadWords = {
  label: "Downloading archive",
  failure: "Failed to download checkpoint",
  hint: "Please check your network connection and try again.",
};
const RESIGN_MARGIN_MS = 5 * 60_000;
/** The default of `--max-size`: what a checkpoint may hold once extracted. */
export const DEFAULT_MAX_SIZE = 256 * 1024 ** 3;
/**
 * Compressed bytes handed to the gzip decoder at a time. The decoder writes
 * out all it can from one piece at once, up to ~1,000 times the piece (a gzip
 * bomb): 16 KiB in keeps that under 17 MiB out. (Weights barely compress, so
 * small pieces cost nothing measurable there.)
 */
const GUNZIP_FEED = 16 << 10;

/** `tinker checkpoint download CHECKPOINT_PATH [-o DIR] [--force]`. */
export const download: Handler = async (ctx, { args, options }) => {
  const path = String(args.CHECKPOINT_PATH);
  const { parseTinkerPath } = await import("../tinker_path.ts");
  let kind: string;
  try {
    kind = parseTinkerPath(path).checkpoint_id.split("/")[0]!;
  } catch (error) {
    throw new CliError(
      `Invalid checkpoint path: ${(error as Error).message}`,
      "Checkpoint paths look like tinker://run-id/weights/name, tinker://run-id/sampler_weights/name or tinker://run-id/external_weights/name.",
      EXIT.input,
    );
  }
  const fs = await files();
  const { join, resolve } = fs;
  const output = options.output as string | undefined;
  const parent = resolve(ctx.cwd, output ?? ".");
  const name = path.replace("tinker://", "").replaceAll("/", "_");
  const target = join(parent, name);
  const shown = output ? pythonJoin(output, name) : join(ctx.cwd, name);
  if (output) {
    await fs.mkdir(parent).catch((e) => {
      throw saveError(e, join(parent, "x"), WORDS);
    });
  }
  const limits: TransferLimits = {
    idleMs: idleTimeoutMs(options["idle-timeout"]),
    maxBytes: sizeOption(options["max-size"]),
  };
  const exists = await fs.exists(target);
  if (exists && !options.force) {
    throw new CliError(
      `Target directory already exists: ${shown}`,
      "Use --force to overwrite or choose a different output directory.",
      EXIT.input,
    );
  }
  const rest = await ctx.client();
  const prefix = `.${name}.partial-`;
  await removeStale(fs, parent, prefix);
  let partial: string;
  try {
    partial = await fs.mkdtemp(join(parent, `${prefix}${processId()}-`));
    await fs.chmod(partial, 0o755);
  } catch (error) {
    throw saveError(error, join(parent, "x"), WORDS);
  }
  let bytes: number;
  try {
    bytes = kind === "external_weights"
      ? await downloadExternal(ctx, rest, path, partial, fs, limits)
      : await downloadArchive(ctx, rest, path, partial, fs, limits);
    ctx.checkInterrupted();
    if (exists) await fs.remove(target);
    await fs.rename(partial, target);
  } catch (error) {
    await fs.remove(partial).catch(() => {});
    if (error instanceof Interrupted || ctx.signal.aborted) {
      throw new Interrupted("Interrupted: the partial download was removed");
    }
    throw error;
  }
  const json: Record<string, Value> = { checkpoint_path: path, destination: shown };
  if (bytes > 0) json.file_size_bytes = bytes;
  ctx.emit({
    json,
    table: () =>
      propertyTable(`Checkpoint Download: ${path}`, [
        ["Checkpoint Path", path],
        ...(bytes > 0 ? [["Total Size", formatSize(bytes)]] : []),
        ["Downloaded to", shown],
      ]),
  });
};

/**
 * weights/… and sampler_weights/…: the signed archive URL, then fetch →
 * (gunzip) → tar reader → files, all streamed. Returns the archive's size.
 */
async function downloadArchive(
  ctx: Context,
  rest: RestClient,
  path: string,
  dir: string,
  fs: Files,
  limits: TransferLimits,
): Promise<number> {
  if (!ctx.json) {
    ctx.err(`Requesting the archive of ${path} (the server may take a while to build it)...\n`);
  }
  const { url } = await rest.getCheckpointArchiveUrlFromTinkerPath(path, { signal: ctx.signal });
  const download = await openDownload(ctx, url, WORDS, limits);
  const progress = new Progress(ctx, WORDS.label, download.length);
  let received = 0;
  let source: BodySource | undefined;
  try {
    source = bodySource(
      ctx,
      download,
      (n) => {
        received += n;
        progress.update(n);
      },
      WORDS,
      limits.maxBytes,
    );
    await readTar(await decompressed(source), fileSink(dir, fs), {
      signal: ctx.signal,
      maxBytes: limits.maxBytes,
    });
  } catch (error) {
    await source?.cancel().catch(() => {});
    throw archiveError(ctx, error);
  } finally {
    progress.done();
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
 * Extracts into `root` with synchronous writes: each chunk is on disk before
 * the next is read (the source may reuse its buffer), without a promise per
 * write.
 */
function fileSink(root: string, fs: Files): TarSink {
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

function archiveError(ctx: Context, error: unknown): Error {
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

/** external_weights/…: every file of the signed URL map, re-signed when close to expiry. */
async function downloadExternal(
  ctx: Context,
  rest: RestClient,
  path: string,
  dir: string,
  fs: Files,
  limits: TransferLimits,
): Promise<number> {
  const sign = (p: string, o: { signal: AbortSignal }) => rest.getExternalWeightsUrls(p, o);
  let signed = await sign(path, { signal: ctx.signal });
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
  for (const name of names) {
    ctx.checkInterrupted();
    if (ctx.now() >= Date.parse(signed.expires) - RESIGN_MARGIN_MS) {
      signed = await sign(path, { signal: ctx.signal });
    }
    const url = signed.urls[name];
    if (!url) {
      throw new CliError(`The re-signed URLs no longer include ${name}`, undefined, EXIT.error);
    }
    const target = fs.join(dir, ...safePath(name).split("/"));
    await fs.mkdir(fs.dirname(target)).catch((error) => {
      throw saveError(error, target, words(name));
    });
    const download = await openDownload(ctx, url, words(name), limits);
    const progress = new Progress(ctx, name, download.length);
    try {
      const left = (limits.maxBytes ?? Infinity) - total;
      const source = bodySource(ctx, download, (n) => progress.update(n), words(name), left);
      total += await writeBody(source, target, words(name));
    } catch (error) {
      // The cap is on the whole checkpoint: name the whole limit.
      if (error instanceof TooLargeError) throw new TooLargeError(WORDS, limits.maxBytes!);
      throw error;
    } finally {
      progress.done();
    }
  }
  return total;
}

const UNITS: Record<string, number> = {
  "": 1,
  B: 1,
  K: 1024,
  KB: 1024,
  KIB: 1024,
  M: 1024 ** 2,
  MB: 1024 ** 2,
  MIB: 1024 ** 2,
  G: 1024 ** 3,
  GB: 1024 ** 3,
  GIB: 1024 ** 3,
  T: 1024 ** 4,
  TB: 1024 ** 4,
  TIB: 1024 ** 4,
};

/** `--max-size`: bytes, or a number with a 1024-based unit (`500M`, `2GiB`, `1T`). */
export function sizeOption(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_SIZE;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(String(value));
  const unit = m ? UNITS[m[2]!.toUpperCase()] : undefined;
  const bytes = m && unit ? Math.floor(Number(m[1]) * unit) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new CliError(
      `Invalid value for '--max-size': ${quoted(String(value))}`,
      "Give bytes, or a number with a unit: 500M, 20G, 1T (1024-based).",
      EXIT.input,
    );
  }
  return bytes;
}
