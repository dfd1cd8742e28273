import assert from "node:assert/strict";
import { caught, rejection } from "./tests/_assert.ts";
import { collectingGarbage } from "./tests/_gc.ts";
import {
  ApiConnectionError,
  ApiError,
  ApiResponseValidationError,
  ApiTimeoutError,
  ApiUserAbortError,
  AuthenticationError,
  BadRequestError,
  BillingError,
  type ClientOptions,
  ConflictError,
  InternalServerError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  RestClient,
  ServiceClient,
  type SessionSearchRequest,
  TinkerError,
  TinkerPathError,
  UnprocessableEntityError,
  VERSION,
} from "./mod.ts";
import {
  FAKE_IDS,
  type FakeTinker,
  type FakeTinkerOptions,
  type RecordedRequest,
  startFakeTinker,
} from "./testing/mod.ts";
import { Future } from "./internal/_future.ts";

/** A fake server and a client for it, with fast retries. */
async function setup(
  fakeOptions: FakeTinkerOptions = {},
  clientOptions: ClientOptions = {},
): Promise<{ fake: FakeTinker; rest: RestClient } & AsyncDisposable> {
  const fake = await startFakeTinker(fakeOptions);
  const rest = new RestClient({
    baseUrl: fake.url,
    apiKey: fake.apiKey,
    initialRetryDelayMs: 1,
    maxRetryDelayMs: 5,
    archivePollIntervalMs: 1,
    tracePollIntervalMs: 1,
    ...clientOptions,
  });
  return { fake, rest, [Symbol.asyncDispose]: () => fake.close() };
}

/** API requests after the bootstrap. */
function calls(fake: FakeTinker): RecordedRequest[] {
  return fake.log.filter((r) =>
    !r.path.startsWith("/api/v1/client/") && !r.path.endsWith("/auth/token")
  );
}

const run = FAKE_IDS.run;
const ckptPath = FAKE_IDS.checkpointPath;
const ckptId = ckptPath.slice(`tinker://${run}/`.length);

Deno.test("every method sends exactly the request the protocol describes", async (t) => {
  await using env = await setup({ jwtAuth: false });
  const { fake, rest } = env;
  const checkpointBase = `/api/v1/training_runs/${run}/checkpoints/${ckptId}`;
  const cases: [string, () => Promise<unknown>, string, string, unknown][] = [
    // name, call, method, raw path, json body (undefined: none)
    [
      "getTrainingRun",
      () => rest.getTrainingRun(run),
      "GET",
      `/api/v1/training_runs/${run}?access_scope=owned`,
      undefined,
    ],
    [
      "getTrainingRun accessible",
      () => rest.getTrainingRun(run, { accessScope: "accessible" }),
      "GET",
      `/api/v1/training_runs/${run}?access_scope=accessible`,
      undefined,
    ],
    [
      "getTrainingRunByTinkerPath",
      () => rest.getTrainingRunByTinkerPath(ckptPath),
      "GET",
      `/api/v1/training_runs/${run}?access_scope=owned`,
      undefined,
    ],
    [
      "getWeightsInfoByTinkerPath",
      () => rest.getWeightsInfoByTinkerPath(ckptPath),
      "POST",
      "/api/v1/weights_info",
      { tinker_path: ckptPath },
    ],
    [
      "listTrainingRuns defaults",
      () => rest.listTrainingRuns(),
      "GET",
      "/api/v1/training_runs?limit=20&offset=0&access_scope=owned",
      undefined,
    ],
    [
      "listTrainingRuns all options",
      () =>
        rest.listTrainingRuns({
          limit: 5,
          offset: 10,
          accessScope: "accessible",
          projectId: "proj 1",
        }),
      "GET",
      "/api/v1/training_runs?limit=5&offset=10&access_scope=accessible&project_id=proj+1",
      undefined,
    ],
    [
      "listCheckpoints",
      () => rest.listCheckpoints(run),
      "GET",
      `/api/v1/training_runs/${run}/checkpoints`,
      undefined,
    ],
    [
      "listUserCheckpoints",
      () => rest.listUserCheckpoints(),
      "GET",
      "/api/v1/checkpoints?limit=100&offset=0",
      undefined,
    ],
    [
      "getCheckpointArchiveUrlFromTinkerPath",
      () => rest.getCheckpointArchiveUrlFromTinkerPath(ckptPath),
      "GET",
      `${checkpointBase}/archive`,
      undefined,
    ],
    [
      "setCheckpointTtlFromTinkerPath",
      () => rest.setCheckpointTtlFromTinkerPath(ckptPath, 86400),
      "PUT",
      `${checkpointBase}/ttl`,
      { ttl_seconds: 86400 },
    ],
    [
      "setCheckpointTtlFromTinkerPath null",
      () => rest.setCheckpointTtlFromTinkerPath(ckptPath, null),
      "PUT",
      `${checkpointBase}/ttl`,
      { ttl_seconds: null },
    ],
    [
      "publishCheckpointFromTinkerPath",
      () => rest.publishCheckpointFromTinkerPath(ckptPath),
      "POST",
      `${checkpointBase}/publish`,
      undefined,
    ],
    [
      "unpublishCheckpointFromTinkerPath",
      () => rest.unpublishCheckpointFromTinkerPath(ckptPath),
      "DELETE",
      `${checkpointBase}/publish`,
      undefined,
    ],
    [
      "getSession",
      () => rest.getSession(FAKE_IDS.sessionId),
      "GET",
      `/api/v1/sessions/${FAKE_IDS.sessionId}?access_scope=owned`,
      undefined,
    ],
    [
      "listSessions",
      () => rest.listSessions(),
      "GET",
      "/api/v1/sessions?limit=20&offset=0&access_scope=owned",
      undefined,
    ],
    [
      "assignSessionProject",
      () => rest.assignSessionProject(FAKE_IDS.sessionId, "proj-1"),
      "PUT",
      `/api/v1/sessions/${FAKE_IDS.sessionId}/project`,
      { project_id: "proj-1" },
    ],
    [
      "getSampler",
      () => rest.getSampler(FAKE_IDS.samplerId),
      "GET",
      `/api/v1/samplers/${FAKE_IDS.samplerId}`,
      undefined,
    ],
    [
      "getAuditLog",
      () => rest.getAuditLog(),
      "GET",
      "/api/v1/audit?event_type=all",
      undefined,
    ],
    [
      "getAuditLog with day",
      () => rest.getAuditLog({ eventType: "checkpoints", day: new Date("2025-01-15T23:00:00Z") }),
      "GET",
      "/api/v1/audit?event_type=checkpoints&day=2025-01-15",
      undefined,
    ],
    [
      "getBillingUsage",
      () => rest.getBillingUsage("2026-07-13T00:00:00+00:00", new Date("2026-07-14T00:00:00Z")),
      "GET",
      "/api/v1/billing/usage/events?starting_on=2026-07-13T00%3A00%3A00Z&ending_before=2026-07-14T00%3A00%3A00Z",
      undefined,
    ],
    [
      "getServerCapabilities",
      () => rest.getServerCapabilities(),
      "GET",
      "/api/v1/get_server_capabilities",
      undefined,
    ],
    [
      "getCurrentCheckpointStorageUsage",
      () => rest.getCurrentCheckpointStorageUsage({ projectId: "p1" }),
      "GET",
      "/api/v1/billing/usage/checkpoints/current?project_id=p1",
      undefined,
    ],
    [
      "deleteCheckpointFromTinkerPath",
      () => rest.deleteCheckpointFromTinkerPath(ckptPath),
      "DELETE",
      checkpointBase,
      undefined,
    ],
  ];
  for (const [name, call, method, rawPath, body] of cases) {
    await t.step(name, async () => {
      await fake.clearLog();
      await call();
      const sent = calls(fake);
      assert.equal(sent.length, 1, `one request for ${name}`);
      const req = sent[0]!;
      assert.equal(req.method, method);
      assert.equal(req.rawPath, rawPath);
      if (body === undefined) assert.equal(req.body, "");
      else assert.equal(req.body, JSON.stringify(body));
      assert.equal(req.headers["x-api-key"], fake.apiKey);
      assert.equal(req.headers["accept"], "application/json");
      assert.match(req.headers["user-agent"] ?? "", new RegExp(`^tinker-ts/${VERSION} `));
      if (method === "GET") {
        assert.equal(req.headers["content-type"], undefined);
        assert.equal(req.headers["x-idempotency-key"], undefined);
      } else {
        assert.equal(req.headers["content-type"], "application/json");
        assert.match(req.headers["x-idempotency-key"] ?? "", /^tinker-ts-retry-[0-9a-f-]{36}$/);
      }
      if (method === "POST" && body === undefined) assert.equal(req.headers["content-length"], "0");
    });
  }
});

Deno.test("exportSessionTrace polls until ready and returns the URL", async () => {
  await using env = await setup({ tracePendingCount: 2 });
  const url = await env.rest.exportSessionTrace(FAKE_IDS.sessionId);
  assert.ok(url.startsWith(env.fake.storageUrl));
  const polls = calls(env.fake);
  assert.equal(polls.length, 3);
  assert.ok(
    polls.every((r) => r.rawPath === `/api/v1/sessions/${FAKE_IDS.sessionId}/trace_export`),
  );
});

Deno.test("exportSessionTrace throws the server's reason when the export failed", async () => {
  await using env = await setup();
  const error = await rejection(env.rest.exportSessionTrace(FAKE_IDS.failingTraceSessionId));
  assert.ok(error instanceof TinkerError);
  assert.match(error.message, /Trace export failed for session .*: no events found/);
});

Deno.test("the bootstrap runs once, shared by concurrent first calls", async () => {
  await using env = await setup();
  await Promise.all([1, 2, 3, 4, 5].map(() => env.rest.getTrainingRun(run)));
  await env.rest.getSampler(FAKE_IDS.samplerId);
  const configs = env.fake.log.filter((r) => r.path === "/api/v1/client/config");
  assert.equal(configs.length, 1);
  assert.equal(configs[0]!.method, "POST");
  assert.deepEqual(configs[0]!.json, { sdk_version: "0.38.0" });
  assert.equal(env.fake.log[0]!.path, "/api/v1/client/config");
  assert.equal(env.fake.log.filter((r) => r.path === "/api/v1/auth/token").length, 0);
});

Deno.test("a failed bootstrap is tried again by the next call", async () => {
  await using env = await setup();
  await env.fake.inject({ path: "/api/v1/client/config", status: 400, times: 1 });
  assert.ok(await rejection(env.rest.getTrainingRun(run)) instanceof BadRequestError);
  assert.equal((await env.rest.getTrainingRun(run)).training_run_id, run);
});

Deno.test("with JWT auth, the key is exchanged once and the JWT is sent afterwards", async () => {
  await using env = await setup({ jwtAuth: true });
  await Promise.all([env.rest.getTrainingRun(run), env.rest.listCheckpoints(run)]);
  const tokens = env.fake.log.filter((r) => r.path === "/api/v1/auth/token");
  assert.equal(tokens.length, 1);
  assert.equal(tokens[0]!.headers["x-api-key"], env.fake.apiKey);
  assert.equal(tokens[0]!.body, "{}");
  for (const req of calls(env.fake)) assert.match(req.headers["x-api-key"] ?? "", /^eyJ/);
  const me = await env.rest.whoami();
  assert.match(me.user_urn, /^tml:organization_user:/);
  assert.equal(typeof me.email, "string");
});

Deno.test("a JWT close to expiry is refreshed before it is used", async () => {
  // 100 s of life is inside the 300 s refresh margin: every call refreshes.
  await using env = await setup({ jwtAuth: true, jwtTtlSeconds: 100 });
  await env.rest.getTrainingRun(run);
  await env.rest.getTrainingRun(run);
  assert.equal(env.fake.log.filter((r) => r.path === "/api/v1/auth/token").length, 3);
});

Deno.test("a 401 invalid_token is answered by one fresh exchange and one replay", async () => {
  await using env = await setup({ jwtAuth: true });
  await env.rest.getTrainingRun(run);
  await env.fake.inject({
    path: `/api/v1/training_runs/${run}`,
    status: 401,
    headers: { "www-authenticate": 'Bearer error="invalid_token"' },
    body: { detail: "Invalid JWT" },
  });
  assert.equal((await env.rest.getTrainingRun(run)).training_run_id, run);
  assert.equal(env.fake.log.filter((r) => r.path === "/api/v1/auth/token").length, 2);
  await env.fake.inject({ path: `/api/v1/training_runs/${run}`, status: 401, times: 5 });
  const error = await rejection(env.rest.getTrainingRun(run));
  assert.ok(error instanceof AuthenticationError);
});

Deno.test("whoami() without a JWT throws a TinkerError", async () => {
  await using env = await setup({ jwtAuth: false });
  const error = await rejection(env.rest.whoami());
  assert.ok(error instanceof TinkerError && !(error instanceof ApiError));
  assert.match(error.message, /whoami\(\) needs JWT auth/);
});

Deno.test("configuration: a missing or malformed key is a TinkerError at the first call", async () => {
  await using env = await setup();
  const none = new RestClient({ baseUrl: env.fake.url, apiKey: undefined });
  const noKeyError = await rejection(
    new RestClient({ baseUrl: env.fake.url, apiKey: "" }).getTrainingRun(run),
  );
  assert.ok(noKeyError instanceof TinkerError);
  if (Deno.env.get("TINKER_API_KEY") === undefined) {
    const error = await rejection(none.getTrainingRun(run));
    assert.ok(error instanceof TinkerError);
    assert.match(error.message, /API key is missing/);
  }
  const bad = await rejection(
    new RestClient({ baseUrl: env.fake.url, apiKey: "sk-secret-value" }).getTrainingRun(run),
  );
  assert.ok(bad instanceof TinkerError);
  assert.match(bad.message, /must start with "tml-"/);
  assert.ok(!bad.message.includes("sk-secret-value"));
  const spaced = await rejection(
    new RestClient({ baseUrl: env.fake.url, apiKey: "tml-abc def" }).getTrainingRun(run),
  );
  assert.match((spaced as Error).message, /whitespace/);
  for (const key of ["tml-ключ", "tml-x\x7f", "tml-tab\there"]) {
    const refused = await rejection(
      new RestClient({ baseUrl: env.fake.url, apiKey: key }).getTrainingRun(run),
    );
    assert.match(
      (refused as Error).message,
      /cannot be sent in an HTTP header/,
      JSON.stringify(key),
    );
  }
  const badUrl = await rejection(
    new RestClient({ baseUrl: "ftp://example.test", apiKey: "tml-x" }).getTrainingRun(run),
  );
  assert.match((badUrl as Error).message, /must use http/);
  assert.equal(env.fake.log.length, 0);
});

Deno.test("configuration: options win over TINKER_* variables, which win over defaults", async () => {
  await using env = await setup();
  const saved = [Deno.env.get("TINKER_API_KEY"), Deno.env.get("TINKER_BASE_URL")];
  try {
    Deno.env.set("TINKER_API_KEY", env.fake.apiKey);
    Deno.env.set("TINKER_BASE_URL", env.fake.url);
    const fromEnv = new RestClient();
    assert.equal(fromEnv.baseUrl, env.fake.url);
    assert.equal((await fromEnv.getTrainingRun(run)).training_run_id, run);
    const fromOptions = new RestClient({ baseUrl: "http://127.0.0.1:1" });
    assert.equal(fromOptions.baseUrl, "http://127.0.0.1:1");
    Deno.env.delete("TINKER_BASE_URL");
    assert.equal(
      new RestClient().baseUrl,
      "https://tinker.thinkingmachines.dev/services/tinker-prod",
    );
  } finally {
    for (const [name, value] of [["TINKER_API_KEY", saved[0]], ["TINKER_BASE_URL", saved[1]]]) {
      if (value === undefined) Deno.env.delete(name!);
      else Deno.env.set(name!, value);
    }
  }
});

Deno.test({
  name: "configuration: without --allow-env the client neither crashes nor prompts",
  ignore: Deno.permissions === undefined, // Deno only (not under the Bun runner)
}, async () => {
  const dir = await Deno.makeTempDir();
  const script = `${dir}/no_env.ts`;
  await Deno.writeTextFile(
    script,
    `import { RestClient } from "${new URL("./mod.ts", import.meta.url).href}";
    const rest = new RestClient();
    console.log(rest.baseUrl);
    try { await rest.getTrainingRun("x"); } catch (e) { console.log(e.name, e.message); }`,
  );
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", `--allow-read`, script],
    env: { TINKER_API_KEY: "tml-from-env", TINKER_BASE_URL: "http://127.0.0.1:1" },
    stdin: "null",
  }).output();
  await Deno.remove(dir, { recursive: true });
  const text = new TextDecoder().decode(output.stdout);
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  assert.match(text, /^https:\/\/tinker\.thinkingmachines\.dev\/services\/tinker-prod\n/);
  assert.match(text, /TinkerError The API key is missing/);
});

Deno.test("the base URL's path prefix is kept", async () => {
  await using env = await setup();
  const rest = new RestClient({
    baseUrl: `${env.fake.url}/services/tinker-prod/`,
    apiKey: env.fake.apiKey,
    maxRetries: 0,
  });
  const error = await rejection(rest.getTrainingRun(run));
  assert.ok(error instanceof NotFoundError);
  assert.equal(env.fake.log[0]!.rawPath, "/services/tinker-prod/api/v1/client/config");
});

Deno.test("retries: 5xx, 408 and 429 are retried with the same idempotency key", async () => {
  await using env = await setup();
  await env.rest.getTrainingRun(run);
  await env.fake.clearLog();
  await env.fake.inject({ path: `/api/v1/training_runs/${run}`, status: 503, times: 1 });
  await env.fake.inject({ path: `/api/v1/training_runs/${run}`, status: 408, times: 1 });
  await env.fake.inject({
    path: `/api/v1/training_runs/${run}`,
    status: 429,
    headers: { "retry-after": "0.01" },
  });
  assert.equal((await env.rest.getTrainingRun(run)).training_run_id, run);
  const sent = calls(env.fake);
  assert.deepEqual(sent.map((r) => r.status), [503, 408, 429, 200]);
  assert.deepEqual(sent.map((r) => r.headers["x-stainless-retry-count"]), ["0", "1", "2", "3"]);

  await env.fake.clearLog();
  await env.fake.inject({
    path: `/api/v1/training_runs/${run}/checkpoints/${ckptId}/ttl`,
    status: 502,
  });
  await env.rest.setCheckpointTtlFromTinkerPath(ckptPath, 3600);
  const keys = calls(env.fake).map((r) => r.headers["x-idempotency-key"]);
  assert.equal(keys.length, 2);
  assert.equal(keys[0], keys[1]);
});

Deno.test("retries: maxRetries bounds the attempts and the last error is thrown", async () => {
  await using env = await setup({}, { maxRetries: 2 });
  await env.fake.inject({ path: `/api/v1/training_runs/${run}`, status: 500, times: 10 });
  const error = await rejection(env.rest.getTrainingRun(run));
  assert.ok(error instanceof InternalServerError);
  assert.equal(error.status, 500);
  assert.equal(calls(env.fake).length, 3);
});

Deno.test("retries: x-should-retry overrides the status rule", async () => {
  await using env = await setup();
  await env.fake.inject({
    path: `/api/v1/training_runs/${run}`,
    status: 500,
    headers: { "x-should-retry": "false" },
  });
  assert.ok(await rejection(env.rest.getTrainingRun(run)) instanceof InternalServerError);
  assert.equal(calls(env.fake).length, 1);
  await env.fake.clearLog();
  await env.fake.inject({
    path: `/api/v1/training_runs/${run}`,
    status: 400,
    headers: { "x-should-retry": "true" },
  });
  await env.rest.getTrainingRun(run);
  assert.equal(calls(env.fake).length, 2);
});

Deno.test("retries: retry-after-ms and an HTTP-date retry-after are honoured", async () => {
  await using env = await setup({}, { initialRetryDelayMs: 5_000 });
  await env.fake.inject({
    path: `/api/v1/training_runs/${run}`,
    status: 429,
    headers: { "retry-after-ms": "30" },
  });
  await env.fake.inject({
    path: `/api/v1/training_runs/${run}`,
    status: 503,
    headers: { "retry-after": new Date(Date.now() + 1000).toUTCString() },
  });
  const started = Date.now();
  await env.rest.getTrainingRun(run);
  const sent = calls(env.fake);
  assert.equal(sent.length, 3);
  assert.ok(sent[1]!.time - sent[0]!.time >= 25);
  assert.ok(Date.now() - started < 4_000, "the 5 s backoff was not used");
});

Deno.test("retries: a 409 on publish is a ConflictError at once", async () => {
  await using env = await setup();
  const error = await rejection(
    env.rest.publishCheckpointFromTinkerPath(FAKE_IDS.publicCheckpointPath),
  );
  assert.ok(error instanceof ConflictError);
  assert.equal(error.status, 409);
  assert.match(error.message, /already public/);
  assert.equal(calls(env.fake).length, 1);
});

Deno.test("retries: a mutation is not resent after a failure that may have reached the server", async (t) => {
  const base = `/api/v1/training_runs/${run}/checkpoints/${ckptId}`;
  await t.step("500 on DELETE", async () => {
    await using env = await setup();
    await env.fake.inject({ path: base, method: "DELETE", status: 500 });
    assert.ok(
      await rejection(env.rest.deleteCheckpointFromTinkerPath(ckptPath)) instanceof
        InternalServerError,
    );
    assert.equal(calls(env.fake).length, 1);
  });
  await t.step("connection dropped before the response, on publish", async () => {
    await using env = await setup();
    await env.fake.inject({ path: `${base}/publish`, drop: "before-headers" });
    const error = await rejection(env.rest.publishCheckpointFromTinkerPath(ckptPath));
    assert.ok(error instanceof ApiConnectionError);
    assert.equal(error.status, undefined);
    assert.match(error.message, /not retried: the server may have acted on this POST/);
    assert.equal(calls(env.fake).length, 1);
  });
  await t.step("timeout on DELETE", async () => {
    await using env = await setup({}, { timeoutMs: 100 });
    await env.fake.inject({ path: base, method: "DELETE", delayMs: 1_000 });
    const error = await rejection(env.rest.deleteCheckpointFromTinkerPath(ckptPath));
    assert.ok(error instanceof ApiTimeoutError);
    assert.equal(calls(env.fake).length, 1);
  });
  await t.step("503 and 429 (refused, not acted on) are retried", async () => {
    await using env = await setup();
    await env.fake.inject({ path: base, method: "DELETE", status: 503 });
    await env.fake.inject({ path: base, method: "DELETE", status: 429 });
    await env.rest.deleteCheckpointFromTinkerPath(ckptPath);
    assert.deepEqual(calls(env.fake).map((r) => r.status), [503, 429, 204]);
  });
});

Deno.test("retries: a read survives a dropped connection and a mid-body reset", async () => {
  await using env = await setup();
  await env.fake.inject({ path: `/api/v1/training_runs/${run}`, drop: "before-headers" });
  await env.fake.inject({ path: `/api/v1/training_runs/${run}`, drop: "mid-body" });
  assert.equal((await env.rest.getTrainingRun(run)).training_run_id, run);
  assert.equal(calls(env.fake).length, 3);
});

Deno.test("a connection refused is an ApiConnectionError after the retries", async () => {
  const rest = new RestClient({
    baseUrl: "http://127.0.0.1:1",
    apiKey: "tml-x",
    maxRetries: 1,
    initialRetryDelayMs: 1,
  });
  const error = await rejection(rest.getTrainingRun(run));
  assert.ok(error instanceof ApiConnectionError);
  assert.match(
    error.message,
    /Connection failed \(POST \/api\/v1\/client\/config\) after 2 attempts/,
  );
});

Deno.test("timeoutMs bounds each attempt; per call it overrides the client's", async () => {
  await using env = await setup({}, { timeoutMs: 60_000, maxRetries: 1 });
  await env.rest.getTrainingRun(run);
  await env.fake.inject({ path: `/api/v1/training_runs/${run}`, delayMs: 2_000, times: 2 });
  const started = Date.now();
  const error = await rejection(env.rest.getTrainingRun(run, { timeoutMs: 50 }));
  assert.ok(error instanceof ApiTimeoutError);
  assert.match(error.message, /timed out after 50 ms.*after 2 attempts/);
  assert.ok(Date.now() - started < 1_500);
});

Deno.test("timeoutMs also ends a body the server stops sending, after a garbage collection", async () => {
  await using env = await setup({}, { maxRetries: 0 });
  await env.rest.getTrainingRun(run);
  await env.fake.inject({ path: `/api/v1/training_runs/${run}`, truncate: 10, stallMs: 2_000 });
  using _gc = collectingGarbage();
  const error = await rejection(env.rest.getTrainingRun(run, { timeoutMs: 200 }));
  assert.ok(error instanceof ApiTimeoutError, String(error));
  assert.match(error.message, /timed out after 200 ms \(GET \/api\/v1\/training_runs\//);
});

Deno.test("an aborted signal stops the call without a retry", async () => {
  await using env = await setup();
  await env.rest.getTrainingRun(run);
  await env.fake.inject({ path: `/api/v1/training_runs/${run}`, delayMs: 2_000 });
  const controller = new AbortController();
  const pending = env.rest.getTrainingRun(run, { signal: controller.signal });
  setTimeout(() => controller.abort(), 30);
  const error = await rejection(pending);
  assert.ok(error instanceof ApiUserAbortError);
  assert.equal(calls(env.fake).length, 2);
});

Deno.test("the archive URL: 302 with Location and Expires", async () => {
  await using env = await setup({ archiveMode: "redirect" });
  const archive = await env.rest.getCheckpointArchiveUrl(run, ckptId);
  assert.ok(archive.url.startsWith(`${env.fake.storageUrl}/`));
  const req = calls(env.fake)[0]!;
  assert.equal(req.status, 302);
  assert.equal(req.query.length, 0);
  const expires = Date.parse(archive.expires);
  assert.ok(Math.abs(expires - (Date.now() + 15 * 60_000)) < 5_000);
  assert.match(archive.expires, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  assert.equal(env.fake.storageLog.length, 0, "the redirect is not followed");
});

Deno.test("the archive URL: a 302 without Expires defaults to now + 15 min", async () => {
  await using env = await setup();
  await env.fake.inject({
    path: /\/archive$/,
    status: 302,
    headers: { location: "https://download.example.test/archive.tar" },
    body: "",
  });
  const before = Date.now();
  const archive = await env.rest.getCheckpointArchiveUrlFromTinkerPath(ckptPath);
  assert.equal(archive.url, "https://download.example.test/archive.tar");
  const expires = Date.parse(archive.expires);
  assert.ok(expires >= before + 15 * 60_000 - 1000 && expires <= Date.now() + 15 * 60_000 + 1000);
});

Deno.test("the archive URL: 302 with an HTTP-date Expires is converted to UTC ISO", async () => {
  await using env = await setup();
  await env.fake.inject({
    path: /\/archive$/,
    status: 302,
    headers: {
      location: "https://download.example.test/archive.tar",
      expires: "Wed, 27 May 2026 20:00:00 GMT",
    },
    body: "",
  });
  const archive = await env.rest.getCheckpointArchiveUrlFromTinkerPath(ckptPath);
  assert.equal(archive.expires, "2026-05-27T20:00:00.000Z");
});

Deno.test("the archive URL: 200 JSON with an ISO or epoch expiry", async () => {
  await using env = await setup({ archiveMode: "json" });
  const archive = await env.rest.getCheckpointArchiveUrlFromTinkerPath(ckptPath);
  assert.ok(archive.url.startsWith(env.fake.storageUrl));
  await env.fake.inject({
    path: /\/archive$/,
    status: 200,
    body: { url: "https://x/y", expires: 1780000000 },
  });
  const epoch = await env.rest.getCheckpointArchiveUrlFromTinkerPath(ckptPath);
  assert.deepEqual(epoch, { url: "https://x/y", expires: "2026-05-28T20:26:40.000Z" });
  await env.fake.inject({
    path: /\/archive$/,
    status: 200,
    headers: { "content-type": "application/x-tar" },
    body: "not json at all",
  });
  const error = await rejection(env.rest.getCheckpointArchiveUrlFromTinkerPath(ckptPath));
  assert.ok(error instanceof ApiResponseValidationError);
  assert.match(error.message, /content-type application\/x-tar/);
});

Deno.test("the archive URL: 503 'not ready' is polled at the configured interval", async () => {
  await using env = await setup({ archiveMode: "not-ready", archiveNotReadyCount: 2 });
  const archive = await env.rest.getCheckpointArchiveUrlFromTinkerPath(ckptPath);
  assert.ok(archive.url.startsWith(env.fake.storageUrl));
  assert.deepEqual(calls(env.fake).map((r) => r.status), [503, 503, 302]);
});

Deno.test("the archive URL: gives up after six polls", async () => {
  await using env = await setup({ archiveMode: "not-ready", archiveNotReadyCount: 100 }, {
    maxRetries: 0,
  });
  const error = await rejection(env.rest.getCheckpointArchiveUrlFromTinkerPath(ckptPath));
  assert.ok(error instanceof InternalServerError);
  assert.equal(error.status, 503);
  assert.match(error.message, /still not ready after 6 polls/);
  assert.equal(calls(env.fake).length, 6);
});

Deno.test("the archive URL: a 302 without Location and other redirects are errors", async () => {
  await using env = await setup();
  await env.fake.inject({ path: /\/archive$/, status: 302, body: "" });
  const missing = await rejection(env.rest.getCheckpointArchiveUrlFromTinkerPath(ckptPath));
  assert.ok(missing instanceof ApiError);
  assert.equal(missing.status, 302);
  assert.match(missing.message, /no Location header/);
  await env.fake.inject({
    path: /\/archive$/,
    status: 301,
    headers: { location: "https://x/y" },
    body: "",
  });
  const moved = await rejection(env.rest.getCheckpointArchiveUrlFromTinkerPath(ckptPath));
  assert.ok(moved instanceof ApiError);
  assert.equal(moved.status, 301);
});

Deno.test("the audit log follows a redirect without sending the key to another origin", async () => {
  await using env = await setup({ auditRedirect: true });
  const log = await env.rest.getAuditLog({ day: "2026-09-14" });
  assert.ok(Array.isArray(log.entries));
  assert.equal(env.fake.storageLog.length, 1);
  const hop = env.fake.storageLog[0]!;
  assert.equal(hop.headers["x-api-key"], undefined);
  assert.equal(hop.status, 200);
});

Deno.test("pagination: for await yields every item exactly once", async () => {
  await using env = await setup();
  const first = await env.rest.listTrainingRuns({ limit: 7 });
  const ids: string[] = [];
  for await (const r of env.rest.listTrainingRuns({ limit: 7 })) ids.push(r.training_run_id);
  assert.equal(ids.length, first.cursor.total_count);
  assert.equal(new Set(ids).size, ids.length);
  const offsets = calls(env.fake).slice(1).map((r) => r.query.find(([k]) => k === "offset")?.[1]);
  assert.deepEqual(offsets, ["0", "7", "14", "21"].slice(0, Math.ceil(ids.length / 7)));
});

Deno.test("pagination: awaiting and iterating one future sends its first page once", async () => {
  await using env = await setup();
  const future = env.rest.listUserCheckpoints({ limit: 100 });
  const page = await future;
  let count = 0;
  for await (const _ of future) count++;
  assert.equal(count, page.cursor!.total_count);
  const firstPages = calls(env.fake).filter((r) =>
    r.rawPath === "/api/v1/checkpoints?limit=100&offset=0"
  );
  assert.equal(firstPages.length, 1);
});

Deno.test("pagination: an exact multiple of the limit ends without an empty extra page", async () => {
  await using env = await setup();
  const total = (await env.rest.listUserCheckpoints({ limit: 1 })).cursor!.total_count;
  await env.fake.clearLog();
  const pages: number[] = [];
  for await (const page of env.rest.listUserCheckpoints({ limit: total / 2 }).pages()) {
    pages.push(page.checkpoints.length);
  }
  assert.equal(total % 2, 0, "the seed has an even number of user checkpoints");
  assert.deepEqual(pages, [total / 2, total / 2]);
  assert.equal(calls(env.fake).length, 2);
});

Deno.test("pagination: an empty list yields nothing after one request", async () => {
  await using env = await setup({ seed: false });
  const items = [];
  for await (const r of env.rest.listTrainingRuns()) items.push(r);
  assert.deepEqual(items, []);
  assert.equal(calls(env.fake).length, 1);
});

Deno.test("pagination: without a cursor, iteration stops at the first short page", async () => {
  await using env = await setup();
  const ids: string[] = [];
  for await (const id of env.rest.listSessions({ limit: 3 })) ids.push(id);
  const requests = calls(env.fake).length;
  assert.equal(requests, Math.floor(ids.length / 3) + 1);
  assert.ok(ids.length > 3);
  await env.fake.clearLog();
  await env.fake.inject({
    path: "/api/v1/checkpoints",
    status: 200,
    body: { checkpoints: [] },
  });
  const none = [];
  for await (const c of env.rest.listUserCheckpoints()) none.push(c);
  assert.equal(none.length, 0);
});

Deno.test("pagination: starting at an offset walks from there", async () => {
  await using env = await setup();
  const all: string[] = [];
  for await (const r of env.rest.listTrainingRuns({ limit: 50 })) all.push(r.training_run_id);
  const tail: string[] = [];
  for await (const r of env.rest.listTrainingRuns({ limit: 4, offset: 5 })) {
    tail.push(r.training_run_id);
  }
  assert.deepEqual(tail, all.slice(5));
});

Deno.test("errors: each status maps to its class with status, headers, body and detail", async (t) => {
  const table: [number, typeof ApiError, unknown, string | undefined][] = [
    [400, BadRequestError, { detail: "bad id" }, "bad id"],
    [
      401,
      AuthenticationError,
      { detail: "Unable to validate credential" },
      "Unable to validate credential",
    ],
    [402, BillingError, { detail: "billing not set up" }, "billing not set up"],
    [403, PermissionDeniedError, { detail: "no access" }, "no access"],
    [404, NotFoundError, { detail: "Training run not found" }, "Training run not found"],
    [409, ConflictError, { detail: "exists" }, "exists"],
    [
      422,
      UnprocessableEntityError,
      { detail: [{ loc: ["query", "day"], msg: "Input should be a valid date", type: "x" }] },
      "query.day: Input should be a valid date",
    ],
    [429, RateLimitError, { detail: "slow down" }, "slow down"],
    [500, InternalServerError, "Internal Server Error", "Internal Server Error"],
    [418, ApiError, "", undefined],
  ];
  await using env = await setup({}, { maxRetries: 0 });
  for (const [status, ErrorClass, body, detail] of table) {
    await t.step(`${status} is ${ErrorClass.name}`, async () => {
      await env.fake.inject({
        path: `/api/v1/training_runs/${run}`,
        status,
        headers: { "x-request-id": "req-1" },
        body: body as string | object,
      });
      const error = await rejection(env.rest.getTrainingRun(run));
      assert.ok(error instanceof ErrorClass, `${status}: ${error}`);
      assert.equal(error.constructor, ErrorClass);
      assert.equal(error.status, status);
      assert.equal(error.headers?.get("x-request-id"), "req-1");
      assert.deepEqual(error.body, body);
      assert.equal(error.detail, detail);
      assert.match(
        error.message,
        new RegExp(`^Request failed with status ${status} \\(GET /api/v1/training_runs/`),
      );
      if (detail) assert.ok(error.message.includes(detail));
    });
  }
});

Deno.test("errors: a body that does not match its type names the field", async (t) => {
  await using env = await setup({}, { maxRetries: 0 });
  const good = await env.rest.getTrainingRun(run);
  const table: [unknown, RegExp][] = [
    [{ ...good, is_lora: null }, /"is_lora" must be a boolean, got null/],
    [{ ...good, corrupted: null }, /"corrupted" must be a boolean, got null/],
    [(({ base_model: _, ...rest }) => rest)(good), /"base_model" is missing/],
    [{ ...good, last_request_time: "yesterday" }, /"last_request_time" must be an ISO-8601/],
    [
      { ...good, last_checkpoint: { ...good.last_checkpoint, public: null } },
      /"last_checkpoint\.public"/,
    ],
    [[good], /"\(body\)" must be an object, got an array/],
  ];
  for (const [body, message] of table) {
    await t.step(message.source, async () => {
      await env.fake.inject({
        path: `/api/v1/training_runs/${run}`,
        status: 200,
        body: body as object,
      });
      const error = await rejection(env.rest.getTrainingRun(run));
      assert.ok(error instanceof ApiResponseValidationError);
      assert.match(error.message, message);
      assert.equal(error.status, 200);
    });
  }
  await t.step("list items and map values are named by index and key", async () => {
    const listing = await env.rest.listCheckpoints(run);
    const [first, second] = listing.checkpoints;
    const path = `/api/v1/training_runs/${run}/checkpoints`;
    const cases: [unknown, RegExp][] = [
      [
        [first, { ...second, time: 7 }],
        /"checkpoints\[1\]\.time" must be an ISO-8601 .*got number 7/,
      ],
      [
        [{ ...first, user_metadata: { ok: "x", n: 1 } }],
        /"checkpoints\[0\]\.user_metadata\.n" must be a string/,
      ],
      [
        [first, { ...second, checkpoint_id: undefined }],
        /"checkpoints\[1\]\.checkpoint_id" is missing/,
      ],
    ];
    for (const [checkpoints, message] of cases) {
      await env.fake.inject({ path, status: 200, body: { checkpoints, cursor: null } });
      const error = await rejection(env.rest.listCheckpoints(run));
      assert.ok(error instanceof ApiResponseValidationError);
      assert.match(error.message, message);
    }
  });
  await t.step("an empty 200 body", async () => {
    await env.fake.inject({ path: `/api/v1/training_runs/${run}`, status: 200, body: "" });
    const error = await rejection(env.rest.getTrainingRun(run));
    assert.ok(error instanceof ApiResponseValidationError);
    assert.match(error.message, /an empty body/);
  });
});

Deno.test("responses keep unknown fields and add none", async () => {
  await using env = await setup();
  const good = await env.rest.getTrainingRun(run);
  await env.fake.inject({
    path: `/api/v1/training_runs/${run}`,
    status: 200,
    body: { ...good, new_server_field: { nested: true } },
  });
  const withExtra = await env.rest.getTrainingRun(run);
  assert.deepEqual(withExtra, { ...good, new_server_field: { nested: true } });
});

Deno.test("the API key never appears in an error, even when the server echoes it", async () => {
  await using env = await setup({}, { maxRetries: 0 });
  await env.fake.inject({
    path: `/api/v1/training_runs/${run}`,
    status: 500,
    body: { detail: `bad key ${env.fake.apiKey}` },
  });
  const error = await rejection(env.rest.getTrainingRun(run));
  assert.ok(error instanceof ApiError);
  const everything = `${error.message} ${error.stack} ${
    JSON.stringify(error.body)
  } ${error.detail} ${String(error)}`;
  assert.ok(!everything.includes(env.fake.apiKey));
  assert.match(error.message, /bad key \[redacted\]/);
});

Deno.test("bad arguments throw before any request is sent", async (t) => {
  await using env = await setup();
  const { rest } = env;
  // deno-lint-ignore no-explicit-any
  const table: [string, () => unknown, new (...args: any[]) => TinkerError, RegExp][] = [
    [
      "empty run id",
      () => rest.getTrainingRun(""),
      InvalidArgumentError,
      /trainingRunId.*is empty/,
    ],
    [
      "run id with a slash",
      () => rest.getTrainingRun("a/b"),
      InvalidArgumentError,
      /must not contain "\/"/,
    ],
    ["run id ..", () => rest.listCheckpoints(".."), InvalidArgumentError, /must not be "\.\."/],
    ["run id with ?", () => rest.getTrainingRun("a?b"), InvalidArgumentError, /"\?"/],
    [
      "non-string id",
      () => rest.getSampler(42 as unknown as string),
      InvalidArgumentError,
      /expected a string, got number/,
    ],
    [
      "negative limit",
      () => rest.listTrainingRuns({ limit: -5 }),
      InvalidArgumentError,
      /limit: must be a whole number of at least 1, got -5/,
    ],
    [
      "zero limit",
      () => rest.listSessions({ limit: 0 }),
      InvalidArgumentError,
      /at least 1, got 0/,
    ],
    ["NaN limit", () => rest.listUserCheckpoints({ limit: NaN }), InvalidArgumentError, /got NaN/],
    [
      "string limit",
      () => rest.listUserCheckpoints({ limit: "5" as unknown as number }),
      InvalidArgumentError,
      /got "5"/,
    ],
    [
      "huge offset",
      () => rest.listUserCheckpoints({ offset: 2 ** 60 }),
      InvalidArgumentError,
      /offset/,
    ],
    [
      "negative offset",
      () => rest.listTrainingRuns({ offset: -1 }),
      InvalidArgumentError,
      /offset.*at least 0/,
    ],
    [
      "fractional TTL",
      () => rest.setCheckpointTtlFromTinkerPath(ckptPath, 1.5),
      InvalidArgumentError,
      /ttlSeconds.*got 1\.5/,
    ],
    [
      "zero TTL",
      () => rest.setCheckpointTtlFromTinkerPath(ckptPath, 0),
      InvalidArgumentError,
      /ttlSeconds/,
    ],
    [
      "bad access scope",
      () => rest.getSession("s", { accessScope: "all" as "owned" }),
      InvalidArgumentError,
      /accessScope.*"owned", "accessible"/,
    ],
    [
      "bad day",
      () => rest.getAuditLog({ day: "2025-02-30" }),
      InvalidArgumentError,
      /day.*YYYY-MM-DD/,
    ],
    [
      "bad date",
      () => rest.getBillingUsage("2026-07-13", "2026-07-14T00:00:00Z"),
      InvalidArgumentError,
      /startingOn.*RFC 3339/,
    ],
    [
      "invalid Date",
      () => rest.getBillingUsage(new Date("x"), new Date()),
      InvalidArgumentError,
      /startingOn/,
    ],
    ["empty project", () => rest.assignSessionProject("s", " "), InvalidArgumentError, /projectId/],
    [
      "bad tinker path",
      () => rest.deleteCheckpointFromTinkerPath("tinker://r/weights/"),
      TinkerPathError,
      /name is empty/,
    ],
    [
      "path with ?",
      () => rest.getWeightsInfoByTinkerPath("tinker://r/weights/a?b"),
      TinkerPathError,
      /"\?"/,
    ],
    [
      "bad checkpoint id",
      () => rest.deleteCheckpoint("r", "weights/a/b"),
      InvalidArgumentError,
      /checkpointId/,
    ],
    [
      "bad checkpoint kind",
      () => rest.getCheckpointArchiveUrl("r", "foo/a"),
      InvalidArgumentError,
      /checkpointId/,
    ],
    [
      "bad timeoutMs",
      () => rest.getTrainingRun("r", { timeoutMs: -1 }),
      InvalidArgumentError,
      /timeoutMs/,
    ],
    [
      "non-external path for external URLs",
      () => rest.getExternalWeightsUrls(ckptPath),
      TinkerPathError,
      /external_weights/,
    ],
  ];
  for (const [name, call, ErrorClass, message] of table) {
    await t.step(name, () => {
      const error = caught(call);
      assert.ok(error instanceof ErrorClass, `${name}: ${error}`);
      assert.match((error as Error).message, message);
    });
  }
  assert.equal(env.fake.log.length, 0, "nothing was sent");
});

Deno.test("futures are real Promises carrying a plain-data description", async () => {
  await using env = await setup();
  const future = env.rest.getTrainingRun(run);
  assert.ok(future instanceof Promise);
  assert.ok(future instanceof Future);
  const op = (future as Future<unknown>).operation;
  assert.deepEqual(structuredClone(op), op);
  assert.equal(op.kind, "json");
  await future;
  await future;
  await future.then((r) => r.training_run_id);
  assert.equal(calls(env.fake).length, 1);
  const settled = future.result();
  assert.equal(settled.training_run_id, run);
  assert.equal(calls(env.fake).length, 1);
});

Deno.test("a future whose request runs asynchronously refuses to block", async () => {
  await using env = await setup();
  const future = env.rest.getTrainingRun(run);
  await Promise.resolve();
  const error = caught(() => future.result());
  assert.ok(error instanceof TinkerError);
  assert.match((error as Error).message, /already running asynchronously.*await it instead/);
  await future;
});

Deno.test("a custom fetch is used by await and refused by .result() at once", async () => {
  await using env = await setup();
  let seen = 0;
  const rest = new RestClient({
    baseUrl: env.fake.url,
    apiKey: env.fake.apiKey,
    fetch: (input, init) => {
      seen++;
      return fetch(input, init);
    },
  });
  const error = caught(() => rest.getTrainingRun(run).result());
  assert.ok(error instanceof TinkerError);
  assert.match((error as Error).message, /custom fetch.*await/);
  assert.equal((await rest.getTrainingRun(run)).training_run_id, run);
  assert.equal(seen, 2);
});

Deno.test("the logger sees one line per attempt and never the key", async () => {
  await using env = await setup({ jwtAuth: true });
  const lines: string[] = [];
  const rest = new RestClient({
    baseUrl: env.fake.url,
    apiKey: env.fake.apiKey,
    logger: (l) => lines.push(l),
  });
  await rest.getTrainingRun(run);
  assert.equal(lines.length, 3);
  assert.match(
    lines[2]!,
    new RegExp(`^GET ${env.fake.url}/api/v1/training_runs/.* -> 200 \\(\\d+ ms\\)$`),
  );
  assert.ok(lines.every((l) => !l.includes(env.fake.apiKey)));
});

Deno.test("ServiceClient.createRestClient() returns one client that works", async () => {
  await using env = await setup();
  const service = new ServiceClient({ baseUrl: env.fake.url, apiKey: env.fake.apiKey });
  const rest = service.createRestClient();
  assert.equal(rest, service.createRestClient());
  assert.equal((await rest.getSampler(FAKE_IDS.samplerId)).sampler_id, FAKE_IDS.samplerId);
});

Deno.test("the version constant matches deno.json", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("./deno.json", import.meta.url)));
  assert.equal(config.version, VERSION);
});

/** An unsigned JWT with `claims`, as the SDK's tests build them. */
function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) =>
    btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  return `${part({ alg: "none" })}.${part(claims)}.signature`;
}

Deno.test("copyWeights sends one bare-uuid idempotency key across retries and keeps the token secret", async () => {
  await using env = await setup();
  await env.fake.inject({ path: "/api/v1/copy_weights", status: 503 });
  const token = "weights-token-very-secret";
  const copy = await env.rest.copyWeights(ckptPath, {
    destinationProjectId: "proj-beta",
    ttlSeconds: 3600,
    weightsAccessToken: token,
  });
  assert.match(copy, /^tinker:\/\//);
  const sent = calls(env.fake);
  assert.equal(sent.length, 2);
  assert.equal(
    sent[0]!.body,
    JSON.stringify({
      destination_project_id: "proj-beta",
      source_path: ckptPath,
      ttl_seconds: 3600,
    }),
  );
  assert.match(sent[0]!.headers["x-idempotency-key"] ?? "", /^[0-9a-f-]{36}$/);
  assert.equal(sent[0]!.headers["x-idempotency-key"], sent[1]!.headers["x-idempotency-key"]);
  assert.equal(sent[0]!.headers["x-tinker-weights-access-token"], token);

  await env.fake.inject({
    path: "/api/v1/copy_weights",
    status: 400,
    body: { detail: `bad ${token}` },
  });
  const error = await rejection(
    env.rest.copyWeights(ckptPath, { destinationProjectId: "p", weightsAccessToken: token }),
  );
  assert.ok(error instanceof BadRequestError);
  assert.ok(!error.message.includes(token));
  assert.ok(!JSON.stringify(error.body).includes(token));
});

Deno.test("copyWeights needs a destination project from the options or TINKER_PROJECT_ID", async () => {
  await using env = await setup();
  const saved = Deno.env.get("TINKER_PROJECT_ID");
  try {
    Deno.env.delete("TINKER_PROJECT_ID");
    const error = caught(() => env.rest.copyWeights(ckptPath));
    assert.ok(error instanceof InvalidArgumentError);
    assert.match(error.message, /destinationProjectId: is required/);
    Deno.env.set("TINKER_PROJECT_ID", "proj-alpha");
    await env.rest.copyWeights(ckptPath);
    assert.equal(
      (calls(env.fake)[0]!.json as { destination_project_id: string }).destination_project_id,
      "proj-alpha",
    );
  } finally {
    if (saved === undefined) Deno.env.delete("TINKER_PROJECT_ID");
    else Deno.env.set("TINKER_PROJECT_ID", saved);
  }
});

Deno.test("searchSessions sends the SDK's defaults in its field order", async () => {
  await using env = await setup();
  const page = await env.rest.searchSessions({
    display_name: "nightly",
    owner: { type: "accessible" },
  });
  assert.ok(Array.isArray(page.sessions));
  assert.equal(
    calls(env.fake)[0]!.body,
    '{"user_metadata":{},"display_name":"nightly","owner":{"type":"accessible"},"limit":50}',
  );
  const all = await env.rest.searchSessions({ limit: 2 });
  assert.ok(all.sessions.length <= 2);
  assert.throws(() => env.rest.searchSessions({ limit: 201 }), InvalidArgumentError);
});

Deno.test("searchSessions refuses what the SDK's SessionSearchRequest refuses, before sending", async () => {
  await using env = await setup();
  const bad: [unknown, string][] = [
    [42, "Invalid request: must be a session search request (an object), got 42"],
    [{ sessionId: "s" }, 'did you mean "session_id"?'],
    [{ displayName: "nightly" }, 'did you mean "display_name"?'],
    [{ session_id: 7 }, "Invalid session_id: expected a string, got number"],
    [{ project_ids: "proj-alpha" }, 'Invalid project_ids: must be an array, got "proj-alpha"'],
    [{ project_ids: [""] }, "Invalid project_ids[0]"],
    [{ user_metadata: { team: 1 } }, "Invalid user_metadata.team: must be a string, got 1"],
    [{ display_name: "" }, "Invalid display_name"],
    [{ owner: "me" }, 'Invalid owner: must be one of { type: "own" }'],
    [{ owner: { type: "user" } }, "Invalid owner.owner_urns: must be an array, got undefined"],
    [{ owner: { type: "user", owner_urns: Array(11).fill("u") } }, "must hold 1 to 10 URNs"],
    [{ owner: { type: "own", owner_urns: ["u"] } }, '"owner_urns" is not a field of an owner'],
    [{ statuses: "active" }, 'Invalid statuses: must be an array, got "active"'],
    [{ statuses: [] }, "Invalid statuses: must not be empty"],
    [{ statuses: [{ type: "bogus" }] }, 'Invalid statuses[0]: must be one of { type: "active" }'],
    [{ statuses: [{ type: "active", reasons: ["success"] }] }, '"reasons" is not a field'],
    [{ statuses: [{ type: "client_finished", reasons: ["done"] }] }, 'got "done"'],
    [{ cursor: 12 }, "Invalid cursor: must be the next_cursor of a previous page"],
    [{ cursor: { last_created_at: "2026-07-13T00:00:00Z" } }, "Invalid cursor.last_session_id"],
    [{ limit: 0 }, "Invalid limit"],
  ];
  for (const [request, message] of bad) {
    const error = caught(() => env.rest.searchSessions(request as SessionSearchRequest));
    assert.ok(error instanceof InvalidArgumentError, `${JSON.stringify(request)}: ${error}`);
    assert.ok(error.message.includes(message), `${JSON.stringify(request)}: ${error.message}`);
  }
  assert.deepEqual(calls(env.fake), []);
  await env.rest.searchSessions({
    statuses: [{ type: "active" }, { type: "client_finished" }],
    owner: { type: "user", owner_urns: ["urn:tinker:user:alice"] },
    session_id: null as unknown as undefined, // The SDK's None: not sent.
  });
  assert.equal(
    calls(env.fake)[0]!.body,
    '{"user_metadata":{},"owner":{"type":"user","owner_urns":["urn:tinker:user:alice"]},"statuses":[{"type":"active"},{"type":"client_finished"}],"limit":50}',
  );
});

Deno.test("a call given the AbortController instead of its signal throws and sends nothing", async () => {
  await using env = await setup();
  const controller = new AbortController();
  const signal = controller as unknown as AbortSignal;
  for (
    const call of [
      () => env.rest.getTrainingRun(run, { signal }),
      () => env.rest.deleteCheckpoint(run, ckptId, { signal }),
      () => env.rest.listTrainingRuns({ signal }),
    ]
  ) {
    const error = caught(call);
    assert.ok(error instanceof InvalidArgumentError, String(error));
    assert.equal(
      error.message,
      "Invalid signal: must be an AbortSignal, got an AbortController: pass its .signal",
    );
  }
  const other = caught(() => env.rest.getTrainingRun(run, { signal: "stop" as never }));
  assert.equal((other as Error).message, 'Invalid signal: must be an AbortSignal, got "stop"');
  assert.deepEqual(env.fake.log, []);
});

Deno.test("AdminClient calls the same endpoints as RestClient", async () => {
  await using env = await setup();
  const { AdminClient } = await import("./mod.ts");
  using admin = new AdminClient({ baseUrl: env.fake.url, apiKey: env.fake.apiKey });
  const usage = await admin.getBillingUsage("2026-07-13T00:00:00Z", "2026-07-14T00:00:00Z");
  assert.ok(usage.data.length > 0);
  assert.ok(Array.isArray((await admin.getCurrentCheckpointStorageUsage()).data));
  assert.ok(Array.isArray((await admin.getAuditLog({ eventType: "projects" })).entries));
  assert.deepEqual(calls(env.fake).map((r) => r.path), [
    "/api/v1/billing/usage/events",
    "/api/v1/billing/usage/checkpoints/current",
    "/api/v1/audit",
  ]);
});

Deno.test("getServerCapabilities lists the models", async () => {
  await using env = await setup();
  const { supported_models } = await env.rest.getServerCapabilities();
  assert.ok(supported_models.some((m) => typeof m.model_name === "string"));
});

Deno.test("whoami() decodes a passport JWT used as the API key, with no request but the bootstrap", async () => {
  await using env = await setup();
  const key = jwt({
    sub: "tml:organization_user:abc",
    email: "",
    org_id: "org-9",
    iss: "passport-test",
    exp: Math.floor(Date.now() / 1000) + 3600,
  });
  // The fake accepts only JWTs it issued; stand in for a server that accepts this one.
  await env.fake.inject({ path: "/api/v1/client/config", status: 200, body: {}, times: 2 });
  const rest = new RestClient({ baseUrl: env.fake.url, apiKey: key });
  assert.deepEqual(await rest.whoami(), {
    user_urn: "tml:organization_user:abc",
    org_urn: "tml:organization:org-9",
    email: null,
  });
  assert.deepEqual(env.fake.log.map((r) => r.path), ["/api/v1/client/config"]);
  const other = new RestClient({
    baseUrl: env.fake.url,
    apiKey: jwt({ sub: "x", iss: "elsewhere" }),
  });
  assert.match((await rejection(other.whoami()) as Error).message, /needs JWT auth/);
});

Deno.test("an expired JWT given as the API key fails before any request", async () => {
  await using env = await setup();
  const rest = new RestClient({ baseUrl: env.fake.url, apiKey: jwt({ sub: "x", exp: 1000 }) });
  const error = await rejection(rest.getTrainingRun(run));
  assert.ok(error instanceof TinkerError);
  assert.match(error.message, /expired at 1970-01-01T00:16:40\.000Z/);
  assert.equal(env.fake.log.length, 0);
});

Deno.test("a server that requires command credentials is explained, not retried", async () => {
  await using env = await setup();
  await env.fake.inject({
    path: "/api/v1/client/config",
    status: 200,
    body: { pjwt_auth_enabled: true, credential_default_source: "credential_cmd" },
  });
  const error = await rejection(env.rest.getTrainingRun(run));
  assert.ok(error instanceof TinkerError);
  assert.match(error.message, /TINKER_CREDENTIAL_CMD/);
});

Deno.test("a plain http:// base URL to a non-loopback host warns once", async () => {
  const warnings: unknown[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.join(" "));
  try {
    const rest = new RestClient({
      baseUrl: "http://tinker.invalid",
      apiKey: "tml-x",
      maxRetries: 0,
      fetch: () => Promise.reject(new TypeError("offline")),
    });
    await rejection(rest.getTrainingRun(run));
    await rejection(rest.getTrainingRun(run));
  } finally {
    console.warn = original;
  }
  assert.equal(warnings.length, 1);
  assert.match(String(warnings[0]), /plain http:\/\/ to a non-loopback host/);
});

Deno.test({
  name: "the library's module graph imports nothing but its own files",
  ignore: Deno.permissions === undefined, // Deno only (not under the Bun runner)
}, async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("./mod.ts", import.meta.url).href],
    stdout: "piped",
  }).output();
  const graph = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    modules: { specifier: string }[];
  };
  const root = new URL("./", import.meta.url).href;
  // The package root and internal/, nothing else (no node:*, no testing/, no cli/).
  const foreign = graph.modules.map((m) => m.specifier).filter((s) =>
    !s.startsWith(root) || s.slice(root.length).replace(/^internal\//, "").includes("/")
  );
  assert.deepEqual(foreign, []);
  assert.ok(graph.modules.length >= 10);
});
