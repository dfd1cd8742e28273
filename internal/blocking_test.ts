// Where `.result()` refuses to block: a server of this very thread (the
// in-process fake), and clients created with `{ blocking: false }`.

import assert from "node:assert/strict";
import { caught } from "../tests/_assert.ts";
import { RestClient, SyncUnavailableError } from "../mod.ts";
import { registerInProcessServer, servedOnThisThread } from "./_blocking.ts";
import { FAKE_IDS, spawnFakeTinker, startFakeTinker } from "../testing/mod.ts";

Deno.test(".result() against the in-process fake throws at once, naming the fixes", async () => {
  await using fake = await startFakeTinker();
  const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
  const future = rest.getTrainingRun(FAKE_IDS.run);
  const started = performance.now();
  // A timeout bounds the old behaviour (a deadlock until the attempts time out).
  const error = caught(() => future.result(3_000));
  assert.ok(error instanceof SyncUnavailableError, `got ${error}`);
  assert.ok(performance.now() - started < 2_000, "it did not wait for the server");
  assert.match(error.message, /served on this thread/);
  assert.match(error.message, /spawnFakeTinker\(\)/);
  assert.match(error.message, /await the call/);
  assert.equal(fake.log.length, 0, "nothing was sent");
  // The refused future still works with await.
  assert.equal((await future).training_run_id, FAKE_IDS.run);
});

Deno.test("iterSync() against the in-process fake throws at once too", async () => {
  await using fake = await startFakeTinker();
  const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
  const error = caught(() => [...rest.listTrainingRuns().iterSync()]);
  assert.ok(error instanceof SyncUnavailableError, `got ${error}`);
  assert.equal(fake.log.length, 0);
});

Deno.test("a closed fake's origin is no longer taken for this thread's", async () => {
  const fake = await startFakeTinker();
  assert.ok(servedOnThisThread(`${fake.url}/api/v1/healthz`));
  assert.ok(servedOnThisThread(fake.storageUrl));
  await fake.close();
  assert.ok(!servedOnThisThread(fake.url));
  assert.ok(!servedOnThisThread(fake.storageUrl));
});

Deno.test("the registry counts servers per origin and ignores bad URLs", () => {
  const origin = "http://127.0.0.1:1";
  const first = registerInProcessServer(origin);
  const second = registerInProcessServer(`${origin}/x`);
  first();
  first();
  assert.ok(servedOnThisThread(origin), "one server is still registered");
  second();
  assert.ok(!servedOnThisThread(origin));
  assert.ok(!servedOnThisThread("not a url"));
});

Deno.test("a client created with { blocking: false } refuses .result() at once", () => {
  // Port 9 (discard) is never contacted: the refusal comes before sending.
  const rest = new RestClient({ baseUrl: "http://127.0.0.1:9", apiKey: "tml-x", blocking: false });
  const error = caught(() => rest.whoami().result());
  assert.ok(error instanceof SyncUnavailableError, `got ${error}`);
  assert.match(error.message, /blocking: false/);
  assert.match(error.message, /await the call/);
});

Deno.test("{ blocking: false } keeps await working, against a spawned fake", async () => {
  await using fake = await spawnFakeTinker();
  const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey, blocking: false });
  const future = rest.getTrainingRun(FAKE_IDS.run);
  assert.throws(() => future.result(), SyncUnavailableError);
  assert.equal((await future).training_run_id, FAKE_IDS.run);
  assert.equal((await fake.requests()).filter((r) => r.path.includes("training_runs")).length, 1);
});

Deno.test("a Deno.serve handler with { blocking: false } answers through await", async () => {
  await using fake = await spawnFakeTinker();
  const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey, blocking: false });
  const refusals: string[] = [];
  await using server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async () => {
    const future = rest.getTrainingRun(FAKE_IDS.run);
    try {
      future.result();
    } catch (error) {
      refusals.push((error as Error).name);
    }
    return Response.json(await future);
  });
  const res = await fetch(`http://127.0.0.1:${server.addr.port}/`);
  assert.equal((await res.json()).training_run_id, FAKE_IDS.run);
  assert.deepEqual(refusals, ["SyncUnavailableError"]);
});
