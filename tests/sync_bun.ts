// `.result()` under Bun: the core semantics, then a `bun build --compile`
// binary of tests/fixtures/sync_script.ts run against a spawned fake.
// Run: `npx -y bun@1.4.5 run tests/sync_bun.ts` (exits non-zero on failure).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import {
  ApiError,
  ApiTimeoutError,
  ModelInput,
  NotFoundError,
  RestClient,
  ServiceClient,
  TinkerError,
} from "../mod.ts";
import { FAKE_IDS, spawnFakeTinker } from "../testing/mod.ts";

assert.ok("Bun" in globalThis, "run this with Bun");
const RUN_PATH = `/api/v1/training_runs/${FAKE_IDS.run}`;
const results: [string, string | undefined][] = [];

async function check(name: string, fn: () => unknown): Promise<void> {
  try {
    await fn();
    results.push([name, undefined]);
    console.log(`ok   ${name}`);
  } catch (error) {
    results.push([name, String((error as Error)?.stack ?? error)]);
    console.log(`FAIL ${name}\n${(error as Error)?.stack ?? error}`);
  }
}

const fake = await spawnFakeTinker();
const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey, initialRetryDelayMs: 1 });

await check("json: .result() equals await, one bootstrap", async () => {
  const sync = rest.getTrainingRun(FAKE_IDS.run).result();
  assert.deepEqual(sync, await rest.getTrainingRun(FAKE_IDS.run));
  const log = await fake.requests();
  assert.equal(log.filter((r) => r.path === "/api/v1/client/config").length, 1);
});

await check("one request per future", async () => {
  await fake.clearLog();
  const future = rest.getTrainingRun(FAKE_IDS.run);
  const a = future.result();
  assert.equal(future.result(), a);
  assert.equal(await future, a);
  assert.equal((await fake.requests()).length, 1);
});

await check("404: NotFoundError with status, headers, body, detail", async () => {
  let sync: unknown;
  try {
    rest.getTrainingRun("no-such-run").result();
  } catch (error) {
    sync = error;
  }
  const viaAwait = await rest.getTrainingRun("no-such-run").then(() => undefined, (e) => e);
  assert.ok(sync instanceof NotFoundError && sync instanceof ApiError);
  assert.ok(sync instanceof TinkerError);
  assert.ok(viaAwait instanceof NotFoundError);
  assert.equal(sync.name, "NotFoundError");
  assert.equal(sync.message, viaAwait.message);
  assert.equal(sync.status, 404);
  assert.equal(sync.detail, viaAwait.detail);
  assert.deepEqual(sync.body, viaAwait.body);
  assert.ok(sync.headers instanceof Headers);
  assert.equal(sync.headers.get("content-type"), viaAwait.headers?.get("content-type"));
});

await check("retries while blocking", async () => {
  await fake.clearLog();
  await fake.inject({ path: RUN_PATH, status: 503, times: 2 });
  rest.getTrainingRun(FAKE_IDS.run).result();
  assert.equal((await fake.requests()).filter((r) => r.path === RUN_PATH).length, 3);
});

await check("timeout in time; the next call gets its own reply", async () => {
  await fake.inject({ path: RUN_PATH, delayMs: 600 });
  const started = performance.now();
  assert.throws(() => rest.getTrainingRun(FAKE_IDS.run).result(150), (e: unknown) => {
    assert.ok(e instanceof ApiTimeoutError);
    assert.match(e.message, /timed out after 150 ms/);
    return true;
  });
  const took = performance.now() - started;
  assert.ok(took >= 140 && took < 600, `took ${took} ms`);
  const session = rest.getSession(FAKE_IDS.sessionId).result();
  assert.ok(!("training_run_id" in session));
  await new Promise((r) => setTimeout(r, 700));
  assert.equal(
    rest.getTrainingRun(FAKE_IDS.bigRun).result().training_run_id,
    FAKE_IDS.bigRun,
  );
});

await check("iterSync() over all pages equals async iteration", async () => {
  const viaSync = [...rest.listUserCheckpoints({ limit: 40 }).iterSync()];
  const viaAsync = [];
  for await (const c of rest.listUserCheckpoints({ limit: 40 })) viaAsync.push(c);
  assert.ok(viaSync.length > 100);
  assert.deepEqual(viaSync, viaAsync);
});

await check("a 10 MB response arrives intact", async () => {
  const real = await rest.getTrainingRun(FAKE_IDS.run);
  const big = { ...real, padding: "x€😀".repeat(1_500_000) };
  await fake.inject({ path: RUN_PATH, status: 200, body: big });
  assert.deepEqual(rest.getTrainingRun(FAKE_IDS.run).result(), big);
});

await check("a delete whose connection dies after the server read it is sent once", async () => {
  // Bun's fetch resends a request whose pooled connection dies; the delete
  // must take a connection of its own (tests/hostile_lib_test.ts, issue 19).
  rest.getTrainingRun(FAKE_IDS.run).result(); // Leaves a pooled connection.
  const path = `${RUN_PATH}/checkpoints/${FAKE_IDS.checkpointPath.split("/").slice(-2).join("/")}`;
  await fake.clearLog();
  await fake.inject({ path, drop: "before-headers", times: 2 });
  assert.throws(() => rest.deleteCheckpointFromTinkerPath(FAKE_IDS.checkpointPath).result(), {
    name: "ApiConnectionError",
  });
  const deletes = (await fake.requests()).filter((r) => r.method === "DELETE");
  assert.equal(deletes.length, 1, `sent ${deletes.length} times`);
});

await check("close() then .result() again", () => {
  rest.close();
  assert.equal(rest.getTrainingRun(FAKE_IDS.run).result().training_run_id, FAKE_IDS.run);
});

await check("a script using .result() exits on its own", () => {
  const script = fileURLToPath(new URL("./fixtures/sync_script.ts", import.meta.url));
  const started = performance.now();
  const out = spawnSync(process.execPath, ["run", script, fake.url, fake.apiKey, FAKE_IDS.run], {
    encoding: "utf8",
    timeout: 10_000,
  });
  assert.equal(out.status, 0, out.stderr);
  assert.match(out.stdout, /done\n/);
  assert.ok(performance.now() - started < 3000);
});

await check("bun build --compile: the binary blocks with .result() and exits", () => {
  const dir = mkdtempSync(join(tmpdir(), "tinker-sync-"));
  try {
    const binary = join(dir, "sync_script");
    const script = fileURLToPath(new URL("./fixtures/sync_script.ts", import.meta.url));
    const build = spawnSync(
      process.execPath,
      ["build", "--compile", script, "--outfile", binary],
      { encoding: "utf8" },
    );
    assert.equal(build.status, 0, build.stderr);
    const started = performance.now();
    const out = spawnSync(binary, [fake.url, fake.apiKey, FAKE_IDS.run], {
      encoding: "utf8",
      timeout: 10_000,
    });
    assert.equal(out.status, 0, out.stderr);
    assert.equal(
      out.stdout,
      `run ${FAKE_IDS.run}\nerror NotFoundError 404\nruns ${countRuns()}\ndone\n`,
    );
    assert.ok(performance.now() - started < 3000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function countRuns(): number {
  return [...rest.listTrainingRuns({ limit: 50 }).iterSync()].length;
}

rest.close();
await check("ServiceClient: sessions and futures block with .result(), in call order", async () => {
  await fake.setOptions({ futureTryAgainCount: 1 });
  const service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
  const training = service.createTrainingClientFromState(FAKE_IDS.checkpointPath).result();
  const a = training.saveWeightsExternal("a");
  const b = training.saveWeightsExternal("b");
  assert.equal(b.result().path, `tinker://${training.modelId}/external_weights/b`);
  assert.equal((await a).path, `tinker://${training.modelId}/external_weights/a`);
  service.close("success").result();
  const log = await fake.requests();
  const seqs = log.filter((r) => r.path === "/api/v1/save_weights_external")
    .map((r) => (r.json as { seq_id: number }).seq_id);
  assert.deepEqual(seqs, [1, 2]);
  assert.equal(log.filter((r) => r.path.endsWith("/finish")).length, 1);
  await fake.setOptions({ futureTryAgainCount: 0 });
});

await check(
  "SamplingClient: samples block with .result() (protobuf through the worker)",
  async () => {
    await fake.setOptions({ futureDelayMs: 30 });
    const service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
    const sampler = service.createSamplingClient({ baseModel: "Qwen/Qwen3-8B" }).result();
    const prompt = ModelInput.fromInts([1, 2, 3]);
    const sync = sampler.sample(prompt, 2, { max_tokens: 4, seed: 3 }).result();
    const async = await sampler.sample(prompt, 2, { max_tokens: 4, seed: 3 });
    assert.deepEqual(sync.sequences.map((s) => s.tokens), async.sequences.map((s) => s.tokens));
    assert.equal(sampler.computeLogprobs(prompt).result().length, 3);
    service.close("success").result();
    await fake.setOptions({ futureDelayMs: 0 });
  },
);

await fake.close();
const failed = results.filter(([, error]) => error !== undefined);
// The summary line in Deno's format, for scripts/test.ts.
const passed = results.length - failed.length;
console.log(`${failed.length ? "FAILED" : "ok"} | ${passed} passed | ${failed.length} failed`);
process.exit(failed.length ? 1 : 0);
