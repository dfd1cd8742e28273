/**
 * Downloading a checkpoint's files into a directory, for scripts: what
 * `tinker checkpoint download` does (it calls this), as SDK 0.38's CLI does
 * it. It needs file-system access (Deno, Bun or Node), so it is an entry
 * point of its own, outside `mod.ts`.
 *
 * - `tinker://<run>/external_weights/<name>`: every file of
 *   `getExternalWeightsUrls`, re-signed five minutes before the URLs expire.
 * - `tinker://<run>/weights/<name>`: exported first. A new session loads the
 *   checkpoint (`createTrainingClientFromState`), saves it as temporary
 *   external weights (`saveWeightsExternal("download", { ttlSeconds: 3600 })`,
 *   whose TTL is reset each time the URLs are signed), every file is
 *   downloaded, then the export is deleted and the session closed
 *   (`"success"`, or `"errored"` when anything failed or `signal` fired) —
 *   on every path out. A server without the session routes (404/405), or one
 *   of the older dialect whose `load_weights` refuses SDK 0.38's form (400/422,
 *   e.g. TuFT), gets the archive route instead, and `onMessage` says so.
 * - `tinker://<run>/sampler_weights/<name>`: refused, as SDK 0.38 refuses it.
 *
 * Files are streamed to disk into a temporary directory next to `dir`
 * (`.<name>.partial-<pid>-…`), renamed to `dir` only when complete: a failed
 * or interrupted download leaves nothing that looks complete, and what a
 * killed one left is removed by the next download into the same place. File
 * names from the server cannot escape the directory. Only `https:` download
 * URLs are fetched (or `http:` to a loopback host, or when the API itself is
 * `http:`), with no credentials.
 *
 * @example Download an external-weights checkpoint from the local fake server
 * ```ts
 * import { downloadCheckpoint } from "@tinker-ts/tinker/download";
 * import { FAKE_IDS, startFakeTinker } from "@tinker-ts/tinker/testing";
 * import assert from "node:assert/strict";
 *
 * await using fake = await startFakeTinker();
 * const dir = await Deno.makeTempDir();
 * const result = await downloadCheckpoint(
 *   { baseUrl: fake.url, apiKey: fake.apiKey },
 *   FAKE_IDS.externalCheckpointPath,
 *   `${dir}/adapter`,
 * );
 * assert.deepEqual(result.files, ["adapter_config.json", "adapter_model.safetensors"]);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

import { RestClient } from "./rest_client.ts";
import { ServiceClient } from "./service_client.ts";
import { ApiError } from "./errors.ts";
import { checkInt, checkSignal } from "./internal/_args.ts";
import { checkOptions, KEYS } from "./internal/_options.ts";
import { unrefTimeout } from "./internal/_request.ts";
import { parseTinkerPath } from "./tinker_path.ts";
import type { ClientOptions } from "./types.ts";
import { CliError, EXIT, Interrupted } from "./cli/_errors.ts";
import { removeStale, saveError, type TransferContext } from "./cli/_fetch.ts";
import { files } from "./cli/_fs.ts";
import { processId } from "./cli/_process.ts";
import {
  downloadArchive,
  downloadExternal,
  type FileEvents,
  type FilesJob,
  WORDS,
} from "./cli/_checkpoint_files.ts";

export { CliError, type ExitCode, Interrupted } from "./cli/_errors.ts";

/** Lifetime of the temporary export a training checkpoint is downloaded through (SDK 0.38's). */
export const TEMPORARY_EXPORT_TTL_SECONDS = 3600;
const DEFAULT_MAX_BYTES = 256 * 1024 ** 3;
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
const DEFAULT_CLEANUP_TIMEOUT_MS = 2000;
const OPTION_KEYS = [
  "signal",
  "force",
  "maxBytes",
  "idleTimeoutMs",
  "onProgress",
  "onMessage",
  "archiveFallback",
  "cleanupTimeoutMs",
  "now",
] as const;
const HINT = "Only training (tinker://run-id/weights/name) and external weights " +
  "(tinker://run-id/external_weights/name) checkpoints can be downloaded.";

/**
 * Where one file of a download stands.
 *
 * @example
 * ```ts
 * import type { DownloadProgress } from "@tinker-ts/tinker/download";
 *
 * const show = (p: DownloadProgress) =>
 *   p.event === "bytes" ? `${p.file} ${p.fileBytes}/${p.fileLength ?? "?"} (${p.index}/${p.count})` : "";
 * ```
 */
export interface DownloadProgress {
  /** `"start"` of a file, more `"bytes"` of it, or its `"end"` (complete or not). */
  event: "start" | "bytes" | "end";
  /** The file's relative path (`"Downloading archive"` for an archive). */
  file: string;
  /** Its place among the files, from 1. */
  index: number;
  /** How many files there are. */
  count: number;
  /** Bytes of this file so far. */
  fileBytes: number;
  /** The file's announced length, if the server gave one. */
  fileLength: number | undefined;
  /** Bytes of every file so far. */
  bytes: number;
}

/**
 * How the files came: `"external_weights"` (an external-weights checkpoint),
 * `"export"` (a training checkpoint through a temporary export) or
 * `"archive"` (a server without the export routes).
 *
 * @example
 * ```ts
 * import type { DownloadRoute } from "@tinker-ts/tinker/download";
 *
 * const route: DownloadRoute = "export";
 * ```
 */
export type DownloadRoute = "external_weights" | "export" | "archive";

/**
 * Options of {@linkcode downloadCheckpoint}.
 *
 * @example
 * ```ts
 * import type { DownloadCheckpointOptions } from "@tinker-ts/tinker/download";
 *
 * const options: DownloadCheckpointOptions = {
 *   force: true,
 *   maxBytes: 20 * 1024 ** 3,
 *   onMessage: (line) => console.error(line),
 * };
 * ```
 */
export interface DownloadCheckpointOptions {
  /** Aborts the download; the export is still deleted and the session closed (`cleanupTimeoutMs`). */
  signal?: AbortSignal | undefined;
  /** Replace `dir` if it exists (default: fail). It is replaced only once the download is complete. */
  force?: boolean | undefined;
  /** The most bytes the checkpoint may hold, compressed and extracted (default 256 GiB). */
  maxBytes?: number | undefined;
  /** The longest wait for the storage server: for headers, and for each piece of a body (default 60 000). */
  idleTimeoutMs?: number | undefined;
  /** Hears about every piece of every file. */
  onProgress?: ((progress: DownloadProgress) => void) | undefined;
  /**
   * Status lines (`"info"`: the export starts, the archive is used instead) and
   * warnings (`"warning"`: the export could not be deleted, the session not closed).
   */
  onMessage?: ((message: string, level: "info" | "warning") => void) | undefined;
  /** Use the archive route when the server has no export routes (default true). */
  archiveFallback?: boolean | undefined;
  /** After `signal` fired, how long deleting the export and closing the session may take (default 2000 ms). */
  cleanupTimeoutMs?: number | undefined;
  /** The clock that decides when URLs are re-signed (default `Date.now`). */
  now?: (() => number) | undefined;
}

/**
 * What {@linkcode downloadCheckpoint} put where.
 *
 * @example
 * ```ts
 * import type { DownloadCheckpointResult } from "@tinker-ts/tinker/download";
 *
 * const summary = (r: DownloadCheckpointResult) => `${r.files.length} files, ${r.bytes} bytes in ${r.dir}`;
 * ```
 */
export interface DownloadCheckpointResult {
  /** The directory holding the files (absolute). */
  dir: string;
  /** Bytes downloaded (the archive's size for an archive). */
  bytes: number;
  /** The files written, relative to `dir`. */
  files: string[];
  /** How they came. */
  route: DownloadRoute;
}

/**
 * Downloads the files of a training or external-weights checkpoint into
 * `dir` (created; the parent too), as `tinker checkpoint download` does: see
 * the module documentation for the requests. The clients it needs (a
 * `RestClient`, and a `ServiceClient` for the export of a training
 * checkpoint) are made from `client` and closed before it returns.
 *
 * @param client The clients' options (`{}`: key and base URL from the environment, as `new RestClient()`).
 * @param tinkerPath `tinker://<run>/weights/<name>` or `tinker://<run>/external_weights/<name>`.
 * @param dir The directory to create for the files.
 * @param options `signal`, `force`, `maxBytes`, `idleTimeoutMs`, `onProgress`, `onMessage`, `archiveFallback`, `cleanupTimeoutMs`, `now`.
 * @returns Where the files are, their total size and how they came.
 * @throws {CliError} Before any request: a bad or sampler path (`code` 6), `dir` exists without
 *  `force` (6). Later: a transfer that failed (`code` 5: network, idle timeout, cut short; 4 or 3:
 *  the storage answered 404 or 403), an unsafe or malformed file list, URL or archive, a write
 *  that failed, more than `maxBytes` (7). `message` and `details` say what and why; `code` is the
 *  CLI's exit code.
 * @throws {Interrupted} `signal` fired; nothing was kept.
 * @throws {ApiError} A request to the API failed (its subclass: `NotFoundError`, …).
 * @throws {RequestFailedError} The server's export failed.
 * @throws {InvalidArgumentError} A bad option of `client` or of `options`.
 *
 * @example Export a training checkpoint and download its files
 * ```ts
 * import { downloadCheckpoint } from "@tinker-ts/tinker/download";
 * import { FAKE_IDS, startFakeTinker } from "@tinker-ts/tinker/testing";
 * import assert from "node:assert/strict";
 *
 * await using fake = await startFakeTinker();
 * const dir = await Deno.makeTempDir();
 * const { route, files } = await downloadCheckpoint(
 *   { baseUrl: fake.url, apiKey: fake.apiKey },
 *   FAKE_IDS.checkpointPath,
 *   `${dir}/final`,
 *   { onProgress: (p) => p.event === "end" && console.log(p.file, p.fileBytes) },
 * );
 * assert.equal(route, "export");
 * assert.ok(files.includes("adapter_model.safetensors"));
 * assert.ok(fake.log.some((r) => r.method === "DELETE")); // the temporary export is gone
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function downloadCheckpoint(
  client: ClientOptions,
  tinkerPath: string,
  dir: string,
  options: DownloadCheckpointOptions = {},
): Promise<DownloadCheckpointResult> {
  checkOptions(client, KEYS.client, "downloadCheckpoint()");
  checkOptions(options, OPTION_KEYS, "downloadCheckpoint()");
  const kind = downloadableKind(tinkerPath);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  checkInt("maxBytes", maxBytes, 1, 0);
  const idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  checkInt("idleTimeoutMs", idleMs, 1, 0);
  const cleanupMs = options.cleanupTimeoutMs ?? DEFAULT_CLEANUP_TIMEOUT_MS;
  checkInt("cleanupTimeoutMs", cleanupMs, 1, 0);
  const signal = checkSignal(options.signal) ?? new AbortController().signal;
  const fs = await files();
  const target = fs.resolve(dir);
  const parent = fs.dirname(target);
  const name = target.slice(parent.length).replace(/^[/\\]+/, "");
  const exists = await fs.exists(target);
  if (exists && !options.force) {
    throw new CliError(
      `Target directory already exists: ${target}`,
      "Use --force to overwrite or choose a different output directory.",
      EXIT.input,
    );
  }
  if (signal.aborted) throw new Interrupted();
  const rest = new RestClient(client);
  const ctx: TransferContext = { signal, client: () => Promise.resolve(rest) };
  const prefix = `.${name}.partial-`;
  let partial: string;
  try {
    await fs.mkdir(parent);
    await removeStale(fs, parent, prefix);
    partial = await fs.mkdtemp(fs.join(parent, `${prefix}${processId()}-`));
    await fs.chmod(partial, 0o755);
  } catch (error) {
    rest.close();
    throw saveError(error, fs.join(parent, "x"), WORDS);
  }
  const job: FilesJob = {
    ctx,
    rest,
    dir: partial,
    fs,
    limits: { idleMs, maxBytes },
    events: progressEvents(options.onProgress),
    written: [],
    now: options.now ?? Date.now,
  };
  const say = options.onMessage ?? (() => {});
  try {
    let route: DownloadRoute = "external_weights";
    let bytes: number;
    if (kind === "external_weights") bytes = await downloadExternal(job, tinkerPath);
    else {
      const exported = await viaExport(client, job, tinkerPath, say, {
        fallback: options.archiveFallback ?? true,
        cleanupMs,
      });
      route = exported === undefined ? "archive" : "export";
      bytes = exported ?? await downloadArchive(job, tinkerPath);
    }
    if (signal.aborted) throw new Interrupted();
    if (exists) await fs.remove(target);
    await fs.rename(partial, target);
    return { dir: target, bytes, files: job.written, route };
  } catch (error) {
    await fs.remove(partial).catch(() => {});
    if (error instanceof Interrupted || signal.aborted) {
      throw new Interrupted("Interrupted: the partial download was removed");
    }
    throw error;
  } finally {
    rest.close();
  }
}

/** `external_weights` or `weights`; anything else is refused before any request. */
function downloadableKind(tinkerPath: string): "weights" | "external_weights" {
  let kind: string;
  try {
    kind = parseTinkerPath(tinkerPath).checkpoint_id.split("/")[0]!;
  } catch (error) {
    throw new CliError(`Invalid checkpoint path: ${(error as Error).message}`, HINT, EXIT.input);
  }
  if (kind === "sampler_weights") {
    throw new CliError(`Sampler checkpoints cannot be downloaded: ${tinkerPath}`, HINT, EXIT.input);
  }
  return kind as "weights" | "external_weights";
}

/**
 * A training checkpoint through a temporary export, as SDK 0.38's CLI does
 * it. Returns the bytes downloaded, or undefined when the server has no
 * export routes and the archive should be used (already said).
 */
async function viaExport(
  client: ClientOptions,
  job: FilesJob,
  path: string,
  say: (message: string, level: "info" | "warning") => void,
  { fallback, cleanupMs }: { fallback: boolean; cleanupMs: number },
): Promise<number | undefined> {
  const { rest, ctx: { signal } } = job;
  say(
    `Exporting ${path} as external weights (this starts a training session on the checkpoint's base model)...`,
    "info",
  );
  const service = new ServiceClient(client);
  const cleanup = cleanupBudget(signal, cleanupMs);
  let status: "success" | "errored" = "errored";
  try {
    let training;
    try {
      training = await service.createTrainingClientFromState(path, {
        userMetadata: { created_by: "tinker checkpoint download" },
        signal,
      });
    } catch (error) {
      const status = error instanceof ApiError ? error.status : undefined;
      // No export routes (404/405), or a server of the older dialect that has
      // sessions but refuses SDK 0.38's load_weights form (400/422, e.g. TuFT:
      // "Missing model_id"): nothing was created to clean up but the session.
      const older = service.sessionId !== undefined && (status === 400 || status === 422);
      if (!fallback || signal.aborted || (status !== 404 && status !== 405 && !older)) throw error;
      const detail = error instanceof ApiError && error.detail ? `: ${error.detail}` : "";
      say(
        `The server has no checkpoint export (it answered ${status}${detail} to ${
          service.sessionId === undefined ? "create_session" : "load_weights"
        }); downloading the archive of ${path} instead (the server may take a while to build it)...`,
        "info",
      );
      return undefined;
    }
    let exported: string;
    try {
      ({ path: exported } = await training.saveWeightsExternal("download", {
        ttlSeconds: TEMPORARY_EXPORT_TTL_SECONDS,
        signal,
      }));
    } catch (error) {
      // A server that loads checkpoints but cannot export them (TuFT): the archive instead.
      const code = error instanceof ApiError ? error.status : undefined;
      if (!fallback || signal.aborted || (code !== 404 && code !== 405)) throw error;
      say(
        `The server has no checkpoint export (it answered ${code} to save_weights_external); downloading the archive of ${path} instead (the server may take a while to build it)...`,
        "info",
      );
      return undefined;
    }
    let bytes: number;
    try {
      bytes = await downloadExternal(job, exported, TEMPORARY_EXPORT_TTL_SECONDS);
    } finally {
      try {
        await rest.deleteCheckpointFromTinkerPath(exported, { signal: cleanup.signal });
      } catch (error) {
        say(
          `Warning: failed to delete the temporary export ${exported} (${messageOf(error)}); ` +
            `it expires in ${TEMPORARY_EXPORT_TTL_SECONDS} seconds.`,
          "warning",
        );
      }
    }
    status = "success";
    return bytes;
  } finally {
    try {
      await service.close(status, undefined, { signal: cleanup.signal });
    } catch (error) {
      say(
        `Warning: failed to close the session ${service.sessionId} (${messageOf(error)}); ` +
          "it ends by itself once its heartbeats stop.",
        "warning",
      );
    } finally {
      cleanup.done();
      await service[Symbol.asyncDispose]().catch(() => {});
    }
  }
}

/**
 * The signal of the cleanup requests (deleting the export, finishing the
 * session): it fires `ms` after `signal` does, so that after an abort the
 * cleanup — started before or after it — ends within `ms`. Until then the
 * client's own timeouts bound it.
 */
function cleanupBudget(signal: AbortSignal, ms: number): { signal: AbortSignal; done(): void } {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const start = () => {
    timer = setTimeout(() => controller.abort(new Interrupted()), ms);
    unrefTimeout(timer);
  };
  if (signal.aborted) start();
  else signal.addEventListener("abort", start, { once: true });
  return {
    signal: controller.signal,
    done() {
      signal.removeEventListener("abort", start);
      clearTimeout(timer);
    },
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** File events as {@linkcode DownloadProgress} reports. */
function progressEvents(onProgress: DownloadCheckpointOptions["onProgress"]): FileEvents {
  let bytes = 0;
  let current: DownloadProgress | undefined;
  const emit = () => onProgress?.({ ...current! });
  return {
    start(file, index, count, fileLength) {
      current = { event: "start", file, index, count, fileBytes: 0, fileLength, bytes };
      emit();
    },
    bytes(n) {
      bytes += n;
      current!.event = "bytes";
      current!.fileBytes += n;
      current!.bytes = bytes;
      emit();
    },
    end() {
      if (!current) return;
      current.event = "end";
      emit();
      current = undefined;
    },
  };
}
