// `.result()` end to end: a real worker, real HTTP, and the fake Tinker
// server in a child process (an in-process server could not answer while the
// test's thread is blocked).

import assert from "node:assert/strict";
import { caught } from "../tests/_assert.ts";
import {
  ApiError,
  ApiTimeoutError,
  ApiUserAbortError,
  type ClientOptions,
  NotFoundError,
  RestClient,
  TinkerError,
  type TrainingRun,
} from "../mod.ts";
import { Engine, type EngineConfig } from "./_engine.ts";
import { SyncUnavailableError } from "./_future.ts";
import { SyncExecutor } from "./_sync.ts";
import { FAKE_IDS, type FakeTinker, spawnFakeTinker } from "../testing/mod.ts";

const RUN_PATH = `/api/v1/training_runs/${FAKE_IDS.run}`;

function client(fake: FakeTinker, options: ClientOptions = {}): RestClient {
  return new RestClient({
    baseUrl: fake.url,
    apiKey: fake.apiKey,
    initialRetryDelayMs: 1,
    maxRetryDelayMs: 5,
    ...options,
  });
}

/** Requests the fake received, optionally only those to `path`. */
async function count(fake: FakeTinker, path?: string | RegExp): Promise<number> {
  const log = await fake.requests();
  return log.filter((r) =>
    path === undefined || (typeof path === "string" ? r.path === path : path.test(r.path))
  ).length;
}

/** Runs `fn` and returns how long it took, in ms. */
function timed(fn: () => void): number {
  const started = performance.now();
  fn();
  return performance.now() - started;
}

Deno.test("sync: .result() on every kind of operation", async (t) => {
  await using fake = await spawnFakeTinker({ tracePendingCount: 2 });

  await t.step("json: same value as await, bootstrap once per client", async () => {
    using rest = client(fake);
    const sync = rest.getTrainingRun(FAKE_IDS.run).result();
    const viaAwait = await rest.getTrainingRun(FAKE_IDS.run);
    assert.deepEqual(sync, viaAwait);
    assert.equal(sync.training_run_id, FAKE_IDS.run);
    // The main thread adopted the worker's bootstrap: one config call in all.
    assert.equal(await count(fake, "/api/v1/client/config"), 1);
    assert.equal(await count(fake, RUN_PATH), 2);
  });

  await t.step("void: publish resolves to undefined", async () => {
    await fake.reset();
    using rest = client(fake);
    const value = rest.publishCheckpointFromTinkerPath(FAKE_IDS.checkpointPath).result();
    assert.equal(value, undefined);
    const log = await fake.requests();
    assert.equal(log.filter((r) => r.method === "POST" && r.path.endsWith("/publish")).length, 1);
    const ckpts = await rest.listCheckpoints(FAKE_IDS.run);
    const ckpt = ckpts.checkpoints.find((c) => c.tinker_path === FAKE_IDS.checkpointPath);
    assert.equal(ckpt?.public, true);
  });

  await t.step("archive: polls through 503s, blocking", async () => {
    await fake.reset();
    await fake.setOptions({ archiveMode: "not-ready", archiveNotReadyCount: 2 });
    using rest = client(fake, { archivePollIntervalMs: 5 });
    const archive = rest.getCheckpointArchiveUrlFromTinkerPath(FAKE_IDS.checkpointPath).result();
    assert.match(archive.url, /^http:\/\/127\.0\.0\.1:\d+\//);
    assert.ok(!Number.isNaN(Date.parse(archive.expires)));
    assert.equal(await count(fake, /\/archive$/), 3);
    await fake.setOptions({ archiveMode: "redirect" });
  });

  await t.step("trace: polls pending until ready", async () => {
    await fake.reset();
    using rest = client(fake, { tracePollIntervalMs: 5 });
    const url = rest.exportSessionTrace(FAKE_IDS.sessionId).result();
    assert.equal(typeof url, "string");
    assert.match(url, /^http/);
    const polls = (await fake.requests()).filter((r) => r.path.includes("trace")).length;
    assert.ok(polls >= 3, `expected pending polls, got ${polls} requests`);
  });

  await t.step("trace: a failed export is the same TinkerError as with await", async () => {
    using rest = client(fake, { tracePollIntervalMs: 5 });
    const sync = caught(() => rest.exportSessionTrace(FAKE_IDS.failingTraceSessionId).result());
    const viaAwait = await rest.exportSessionTrace(FAKE_IDS.failingTraceSessionId).then(
      () => assert.fail("expected an error"),
      (e: unknown) => e,
    );
    assert.ok(sync instanceof TinkerError && viaAwait instanceof TinkerError);
    assert.equal(sync.constructor, viaAwait.constructor);
    assert.equal(sync.message, viaAwait.message);
  });

  await t.step("whoami with JWT auth: one bootstrap and one exchange per client", async () => {
    await fake.reset();
    await fake.setOptions({ jwtAuth: true });
    try {
      using rest = client(fake);
      const me = rest.whoami().result();
      assert.equal(me.user_urn, FAKE_IDS.user);
      assert.deepEqual(await rest.whoami(), me);
      // The worker's JWT is reused by both threads.
      rest.getTrainingRun(FAKE_IDS.run).result();
      await rest.getTrainingRun(FAKE_IDS.run);
      assert.equal(await count(fake, "/api/v1/client/config"), 1);
      assert.equal(await count(fake, "/api/v1/auth/token"), 1);
      const runs = (await fake.requests()).filter((r) => r.path === RUN_PATH);
      assert.equal(runs.length, 2);
      for (const r of runs) assert.match(r.headers["x-api-key"] ?? "", /^eyJ/);
    } finally {
      await fake.setOptions({ jwtAuth: false });
    }
  });

  await t.step("whoami without JWT: the same TinkerError as with await", async () => {
    using rest = client(fake);
    const sync = caught(() => rest.whoami().result());
    const viaAwait = await rest.whoami().then(() => assert.fail(), (e: unknown) => e);
    assert.ok(sync instanceof TinkerError && !(sync instanceof ApiError));
    assert.equal((sync as Error).message, (viaAwait as Error).message);
  });

  await t.step("log lines of a blocking call reach the client's logger", async () => {
    await fake.clearLog();
    const lines: string[] = [];
    using rest = client(fake, { logger: (line) => lines.push(line) });
    rest.getTrainingRun(FAKE_IDS.run).result();
    assert.ok(lines.some((l) => l.includes(RUN_PATH) && l.includes("200")), lines.join("\n"));
    assert.ok(lines.every((l) => !l.includes(fake.apiKey)));
  });
});

Deno.test("sync: one request per future, whatever the mix of .result() and await", async (t) => {
  await using fake = await spawnFakeTinker();
  using rest = client(fake);
  rest.getTrainingRun(FAKE_IDS.run).result(); // bootstrap + warm worker

  await t.step(".result() then await", async () => {
    await fake.clearLog();
    const future = rest.getTrainingRun(FAKE_IDS.run);
    const a = future.result();
    const b = await future;
    assert.equal(a, b);
    assert.equal(await count(fake), 1);
  });

  await t.step("await then .result() answers at once", async () => {
    await fake.clearLog();
    const future = rest.getTrainingRun(FAKE_IDS.run);
    const a = await future;
    let b: TrainingRun | undefined;
    assert.ok(timed(() => (b = future.result())) < 5);
    assert.equal(a, b);
    assert.equal(await count(fake), 1);
  });

  await t.step(".result() twice", async () => {
    await fake.clearLog();
    const future = rest.getTrainingRun(FAKE_IDS.run);
    assert.equal(future.result(), future.result());
    assert.equal(await count(fake), 1);
  });

  await t.step("a settled error answers again at once, without a request", async () => {
    await fake.clearLog();
    const future = rest.getTrainingRun("no-such-run");
    const first = caught(() => future.result());
    assert.ok(first instanceof NotFoundError);
    assert.equal(caught(() => future.result()), first);
    await assert.rejects(future, (e) => e === first);
    assert.equal(await count(fake), 1);
  });

  await t.step(".result() on a future already awaited elsewhere throws at once", async () => {
    await fake.clearLog();
    const future = rest.getTrainingRun(FAKE_IDS.run);
    const pending = future.then((run) => run.training_run_id);
    let error: unknown;
    assert.ok(timed(() => (error = caught(() => future.result()))) < 50);
    assert.ok(error instanceof TinkerError);
    assert.match((error as Error).message, /already running asynchronously.*await/);
    assert.equal(await pending, FAKE_IDS.run);
    assert.equal(await count(fake), 1);
  });

  await t.step("a future that starts by itself (a microtask later) is not run twice", async () => {
    await fake.clearLog();
    const future = rest.getTrainingRun(FAKE_IDS.run);
    await Promise.resolve();
    await Promise.resolve();
    // The request now runs on this thread: blocking would deadlock.
    assert.throws(() => future.result(), TinkerError);
    await future;
    assert.equal(await count(fake), 1);
  });
});

Deno.test("sync: timeouts", async (t) => {
  await using fake = await spawnFakeTinker();
  using rest = client(fake);
  rest.getTrainingRun(FAKE_IDS.run).result();

  await t.step(
    ".result(ms) throws ApiTimeoutError in time; the next call gets its own answer",
    async () => {
      await fake.clearLog();
      await fake.inject({ path: RUN_PATH, delayMs: 800 });
      const future = rest.getTrainingRun(FAKE_IDS.run);
      let error: unknown;
      const took = timed(() => (error = caught(() => future.result(150))));
      assert.ok(error instanceof ApiTimeoutError, String(error));
      assert.match((error as Error).message, /timed out after 150 ms/);
      assert.ok(took >= 140 && took < 600, `took ${took} ms`);
      await assert.rejects(future, (e) => e === error);

      // Other calls on the same client get their own replies, before and after
      // the delayed one would have answered.
      const session = rest.getSession(FAKE_IDS.sessionId).result();
      assert.ok(!("training_run_id" in session), "a stale training run reply came back");
      await new Promise((r) => setTimeout(r, 900));
      const ckpts = rest.listCheckpoints(FAKE_IDS.run).result();
      assert.ok(Array.isArray(ckpts.checkpoints));
      const run = rest.getTrainingRun(FAKE_IDS.bigRun).result();
      assert.equal(run.training_run_id, FAKE_IDS.bigRun);
      // The abandoned request was cancelled, not retried.
      assert.equal(await count(fake, RUN_PATH), 1);
    },
  );

  await t.step("the per-attempt timeoutMs works while blocking (same error as await)", async () => {
    await fake.inject({ path: RUN_PATH, delayMs: 600, times: 2 });
    using once = client(fake, { maxRetries: 0 });
    const sync = caught(() => once.getTrainingRun(FAKE_IDS.run, { timeoutMs: 100 }).result());
    const viaAwait = await once.getTrainingRun(FAKE_IDS.run, { timeoutMs: 100 }).then(
      () => assert.fail(),
      (e: unknown) => e,
    );
    assert.ok(sync instanceof ApiTimeoutError);
    assert.equal((sync as Error).message, (viaAwait as Error).message);
  });

  await t.step(".result(ms) ends a retry's pause in time, and the retry is not sent", async () => {
    // A live worker (Deno stops an idle one after 0.5 s), so that the time
    // goes to the pause, not to starting a worker on a loaded machine.
    rest.getTrainingRun(FAKE_IDS.run).result();
    await fake.clearLog();
    await fake.inject({ path: RUN_PATH, status: 503, headers: { "retry-after-ms": "3000" } });
    let error: unknown;
    const took = timed(() => (error = caught(() =>
      rest.getTrainingRun(FAKE_IDS.run).result(1000)
    )));
    assert.ok(error instanceof ApiTimeoutError, String(error));
    assert.match((error as Error).message, /\.result\(\) timed out after 1000 ms/);
    // Well before the 3 s pause would have ended.
    assert.ok(took >= 990 && took < 2500, `took ${took} ms`);
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(await count(fake, RUN_PATH), 1, "the first attempt only");
  });

  await t.step(".result(0) on an unsettled future times out at once", () => {
    const error = caught(() => rest.getTrainingRun(FAKE_IDS.run).result(0));
    assert.ok(error instanceof ApiTimeoutError);
  });

  await t.step("a pre-aborted signal: the same ApiUserAbortError as await", async () => {
    const signal = AbortSignal.abort();
    const sync = caught(() => rest.getTrainingRun(FAKE_IDS.run, { signal }).result());
    const viaAwait = await rest.getTrainingRun(FAKE_IDS.run, { signal }).then(
      () => assert.fail(),
      (e: unknown) => e,
    );
    assert.ok(sync instanceof ApiUserAbortError);
    assert.equal((sync as Error).message, (viaAwait as Error).message);
  });
});

Deno.test("sync: errors and retries", async (t) => {
  await using fake = await spawnFakeTinker();
  using rest = client(fake);

  await t.step("404 is a NotFoundError with the async path's fields", async () => {
    const sync = caught(() => rest.getTrainingRun("no-such-run").result());
    const viaAwait = await rest.getTrainingRun("no-such-run").then(
      () => assert.fail(),
      (e: unknown) => e,
    );
    assert.ok(sync instanceof NotFoundError && viaAwait instanceof NotFoundError);
    assert.ok(sync instanceof ApiError && sync instanceof TinkerError && sync instanceof Error);
    assert.equal(sync.name, "NotFoundError");
    assert.equal(sync.message, viaAwait.message);
    assert.equal(sync.status, 404);
    assert.equal(sync.detail, viaAwait.detail);
    assert.deepEqual(sync.body, viaAwait.body);
    assert.ok(sync.headers instanceof Headers);
    const strip = (h: Headers) => [...h].filter(([k]) => k !== "date");
    assert.deepEqual(strip(sync.headers), strip(viaAwait.headers!));
    assert.ok(sync.stack?.includes("sync_test.ts"), "the stack shows the caller");
  });

  await t.step("retries while blocking: 2 × 503 then success", async () => {
    await fake.clearLog();
    await fake.inject({ path: RUN_PATH, status: 503, times: 2 });
    const run = rest.getTrainingRun(FAKE_IDS.run).result();
    assert.equal(run.training_run_id, FAKE_IDS.run);
    const tries = (await fake.requests()).filter((r) => r.path === RUN_PATH);
    assert.deepEqual(tries.map((r) => r.status), [503, 503, 200]);
    assert.deepEqual(tries.map((r) => r.headers["x-stainless-retry-count"]), ["0", "1", "2"]);
  });

  await t.step("exhausted retries: InternalServerError with the async path's message", async () => {
    await fake.inject({ path: RUN_PATH, status: 500, times: 4 });
    using few = client(fake, { maxRetries: 1 });
    const sync = caught(() => few.getTrainingRun(FAKE_IDS.run).result());
    const viaAwait = await few.getTrainingRun(FAKE_IDS.run).then(() => assert.fail(), (e) => e);
    assert.equal(sync?.constructor, viaAwait?.constructor);
    assert.equal((sync as ApiError).status, 500);
    assert.equal((sync as Error).message, (viaAwait as Error).message);
  });

  await t.step("a connection failure is the same ApiConnectionError as with await", async () => {
    using dead = new RestClient({
      baseUrl: "http://127.0.0.1:9",
      apiKey: fake.apiKey,
      maxRetries: 0,
    });
    const sync = caught(() => dead.getTrainingRun(FAKE_IDS.run).result());
    const viaAwait = await dead.getTrainingRun(FAKE_IDS.run).then(() => assert.fail(), (e) => e);
    assert.equal(sync?.constructor, viaAwait?.constructor);
    assert.equal((sync as Error).message, (viaAwait as Error).message);
    assert.ok((sync as Error).cause instanceof Error);
  });

  await t.step("a bad API key: the same TinkerError as with await", async () => {
    using bad = new RestClient({ baseUrl: fake.url, apiKey: "nope" });
    const sync = caught(() => bad.getTrainingRun(FAKE_IDS.run).result());
    const viaAwait = await bad.getTrainingRun(FAKE_IDS.run).then(() => assert.fail(), (e) => e);
    assert.ok(sync instanceof TinkerError);
    assert.equal((sync as Error).message, (viaAwait as Error).message);
  });

  await t.step("a response that fails validation: ApiResponseValidationError", async () => {
    await fake.inject({ path: RUN_PATH, status: 200, body: { training_run_id: 5 } });
    await fake.inject({ path: RUN_PATH, status: 200, body: { training_run_id: 5 } });
    const sync = caught(() => rest.getTrainingRun(FAKE_IDS.run).result());
    const viaAwait = await rest.getTrainingRun(FAKE_IDS.run).then(() => assert.fail(), (e) => e);
    assert.equal(sync?.constructor, viaAwait?.constructor);
    assert.equal((sync as Error).name, "ApiResponseValidationError");
    assert.equal((sync as Error).message, (viaAwait as Error).message);
  });
});

Deno.test("sync: where blocking is impossible, .result() refuses at once", async (t) => {
  await using fake = await spawnFakeTinker();

  await t.step("custom fetch: SyncUnavailableError, and await still works", async () => {
    using rest = client(fake, { fetch: (input, init) => fetch(input, init) });
    const future = rest.getTrainingRun(FAKE_IDS.run);
    let error: unknown;
    assert.ok(timed(() => (error = caught(() => future.result()))) < 50);
    assert.ok(error instanceof SyncUnavailableError && error instanceof TinkerError);
    assert.match((error as Error).message, /custom fetch.*await/);
    assert.equal((await future).training_run_id, FAKE_IDS.run);
  });

  await t.step("no Worker: a TinkerError at once, and await still works", async () => {
    await fake.clearLog();
    const saved = globalThis.Worker;
    // deno-lint-ignore no-explicit-any
    delete (globalThis as any).Worker;
    try {
      using rest = client(fake);
      const future = rest.getTrainingRun(FAKE_IDS.run);
      let error: unknown;
      assert.ok(timed(() => (error = caught(() => future.result()))) < 50);
      assert.ok(error instanceof TinkerError);
      assert.match((error as Error).message, /no Worker.*use await/);
      assert.equal((await future).training_run_id, FAKE_IDS.run);
      assert.equal(await count(fake, RUN_PATH), 1);
    } finally {
      globalThis.Worker = saved;
    }
  });

  await t.step("no SharedArrayBuffer: a TinkerError at once", () => {
    const saved = globalThis.SharedArrayBuffer;
    // deno-lint-ignore no-explicit-any
    delete (globalThis as any).SharedArrayBuffer;
    try {
      using rest = client(fake);
      const error = caught(() => rest.getTrainingRun(FAKE_IDS.run).result());
      assert.match((error as Error).message, /SharedArrayBuffer.*use await/);
    } finally {
      globalThis.SharedArrayBuffer = saved;
    }
  });

  await t.step("Atomics.wait not allowed (a browser's main thread): a TinkerError at once", () => {
    const saved = Atomics.wait;
    Atomics.wait = () => {
      throw new TypeError("Atomics.wait cannot be called in this context");
    };
    try {
      using rest = client(fake);
      const error = caught(() => rest.getTrainingRun(FAKE_IDS.run).result());
      assert.ok(error instanceof SyncUnavailableError);
      assert.match((error as Error).message, /Atomics\.wait is not allowed.*use await/);
    } finally {
      Atomics.wait = saved;
    }
  });

  await t.step(
    "a worker that never starts: SyncUnavailableError within the handshake bound",
    () => {
      const saved = globalThis.Worker;
      // A worker that never answers the READY handshake.
      globalThis.Worker = class {
        postMessage() {}
        terminate() {}
      } as unknown as typeof Worker;
      try {
        using rest = client(fake);
        let error: unknown;
        const took = timed(
          () => (error = caught(() => rest.getTrainingRun(FAKE_IDS.run).result())),
        );
        assert.ok(error instanceof SyncUnavailableError);
        assert.match((error as Error).message, /did not start within 5000 ms/);
        assert.ok(took < 6000, `took ${took} ms`);
      } finally {
        globalThis.Worker = saved;
      }
    },
  );
});

Deno.test("sync: transfer, pagination, lifecycle", async (t) => {
  await using fake = await spawnFakeTinker();

  await t.step("a 10 MB JSON response arrives intact", async () => {
    using rest = client(fake);
    const real = await rest.getTrainingRun(FAKE_IDS.run);
    const big = { ...real, padding: "x€😀".repeat(1_500_000), list: [...Array(1000).keys()] };
    await fake.inject({ path: RUN_PATH, status: 200, body: big });
    const run = rest.getTrainingRun(FAKE_IDS.run).result() as TrainingRun & typeof big;
    assert.ok(new TextEncoder().encode(JSON.stringify(run)).length > 10_000_000);
    assert.deepEqual(run, big);
    // A small call after the big one still gets its own (smaller) reply.
    assert.deepEqual(rest.getTrainingRun(FAKE_IDS.run).result(), real);
  });

  await t.step("replies larger than one part come in acknowledged parts", async () => {
    const config: EngineConfig = {
      transport: {
        baseUrl: fake.url,
        maxRetries: 0,
        timeoutMs: 10_000,
        initialRetryDelayMs: 1,
        maxRetryDelayMs: 1,
        defaultHeaders: {},
        userAgent: "sync-test",
        maxResponseBytes: 64 * 1024 * 1024,
      },
      apiKey: fake.apiKey,
      archivePollIntervalMs: 1,
      tracePollIntervalMs: 1,
      traceExportTimeoutMs: 60_000,
    };
    const engine = new Engine(config);
    const sync = new SyncExecutor(engine, { partBytes: 997 });
    try {
      const op = {
        kind: "json",
        http: { method: "GET", path: RUN_PATH, retry: "safe" },
        schema: "TrainingRun",
      } as const;
      const plain = await engine.execute(op);
      const big = { ...(plain as object), padding: "é😀x".repeat(5000) };
      await fake.inject({ path: RUN_PATH, status: 200, body: big });
      assert.deepEqual(sync.run(op, {}, undefined), big);
      // A timed-out multi-part reply does not leak into the next call.
      await fake.inject({ path: RUN_PATH, status: 200, body: big, delayMs: 300 });
      assert.throws(() => sync.run(op, {}, 100), ApiTimeoutError);
      assert.deepEqual(sync.run(op, {}, undefined), plain);
      await new Promise((r) => setTimeout(r, 400));
      assert.deepEqual(sync.run(op, {}, undefined), plain);
    } finally {
      sync.close();
    }
  });

  await t.step("iterSync() yields every item across pages", async () => {
    await fake.clearLog();
    using rest = client(fake);
    const items = [...rest.listCheckpoints(FAKE_IDS.bigRun).result().checkpoints];
    assert.ok(items.length > 100);
    const viaSync = [...rest.listUserCheckpoints({ limit: 40 }).iterSync()];
    const viaAsync = [];
    for await (const c of rest.listUserCheckpoints({ limit: 40 })) viaAsync.push(c);
    assert.deepEqual(viaSync, viaAsync);
    assert.ok(viaSync.length > 100);
    const pages = (await fake.requests()).filter((r) => r.path === "/api/v1/checkpoints").length;
    assert.equal(pages, 2 * Math.ceil(viaSync.length / 40));

    const runs = [...rest.listTrainingRuns({ limit: 3 }).iterSync()];
    const runsAsync = [];
    for await (const r of rest.listTrainingRuns({ limit: 3 })) runsAsync.push(r);
    assert.deepEqual(runs, runsAsync);
  });

  await t.step("close() stops the worker; .result() afterwards starts a new one", () => {
    const rest = client(fake);
    rest.getTrainingRun(FAKE_IDS.run).result();
    rest.close();
    assert.equal(rest.getTrainingRun(FAKE_IDS.run).result().training_run_id, FAKE_IDS.run);
    rest[Symbol.dispose]();
    assert.equal(rest.getTrainingRun(FAKE_IDS.run).result().training_run_id, FAKE_IDS.run);
    rest.close();
  });

  await t.step("two clients have their own workers and settings", () => {
    using a = client(fake);
    using b = client(fake, { defaultHeaders: { "x-client": "b" } });
    assert.equal(a.getTrainingRun(FAKE_IDS.run).result().training_run_id, FAKE_IDS.run);
    assert.equal(b.getTrainingRun(FAKE_IDS.bigRun).result().training_run_id, FAKE_IDS.bigRun);
  });
});

Deno.test("sync: worker liveness", async (t) => {
  await using fake = await spawnFakeTinker();
  const config: EngineConfig = {
    transport: {
      baseUrl: fake.url,
      maxRetries: 0,
      timeoutMs: 10_000,
      initialRetryDelayMs: 1,
      maxRetryDelayMs: 1,
      defaultHeaders: {},
      userAgent: "sync-test",
      maxResponseBytes: 64 * 1024 * 1024,
    },
    apiKey: fake.apiKey,
    archivePollIntervalMs: 1,
    tracePollIntervalMs: 1,
    traceExportTimeoutMs: 60_000,
  };
  const op = {
    kind: "json",
    http: { method: "GET", path: RUN_PATH, retry: "safe" },
    schema: "TrainingRun",
  } as const;

  await t.step("a slow request keeps the heartbeat going: no false alarm", async () => {
    await fake.inject({ path: RUN_PATH, delayMs: 1200 });
    const sync = new SyncExecutor(new Engine(config), { silentLimitMs: 600 });
    try {
      const run = sync.run(op, {}, undefined) as TrainingRun;
      assert.equal(run.training_run_id, FAKE_IDS.run);
    } finally {
      sync.close();
    }
  });

  await t.step("a worker that goes silent is given up on, then replaced", () => {
    const saved = globalThis.Worker;
    let started = 0;
    // Answers the READY handshake, then never replies nor beats.
    globalThis.Worker = class {
      constructor() {
        started++;
      }
      postMessage(msg: { type: string; ctrl?: SharedArrayBuffer }) {
        if (msg.type === "init") Atomics.store(new Int32Array(msg.ctrl!), 0, 1);
      }
      terminate() {}
    } as unknown as typeof Worker;
    const sync = new SyncExecutor(new Engine(config), { silentLimitMs: 300 });
    try {
      let error: unknown;
      const took = timed(() => (error = caught(() => sync.run(op, {}, undefined))));
      assert.ok(error instanceof TinkerError && !(error instanceof SyncUnavailableError));
      assert.match((error as Error).message, /stopped responding/);
      assert.ok(took >= 290 && took < 2000, `took ${took} ms`);
      caught(() => sync.run(op, {}, 50));
      assert.equal(started, 2, "a new worker is started after a dead one");
    } finally {
      sync.close();
      globalThis.Worker = saved;
    }
  });
});

/** Runs the fixture script with `cmd` and checks it prints the run and exits soon after. */
async function checkScriptExits(cmd: string[], fake: FakeTinker): Promise<void> {
  const child = new Deno.Command(cmd[0]!, {
    args: [...cmd.slice(1), "tests/fixtures/sync_script.ts", fake.url, fake.apiKey, FAKE_IDS.run],
    cwd: new URL("..", import.meta.url),
    stdout: "piped",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  let doneAt = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
    if (!doneAt && out.includes("done\n")) doneAt = performance.now();
  }
  const status = await child.status;
  const exitMs = performance.now() - doneAt;
  assert.equal(status.code, 0, out);
  assert.ok(doneAt > 0, out);
  assert.match(out, new RegExp(`run ${FAKE_IDS.run}\n`));
  assert.match(out, /error NotFoundError 404\n/);
  assert.ok(exitMs < 2000, `exited ${exitMs.toFixed(0)} ms after its last line`);
}

Deno.test("sync: a script using .result() exits on its own (Deno)", async () => {
  await using fake = await spawnFakeTinker();
  await checkScriptExits([Deno.execPath(), "run", "--allow-net"], fake);
});

Deno.test({
  name: "sync: a script using .result() exits on its own (Bun)",
  ignore: Deno.env.get("TINKER_SKIP_BUN") === "1",
  async fn() {
    await using fake = await spawnFakeTinker();
    await checkScriptExits(["npx", "-y", "bun@1.4.5", "run"], fake);
  },
});
