// Secrets: a distinctive API key (and the JWT it is exchanged for) never
// appears in an error (message, stack, cause chain, body, headers, toString,
// JSON, inspect), a log line, a snapshot, or anything the sync worker sends
// back; no credential and no custom header reaches an origin other than the
// base URL's, redirects included; a plain-http base URL to a remote host
// warns once.

import assert from "node:assert/strict";
import { ApiError, AuthenticationError, type ClientOptions, RestClient } from "../mod.ts";
import { FAKE_IDS, type FakeTinker, spawnFakeTinker, startFakeTinker } from "../testing/mod.ts";
import {
  apiCalls,
  errorText,
  FAST,
  outcome,
  respond,
  runCli,
  startRawServer,
} from "./_reliability.ts";

const KEY = "tml-canary-5ecr3t-7d1e9a0b4c2f8e6d1a3b";
const CF_ID = "cf-id-canary-0b1c2d";
const CF_SECRET = "cf-secret-canary-9f8e7d";
const RUN = FAKE_IDS.run;
const CKPT_PATH = FAKE_IDS.checkpointPath;
const CKPT_URL = `/api/v1/training_runs/${RUN}/checkpoints/${
  CKPT_PATH.split("/").slice(-2).join("/")
}`;

/** A fake with the canary key (JWT exchange on) and a client that logs every line. */
async function canary(options: { jwtAuth?: boolean; client?: ClientOptions } = {}) {
  const fake = await startFakeTinker({ apiKey: KEY, jwtAuth: options.jwtAuth ?? true });
  const lines: string[] = [];
  const rest = new RestClient({
    baseUrl: fake.url,
    apiKey: KEY,
    ...FAST,
    maxRetries: 1,
    logger: (line) => lines.push(line),
    defaultHeaders: { "CF-Access-Client-Id": CF_ID, "CF-Access-Client-Secret": CF_SECRET },
    ...options.client,
  });
  // The first call does the bootstrap; the JWT is what the fake saw next.
  await rest.getTrainingRun(RUN);
  const jwt = fake.log.at(-1)!.headers["x-api-key"]!;
  if (options.jwtAuth ?? true) assert.ok(jwt.startsWith("eyJ"), "the fake issued a JWT");
  return {
    fake,
    rest,
    lines,
    jwt,
    [Symbol.asyncDispose]: async () => {
      rest.close();
      await fake.close();
    },
  };
}

function assertClean(text: string, secrets: string[], where: string) {
  for (const secret of secrets) {
    assert.ok(!text.includes(secret), `${where} contains a secret (${secret.slice(0, 12)}…)`);
  }
}

Deno.test("errors never carry the key or the JWT, whatever the server echoes", async (t) => {
  await using env = await canary();
  const { fake, rest, jwt } = env;
  const echo = `key=${KEY} jwt=${jwt} Bearer ${jwt}`;
  const secrets = [KEY, jwt];

  const cases: { name: string; fault?: () => Promise<void>; call: () => Promise<unknown> }[] = [
    {
      name: "a 400 whose JSON detail echoes both",
      fault: () =>
        fake.inject({ path: `/api/v1/training_runs/${RUN}`, status: 400, body: { detail: echo } }),
      call: () => rest.getTrainingRun(RUN),
    },
    {
      name: "a 500 whose text body echoes both (retried, then thrown)",
      fault: () =>
        fake.inject({ path: `/api/v1/training_runs/${RUN}`, status: 500, body: echo, times: 9 }),
      call: () => rest.getTrainingRun(RUN),
    },
    {
      name: "a 401 on a delete whose FastAPI list detail echoes both",
      fault: () =>
        fake.inject({
          path: CKPT_URL,
          status: 422,
          body: { detail: [{ loc: ["header", "x-api-key"], msg: echo, input: jwt }] },
        }),
      call: () => rest.deleteCheckpointFromTinkerPath(CKPT_PATH),
    },
    {
      name: "a 200 that is not JSON and echoes both",
      fault: () =>
        fake.inject({ path: `/api/v1/training_runs/${RUN}`, status: 200, body: `<html>${echo}` }),
      call: () => rest.getTrainingRun(RUN),
    },
    {
      name: "a 200 whose field of the wrong type holds the JWT",
      fault: () =>
        fake.inject({
          path: `/api/v1/training_runs/${RUN}`,
          status: 200,
          body: {
            training_run_id: RUN,
            base_model: jwt,
            model_owner: KEY,
            is_lora: true,
            lora_rank: jwt,
            last_request_time: "2026-08-01T00:00:00Z",
          },
        }),
      call: () => rest.getTrainingRun(RUN),
    },
    {
      name: "a 200 whose wrong field holds the API key",
      fault: () =>
        fake.inject({
          path: "/api/v1/checkpoints",
          status: 200,
          body: { checkpoints: KEY, cursor: null },
        }),
      call: () => rest.listUserCheckpoints(),
    },
    {
      name: "an archive that stays 'not ready' with an echoing body",
      fault: () =>
        fake.inject({
          path: `${CKPT_URL}/archive`,
          status: 503,
          body: { detail: echo },
          times: 20,
        }),
      call: () => rest.getCheckpointArchiveUrlFromTinkerPath(CKPT_PATH),
    },
    {
      name: "an archive 302 without Location with an echoing body",
      fault: () =>
        fake.inject({ path: `${CKPT_URL}/archive`, status: 302, body: { detail: echo } }),
      call: () => rest.getCheckpointArchiveUrlFromTinkerPath(CKPT_PATH),
    },
    {
      name: "a trace export that fails with an echoing reason",
      fault: () =>
        fake.inject({
          path: `/api/v1/sessions/${FAKE_IDS.sessionId}/trace_export`,
          status: 200,
          body: { status: "failed", url: null, error: echo },
        }),
      call: () => rest.exportSessionTrace(FAKE_IDS.sessionId),
    },
    {
      name: "a response header that echoes the JWT",
      fault: () =>
        fake.inject({
          path: `/api/v1/training_runs/${RUN}`,
          status: 403,
          headers: { "x-echo": jwt, "www-authenticate": `Bearer token="${jwt}"` },
        }),
      call: () => rest.getTrainingRun(RUN),
    },
    {
      name: "a connection reset",
      fault: () => fake.inject({ path: CKPT_URL, drop: "before-headers" }),
      call: () => rest.deleteCheckpointFromTinkerPath(CKPT_PATH),
    },
    {
      name: "a timeout",
      fault: () => fake.inject({ path: CKPT_URL, delayMs: 2_000 }),
      call: () => rest.deleteCheckpointFromTinkerPath(CKPT_PATH, { timeoutMs: 50 }),
    },
  ];
  for (const c of cases) {
    await t.step(`${c.name}: the error is clean`, async () => {
      await fake.reset();
      await c.fault?.();
      const result = await outcome(c.call);
      assert.ok(!result.ok, "the call failed");
      assert.ok(result.error instanceof Error);
      assertClean(errorText(result.error), secrets, "the error");
    });
  }
  await t.step("no log line carries either", () => {
    assert.ok(env.lines.length > cases.length);
    assertClean(env.lines.join("\n"), secrets, "the log");
  });
});

Deno.test("errors and log lines of .result() calls are clean", async () => {
  // .result() blocks this thread, so the fake runs in another process.
  await using fake = await spawnFakeTinker({ apiKey: KEY, jwtAuth: true });
  const lines: string[] = [];
  const rest = new RestClient({
    baseUrl: fake.url,
    apiKey: KEY,
    ...FAST,
    maxRetries: 0,
    logger: (line) => lines.push(line),
  });
  rest.getTrainingRun(RUN).result(20_000);
  const jwt = (await fake.requests()).at(-1)!.headers["x-api-key"]!;
  assert.ok(jwt.startsWith("eyJ"));
  await fake.inject({
    path: `/api/v1/training_runs/${RUN}`,
    status: 400,
    headers: { "x-echo": jwt },
    body: { detail: `key=${KEY} jwt=${jwt}` },
  });
  let error: unknown;
  try {
    rest.getTrainingRun(RUN).result(20_000);
  } catch (e) {
    error = e;
  }
  rest.close();
  assert.ok(error instanceof ApiError, String(error));
  assert.equal(error.status, 400);
  assert.match(error.message, /key=\[redacted\] jwt=\[redacted\]/);
  assertClean(errorText(error), [KEY, jwt], ".result()'s error");
  assert.ok(lines.length >= 2);
  assertClean(lines.join("\n"), [KEY, jwt], ".result()'s log lines");
});

Deno.test("no snapshot file in the repository contains an API key", async () => {
  const root = new URL("../", import.meta.url);
  const files: string[] = [];
  const walk = async (dir: URL, depth: number) => {
    if (depth > 6) return;
    for await (const entry of Deno.readDir(dir)) {
      if ([".git", ".venv", "node_modules", "coverage"].includes(entry.name)) continue;
      const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
      if (entry.isDirectory) await walk(url, depth + 1);
      else if (entry.name.endsWith(".snap") && dir.pathname.endsWith("/__snapshots__/")) {
        files.push(url.pathname);
      }
    }
  };
  await walk(root, 0);
  const defaultKey = "tml-fake-key-0123456789abcdef";
  for (const file of files) {
    const text = await Deno.readTextFile(file);
    assertClean(text, [KEY, defaultKey], file);
    assert.doesNotMatch(
      text,
      /x-api-key["']?\s*[:=]\s*["']?(tml-|eyJ)/i,
      `${file} shows a key header`,
    );
    assert.doesNotMatch(text, /eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]{10,}/, `${file} holds a JWT`);
  }
});

// ---- no credential crosses an origin -------------------------------------------------

/** A raw server (IPv4 and IPv6) that records what it received and answers an empty audit log. */
function landing() {
  return startRawServer(
    (_req, socket) =>
      respond(socket, 200, { "content-type": "application/json" }, '{"entries":[]}'),
    "::",
  );
}

function assertNoCredentials(headers: Record<string, string>, where: string) {
  for (
    const name of ["x-api-key", "cf-access-client-id", "cf-access-client-secret", "authorization"]
  ) {
    assert.equal(headers[name], undefined, `${where} received ${name}`);
  }
  assertClean(JSON.stringify(headers), [KEY, CF_ID, CF_SECRET], where);
}

Deno.test("the audit log's redirect to storage carries no key and no custom header", async () => {
  await using env = await canary({ jwtAuth: false });
  await env.fake.setOptions({ auditRedirect: true });
  const log = await env.rest.getAuditLog({ day: "2026-08-02" });
  assert.ok(Array.isArray(log.entries));
  const [audit] = apiCalls(env.fake).filter((r) => r.path === "/api/v1/audit");
  assert.equal(audit!.headers["x-api-key"], KEY, "the API origin gets the key");
  assert.equal(audit!.headers["cf-access-client-secret"], CF_SECRET);
  assert.equal(env.fake.storageLog.length, 1);
  assertNoCredentials(env.fake.storageLog[0]!.headers, "the storage origin");
});

Deno.test("a redirect to another origin gets no credentials", async (t) => {
  await using env = await canary();
  await using land = await landing();
  const redirectTo = async (location: string) => {
    await env.fake.reset();
    land.requests.length = 0;
    await env.fake.inject({ path: "/api/v1/audit", status: 302, headers: { location }, body: "" });
    return await outcome(() => env.rest.getAuditLog());
  };
  await t.step("the same host on another port", async () => {
    const result = await redirectTo(`http://127.0.0.1:${land.port}/audit.json`);
    assert.ok(result.ok);
    assert.equal(land.requests.length, 1);
    assertNoCredentials(land.requests[0]!.headers, "127.0.0.1 on another port");
  });
  await t.step("localhost instead of 127.0.0.1, on another port", async () => {
    const result = await redirectTo(`http://localhost:${land.port}/audit.json`);
    assert.ok(result.ok, String(!result.ok && result.error));
    assert.equal(land.requests.length, 1);
    assertNoCredentials(land.requests[0]!.headers, "localhost");
  });
  await t.step("localhost on the API's own port (another origin, same server)", async () => {
    const port = new URL(env.fake.url).port;
    const result = await redirectTo(`http://localhost:${port}/api/v1/audit?event_type=all`);
    // The API itself answers the key-less hop with 401.
    assert.ok(!result.ok && result.error instanceof AuthenticationError, String(result));
    const [first, second] = env.fake.log.filter((r) => r.path === "/api/v1/audit");
    assert.ok(first!.headers["x-api-key"]!.startsWith("eyJ"));
    assertNoCredentials(second!.headers, "localhost on the API's port");
  });
  await t.step("back to the API after a hop elsewhere", async () => {
    await env.fake.reset();
    land.requests.length = 0;
    await using bounce = await startRawServer((_req, socket) =>
      respond(socket, 302, { location: `${env.fake.url}/api/v1/audit?event_type=all` })
    );
    await env.fake.inject({
      path: "/api/v1/audit",
      status: 302,
      headers: { location: `${bounce.url}/x` },
      body: "",
    });
    const result = await outcome(() => env.rest.getAuditLog());
    assert.ok(!result.ok && result.error instanceof AuthenticationError);
    assertNoCredentials(bounce.requests[0]!.headers, "the bounce host");
    const audits = env.fake.log.filter((r) => r.path === "/api/v1/audit");
    assert.equal(audits.length, 2);
    assertNoCredentials(audits[1]!.headers, "the API, reached again through a foreign hop");
  });
  await t.step("a redirect on a call that does not follow redirects is not followed", async () => {
    await env.fake.reset();
    land.requests.length = 0;
    await env.fake.inject({
      path: `/api/v1/training_runs/${RUN}`,
      status: 307,
      headers: { location: `http://127.0.0.1:${land.port}/steal` },
      body: "",
    });
    const result = await outcome(() => env.rest.getTrainingRun(RUN));
    assert.ok(!result.ok && result.error instanceof ApiError);
    assert.equal((result.error as ApiError).status, 307);
    assert.equal(land.requests.length, 0);
  });
});

Deno.test("with a localhost base URL, a redirect to 127.0.0.1 gets no credentials", async () => {
  await using fake = await startFakeTinker({ apiKey: KEY });
  const port = new URL(fake.url).port;
  const rest = new RestClient({
    baseUrl: `http://localhost:${port}`,
    apiKey: KEY,
    ...FAST,
    defaultHeaders: { "CF-Access-Client-Secret": CF_SECRET },
  });
  await fake.inject({
    path: "/api/v1/audit",
    status: 302,
    headers: { location: `http://127.0.0.1:${port}/api/v1/audit?event_type=all` },
    body: "",
  });
  const result = await outcome(() => rest.getAuditLog());
  assert.ok(!result.ok && result.error instanceof AuthenticationError, String(result));
  const [first, second] = fake.log.filter((r) => r.path === "/api/v1/audit");
  assert.equal(first!.headers["x-api-key"], KEY);
  assertNoCredentials(second!.headers, "127.0.0.1 (the base URL said localhost)");
  rest.close();
});

Deno.test("the signed archive URL is downloaded without credentials", async () => {
  await using env = await canary();
  const { url } = await env.rest.getCheckpointArchiveUrlFromTinkerPath(CKPT_PATH);
  assert.ok(url.startsWith(env.fake.storageUrl));
  assertClean(url, [KEY, env.jwt, CF_SECRET], "the signed URL");
  const res = await fetch(url);
  assert.equal(res.status, 200);
  await res.body?.cancel();
  assertNoCredentials(env.fake.storageLog[0]!.headers, "the storage origin");
});

// ---- plain http ----------------------------------------------------------------------

Deno.test("a plain-http base URL to a non-loopback host warns once per client, never with the key", async (t) => {
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(" "));
  const offline: typeof fetch = () => Promise.reject(new TypeError("offline"));
  const client = (baseUrl: string) =>
    new RestClient({ baseUrl, apiKey: KEY, maxRetries: 0, fetch: offline });
  try {
    await t.step("http://tinker.example.com warns once over two calls", async () => {
      const rest = client("http://tinker.example.com");
      await outcome(() => rest.getTrainingRun(RUN));
      await outcome(() => rest.getTrainingRun(RUN));
      assert.equal(warnings.length, 1);
      assert.match(warnings[0]!, /http:\/\/tinker\.example\.com.*plain http/);
      assertClean(warnings[0]!, [KEY], "the warning");
    });
    for (
      const base of ["http://10.0.0.7:8000", "http://localhost.evil.example", "http://0.0.0.0:80"]
    ) {
      await t.step(`${base} warns`, async () => {
        warnings.length = 0;
        await outcome(() => client(base).getTrainingRun(RUN));
        assert.equal(warnings.length, 1);
      });
    }
    for (
      const base of [
        "https://tinker.example.com",
        "http://127.0.0.1:8000",
        "http://127.9.9.9",
        "http://localhost:8000",
        "http://[::1]:8000",
      ]
    ) {
      await t.step(`${base} does not warn`, async () => {
        warnings.length = 0;
        await outcome(() => client(base).getTrainingRun(RUN));
        assert.equal(warnings.length, 0);
      });
    }
  } finally {
    console.warn = original;
  }
});

// ---- the CLI -------------------------------------------------------------------------

Deno.test("the CLI's output, --verbose included, never shows the key or the JWT", async (t) => {
  await using fake = await startFakeTinker({ apiKey: KEY, jwtAuth: true });
  const runs = `/api/v1/training_runs/${RUN}`;
  type Inject = Parameters<FakeTinker["inject"]>[0];
  const cases: { args: string[]; fault?: (echo: string, jwt: string) => Inject }[] = [
    { args: ["run", "info", RUN] },
    { args: ["auth", "status"] },
    { args: ["whoami"] },
    { args: ["-f", "json", "whoami"] },
    {
      args: ["run", "info", RUN],
      fault: (echo) => ({ path: runs, status: 400, body: { detail: echo } }),
    },
    {
      args: ["run", "info", RUN],
      fault: (echo) => ({ path: runs, status: 500, body: echo, times: 9 }),
    },
    {
      args: ["-f", "json", "run", "info", RUN],
      fault: (echo) => ({ path: runs, status: 401, body: echo }),
    },
    { args: ["run", "info", RUN], fault: () => ({ path: runs, drop: "before-headers", times: 9 }) },
    {
      args: ["checkpoint", "delete", CKPT_PATH, "--yes"],
      fault: (echo, jwt) => ({
        path: CKPT_URL,
        status: 403,
        headers: { "x-echo": jwt },
        body: { detail: echo },
      }),
    },
  ];
  for (const c of cases) {
    const args = ["--verbose", "--max-retries", "1", ...c.args];
    const label = `tinker ${args.join(" ")}${c.fault ? " (the server echoes secrets)" : ""}`;
    await t.step(`${label} prints neither`, async () => {
      // The fake's JWTs carry a timestamp in seconds: the echo must be the JWT
      // of the run under test, so try again if a second boundary fell between.
      for (let attempt = 0; attempt < 5; attempt++) {
        await fake.reset();
        await runCli(["run", "info", RUN], fake.url, KEY);
        const jwt = fake.log.at(-1)!.headers["x-api-key"]!;
        await fake.clearLog();
        if (c.fault) await fake.inject(c.fault(`key=${KEY} jwt=${jwt}`, jwt));
        const got = await runCli(args, fake.url, KEY);
        const used = fake.log.filter((r) =>
          !r.path.includes("/client/") && !r.path.endsWith("/token")
        );
        if (used.some((r) => r.headers["x-api-key"] !== jwt)) continue;
        assertClean(got.out + got.err, [KEY, jwt], label);
        return;
      }
      assert.fail("the JWT changed on every attempt");
    });
  }
});
