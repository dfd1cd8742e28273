// Helpers shared by the reliability suites (faults, hostile input, secrets)
// and the soak script: a fake-plus-client setup with fast retries, request
// counting, and a tiny raw HTTP server (`node:net`) for answers the fake
// cannot give (a body that stalls half-way, arbitrary redirects, a landing
// host that records what it received).

import { Buffer } from "node:buffer";
import { createServer, type Socket } from "node:net";
import { type ClientOptions, RestClient } from "../mod.ts";
import {
  type FakeTinker,
  type FakeTinkerOptions,
  type RecordedRequest,
  startFakeTinker,
} from "../testing/mod.ts";

/** A fake server and a client for it with millisecond retries. */
export interface Env extends AsyncDisposable {
  fake: FakeTinker;
  rest: RestClient;
}

/** Client options that keep retries fast (the rules are the same, the waits are not). */
export const FAST: ClientOptions = {
  maxRetries: 3,
  initialRetryDelayMs: 1,
  maxRetryDelayMs: 4,
  archivePollIntervalMs: 1,
  tracePollIntervalMs: 1,
  timeoutMs: 5_000,
};

/** Starts a fake and a client with {@linkcode FAST} options (overridable). */
export async function setup(
  fakeOptions: FakeTinkerOptions = {},
  clientOptions: ClientOptions = {},
): Promise<Env> {
  const fake = await startFakeTinker(fakeOptions);
  const rest = new RestClient({
    baseUrl: fake.url,
    apiKey: fake.apiKey,
    ...FAST,
    ...clientOptions,
  });
  return {
    fake,
    rest,
    [Symbol.asyncDispose]: async () => {
      rest.close();
      await fake.close();
    },
  };
}

/** API requests other than the bootstrap (`/client/config`, `/auth/token`). */
export function apiCalls(fake: FakeTinker): RecordedRequest[] {
  return fake.log.filter((r) =>
    !r.path.startsWith("/api/v1/client/") && r.path !== "/api/v1/auth/token"
  );
}

/** What a promise (or a function that may throw synchronously) rejected with. */
export async function outcome(
  fn: () => unknown,
): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** The rejection of `fn`, failing when it resolves. */
export async function rejection(fn: () => unknown): Promise<unknown> {
  const result = await outcome(fn);
  if (result.ok) throw new Error("expected a rejection, got a value");
  return result.error;
}

/** `Promise.race` with a deadline that rejects naming `what`. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** One request as the raw server parsed it. */
export interface RawRequest {
  method: string;
  /** The request target, query included. */
  target: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: string;
}

/** Writes a whole HTTP/1.1 answer with `Connection: close` and ends the socket. */
export function respond(
  socket: Socket,
  status: number,
  headers: Record<string, string> = {},
  body: string | Uint8Array = "",
): void {
  const bytes = typeof body === "string" ? Buffer.from(body) : Buffer.from(body);
  const head = [`HTTP/1.1 ${status} X`, "connection: close", `content-length: ${bytes.length}`];
  for (const [k, v] of Object.entries(headers)) head.push(`${k}: ${v}`);
  socket.end(Buffer.concat([Buffer.from(`${head.join("\r\n")}\r\n\r\n`), bytes]));
}

/** A raw HTTP server: the handler writes whatever bytes it likes (or nothing). */
export interface RawServer extends AsyncDisposable {
  /** `http://127.0.0.1:<port>` (or the host it was asked to name). */
  url: string;
  port: number;
  requests: RawRequest[];
  close(): Promise<void>;
}

/**
 * Starts a raw HTTP server on `host` (default `127.0.0.1`; `"::"` also takes
 * IPv4). Each connection carries one request; `handler` answers it on the
 * socket, typically with {@linkcode respond}, or stalls by writing part of an
 * answer and nothing more.
 */
export async function startRawServer(
  handler: (req: RawRequest, socket: Socket) => void | Promise<void>,
  host = "127.0.0.1",
): Promise<RawServer> {
  const requests: RawRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buffer = Buffer.alloc(0);
    let handled = false;
    socket.on("data", (chunk: Buffer) => {
      if (handled) return;
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf("\r\n\r\n");
      if (end < 0) return;
      const [line = "", ...lines] = buffer.subarray(0, end).toString("latin1").split("\r\n");
      const headers: Record<string, string> = {};
      for (const h of lines) {
        const at = h.indexOf(":");
        if (at > 0) headers[h.slice(0, at).trim().toLowerCase()] = h.slice(at + 1).trim();
      }
      const length = Number(headers["content-length"] ?? 0);
      if (buffer.length < end + 4 + length) return;
      handled = true;
      const [method = "", target = ""] = line.split(" ");
      const req = {
        method,
        target,
        headers,
        body: buffer.subarray(end + 4, end + 4 + length).toString("utf8"),
      };
      requests.push(req);
      Promise.resolve(handler(req, socket)).catch(() => socket.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as { port: number }).port;
  const close = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  };
  return {
    url: `http://${host === "::" ? "127.0.0.1" : host}:${port}`,
    port,
    requests,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A port with nothing listening on it (bound, then released). */
export async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Every string reachable from an error: message, stack, toString, JSON, cause chain, body, headers. */
export function errorText(error: unknown, depth = 0): string {
  if (depth > 6 || error === undefined || error === null) return "";
  if (typeof error !== "object") return String(error);
  const e = error as Record<string, unknown> & { headers?: unknown };
  const parts: string[] = [];
  if (error instanceof Error) {
    parts.push(error.message, String(error.stack), error.toString());
  }
  try {
    parts.push(JSON.stringify(error));
  } catch {
    // Circular: the fields below cover it.
  }
  for (const key of Object.getOwnPropertyNames(error)) {
    const value = e[key];
    if (key === "cause") parts.push(errorText(value, depth + 1));
    else if (value instanceof Headers) parts.push(JSON.stringify([...value]));
    else if (typeof value === "string") parts.push(value);
    else if (value !== null && typeof value === "object") {
      try {
        parts.push(JSON.stringify(value));
      } catch {
        parts.push(String(value));
      }
    }
  }
  parts.push(Deno.inspect(error, { depth: 8 }));
  return parts.join("\n");
}

/** Raw control characters (C0 but newline and tab, DEL, C1) and bidi/format characters. */
export const UNSAFE_CHARS =
  // deno-lint-ignore no-control-regex
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/u;

/** What one in-process CLI run printed. */
export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs the `tinker` CLI in-process against `baseUrl` with `apiKey` (no terminal, 200 columns). */
export async function runCli(
  args: string[],
  baseUrl: string,
  apiKey: string,
  cwd?: string,
): Promise<CliRun> {
  const { main } = await import("../cli/_entry.ts");
  let out = "", err = "";
  const code = await main(args, {
    env: { TINKER_API_KEY: apiKey, TINKER_BASE_URL: baseUrl, NO_COLOR: "1" },
    stdout: (text) => void (out += text),
    stderr: (text) => void (err += text),
    isTTY: false,
    columns: 200,
    ...(cwd && { cwd }),
  });
  return { code, out, err };
}

/** Every entry under `dir`, relative, sorted (empty when `dir` is missing). */
export async function listTree(dir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (at: string, prefix: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(at));
    } catch {
      return;
    }
    for (const e of entries) {
      found.push(prefix + e.name + (e.isDirectory ? "/" : ""));
      if (e.isDirectory) await walk(`${at}/${e.name}`, `${prefix}${e.name}/`);
    }
  };
  await walk(dir, "");
  return found.sort();
}
