// Plain downloads from signed storage URLs (no credentials, no custom
// headers), streamed to disk with a progress bar on stderr.

import type { Context } from "./_context.ts";
import type { ChunkSource } from "./_tar.ts";
import { CliError, EXIT, Interrupted } from "./_errors.ts";
import { formatSize } from "./_format.ts";
import { type AsyncFile, type Files, files } from "./_fs.ts";
import { processAlive, processId } from "./_process.ts";
import { inert, quoted } from "./_inert.ts";
import { unrefTimeout, urlProblem } from "../internal/_request.ts";

/** How to word a failed download. */
export interface DownloadWords {
  /** Progress bar label. */
  label: string;
  /** Message prefix, e.g. `Failed to download checkpoint`. */
  failure: string;
  /** Second line of the error. */
  hint: string;
}

/** How long a transfer may wait for the server, and how much it may receive. */
export interface TransferLimits {
  /**
   * The longest wait for the server, in milliseconds: for the response's
   * headers, and for each piece of its body.
   */
  idleMs: number;
  /** The most bytes the body may have (default: no limit). */
  maxBytes?: number | undefined;
}

/**
 * What a transfer needs of its caller: the abort signal (Ctrl-C, or a
 * script's `signal`) and the API client whose base URL decides which
 * download URLs are acceptable. The CLI's `Context` is one.
 */
export interface TransferContext {
  /** Aborts the transfer. */
  readonly signal: AbortSignal;
  /** The API client (only its `baseUrl` is used). */
  client(): Promise<{ readonly baseUrl: string }>;
}

/** The default of `--idle-timeout`, in seconds. */
export const DEFAULT_IDLE_TIMEOUT_S = 60;

/** An open download: its body, announced length, and the watch on its pauses. */
export interface Download {
  body: ReadableStream<Uint8Array>;
  /**
   * Content-Length, when it counts the bytes the body yields (undefined when
   * absent, or when the runtime decodes a `Content-Encoding`).
   */
  length: number | undefined;
  /** Aborts the transfer when the server is silent for too long. */
  watch: IdleWatch;
}

/**
 * Gives up on a transfer when the server stays silent for `ms`: each wait
 * (for headers, for a piece of body) runs through {@linkcode IdleWatch.wait},
 * which aborts the fetch (its `signal`) and fails with a clear error when the
 * wait outlasts `ms`. Ctrl-C aborts it too. The timer runs only during a wait
 * and never keeps the process alive.
 */
export class IdleWatch {
  readonly #controller = new AbortController();
  readonly #ctx: TransferContext;
  readonly #ms: number;
  readonly #words: DownloadWords;
  readonly #onAbort: () => void;

  constructor(ctx: TransferContext, ms: number, words: DownloadWords) {
    this.#ctx = ctx;
    this.#ms = ms;
    this.#words = words;
    this.#onAbort = () => this.#controller.abort(ctx.signal.reason);
    if (ctx.signal.aborted) this.#onAbort();
    else ctx.signal.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** Aborted on Ctrl-C or after a wait that was too long. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Awaits `start()`, failing if it takes longer than the idle timeout. */
  async wait<T>(start: () => Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const idle = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const seconds = this.#ms / 1000;
        const error = new CliError(
          `${this.#words.failure}: the server sent nothing for ${seconds} s (--idle-timeout)`,
          this.#words.hint,
          EXIT.network,
        );
        reject(error);
        this.#controller.abort(error);
      }, this.#ms);
      unrefTimeout(timer);
    });
    const running = start();
    running.catch(() => {});
    try {
      return await Promise.race([running, idle]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops listening for Ctrl-C. */
  dispose(): void {
    this.#ctx.signal.removeEventListener("abort", this.#onAbort);
  }
}

/**
 * Whether a URL the server handed out may be fetched: `https:`, or `http:`
 * to a loopback host or when the API itself is reached over `http:`.
 * Anything else (`file:`, `data:`, `ftp:`, …) is refused before any fetch:
 * a `file:` URL would copy a local file into the download.
 */
export function checkServerUrl(url: string, baseUrl: string, words: DownloadWords): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(
      `${words.failure}: the server gave a download URL that is not a URL: ${quoted(url)}`,
      "The server's answer is malformed; nothing was downloaded.",
      EXIT.local,
    );
  }
  if (urlProblem(parsed, baseUrl) === undefined) return parsed; // The library's rule.
  if (parsed.protocol === "http:") {
    const host = parsed.hostname;
    throw new CliError(
      `${words.failure}: refusing a plain http: download URL from the server (host ${
        quoted(host)
      }); only https: is accepted, or http: to this machine or when the API itself uses http:`,
      "Nothing was downloaded.",
      EXIT.local,
    );
  }
  throw new CliError(
    `${words.failure}: refusing a ${
      quoted(parsed.protocol)
    } URL from the server; only https: (or http: to this machine) is accepted`,
    "Nothing was downloaded or read.",
    EXIT.local,
  );
}

/**
 * `GET url` with no headers beyond the runtime's, after
 * {@linkcode checkServerUrl}; errors become {@linkcode CliError}s. The wait
 * for the headers is limited by `limits.idleMs`.
 */
export async function openDownload(
  ctx: TransferContext,
  url: string,
  words: DownloadWords,
  limits: TransferLimits,
): Promise<Download> {
  const rest = await ctx.client();
  checkServerUrl(url, rest.baseUrl, words);
  const watch = new IdleWatch(ctx, limits.idleMs, words);
  let res: Response;
  try {
    res = await watch.wait(() => fetch(url, { signal: watch.signal }));
  } catch (error) {
    watch.dispose();
    throw transferError(ctx, error, words);
  }
  if (!res.ok || !res.body) {
    watch.dispose();
    await res.body?.cancel().catch(() => {});
    const code = res.status === 404 ? EXIT.notFound : res.status === 403 ? EXIT.auth : EXIT.network;
    throw new CliError(
      `${words.failure}: HTTP Error ${res.status}: ${res.statusText || "download refused"}`,
      words.hint,
      code,
    );
  }
  const header = res.headers.get("content-length");
  const encoding = (res.headers.get("content-encoding") ?? "").trim().toLowerCase();
  // fetch decodes gzip/br/deflate bodies, but Content-Length counts the encoded bytes.
  const decoded = encoding !== "" && encoding !== "identity";
  const length = header !== null && /^\d+$/.test(header) && !decoded ? Number(header) : undefined;
  if (length !== undefined && limits.maxBytes !== undefined && length > limits.maxBytes) {
    watch.dispose();
    await res.body.cancel().catch(() => {});
    throw new TooLargeError(words, limits.maxBytes);
  }
  return { body: res.body, length, watch };
}

/** A download larger than `--max-size` allows: exit 7. */
export class TooLargeError extends CliError {
  constructor(words: Pick<DownloadWords, "failure">, readonly limit: number) {
    super(
      `${words.failure}: it is larger than the ${formatSize(limit)} allowed (--max-size ${limit})`,
      "Nothing was kept. If the checkpoint really is this large, raise --max-size.",
      EXIT.local,
    );
    this.name = "TooLargeError";
  }
}

/** `--idle-timeout` in milliseconds: whole seconds, at least 1 (default 60). */
export function idleTimeoutMs(value: unknown): number {
  if (value === undefined) return DEFAULT_IDLE_TIMEOUT_S * 1000;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new CliError(
      `Invalid value for '--idle-timeout': ${value} (expected a whole number of seconds, at least 1)`,
      undefined,
      EXIT.input,
    );
  }
  return value * 1000;
}

/** Wraps an error of fetching or reading a body: interrupt, or a network failure. */
export function transferError(
  ctx: TransferContext,
  error: unknown,
  words: DownloadWords,
): Error {
  if (error instanceof CliError || error instanceof Interrupted) return error;
  if (ctx.signal.aborted || (error as { name?: string })?.name === "AbortError") {
    return new Interrupted();
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new CliError(`${words.failure}: ${reason}`, words.hint, EXIT.network, { cause: error });
}

/** Bytes a body source gathers before handing them on (one buffer, reused). */
const SOURCE_CHUNK = 1 << 20;

/** A {@linkcode ChunkSource} over a download's body that tells whether its chunks are reused. */
export interface BodySource extends ChunkSource {
  /** True when each chunk is overwritten by the next read (copy what you keep). */
  readonly reuses: boolean;
}

/**
 * A download's body as chunks that counts what passes (`onBytes`), honours
 * Ctrl-C and the idle timeout, and fails when the body ends before (or runs
 * past) its Content-Length, or passes `maxBytes`. Pull-based, so the
 * consumer's pace is the download's pace.
 * Where the body is a byte stream (Deno), it is read into one reused 1 MiB
 * buffer, filled at least halfway before it is handed on: no garbage per
 * chunk (which otherwise piles up as RSS until a GC) and few, large writes.
 * Elsewhere (Bun) the runtime's chunks are passed on as they come.
 */
export function bodySource(
  ctx: TransferContext,
  download: Download,
  onBytes: (bytes: number) => void,
  words: DownloadWords,
  maxBytes = Infinity,
): BodySource {
  const { body, length, watch } = download;
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = body.getReader({ mode: "byob" });
  } catch {
    // Not a byte stream.
  }
  const reader = byob ?? body.getReader();
  let buffer = byob ? new ArrayBuffer(SOURCE_CHUNK) : undefined;
  let received = 0;
  let ended = false;
  const fail = (message: string) =>
    new CliError(`${words.failure}: ${message}`, words.hint, EXIT.network);
  const next = async (): Promise<Uint8Array | null> => {
    if (byob) {
      let filled = 0;
      while (filled < SOURCE_CHUNK / 2) {
        const { done, value } = await watch.wait(() =>
          byob.read(new Uint8Array(buffer!, filled, SOURCE_CHUNK - filled))
        );
        if (value) buffer = value.buffer as ArrayBuffer;
        if (done || !value) {
          ended = true;
          break;
        }
        filled += value.byteLength;
      }
      return filled > 0 ? new Uint8Array(buffer!, 0, filled) : null;
    }
    const { done, value } = await watch.wait(() =>
      (reader as ReadableStreamDefaultReader<Uint8Array>).read()
    );
    if (done) ended = true;
    return done ? null : value;
  };
  const stop = async (reason?: unknown) => {
    ended = true;
    watch.dispose();
    await reader.cancel(reason).catch(() => {});
  };
  return {
    reuses: byob !== undefined,
    async read() {
      let chunk: Uint8Array | null = null;
      if (!ended) {
        try {
          if (ctx.signal.aborted) throw new Interrupted();
          chunk = await next();
        } catch (error) {
          await stop(error);
          throw transferError(ctx, error, words);
        }
      }
      if (chunk === null) {
        watch.dispose();
        if (length !== undefined && received !== length) {
          throw fail(`the transfer ended after ${received} of ${length} bytes`);
        }
        return null;
      }
      received += chunk.byteLength;
      if (length !== undefined && received > length) {
        await stop();
        throw fail(`received more than the announced ${length} bytes`);
      }
      if (received > maxBytes) {
        await stop();
        throw new TooLargeError(words, maxBytes);
      }
      onBytes(chunk.byteLength);
      return chunk;
    },
    cancel: (reason) => stop(reason),
  };
}

/**
 * Downloads `url` to `target` via `target.part-<pid>-…`, renamed into place
 * when complete (removed on failure; left by a killed run, removed by the
 * next). Returns the bytes written.
 */
export async function downloadToFile(
  ctx: Context,
  url: string,
  target: string,
  words: DownloadWords,
  limits: TransferLimits,
): Promise<number> {
  const fs = await files();
  const dir = fs.dirname(target);
  const prefix = `${target.slice(target.lastIndexOf(fs.sep) + 1)}.part-`;
  await removeStale(fs, dir, prefix);
  const download = await openDownload(ctx, url, words, limits);
  const progress = new Progress(ctx, words.label, download.length);
  const partial = fs.join(dir, `${prefix}${processId()}-${crypto.randomUUID().slice(0, 8)}`);
  // Local failures (a parent that is a file, a target that is a directory) exit as such (7).
  const saving = (error: unknown) => Promise.reject(saveError(error, target, words));
  try {
    await fs.mkdir(fs.dirname(target)).catch(saving);
    const written = await writeBody(
      bodySource(ctx, download, (n) => progress.update(n), words, limits.maxBytes),
      partial,
      words,
    );
    await fs.rename(partial, target).catch(saving);
    return written;
  } catch (error) {
    await fs.remove(partial).catch(() => {});
    throw error;
  } finally {
    progress.done();
  }
}

/**
 * Removes what killed downloads left in `dir`: entries named
 * `<prefix><pid>-…` whose process is gone. One of a download still running
 * (its process is alive) is kept.
 */
export async function removeStale(fs: Files, dir: string, prefix: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.list(dir);
  } catch {
    return; // The directory does not exist yet (or cannot be read): nothing to clean.
  }
  for (const entry of names) {
    if (!entry.startsWith(prefix)) continue;
    const pid = /^(\d+)-/.exec(entry.slice(prefix.length))?.[1];
    if (pid === undefined || processAlive(Number(pid))) continue;
    await fs.remove(fs.join(dir, entry)).catch(() => {});
  }
}

/**
 * Writes a body's chunks to a new file, each write finished before the next
 * read (backpressure; the source may reuse its buffer).
 */
export async function writeBody(
  source: ChunkSource,
  path: string,
  words: Pick<DownloadWords, "failure">,
  mode = 0o644,
): Promise<number> {
  const fs = await files();
  let handle;
  try {
    handle = await fs.open(path, mode);
  } catch (error) {
    throw saveError(error, path, words);
  }
  let written = 0;
  try {
    for (let chunk = await source.read(); chunk !== null; chunk = await source.read()) {
      try {
        await writeAll(handle, chunk);
      } catch (error) {
        await source.cancel().catch(() => {});
        throw saveError(error, path, words);
      }
      written += chunk.byteLength;
    }
  } finally {
    await handle.close().catch(() => {});
  }
  return written;
}

/** Writes every byte of `data` (a file write may be partial). */
export async function writeAll(handle: Pick<AsyncFile, "write">, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.byteLength) {
    const bytesWritten = await handle.write(data, offset, data.byteLength - offset);
    if (bytesWritten <= 0) throw new Error("write returned 0 bytes");
    offset += bytesWritten;
  }
}

/** A local write failure (`EACCES`, `ENOSPC`, …): exit 7. */
export function saveError(error: unknown, path: string, words: Pick<DownloadWords, "failure">) {
  if (error instanceof CliError || error instanceof Interrupted) return error;
  const reason = error instanceof Error ? error.message : String(error);
  const what = words.failure.replace("download", "save");
  return new CliError(
    `${what}: ${reason}`,
    `Please check that you have write permissions to ${path.replace(/\/[^/]*$/, "") || "/"}`,
    EXIT.local,
    { cause: error },
  );
}

/**
 * A progress bar on stderr: bytes, rate and ETA. Drawn only when stderr is
 * a terminal and the format is `table`; redrawn at most 10 times a second.
 */
export class Progress {
  #ctx: Context;
  #label: string;
  #total: number | undefined;
  #done = 0;
  #start = Date.now();
  #last = 0;
  #visible: boolean;
  #drawn = false;

  constructor(ctx: Context, label: string, total: number | undefined) {
    this.#ctx = ctx;
    // The label may be a file name from the server: shown, never obeyed.
    this.#label = inert(label, true);
    this.#total = total;
    this.#visible = ctx.stderrIsTTY && !ctx.json;
  }

  /** Adds `bytes` to the count. */
  update(bytes: number): void {
    this.#done += bytes;
    if (!this.#visible) return;
    const now = Date.now();
    if (now - this.#last < 100 && this.#done !== this.#total) return;
    this.#last = now;
    this.#draw(now);
  }

  /** Ends the bar's line. */
  done(): void {
    if (this.#visible && this.#drawn) {
      this.#draw(Date.now());
      this.#ctx.err("\n");
    }
  }

  #draw(now: number): void {
    const seconds = Math.max((now - this.#start) / 1000, 0.001);
    const rate = this.#done / seconds;
    const parts = [this.#label];
    const width = Math.max(10, Math.min(30, this.#ctx.width - 70));
    if (this.#total) {
      const fraction = Math.min(1, this.#done / this.#total);
      const filled = Math.round(fraction * width);
      parts.push(`[${"#".repeat(filled)}${"-".repeat(width - filled)}]`);
      parts.push(`${Math.floor(fraction * 100)}%`.padStart(4));
      parts.push(`${formatSize(this.#done)} / ${formatSize(this.#total)}`);
    } else parts.push(formatSize(this.#done));
    parts.push(`${formatSize(rate)}/s`);
    if (this.#total && rate > 0) {
      const eta = Math.max(0, Math.round((this.#total - this.#done) / rate));
      parts.push(
        `ETA ${Math.floor(eta / 3600)}:${pad2(Math.floor(eta / 60) % 60)}:${pad2(eta % 60)}`,
      );
    }
    this.#ctx.err(`\r${parts.join("  ")}\x1b[K`);
    this.#drawn = true;
  }
}

const pad2 = (n: number) => String(n).padStart(2, "0");

/** `str(pathlib.Path(p))`: `./models/` → `models`, `a//b/./c` → `a/b/c`, `` → `.`. */
export function pythonPath(p: string): string {
  const absolute = p.startsWith("/");
  const parts = p.split("/").filter((s) => s !== "" && s !== ".");
  const joined = parts.join("/");
  if (absolute) return `/${joined}`;
  return joined === "" ? "." : joined;
}

/** `str(Path(base) / name)`. */
export function pythonJoin(base: string, name: string): string {
  const b = pythonPath(base);
  if (b === ".") return name;
  return b.endsWith("/") ? `${b}${name}` : `${b}/${name}`;
}
