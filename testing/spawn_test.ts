import assert from "node:assert/strict";
import { call } from "./_test_helpers.ts";
import { FAKE_IDS, spawnFakeTinker, startFakeTinker } from "./mod.ts";

Deno.test("spawnFakeTinker runs the server in a child process driven over HTTP", async (t) => {
  const fake = await spawnFakeTinker({ archiveMode: "json", seed: { runs: 4 } });
  await t.step("it prints its URLs and serves the seeded data", async () => {
    assert.equal(fake.state, undefined);
    assert.match(fake.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(fake.storageUrl, fake.url);
    const runs = await call(fake, "GET", "/api/v1/training_runs");
    assert.equal((runs.body as { cursor: { total_count: number } }).cursor.total_count, 4);
    const archive = await call(
      fake,
      "GET",
      `/api/v1/training_runs/${FAKE_IDS.run}/checkpoints/weights/000010/archive`,
    );
    assert.equal(archive.status, 200);
  });
  await t.step("requests() fetches the child's log and refreshes log", async () => {
    const log = await fake.requests();
    assert.deepEqual(log.map((r) => r.path), [
      "/api/v1/training_runs",
      `/api/v1/training_runs/${FAKE_IDS.run}/checkpoints/weights/000010/archive`,
    ]);
    assert.equal(fake.log.length, 2);
    await fake.clearLog();
    assert.deepEqual(await fake.requests(), []);
  });
  await t.step("a binary body is recorded byte for byte, in the child as in-process", async () => {
    const bytes = new Uint8Array([0x0a, 0xff, 0x00, 0x80, 0xc3]);
    await fetch(`${fake.url}/api/v1/healthz`, {
      method: "POST",
      headers: { "x-api-key": fake.apiKey, "content-type": "application/x-protobuf" },
      body: bytes,
    }).then((r) => r.body?.cancel());
    assert.deepEqual((await fake.requests()).at(-1)!.bytes, bytes);
    await using local = await startFakeTinker();
    await fetch(`${local.url}/api/v1/healthz`, { method: "POST", body: bytes })
      .then((r) => r.body?.cancel());
    assert.deepEqual(local.log.at(-1)!.bytes, bytes);
    await fake.clearLog();
  });
  await t.step("inject sends faults, RegExp paths included", async () => {
    await fake.inject({ path: /^\/api\/v1\/sessions$/, status: 503, times: 1 });
    assert.equal((await call(fake, "GET", "/api/v1/sessions")).status, 503);
    assert.equal((await call(fake, "GET", "/api/v1/sessions")).status, 200);
  });
  await t.step("setOptions and reset reach the child", async () => {
    await fake.setOptions({ apiKey: "tml-other" });
    assert.equal(fake.apiKey, "tml-other");
    assert.equal((await call(fake, "GET", "/api/v1/sessions")).status, 200);
    await assert.rejects(fake.setOptions({ nope: true } as never));
    await call(fake, "DELETE", `/api/v1/training_runs/${FAKE_IDS.run}/checkpoints/weights/000010`);
    await fake.reset();
    const run = await call(fake, "GET", `/api/v1/training_runs/${FAKE_IDS.run}`);
    assert.notEqual((run.body as { last_checkpoint: unknown }).last_checkpoint, null);
  });
  await t.step("close kills the child", async () => {
    await fake.close();
    await assert.rejects(fetch(`${fake.url}/api/v1/healthz`));
  });
});
