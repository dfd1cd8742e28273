// Fault injection: for every kind of network and server failure, and every
// kind of operation (a read, a page, a mutation, an idempotent write), the
// outcome is either the right data after retries or one exact error class,
// the server sees exactly the requests the retry rules allow (a mutation is
// resent only when the failure proves the server never acted on it), and the
// data on the server is what the outcome says it is.
//
// The run ends by printing the table fault × operation × outcome × requests
// and writing it to tests/faults_table.md (quoted by the README).

import assert from "node:assert/strict";
import {
  ApiConnectionError,
  ApiError,
  ApiResponseValidationError,
  ApiTimeoutError,
  type ClientOptions,
  InternalServerError,
  RateLimitError,
  RestClient,
} from "../mod.ts";
import { FAKE_IDS, type FakeTinker, type Fault, startFakeTinker } from "../testing/mod.ts";
import {
  apiCalls,
  deadPort,
  FAST,
  listTree,
  outcome,
  rejection,
  respond,
  runCli,
  setup,
  startRawServer,
  within,
} from "./_reliability.ts";

const RUN = FAKE_IDS.run;
const CKPT_PATH = FAKE_IDS.checkpointPath;
const CKPT_ID = CKPT_PATH.slice(`tinker://${RUN}/`.length);
const CKPT_URL = `/api/v1/training_runs/${RUN}/checkpoints/${CKPT_ID}`;

// ---- the table -------------------------------------------------------------

interface Row {
  fault: string;
  operation: string;
  outcome: string;
  requests: string;
}

const rows: Row[] = [];

function record(fault: string, operation: string, result: string, requests: number | string) {
  rows.push({ fault, operation, outcome: result, requests: String(requests) });
}

function describe(result: Awaited<ReturnType<typeof outcome>>): string {
  if (result.ok) return "success";
  const error = result.error as Error & { status?: number };
  return error.constructor.name + (error.status === undefined ? "" : ` (${error.status})`);
}

// ---- operations --------------------------------------------------------------

type Kind = "read" | "mutation" | "idempotent";

interface Op {
  /** The table's label. */
  label: string;
  kind: Kind;
  method: string;
  path: string;
  run(rest: RestClient): Promise<unknown>;
  /** On success: the value is the server's data, and the write took effect. */
  applied(fake: FakeTinker, value: unknown): void;
  /** The write did not take effect (the server never acted on it). */
  untouched(fake: FakeTinker): void;
}

const checkpoint = (fake: FakeTinker) => fake.state!.checkpoint(RUN, CKPT_ID);

const OPS: Op[] = [
  {
    label: "getTrainingRun (read)",
    kind: "read",
    method: "GET",
    path: `/api/v1/training_runs/${RUN}`,
    run: (rest) => rest.getTrainingRun(RUN),
    applied(fake, value) {
      const run = value as { training_run_id: string; base_model: string };
      assert.equal(run.training_run_id, RUN);
      assert.equal(run.base_model, fake.state!.runs.get(RUN)!.base_model);
    },
    untouched() {},
  },
  {
    label: "listUserCheckpoints (page)",
    kind: "read",
    method: "GET",
    path: "/api/v1/checkpoints",
    run: (rest) => rest.listUserCheckpoints({ limit: 5 }),
    applied(fake, value) {
      const page = value as { checkpoints: { tinker_path: string }[] };
      assert.deepEqual(
        page.checkpoints.map((c) => c.tinker_path),
        fake.state!.userCheckpoints().slice(0, 5).map((c) => c.tinker_path),
      );
    },
    untouched() {},
  },
  {
    label: "deleteCheckpoint (mutation)",
    kind: "mutation",
    method: "DELETE",
    path: CKPT_URL,
    run: (rest) => rest.deleteCheckpoint(RUN, CKPT_ID),
    applied(fake, value) {
      assert.equal(value, undefined);
      assert.equal(checkpoint(fake), undefined, "the checkpoint is gone");
    },
    untouched(fake) {
      assert.ok(checkpoint(fake), "the checkpoint is still there");
    },
  },
  {
    label: "publishCheckpoint (mutation)",
    kind: "mutation",
    method: "POST",
    path: `${CKPT_URL}/publish`,
    run: (rest) => rest.publishCheckpointFromTinkerPath(CKPT_PATH),
    applied(fake, value) {
      assert.equal(value, undefined);
      assert.equal(checkpoint(fake)!.public, true);
    },
    untouched(fake) {
      assert.equal(checkpoint(fake)!.public, false);
    },
  },
  {
    label: "setCheckpointTtl (idempotent)",
    kind: "idempotent",
    method: "PUT",
    path: `${CKPT_URL}/ttl`,
    run: (rest) => rest.setCheckpointTtlFromTinkerPath(CKPT_PATH, 3600),
    applied(fake, value) {
      assert.equal(value, undefined);
      assert.notEqual(checkpoint(fake)!.expires_at, null);
    },
    untouched(fake) {
      assert.equal(checkpoint(fake)!.expires_at, null);
    },
  },
];

// ---- faults ------------------------------------------------------------------

type ErrorClass = abstract new (...args: never[]) => ApiError;

/** What one operation kind must see under a fault. */
type Expect =
  /** Resolves with the right data; `effect: false` when the fault replaced the route's answer. */
  | { ok: true; requests: number; effect?: false }
  | { error: ErrorClass; requests: number; message?: RegExp };

interface FaultCase {
  name: string;
  /** Queues the fault for `op` (or sets up `fetch`). */
  fault?: (op: Op) => Fault;
  client?: ClientOptions;
  /** A fetch that refuses the first `n` attempts at the operation's URL (a real connect failure). */
  refuse?: number;
  expect: Record<Kind, Expect>;
}

const ok = (requests: number, effect?: false): Expect =>
  effect === false ? { ok: true, requests, effect } : { ok: true, requests };
const fails = (error: ErrorClass, requests: number, message?: RegExp): Expect =>
  message ? { error, requests, message } : { error, requests };
const NOT_RETRIED = /not retried: the server may have acted/;
const ALL = FAST.maxRetries! + 1;

const FAULTS: FaultCase[] = [
  {
    name: "connection refused once",
    refuse: 1,
    expect: { read: ok(1), mutation: ok(1), idempotent: ok(1) },
  },
  {
    name: "connection refused on every attempt",
    refuse: Infinity,
    expect: {
      read: fails(ApiConnectionError, 0, /after 4 attempts/),
      mutation: fails(ApiConnectionError, 0, /after 4 attempts/),
      idempotent: fails(ApiConnectionError, 0, /after 4 attempts/),
    },
  },
  {
    name: "reset before the response headers",
    fault: (op) => ({ method: op.method, path: op.path, drop: "before-headers" }),
    expect: {
      read: ok(2),
      mutation: fails(ApiConnectionError, 1, NOT_RETRIED),
      idempotent: ok(2),
    },
  },
  {
    name: "reset half-way through the body",
    fault: (op) => ({ method: op.method, path: op.path, drop: "mid-body" }),
    // The writes answer 204 with no body: the reset cuts nothing, the answer is whole.
    expect: { read: ok(2), mutation: ok(1), idempotent: ok(1) },
  },
  {
    name: "server stalls past the timeout (200 ms)",
    fault: (op) => ({ method: op.method, path: op.path, delayMs: 3_000 }),
    client: { timeoutMs: 200 },
    expect: {
      read: ok(2),
      mutation: fails(ApiTimeoutError, 1, NOT_RETRIED),
      idempotent: ok(2),
    },
  },
  {
    name: "408 once",
    fault: (op) => ({ method: op.method, path: op.path, status: 408 }),
    expect: { read: ok(2), mutation: ok(2), idempotent: ok(2) },
  },
  {
    name: "500 burst (x2)",
    fault: (op) => ({ method: op.method, path: op.path, status: 500, times: 2 }),
    expect: {
      read: ok(3),
      mutation: fails(InternalServerError, 1),
      idempotent: ok(3),
    },
  },
  {
    name: "502 HTML page from a proxy (x2)",
    fault: (op) => ({
      method: op.method,
      path: op.path,
      status: 502,
      headers: { "content-type": "text/html" },
      body: "<html><body><h1>502 Bad Gateway</h1></body></html>",
      times: 2,
    }),
    expect: {
      read: ok(3),
      mutation: fails(InternalServerError, 1),
      idempotent: ok(3),
    },
  },
  {
    name: "503 burst (x3)",
    fault: (op) => ({ method: op.method, path: op.path, status: 503, times: 3 }),
    expect: { read: ok(4), mutation: ok(4), idempotent: ok(4) },
  },
  {
    name: "500 on every attempt",
    fault: (op) => ({ method: op.method, path: op.path, status: 500, times: 99 }),
    expect: {
      read: fails(InternalServerError, ALL),
      mutation: fails(InternalServerError, 1),
      idempotent: fails(InternalServerError, ALL),
    },
  },
  {
    name: "503 with x-should-retry: false",
    fault: (op) => ({
      method: op.method,
      path: op.path,
      status: 503,
      headers: { "x-should-retry": "false" },
    }),
    expect: {
      read: fails(InternalServerError, 1),
      mutation: fails(InternalServerError, 1),
      idempotent: fails(InternalServerError, 1),
    },
  },
  {
    name: "429 storm with retry-after-ms (x3)",
    fault: (op) => ({
      method: op.method,
      path: op.path,
      status: 429,
      headers: { "retry-after-ms": "5" },
      times: 3,
    }),
    expect: { read: ok(4), mutation: ok(4), idempotent: ok(4) },
  },
  {
    name: "429 on every attempt",
    fault: (op) => ({
      method: op.method,
      path: op.path,
      status: 429,
      headers: { "retry-after": "0" },
      times: 99,
    }),
    expect: {
      read: fails(RateLimitError, ALL),
      mutation: fails(RateLimitError, ALL),
      idempotent: fails(RateLimitError, ALL),
    },
  },
  {
    name: "invalid JSON (200)",
    fault: (op) => ({
      method: op.method,
      path: op.path,
      status: 200,
      headers: { "content-type": "application/json" },
      body: "{not json",
    }),
    // A void write reads no body: the 200 is its answer.
    expect: {
      read: fails(ApiResponseValidationError, 1, /not JSON/),
      mutation: ok(1, false),
      idempotent: ok(1, false),
    },
  },
  {
    name: "truncated JSON (complete response)",
    fault: (op) => ({
      method: op.method,
      path: op.path,
      status: 200,
      headers: { "content-type": "application/json" },
      body: '{"training_run_id": "x", "base_mo',
    }),
    expect: {
      read: fails(ApiResponseValidationError, 1, /not JSON/),
      mutation: ok(1, false),
      idempotent: ok(1, false),
    },
  },
  {
    name: "truncated JSON (connection cut, Content-Length short)",
    fault: (op) => ({ method: op.method, path: op.path, truncate: 40 }),
    expect: { read: ok(2), mutation: ok(1), idempotent: ok(1) },
  },
  {
    name: "wrong content type (200 text/html)",
    fault: (op) => ({
      method: op.method,
      path: op.path,
      status: 200,
      headers: { "content-type": "text/html" },
      body: "<html>Please log in</html>",
    }),
    expect: {
      read: fails(ApiResponseValidationError, 1, /content-type text\/html/),
      mutation: ok(1, false),
      idempotent: ok(1, false),
    },
  },
  {
    name: "right JSON, content type text/plain",
    fault: (op) => ({
      method: op.method,
      path: op.path,
      headers: { "content-type": "text/plain" },
    }),
    expect: { read: ok(1), mutation: ok(1), idempotent: ok(1) },
  },
];

/** A fetch that sends the first `n` attempts at `path` to a closed port. */
function refusing(fakeUrl: string, path: string, n: number, port: number): typeof fetch {
  let left = n;
  return (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    if (new URL(url).pathname === path && left-- > 0) {
      return fetch(url.replace(fakeUrl, `http://127.0.0.1:${port}`), init);
    }
    return fetch(input, init);
  };
}

for (const fc of FAULTS) {
  Deno.test(`under "${fc.name}", each operation ends as its retry rule says`, async (t) => {
    await using fake = await startFakeTinker();
    const port = await deadPort();
    for (const op of OPS) {
      await t.step(op.label, async () => {
        await fake.reset();
        if (fc.fault) await fake.inject(fc.fault(op));
        const rest = new RestClient({
          baseUrl: fake.url,
          apiKey: fake.apiKey,
          ...FAST,
          ...fc.client,
          ...(fc.refuse && { fetch: refusing(fake.url, op.path, fc.refuse, port) }),
        });
        const result = await within(20_000, op.label, outcome(() => op.run(rest)));
        const sent = fake.log.filter((r) => r.method === op.method && r.path === op.path);
        record(fc.name, op.label, describe(result), sent.length);
        const want = fc.expect[op.kind];
        if ("ok" in want) {
          if (!result.ok) throw result.error;
          if (want.effect === false) op.untouched(fake);
          else op.applied(fake, result.value);
        } else {
          assert.ok(!result.ok, "expected an error");
          assert.ok(
            result.error instanceof want.error,
            `expected ${want.error.name}, got ${describe(result)}: ${result.error}`,
          );
          if (want.message) assert.match((result.error as Error).message, want.message);
          op.untouched(fake);
        }
        assert.equal(sent.length, want.requests, "requests the server received");
        // Every attempt of one write carries the same idempotency key.
        const keys = new Set(sent.map((r) => r.headers["x-idempotency-key"]));
        assert.equal(keys.size, sent.length === 0 ? 0 : 1);
        rest.close();
      });
    }
  });
}

// ---- faults the fake cannot make: a raw server ------------------------------

Deno.test("a body that stalls half-way times out; a read is retried, a delete is not", async (t) => {
  const run = JSON.stringify({
    training_run_id: RUN,
    base_model: "Qwen/Qwen3-8B",
    model_owner: FAKE_IDS.user,
    is_lora: true,
    last_request_time: "2026-08-01T00:00:00Z",
  });
  let stalls = 0;
  await using raw = await startRawServer((req, socket) => {
    if (req.target === "/api/v1/client/config") {
      return respond(socket, 200, { "content-type": "application/json" }, "{}");
    }
    if (stalls-- > 0) {
      // Headers and half the body, then silence.
      const head = `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${
        run.length + 10
      }\r\n\r\n`;
      return void socket.write(head + run.slice(0, 10));
    }
    if (req.method === "DELETE") return respond(socket, 204);
    respond(socket, 200, { "content-type": "application/json" }, run);
  });
  const client = () =>
    new RestClient({ baseUrl: raw.url, apiKey: "tml-raw", ...FAST, timeoutMs: 200 });
  const calls = () => raw.requests.filter((r) => r.target !== "/api/v1/client/config");

  await t.step("getTrainingRun succeeds on the second attempt", async () => {
    stalls = 1;
    raw.requests.length = 0;
    assert.equal((await client().getTrainingRun(RUN)).training_run_id, RUN);
    assert.equal(calls().length, 2);
    record("body stalls half-way (raw server)", "getTrainingRun (read)", "success", 2);
  });
  await t.step("deleteCheckpoint is an ApiTimeoutError after one request", async () => {
    stalls = 1;
    raw.requests.length = 0;
    const error = await rejection(() => client().deleteCheckpoint(RUN, CKPT_ID));
    assert.ok(error instanceof ApiTimeoutError, String(error));
    assert.match(error.message, NOT_RETRIED);
    assert.equal(calls().length, 1);
    record(
      "body stalls half-way (raw server)",
      "deleteCheckpoint (mutation)",
      "ApiTimeoutError",
      1,
    );
  });
});

Deno.test("a 429 with retry-after: 1 waits a second before the retry", async () => {
  await using env = await setup();
  const path = `/api/v1/training_runs/${RUN}`;
  await env.fake.inject({ path, status: 429, headers: { "retry-after": "1" } });
  const started = performance.now();
  assert.equal((await env.rest.getTrainingRun(RUN)).training_run_id, RUN);
  const waited = performance.now() - started;
  assert.ok(waited >= 950, `waited ${waited} ms`);
  assert.equal(apiCalls(env.fake).length, 2);
  record("429 with retry-after: 1 (waits 1 s)", "getTrainingRun (read)", "success", 2);
});

// ---- huge bodies ---------------------------------------------------------------

Deno.test("a 50 MB page is read and validated without crashing", async () => {
  await using env = await setup();
  const item = (i: number) => ({
    checkpoint_id: `weights/${String(i).padStart(8, "0")}`,
    checkpoint_type: "training",
    time: "2026-08-01T00:00:00.000000Z",
    tinker_path: `tinker://${RUN}/weights/${String(i).padStart(8, "0")}-${"x".repeat(100)}`,
    size_bytes: i,
    public: false,
    expires_at: null,
  });
  const one = JSON.stringify(item(0)).length + 1;
  const count = Math.ceil(50 * 1024 * 1024 / one);
  const checkpoints = Array.from({ length: count }, (_, i) => item(i));
  const body = JSON.stringify({
    checkpoints,
    cursor: { offset: 0, limit: count, total_count: count },
  });
  assert.ok(body.length >= 50 * 1024 * 1024);
  await env.fake.inject({ path: "/api/v1/checkpoints", status: 200, body });
  const page = await env.rest.listUserCheckpoints({ limit: 1000 });
  assert.equal(page.checkpoints.length, count);
  assert.equal(page.checkpoints.at(-1)!.size_bytes, count - 1);
  record(`50 MB JSON page (${count} items)`, "listUserCheckpoints (page)", "success", 1);
});

Deno.test("a 50 MB body that is not JSON is an ApiResponseValidationError with a short body", async () => {
  await using env = await setup();
  const path = `/api/v1/training_runs/${RUN}`;
  await env.fake.inject({
    path,
    status: 200,
    headers: { "content-type": "application/json" },
    body: `<html>${"x".repeat(50 * 1024 * 1024)}`,
  });
  const error = await rejection(() => env.rest.getTrainingRun(RUN));
  assert.ok(error instanceof ApiResponseValidationError);
  assert.ok(String(error.body).length <= 2_000, "the error keeps at most 2,000 characters");
  assert.ok(error.message.length < 500);
  assert.equal(apiCalls(env.fake).length, 1);
  record("50 MB body that is not JSON", "getTrainingRun (read)", describe({ ok: false, error }), 1);
});

// ---- redirect loops ----------------------------------------------------------------

Deno.test("a redirect loop on the audit log ends after five hops and is not retried", async () => {
  await using env = await setup();
  await env.fake.inject({
    path: "/api/v1/audit",
    status: 302,
    headers: { location: "/api/v1/audit?event_type=all" },
    body: "",
    times: 99,
  });
  const error = await rejection(() => env.rest.getAuditLog());
  assert.ok(error instanceof ApiError);
  assert.equal(error.status, 302);
  assert.match(error.message, /Too many redirects \(more than 5\)/);
  assert.equal(apiCalls(env.fake).length, 6);
  // Every hop stays on the base URL's origin, so every hop carries the key.
  assert.ok(apiCalls(env.fake).every((r) => r.headers["x-api-key"] === env.fake.apiKey));
  record("redirect loop (same origin)", "getAuditLog (read)", describe({ ok: false, error }), 6);
});

Deno.test("a redirect loop through the storage origin carries the key only on the first hop", async () => {
  await using env = await setup({ auditRedirect: true });
  // The storage answers every audit object with a redirect back to the API.
  await env.fake.inject({
    target: "storage",
    status: 302,
    headers: { location: `${env.fake.url}/api/v1/audit?event_type=all` },
    body: "",
    times: 99,
  });
  const result = await outcome(() => env.rest.getAuditLog());
  assert.ok(!result.ok);
  const audit = apiCalls(env.fake);
  // The first request carries the key; every later one (after a hop to
  // storage) arrives without it and is refused by the API.
  assert.equal(audit[0]!.headers["x-api-key"], env.fake.apiKey);
  assert.ok(audit.slice(1).every((r) => r.headers["x-api-key"] === undefined));
  assert.ok(env.fake.storageLog.every((r) => r.headers["x-api-key"] === undefined));
  const total = audit.length + env.fake.storageLog.length;
  assert.ok(total <= 6, `${total} requests`);
  record(
    "redirect loop via the storage origin",
    "getAuditLog (read)",
    describe(result),
    `${audit.length} API + ${env.fake.storageLog.length} storage`,
  );
});

Deno.test("the archive URL is returned, not followed: a loop there costs one request", async () => {
  await using env = await setup();
  const archive = `${CKPT_URL}/archive`;
  await env.fake.inject({
    path: archive,
    status: 302,
    headers: { location: `${env.fake.url}${archive}` },
    body: "",
  });
  const { url } = await env.rest.getCheckpointArchiveUrlFromTinkerPath(CKPT_PATH);
  assert.equal(url, `${env.fake.url}${archive}`);
  assert.equal(apiCalls(env.fake).length, 1);
  record("redirect loop (archive points at itself)", "getCheckpointArchiveUrl", "success (URL)", 1);
});

// ---- the signed URL (the download) -------------------------------------------------

async function download(url: string): Promise<{ status: number; bytes?: number; error?: string }> {
  try {
    const res = await fetch(url);
    const bytes = (await res.arrayBuffer()).byteLength;
    return { status: res.status, bytes };
  } catch (error) {
    return { status: 0, error: String(error) };
  }
}

Deno.test("signed-URL faults surface to a plain download as errors, never as a short success", async (t) => {
  await using env = await setup();
  const fresh = async () => (await env.rest.getCheckpointArchiveUrlFromTinkerPath(CKPT_PATH)).url;

  await t.step("a whole archive downloads without credentials", async () => {
    const got = await download(await fresh());
    assert.equal(got.status, 200);
    assert.ok(got.bytes! > 64 * 1024);
    assert.ok(env.fake.storageLog.every((r) => r.headers["x-api-key"] === undefined));
  });
  await t.step("403 (expired or bad signature) is a 403, not a file", async () => {
    await env.fake.inject({ target: "storage", status: 403, body: "<Error>AccessDenied</Error>" });
    const got = await download(await fresh());
    assert.equal(got.status, 403);
    record("signed URL answers 403", "download (plain fetch)", "HTTP 403", 1);
  });
  await t.step("a truncated tar makes the body read fail", async () => {
    await env.fake.inject({ target: "storage", truncate: 10_000 });
    const got = await download(await fresh());
    assert.equal(got.status, 0, "reading the cut body rejects");
    assert.match(got.error!, /error|body|connection/i);
    record("truncated tar (Content-Length short)", "download (plain fetch)", "body read fails", 1);
  });
  await t.step("a redirect loop on the signed URL ends in a fetch error", async () => {
    const url = await fresh();
    env.fake.storageLog.length = 0;
    await env.fake.inject({
      target: "storage",
      status: 302,
      headers: { location: url },
      body: "",
      times: 99,
    });
    const got = await download(url);
    assert.equal(got.status, 0);
    record(
      "redirect loop on the signed URL",
      "download (plain fetch)",
      "fetch error",
      env.fake.storageLog.length,
    );
  });
});

Deno.test("tinker checkpoint download leaves nothing that looks complete when the download fails", async (t) => {
  // The archive route (a server without session routes): the faults target its tar.
  await using env = await setup({ sessionRoutes: false });
  const dir = await Deno.makeTempDir({ prefix: "tinker-faults-" });
  const target = `${RUN}_weights_${CKPT_ID.split("/")[1]}`;
  const download = () =>
    runCli(["checkpoint", "download", CKPT_PATH, "-o", dir], env.fake.url, env.fake.apiKey);
  try {
    await t.step("a whole archive lands in <run>_weights_<name>", async () => {
      const got = await download();
      assert.equal(got.code, 0, got.err);
      const tree = await listTree(dir);
      assert.ok(tree.includes(`${target}/`), tree.join(", "));
      assert.ok(tree.some((p) => p.endsWith("adapter_model.safetensors")), tree.join(", "));
      assert.ok(!tree.some((p) => p.includes(".partial")));
      record("(none)", "tinker checkpoint download", "exit 0, directory complete", 1);
      await Deno.remove(`${dir}/${target}`, { recursive: true });
    });
    const cases: { name: string; fault: Fault }[] = [
      { name: "signed URL answers 403", fault: { target: "storage", status: 403, body: "denied" } },
      {
        name: "truncated tar (Content-Length short)",
        fault: { target: "storage", truncate: 20_000 },
      },
      { name: "storage connection reset mid-body", fault: { target: "storage", drop: "mid-body" } },
      { name: "signed URL answers 503", fault: { target: "storage", status: 503, times: 99 } },
      {
        name: "redirect loop on the signed URL",
        fault: {
          target: "storage",
          status: 302,
          headers: { location: "/signed/loop" },
          body: "",
          times: 99,
        },
      },
    ];
    for (const c of cases) {
      await t.step(`${c.name}: a non-zero exit, no directory, no partial file`, async () => {
        await env.fake.reset();
        await env.fake.inject(c.fault);
        const got = await within(30_000, c.name, download());
        assert.notEqual(got.code, 0);
        assert.deepEqual(await listTree(dir), [], "nothing is left in the output directory");
        record(
          c.name,
          "tinker checkpoint download",
          `exit ${got.code}, nothing left`,
          env.fake.storageLog.length,
        );
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---- the table -------------------------------------------------------------------------

Deno.test("the faults table is printed and written to tests/faults_table.md", async () => {
  const header = "| fault | operation | outcome | requests |\n|---|---|---|---|\n";
  const body = rows.map((r) => `| ${r.fault} | ${r.operation} | ${r.outcome} | ${r.requests} |`)
    .join("\n");
  const table = `${header}${body}\n`;
  console.log(`\n${table}`);
  // Only a full run rewrites the file (a filtered run would leave it partial).
  if (rows.length < FAULTS.length * OPS.length + 10) return;
  const text =
    `# Fault injection results\n\nGenerated by \`deno task test:faults\` (tests/faults_test.ts): ` +
    `each fault injected by the fake server (or a raw socket server) against each operation, ` +
    `with ${FAST.maxRetries} retries. "requests" counts the requests the server received for ` +
    `the operation (the bootstrap excluded). A mutation is resent only after a failure that ` +
    `proves the server never acted on it (connection refused, 408, 429, 503).\n\n${table}`;
  const file = new URL("./faults_table.md", import.meta.url);
  const old = await Deno.readTextFile(file).catch(() => "");
  await Deno.writeTextFile(file, text);
  // Formatted as `deno fmt` wants it (aligned columns), so `deno fmt --check` stays clean.
  const fmt = await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", file.pathname],
    cwd: new URL("../", import.meta.url).pathname,
  }).output();
  if (!fmt.success) await Deno.writeTextFile(file, old);
});
