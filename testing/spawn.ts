/**
 * Runs the fake Tinker server in a child process, for tests that block the
 * calling thread: an in-process server could not answer a blocking
 * `.result()`, which therefore refuses to block on one.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { FaultJson } from "./_server.ts";
import type {
  FakeBehaviour,
  FakeTinker,
  FakeTinkerOptions,
  Fault,
  RecordedRequest,
} from "./_types.ts";

/**
 * Starts `serve.ts` in a child process with the current runtime (Deno, Bun or
 * Node) and returns a handle that drives it over the `/_fake/` admin endpoints.
 * `state` is undefined; `log` and `storageLog` are refreshed by `requests()`.
 * The child also exits when this process goes away (its stdin closes).
 *
 * @example Block on a request while the server runs elsewhere
 * ```ts
 * import { spawnFakeTinker } from "./mod.ts";
 *
 * await using fake = await spawnFakeTinker({ tracePendingCount: 0 });
 * await fake.inject({ path: "/api/v1/healthz", status: 503 });
 * const res = await fetch(`${fake.url}/api/v1/healthz`);
 * console.log(res.status, (await fake.requests()).length); // 503 1
 * ```
 */
export async function spawnFakeTinker(options: FakeTinkerOptions = {}): Promise<FakeTinker> {
  const script = serveScript();
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  const [command, args] = deno
    ? [deno.execPath(), ["run", "-A", script]]
    : [process.execPath, "Bun" in globalThis ? ["run", script] : [script]];
  const child = spawn(command, [...args, JSON.stringify(options), "--exit-on-stdin-close"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  let info: { url: string; apiKey: string; storageUrl: string };
  try {
    info = JSON.parse(await firstLine(child));
  } catch (e) {
    child.kill();
    await exited;
    throw e;
  }
  const log: RecordedRequest[] = [];
  const storageLog: RecordedRequest[] = [];
  let apiKey = info.apiKey;
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${info.url}/_fake/${path}`, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`fake admin ${method} ${path}: ${res.status} ${text}`);
    return text === "" ? undefined : JSON.parse(text);
  };
  const refresh = async () => {
    const [api, storage] = await Promise.all([call("GET", "log"), call("GET", "storage_log")]);
    log.splice(0, log.length, ...(api as RecordedRequest[]).map(recordFromJson));
    storageLog.splice(0, storageLog.length, ...(storage as RecordedRequest[]).map(recordFromJson));
    return [...log];
  };
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin?.end();
      child.kill("SIGTERM");
    }
    await exited;
  };
  return {
    url: info.url,
    get apiKey() {
      return apiKey;
    },
    storageUrl: info.storageUrl,
    log,
    storageLog,
    state: undefined,
    requests: refresh,
    clearLog: async () => {
      await call("DELETE", "log");
      log.length = storageLog.length = 0;
    },
    inject: async (fault: Fault) => {
      const { path, ...rest } = fault;
      const body: FaultJson = path instanceof RegExp
        ? { ...rest, pathRegex: path.source }
        : fault as FaultJson;
      await call("POST", "faults", body);
    },
    setOptions: async (patch: Partial<FakeBehaviour>) => {
      await call("POST", "options", patch);
      apiKey = patch.apiKey ?? apiKey;
    },
    reset: async () => {
      await call("POST", "reset");
    },
    fileDigests: async (path: string) =>
      await call("GET", `file_digests?path=${encodeURIComponent(path)}`) as Record<string, string>,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * The fake server's entry point for the child: `serve.ts` beside this module
 * (source, JSR), `serve.js` beside it (the npm build), or — from a bundle,
 * where this module is part of one file — the installed package's
 * `@tinker-ts/tinker/testing/serve`, resolved from the bundle's location.
 */
function serveScript(): string {
  const here = import.meta.url;
  const ext = /\.[cm]?js$/.test(new URL(here).pathname) ? "js" : "ts";
  const beside = new URL(`./serve.${ext}`, here);
  if (beside.protocol !== "file:") return beside.href; // Deno from a remote URL (JSR).
  const path = fileURLToPath(beside);
  if (existsSync(path)) return path;
  const resolve = (import.meta as { resolve?: (specifier: string) => string }).resolve;
  let installed: string | undefined;
  try {
    installed = resolve?.("@tinker-ts/tinker/testing/serve");
  } catch {
    // Not installed next to the bundle.
  }
  if (installed?.startsWith("file:") && existsSync(fileURLToPath(installed))) {
    return fileURLToPath(installed);
  }
  throw new Error(
    `spawnFakeTinker cannot find the fake server's script: not at ${path}, and @tinker-ts/tinker/testing/serve is not installed where this code runs. ` +
      "It runs that script in a child process: install the package (npm, JSR) beside the bundle, or keep @tinker-ts/tinker external when bundling",
  );
}

/** Reads the child's stdout up to the first newline. */
function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (chunk: Uint8Array | string) => {
      text += typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk);
      const nl = text.indexOf("\n");
      if (nl < 0) return;
      child.stdout?.off("data", onData);
      child.off("close", onClose);
      child.stdout?.resume();
      resolve(text.slice(0, nl));
    };
    const onClose = (code: number | null) =>
      reject(new Error(`fake Tinker server exited early (code ${code})`));
    child.stdout?.on("data", onData);
    child.once("close", onClose);
  });
}

/** Undoes the fake's `/_fake/log` encoding of one record: `bytes` travels as base64. */
function recordFromJson(record: RecordedRequest): RecordedRequest {
  const encoded = (record as { bytes: unknown }).bytes;
  const bytes = typeof encoded === "string"
    ? Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0))
    : new TextEncoder().encode(record.body);
  return { ...record, bytes };
}
