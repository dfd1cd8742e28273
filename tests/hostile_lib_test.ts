// Hostile servers against the library (issue 19): each test replays one
// attack from a local server built to misbehave (the fake with injected
// faults, or a node:http server written for the attack) and checks the
// promise it broke: no fragment of the key in an error, a write sent once,
// no endless poll or listing, no `file:` URL followed or returned, bounded
// response bodies (peak memory measured in a subprocess).
//
// Runs under Deno (`deno test -A tests/hostile_lib_test.ts`) and, for the
// tests that need no subprocess, under Bun (`tests/bun_runner.ts`), where the
// resent delete was found.

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { gzipSync } from "node:zlib";
import {
  ApiConnectionError,
  ApiError,
  ApiResponseTooLargeError,
  ApiResponseValidationError,
  ApiTimeoutError,
  type ClientOptions,
  InvalidArgumentError,
  RestClient,
  TinkerError,
} from "../mod.ts";
import { urlProblem } from "../internal/_request.ts";
import { FAKE_IDS, type FakeTinker, spawnFakeTinker, startFakeTinker } from "../testing/mod.ts";
import { errorText as denoErrorText, FAST, rejection, within } from "./_reliability.ts";
import { runCli } from "./cli_run.ts";

const KEY = "tml-hostile-canary-1f2e3d4c5b6a798807";
/** Under `tests/bun_runner.ts` `Deno` is a small stand-in: no subprocesses there. */
const STAND_IN = Deno.permissions === undefined;
const RUN = FAKE_IDS.run;
const SESSION = FAKE_IDS.sessionId;
const CKPT = FAKE_IDS.checkpointPath;
const CKPT_URL = `/api/v1/training_runs/${RUN}/checkpoints/${CKPT.split("/").slice(-2).join("/")}`;
const TRACE_URL = `/api/v1/sessions/${SESSION}/trace_export`;

/**
 * Every string reachable from an error (`tests/_reliability.ts`'s, which uses
 * `Deno.inspect`; under the Bun stand-in the fields and cause chain by hand).
 */
function errorText(error: unknown): string {
  if (typeof (Deno as { inspect?: unknown }).inspect === "function") return denoErrorText(error);
  const parts: string[] = [];
  for (let e = error, depth = 0; e instanceof Error && depth < 6; e = e.cause, depth++) {
    const api = e as Error & { body?: unknown; detail?: unknown; headers?: Headers };
    parts.push(e.message, String(e.stack), String(e));
    parts.push(JSON.stringify(api.body) ?? "", String(api.detail));
    if (api.headers) parts.push(JSON.stringify([...api.headers]));
  }
  return parts.join("\n");
}

/** Fails when `text` holds any 8 consecutive characters of `secret`. */
function assertNoFragment(text: string, secret: string, where: string): void {
  for (let i = 0; i + 8 <= secret.length; i++) {
    const piece = secret.slice(i, i + 8);
    assert.ok(!text.includes(piece), `${where} holds ${JSON.stringify(piece)}, a piece of the key`);
  }
}

/** The error thrown by `.result()` of `fn`'s future. */
function syncError(fn: () => { result(): unknown }): unknown {
  try {
    fn().result();
  } catch (error) {
    return error;
  }
  throw new Error("expected .result() to throw");
}

function client(url: string, options: ClientOptions = {}): RestClient {
  return new RestClient({ baseUrl: url, apiKey: KEY, ...FAST, ...options });
}

/** A fake (in-process, or spawned for `.result()`) that accepts {@linkcode KEY}. */
function fakeWithKey(spawned = false): Promise<FakeTinker> {
  return (spawned ? spawnFakeTinker : startFakeTinker)({ apiKey: KEY });
}

/** One request a {@linkcode Hostile} server received. */
interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
}

interface Hostile extends AsyncDisposable {
  url: string;
  requests: Seen[];
  /** Body bytes the handler managed to write (for streaming attacks). */
  written: { bytes: number };
}

/**
 * A keep-alive HTTP server for one attack: it answers the bootstrap
 * (`POST /api/v1/client/config`) itself and hands every other request, body
 * read, to `handler`.
 */
async function hostile(
  handler: (req: IncomingMessage, res: ServerResponse, written: { bytes: number }) => void,
): Promise<Hostile> {
  const requests: Seen[] = [];
  const written = { bytes: 0 };
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const path = (req.url ?? "").split("?")[0]!;
      if (path === "/api/v1/client/config") {
        res.writeHead(200, { "content-type": "application/json" });
        return void res.end("{}");
      }
      requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers });
      handler(req, res, written);
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    written,
    [Symbol.asyncDispose]: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function json(res: ServerResponse, body: unknown): void {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/** Writes `chunk` until `limit` bytes are out or the client goes away, minding backpressure. */
function stream(res: ServerResponse, chunk: Buffer, limit: number, written: { bytes: number }) {
  const pump = () => {
    while (written.bytes < limit && !res.destroyed) {
      written.bytes += chunk.length;
      if (!res.write(chunk)) return void res.once("drain", pump);
    }
    if (!res.destroyed) res.end();
  };
  res.on("close", () => res.removeAllListeners("drain"));
  pump();
}

// 1. The key in an error: redacted before any cut.

Deno.test("a key across the cut of a long non-JSON body leaves no fragment in the error", async (t) => {
  // 37 of the key's characters before the 2,000th, the rest after.
  const body = `${"x".repeat(2_000 - KEY.length + 1)}${KEY}${"y".repeat(500)}`;
  await using fake = await fakeWithKey();
  const rest = client(fake.url, { maxRetries: 0 });
  for (const status of [200, 500]) {
    await t.step(`a ${status} with a text body (await)`, async () => {
      await fake.inject({ path: `/api/v1/training_runs/${RUN}`, status, body });
      const error = await rejection(() => rest.getTrainingRun(RUN));
      assert.ok(error instanceof ApiError);
      assert.equal(typeof error.body, "string");
      assert.ok((error.body as string).includes("[redacted]"), "the key is replaced whole");
      assert.ok((error.body as string).length <= 2_000, "the body is cut to 2,000 characters");
      assertNoFragment(errorText(error), KEY, `the ${status} error`);
    });
  }
  await t.step(
    "a string field that fails validation, the key across its 40-character quote",
    async () => {
      await fake.inject({
        path: "/api/v1/sessions",
        status: 200,
        body: { sessions: `${"s".repeat(21)}${KEY}` },
      });
      const error = await rejection(() => rest.listSessions());
      assert.ok(error instanceof ApiResponseValidationError);
      assert.match(error.message, /"sessions" must be an array, got the string/);
      assertNoFragment(errorText(error), KEY, "the validation error");
    },
  );
});

Deno.test({
  name: "a key across the cut of a long non-JSON body leaves no fragment in a .result() error",
  ignore: STAND_IN,
  async fn() {
    const body = `${"x".repeat(2_000 - KEY.length + 1)}${KEY}${"y".repeat(500)}`;
    await using fake = await fakeWithKey(true);
    using rest = client(fake.url, { maxRetries: 0 });
    await fake.inject({ path: `/api/v1/training_runs/${RUN}`, status: 200, body });
    const error = syncError(() => rest.getTrainingRun(RUN));
    assert.ok(error instanceof ApiResponseValidationError);
    assert.ok((error.body as string).includes("[redacted]"));
    assertNoFragment(errorText(error), KEY, "the .result() error");
  },
});

Deno.test("a non-2xx non-JSON body of 11.5 MB is kept to 2,000 characters in the error", async () => {
  await using fake = await fakeWithKey();
  const rest = client(fake.url, { maxRetries: 0 });
  const body = `<html>${"e".repeat(11_500_000)}</html>`;
  await fake.inject({ path: `/api/v1/training_runs/${RUN}`, status: 502, body });
  const error = await rejection(() => rest.getTrainingRun(RUN));
  assert.ok(error instanceof ApiError);
  assert.equal(error.status, 502);
  assert.ok((error.body as string).startsWith("<html>eee"));
  assert.ok((error.body as string).length <= 2_000, `kept ${(error.body as string).length}`);
  assert.ok(error.message.length < 1_000, "the message quotes at most 500 characters of it");
});

// 2. A write that must not be repeated is sent once, whatever the runtime.

Deno.test("a delete, publish or unpublish whose connection dies after the server read it is sent once", async (t) => {
  const writes: [string, string, (rest: RestClient) => Promise<void>][] = [
    ["delete", "DELETE", (rest) => rest.deleteCheckpointFromTinkerPath(CKPT)],
    ["publish", "POST", (rest) => rest.publishCheckpointFromTinkerPath(CKPT)],
    ["unpublish", "DELETE", (rest) => rest.unpublishCheckpointFromTinkerPath(CKPT)],
  ];
  for (const [name, method, call] of writes) {
    await t.step(name, async () => {
      // Reads are answered (keep-alive); a write is read whole, then the
      // connection is destroyed without an answer.
      await using server = await hostile((req, res) => {
        if (req.method === "GET") return json(res, { sessions: [] });
        res.socket?.destroy();
      });
      const rest = client(server.url, { maxRetries: 3 });
      // A read first leaves a pooled connection for the write to find.
      await rest.listSessions();
      const error = await rejection(() => call(rest));
      assert.ok(error instanceof ApiConnectionError, String(error));
      assert.match(error.message, /may have acted/);
      const sent = server.requests.filter((r) => r.method === method);
      assert.equal(sent.length, 1, `${name} was sent ${sent.length} times`);
    });
  }
});

Deno.test({
  name: "a delete whose connection dies after the server read it is sent once by .result()",
  ignore: STAND_IN,
  async fn() {
    await using fake = await fakeWithKey(true);
    using rest = client(fake.url, { maxRetries: 3 });
    rest.listSessions().result(); // The bootstrap and a read: pooled connections.
    await fake.inject({ path: CKPT_URL, drop: "before-headers", times: 2 });
    const error = syncError(() => rest.deleteCheckpointFromTinkerPath(CKPT));
    assert.ok(error instanceof ApiConnectionError, String(error));
    const deletes = (await fake.requests()).filter((r) => r.method === "DELETE");
    assert.equal(deletes.length, 1);
  },
});

Deno.test({
  // The deno task test's binary stage runs this with TINKER_CLI_BIN set to the
  // Bun-compiled binary, where the resent delete was also seen.
  name: "the CLI (TINKER_CLI_BIN when set) sends a checkpoint delete once when its connection dies",
  ignore: STAND_IN,
  async fn() {
    await using fake = await fakeWithKey();
    await fake.inject({ path: CKPT_URL, drop: "before-headers", times: 2 });
    const result = await runCli(["checkpoint", "delete", CKPT, "-y"], {
      env: { TINKER_API_KEY: KEY, TINKER_BASE_URL: fake.url },
    });
    const deletes = fake.log.filter((r) => r.method === "DELETE");
    assert.equal(deletes.length, 1, `sent ${deletes.length} times; stderr: ${result.stderr}`);
    assert.ok(!result.stderr.includes(KEY));
  },
});

// 3. No endless polling.

Deno.test("a trace export that stays pending fails after traceExportTimeoutMs", async (t) => {
  await using fake = await fakeWithKey();
  const rest = client(fake.url, { tracePollIntervalMs: 10, traceExportTimeoutMs: 200 });
  await fake.inject({ path: TRACE_URL, status: 200, body: { status: "pending" }, times: 10_000 });
  await t.step("await", async () => {
    const error = await within(
      20_000,
      "exportSessionTrace",
      rejection(() => rest.exportSessionTrace(SESSION)),
    );
    assert.ok(error instanceof ApiTimeoutError, String(error));
    assert.ok(error.message.includes(SESSION), "the message names the session");
    assert.match(
      error.message,
      /still pending after \d+ s \(\d+ polls\).*traceExportTimeoutMs limit of 200 ms/,
    );
    const polls = fake.log.filter((r) => r.path === TRACE_URL).length;
    assert.ok(polls >= 2, `polled ${polls} times`);
  });
  await t.step("a negative or fractional limit is refused", () => {
    for (const bad of [-1, 1.5, Number.NaN]) {
      assert.throws(() => client(fake.url, { traceExportTimeoutMs: bad }), InvalidArgumentError);
    }
  });
});

Deno.test({
  name: "a trace export that stays pending fails after traceExportTimeoutMs in .result()",
  ignore: STAND_IN,
  async fn() {
    await using fake = await fakeWithKey(true);
    using rest = client(fake.url, { tracePollIntervalMs: 10, traceExportTimeoutMs: 200 });
    await fake.inject({ path: TRACE_URL, status: 200, body: { status: "pending" }, times: 10_000 });
    const error = syncError(() => rest.exportSessionTrace(SESSION));
    assert.ok(error instanceof ApiTimeoutError, String(error));
    assert.ok(error.message.includes(SESSION));
  },
});

// 4. URLs from the server: https:, or http: to loopback or with an http: base URL.

Deno.test("a file:, data: or ftp: URL from the server is neither followed nor returned", async (t) => {
  await using fake = await fakeWithKey();
  const rest = client(fake.url);
  const archive = `${CKPT_URL}/archive`;
  for (const location of ["file:///etc/passwd", "data:application/json,{}", "ftp://127.0.0.1/x"]) {
    const scheme = location.slice(0, location.indexOf(":") + 1);
    await t.step(`the audit log redirected to ${scheme}`, async () => {
      await fake.clearLog();
      await fake.inject({ path: "/api/v1/audit", status: 302, headers: { location } });
      const error = await rejection(() => rest.getAuditLog());
      assert.ok(error instanceof ApiError && !(error instanceof ApiConnectionError), String(error));
      assert.ok(error.message.includes(`"${scheme}"`), error.message);
      assert.ok(error.message.includes("GET /api/v1/audit"), error.message);
      assert.doesNotMatch(errorText(error), /root:/);
      assert.equal(fake.log.filter((r) => r.path === "/api/v1/audit").length, 1, "not retried");
    });
  }
  await t.step("the archive's 302 Location and its JSON url", async () => {
    await fake.inject({ path: archive, status: 302, headers: { location: "file:///etc/passwd" } });
    const redirect = await rejection(() => rest.getCheckpointArchiveUrlFromTinkerPath(CKPT));
    assert.ok(redirect instanceof ApiResponseValidationError, String(redirect));
    assert.match(
      redirect.message,
      /archive URL of GET .*\/archive as a URL with the scheme "file:"/,
    );
    const expires = new Date(Date.now() + 60_000).toISOString();
    await fake.inject({ path: archive, status: 200, body: { url: "file:///etc/hosts", expires } });
    const body = await rejection(() => rest.getCheckpointArchiveUrlFromTinkerPath(CKPT));
    assert.ok(body instanceof ApiResponseValidationError);
    assert.match(body.message, /"file:"/);
  });
  await t.step("the trace URL", async () => {
    await fake.inject({
      path: TRACE_URL,
      status: 200,
      body: { status: "ready", url: "file:///etc/passwd" },
    });
    const error = await rejection(() => rest.exportSessionTrace(SESSION));
    assert.ok(error instanceof ApiResponseValidationError);
    assert.match(error.message, /trace URL of GET .*trace_export as a URL with the scheme "file:"/);
  });
  await t.step("an external-weights URL", async () => {
    const path = FAKE_IDS.externalCheckpointPath;
    const url = `/api/v1/training_runs/${RUN}/checkpoints/${
      path.split("/").slice(-2).join("/")
    }/external_weights_urls`;
    const expires = new Date(Date.now() + 60_000).toISOString();
    await fake.inject({
      path: url,
      status: 200,
      body: { urls: { "model.safetensors": "file:///etc/passwd" }, expires },
    });
    const error = await rejection(() => rest.getExternalWeightsUrls(path));
    assert.ok(error instanceof ApiResponseValidationError);
    assert.match(error.message, /"urls".*"file:"/);
  });
  await t.step("loopback http: URLs (the fake's storage) still work", async () => {
    const { url } = await rest.getCheckpointArchiveUrlFromTinkerPath(CKPT);
    assert.ok(url.startsWith(fake.storageUrl));
    assert.ok((await rest.exportSessionTrace(SESSION)).startsWith(fake.storageUrl));
  });
});

Deno.test("urlProblem: https: always; http: only to loopback or with an http: base URL", () => {
  const https = "https://tinker.example.com/services/x";
  const ok = (url: string, base: string) => urlProblem(new URL(url), base) === undefined;
  assert.ok(ok("https://storage.example.com/a?sig=1", https));
  assert.ok(ok("http://127.0.0.1:9000/a", https));
  assert.ok(ok("http://localhost/a", https));
  assert.ok(ok("http://[::1]:8/a", https));
  assert.ok(ok("http://storage.example.com/a", "http://10.0.0.2:8000"));
  assert.ok(!ok("http://storage.example.com/a", https), "no downgrade to a remote http: host");
  for (const url of ["file:///etc/passwd", "data:,x", "javascript:alert(1)", "blob:https://a/b"]) {
    assert.ok(!ok(url, "http://127.0.0.1:1"), url);
  }
});

Deno.test({
  name: "an audit redirect to file: is refused by .result() too",
  ignore: STAND_IN,
  async fn() {
    await using fake = await fakeWithKey(true);
    using rest = client(fake.url);
    await fake.inject({
      path: "/api/v1/audit",
      status: 302,
      headers: { location: "file:///etc/passwd" },
    });
    const error = syncError(() => rest.getAuditLog());
    assert.ok(error instanceof ApiError && !(error instanceof ApiConnectionError), String(error));
    assert.match(error.message, /"file:"/);
    assert.doesNotMatch(errorText(error), /root:/);
  },
});

// 5. Response size: a limit, checked up front and while streaming, never retried.

Deno.test("a response over maxResponseBytes fails at once, unretried", async (t) => {
  await t.step("a 3 GiB Content-Length is refused before its body is read", async () => {
    await using server = await hostile((_req, res) => {
      res.writeHead(200, {
        "content-type": "application/json",
        "content-length": String(3 * 2 ** 30),
      });
      res.write("{");
    });
    const error = await rejection(() => client(server.url, { maxRetries: 5 }).listSessions());
    assert.ok(error instanceof ApiResponseTooLargeError, String(error));
    assert.match(
      error.message,
      /limit of 67108864 bytes \(maxResponseBytes\).*Content-Length is 3221225472/,
    );
    assert.equal(error.status, 200);
    assert.equal(server.requests.length, 1, "not retried");
  });
  await t.step("an endless body without Content-Length stops at the limit", async () => {
    await using server = await hostile((_req, res, written) => {
      res.writeHead(200, { "content-type": "application/json" });
      stream(res, Buffer.alloc(64 * 1024, " "), 2 ** 30, written);
    });
    const rest = client(server.url, { maxRetries: 5, maxResponseBytes: 2 ** 20 });
    const error = await rejection(() => rest.listSessions());
    assert.ok(error instanceof ApiResponseTooLargeError, String(error));
    assert.match(error.message, /limit of 1048576 bytes/);
    assert.equal(server.requests.length, 1, "not retried");
    assert.ok(
      server.written.bytes < 64 * 2 ** 20,
      `the server wrote ${server.written.bytes} bytes`,
    );
  });
  await t.step("a gzip body with a small Content-Length counts its inflated bytes", async () => {
    // Valid JSON: whitespace after the object. 32 MiB inflated, ~32 KB sent.
    const inflated = Buffer.concat([
      Buffer.from('{"sessions":[]}'),
      Buffer.alloc(32 * 2 ** 20, " "),
    ]);
    const gz = gzipSync(inflated);
    await using server = await hostile((_req, res) => {
      res.writeHead(200, {
        "content-type": "application/json",
        "content-encoding": "gzip",
        "content-length": String(gz.length),
      });
      res.end(gz);
    });
    const error = await rejection(() =>
      client(server.url, { maxResponseBytes: 2 ** 20 }).listSessions()
    );
    assert.ok(error instanceof ApiResponseTooLargeError, String(error));
    assert.equal(server.requests.length, 1);
    // The same body within a larger limit parses.
    const page = await client(server.url, { maxResponseBytes: 64 * 2 ** 20 }).listSessions();
    assert.deepEqual(page.sessions, []);
  });
  await t.step("an error status with a huge body is refused the same way", async () => {
    await using server = await hostile((_req, res, written) => {
      res.writeHead(500, { "content-type": "text/html" });
      stream(res, Buffer.alloc(64 * 1024, "e"), 2 ** 30, written);
    });
    const error = await rejection(() =>
      client(server.url, { maxRetries: 5, maxResponseBytes: 2 ** 20 }).listSessions()
    );
    assert.ok(error instanceof ApiResponseTooLargeError, String(error));
    assert.equal(error.status, 500);
    assert.equal(server.requests.length, 1);
  });
  await t.step("maxResponseBytes must be a whole number of at least 1", () => {
    for (const bad of [0, -1, 1.5, Number.POSITIVE_INFINITY]) {
      assert.throws(() => client(server0, { maxResponseBytes: bad }), InvalidArgumentError);
    }
  });
});
const server0 = "http://127.0.0.1:9";

Deno.test({
  name: "a response over maxResponseBytes fails unretried in .result()",
  ignore: STAND_IN,
  async fn() {
    await using fake = await fakeWithKey(true);
    using rest = client(fake.url, { maxResponseBytes: 4_000 });
    await fake.inject({ path: "/api/v1/sessions", status: 200, body: `"${"z".repeat(5_000)}"` });
    const error = syncError(() => rest.listSessions());
    assert.ok(error instanceof ApiResponseTooLargeError, String(error));
    assert.match(error.message, /limit of 4000 bytes/);
    assert.equal((await fake.requests()).filter((r) => r.path === "/api/v1/sessions").length, 1);
  },
});

Deno.test({
  name: "an endless response body keeps a client process's peak memory bounded",
  ignore: STAND_IN || Deno.build.os !== "linux", // Peak RSS from /proc.
  async fn() {
    // Up to 512 MiB of JSON whitespace, chunked; the client (default 64 MiB limit)
    // runs in a subprocess that reports its peak RSS (VmHWM).
    await using server = await hostile((_req, res, written) => {
      res.writeHead(200, { "content-type": "application/json" });
      stream(res, Buffer.alloc(256 * 1024, " "), 512 * 2 ** 20, written);
    });
    const mod = new URL("../mod.ts", import.meta.url).href;
    const script = `
      import { RestClient } from ${JSON.stringify(mod)};
      const rest = new RestClient({ baseUrl: ${JSON.stringify(server.url)}, apiKey: "tml-memory",
        maxRetries: 5, initialRetryDelayMs: 1 });
      let name = "none";
      let message = "";
      try { await rest.listSessions(); } catch (e) { name = e.name; message = e.message; }
      const status = Deno.readTextFileSync("/proc/self/status");
      console.log(JSON.stringify({ name, message, peakKb: Number(/VmHWM:\\s+(\\d+)/.exec(status)[1]) }));
    `;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const report = JSON.parse(text) as { name: string; message: string; peakKb: number };
    assert.equal(report.name, "ApiResponseTooLargeError", report.message);
    assert.equal(server.requests.length, 1, "not retried");
    assert.ok(
      server.written.bytes < 160 * 2 ** 20,
      `the server wrote ${server.written.bytes} bytes`,
    );
    const peakMb = report.peakKb / 1024;
    assert.ok(peakMb < 320, `peak RSS ${peakMb.toFixed(0)} MB`);
  },
});

// 6. Listings that never end.

/** Answers every listing with the same full page (the offset ignored). */
function samePage(req: IncomingMessage, res: ServerResponse): void {
  const limit = Number(new URL(req.url ?? "", "http://x").searchParams.get("limit"));
  json(res, { sessions: Array.from({ length: limit }, (_, i) => `session-${i}`) });
}

Deno.test("iterating a listing that never ends stops with a clear error", async (t) => {
  await t.step("distinct full pages forever: maxPages", async () => {
    await using server = await hostile((req, res) => {
      const query = new URL(req.url ?? "", "http://x").searchParams;
      const offset = Number(query.get("offset"));
      const limit = Number(query.get("limit"));
      json(res, { sessions: Array.from({ length: limit }, (_, i) => `session-${offset + i}`) });
    });
    const seen: string[] = [];
    const error = await rejection(async () => {
      for await (const id of client(server.url).listSessions({ limit: 3, maxPages: 4 })) {
        seen.push(id);
      }
    });
    assert.ok(error instanceof TinkerError, String(error));
    assert.match(error.message, /GET \/api\/v1\/sessions after 4 pages \(maxPages\), at offset 12/);
    assert.equal(seen.length, 12);
    assert.equal(server.requests.length, 4);
  });
  await t.step("the same page again (the offset ignored)", async () => {
    await using server = await hostile(samePage);
    const pages = client(server.url).listSessions({ limit: 2 }).pages();
    const error = await rejection(async () => {
      for await (const _ of pages) { /* read */ }
    });
    assert.ok(error instanceof TinkerError);
    assert.match(error.message, /same page at offsets 0 and 2/);
    assert.equal(server.requests.length, 2);
  });
  await t.step("maxPages must be a whole number of at least 1", () => {
    assert.throws(() => client(server0).listSessions({ maxPages: 0 }), InvalidArgumentError);
  });
});

Deno.test({
  name: "the CLI's --all over a listing that repeats its page stops with the same error",
  ignore: STAND_IN,
  async fn() {
    await using server = await hostile(samePage);
    const result = await runCli(["session", "list", "--all"], {
      env: { TINKER_API_KEY: KEY, TINKER_BASE_URL: server.url },
    });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /same page/);
  },
});

Deno.test({
  name: "iterSync over a listing that repeats its page stops with a clear error",
  ignore: STAND_IN,
  async fn() {
    await using fake = await fakeWithKey(true);
    using rest = client(fake.url);
    await fake.inject({
      path: "/api/v1/sessions",
      status: 200,
      body: { sessions: ["a", "b"] },
      times: 50,
    });
    const seen: string[] = [];
    assert.throws(() => {
      for (const id of rest.listSessions({ limit: 2 }).iterSync()) seen.push(id);
    }, /same page at offsets 0 and 2/);
    assert.deepEqual(seen, ["a", "b"], "the repeated page is not yielded");
  },
});
