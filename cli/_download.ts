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
  openDownload,
  Progress,
  pythonJoin,
  saveError,
  transferError,
  writeBody,
} from "./_fetch.ts";
import { formatSize, type Value } from "./_format.ts";
import type { Handler } from "./_spec.ts";
import { propertyTable } from "./_table.ts";
import { type ChunkSource, readTar, safePath, TarError, type TarSink } from "./_tar.ts";
import { type Files, files } from "./_fs.ts";

const WORDS: DownloadWords = {
  label: "Downloading archive",
  failure: "Failed to download checkpoint",
  hint: "Please check your network connection and try again.",
};
const RESIGN_MARGIN_MS = 5 * 60_000;

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
  const exists = await fs.exists(target);
  if (exists && !options.force) {
    throw new CliError(
      `Target directory already exists: ${shown}`,
      "Use --force to overwrite or choose a different output directory.",
      EXIT.input,
    );
  }
  const rest = await ctx.client();
  let partial: string;
  try {
    partial = await fs.mkdtemp(join(parent, `.${name}.partial-`));
    await fs.chmod(partial, 0o755);
  } catch (error) {
    throw saveError(error, join(parent, "x"), WORDS);
  }
  let bytes: number;
  try {
    bytes = kind === "external_weights"
      ? await downloadExternal(ctx, rest, path, partial, fs)
      : await downloadArchive(ctx, rest, path, partial, fs);
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
): Promise<number> {
  if (!ctx.json) {
    ctx.err(`Requesting the archive of ${path} (the server may take a while to build it)...\n`);
  }
  const { url } = await rest.getCheckpointArchiveUrlFromTinkerPath(path, { signal: ctx.signal });
  const { body, length } = await openDownload(ctx, url, WORDS);
  const progress = new Progress(ctx, WORDS.label, length);
  let received = 0;
  try {
    const source = bodySource(ctx, body, length, (n) => {
      received += n;
      progress.update(n);
    }, WORDS);
    await readTar(await decompressed(source), fileSink(dir, fs), ctx.signal);
  } catch (error) {
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
    // The decompressor may hold on to its input: hand it chunks of its own.
    const compressed = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const reused = head.length === 0 && source.reuses;
        const chunk = await joined.read();
        if (chunk === null) controller.close();
        else controller.enqueue(reused ? chunk.slice() : chunk);
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

/** external_weights/…: every file of the signed URL map, re-signed when close to expiry. */
async function downloadExternal(
  ctx: Context,
  rest: RestClient,
  path: string,
  dir: string,
  fs: Files,
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
  for (const name of names) {
    try {
      if (safePath(name) === "") throw new TarError("empty", true);
    } catch {
      throw new CliError(
        `Unsafe file path in checkpoint: ${name}`,
        "The checkpoint may be corrupted or malicious.",
        EXIT.local,
      );
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
    await fs.mkdir(fs.dirname(target));
    const words = { ...WORDS, label: name };
    const { body, length } = await openDownload(ctx, url, words);
    const progress = new Progress(ctx, name, length);
    try {
      const source = bodySource(ctx, body, length, (n) => progress.update(n), words);
      total += await writeBody(source, target, words);
    } finally {
      progress.done();
    }
  }
  return total;
}
