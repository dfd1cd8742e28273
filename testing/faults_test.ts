import assert from "node:assert/strict";
import { call } from "./_test_helpers.ts";
import { FAKE_IDS, startFakeTinker } from "./mod.ts";

const RUNS = "/api/v1/training_runs";

Deno.test("status faults answer instead of the route, in order, `times` times", async (t) => {
  await using fake = await startFakeTinker();
  await t.step("a 429 with headers applies twice, then the route answers", async () => {
    await fake.inject({ path: RUNS, status: 429, headers: { "retry-after": "1" }, times: 2 });
    for (let i = 0; i < 2; i++) {
      const res = await call(fake, "GET", RUNS);
      assert.deepEqual([res.status, res.headers.get("retry-after"), res.body], [429, "1", {
        detail: "Injected fault",
      }]);
    }
    assert.equal((await call(fake, "GET", RUNS)).status, 200);
    assert.deepEqual(fake.log.map((r) => r.status), [429, 429, 200]);
  });
  await t.step("method, RegExp path and string bodies are honoured", async () => {
    await fake.inject({ method: "DELETE", path: /\/checkpoints\//, status: 500, body: "boom" });
    assert.equal((await call(fake, "GET", `${RUNS}/${FAKE_IDS.run}/checkpoints`)).status, 200);
    const res = await call(fake, "DELETE", `${RUNS}/${FAKE_IDS.run}/checkpoints/weights/000010`);
    assert.deepEqual([res.status, res.body], [500, "boom"]);
    assert.ok(fake.state!.checkpoint(FAKE_IDS.run, "weights/000010"));
  });
  await t.step("headers without a status are added to the route's answer", async () => {
    await fake.inject({ headers: { "x-should-retry": "false" } });
    const res = await call(fake, "GET", `${RUNS}/${FAKE_IDS.run}`);
    assert.deepEqual([res.status, res.headers.get("x-should-retry")], [200, "false"]);
  });
  await t.step("earlier faults win", async () => {
    await fake.inject({ status: 502 });
    await fake.inject({ status: 503 });
    assert.equal((await call(fake, "GET", RUNS)).status, 502);
    assert.equal((await call(fake, "GET", RUNS)).status, 503);
  });
});

Deno.test("delay faults hold the answer, and a client timeout records status 0", async (t) => {
  await using fake = await startFakeTinker();
  await t.step("a delayed answer arrives late", async () => {
    await fake.inject({ delayMs: 200 });
    const start = performance.now();
    assert.equal((await call(fake, "GET", RUNS)).status, 200);
    assert.ok(performance.now() - start >= 190);
  });
  await t.step("a client that gives up sees a timeout", async () => {
    await fake.inject({ delayMs: 5000 });
    await assert.rejects(
      fetch(`${fake.url}${RUNS}`, {
        headers: { "x-api-key": fake.apiKey },
        signal: AbortSignal.timeout(50),
      }),
      (e: Error) => e.name === "TimeoutError",
    );
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(fake.log.at(-1)!.status, 0);
  });
});

Deno.test("close() does not wait for a delayed answer", async () => {
  const fake = await startFakeTinker();
  await fake.inject({ delayMs: 60_000 });
  const pending = fetch(`${fake.url}${RUNS}`, { headers: { "x-api-key": fake.apiKey } })
    .then(() => "answered", () => "failed");
  while (fake.log.length === 0) await new Promise((r) => setTimeout(r, 5));
  const start = performance.now();
  await fake.close();
  assert.ok(performance.now() - start < 1000);
  assert.equal(await pending, "failed");
});

Deno.test("drop faults break the connection before or during the answer", async (t) => {
  await using fake = await startFakeTinker();
  await t.step("before-headers makes fetch reject and records status 0", async () => {
    await fake.inject({ drop: "before-headers", times: 5 });
    await assert.rejects(fetch(`${fake.url}${RUNS}`, { headers: { "x-api-key": fake.apiKey } }));
    assert.ok(fake.log.length >= 1 && fake.log.every((r) => r.status === 0));
    await fake.reset();
  });
  await t.step("mid-body delivers the headers, then the body read rejects", async () => {
    await fake.inject({ drop: "mid-body" });
    const res = await fetch(`${fake.url}${RUNS}`, { headers: { "x-api-key": fake.apiKey } });
    assert.equal(res.status, 200);
    await assert.rejects(res.text());
    assert.equal(fake.log.at(-1)!.status, 200);
  });
});

Deno.test("storage faults: truncated downloads and injected statuses", async (t) => {
  await using fake = await startFakeTinker({ archiveBytes: 1_000_000 });
  const archive = await call(
    fake,
    "GET",
    `${RUNS}/${FAKE_IDS.run}/checkpoints/weights/000010/archive`,
  );
  const location = archive.headers.get("location")!;
  await t.step("truncate sends fewer bytes than Content-Length, then drops", async () => {
    await fake.inject({ target: "storage", truncate: 70_000 });
    const res = await fetch(location);
    assert.ok(Number(res.headers.get("content-length")) > 1_000_000);
    let got = 0;
    await assert.rejects(async () => {
      for await (const chunk of res.body!) got += chunk.byteLength;
    });
    assert.ok(got <= 70_000);
  });
  await t.step(
    "API faults do not touch storage and storage faults do not touch the API",
    async () => {
      await fake.inject({ target: "storage", status: 503 });
      assert.equal((await call(fake, "GET", RUNS)).status, 200);
      const res = await fetch(location);
      assert.equal(res.status, 503);
      await res.body?.cancel();
      assert.equal(fake.storageLog.at(-1)!.status, 503);
    },
  );
});

Deno.test("admin endpoints control the fake over HTTP and are not logged", async (t) => {
  await using fake = await startFakeTinker();
  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${fake.url}/_fake/${path}`, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  await t.step("GET /_fake/log returns the recorded requests", async () => {
    await call(fake, "GET", `${RUNS}?limit=1`);
    const log = await (await admin("GET", "log")).json();
    assert.equal(log.length, 1);
    assert.equal(log[0].rawPath, `${RUNS}?limit=1`);
    assert.equal(fake.log.length, 1);
  });
  await t.step("DELETE /_fake/log clears it", async () => {
    assert.equal((await admin("DELETE", "log")).status, 204);
    assert.equal(fake.log.length, 0);
  });
  await t.step("POST /_fake/faults takes a pathRegex", async () => {
    assert.equal(
      (await admin("POST", "faults", { pathRegex: "^/api/v1/sessions", status: 418 })).status,
      204,
    );
    assert.equal((await call(fake, "GET", "/api/v1/sessions")).status, 418);
  });
  await t.step("POST /_fake/options changes behaviour and rejects unknown flags", async () => {
    assert.equal((await admin("POST", "options", { archiveMode: "json" })).status, 204);
    assert.equal(
      fake.state &&
        (await call(fake, "GET", `${RUNS}/${FAKE_IDS.run}/checkpoints/weights/000010/archive`))
          .status,
      200,
    );
    const bad = await admin("POST", "options", { nope: 1 });
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
  });
  await t.step("POST /_fake/reset reseeds and forgets faults", async () => {
    fake.state!.deleteCheckpoint(FAKE_IDS.run, "weights/000010");
    await fake.inject({ status: 500, times: 10 });
    assert.equal((await admin("POST", "reset")).status, 204);
    assert.ok(fake.state!.checkpoint(FAKE_IDS.run, "weights/000010"));
    assert.equal((await call(fake, "GET", RUNS)).status, 200);
  });
});
