// The npm build of @tinker-ts/tinker from plain JavaScript under Node 20,
// installed as the README's Node section says. Run by tests/node/run.ts.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  InvalidArgumentError,
  NotFoundError,
  RestClient,
  SyncUnavailableError,
  TinkerError,
} from "@tinker-ts/tinker";
import { FAKE_IDS, spawnFakeTinker, startFakeTinker } from "@tinker-ts/tinker/testing";
import { OpenAIClient } from "@tinker-ts/tinker/openai";
import { downloadCheckpoint } from "@tinker-ts/tinker/download";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Node 20 has no `await using`: close the fake in `finally`.
async function withFake(start, fn) {
  const fake = await start();
  try {
    await fn(fake);
  } finally {
    await fake.close();
  }
}

test("await works against the in-process fake", async () => {
  await withFake(startFakeTinker, async (fake) => {
    const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
    assert.equal(
      (await rest.getTrainingRun(FAKE_IDS.run)).training_run_id,
      FAKE_IDS.run,
    );
    let runs = 0;
    for await (const _run of rest.listTrainingRuns({ limit: 5 })) runs++;
    assert.equal(runs, (await rest.listTrainingRuns()).cursor.total_count);
  });
});

test("spawnFakeTinker runs the fake in a child process", async () => {
  await withFake(spawnFakeTinker, async (fake) => {
    const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
    const { checkpoints } = await rest.listCheckpoints(FAKE_IDS.run);
    assert.ok(checkpoints.length > 0);
    const log = await fake.requests();
    assert.ok(
      log.some((r) => r.path === `/api/v1/training_runs/${FAKE_IDS.run}/checkpoints`),
    );
  });
});

test("a 404 is a NotFoundError, a TinkerError", async () => {
  await withFake(startFakeTinker, async (fake) => {
    const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
    const error = await rest.getTrainingRun("missing:train:0").catch((e) => e);
    assert.ok(error instanceof NotFoundError);
    assert.ok(error instanceof TinkerError);
    assert.equal(error.status, 404);
  });
});

test("openai-node's { baseURL } spelling is refused, naming baseUrl", () => {
  assert.throws(
    () => new RestClient({ baseURL: "http://127.0.0.1:9", apiKey: "tml-x" }),
    (e) =>
      e instanceof InvalidArgumentError &&
      /did you mean "baseUrl"/.test(e.message),
  );
});

test(".result() throws SyncUnavailableError at once, and await still works", async () => {
  await withFake(spawnFakeTinker, async (fake) => {
    const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
    const future = rest.getTrainingRun(FAKE_IDS.run);
    assert.throws(() => future.result(), SyncUnavailableError);
    assert.equal((await future).training_run_id, FAKE_IDS.run);
  });
});

function findMissingRun(rest) {
  return rest.getTrainingRun("missing:train:0");
}

test("an awaited error's stack starts at the caller's frame", async () => {
  await withFake(startFakeTinker, async (fake) => {
    const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
    const error = await findMissingRun(rest).catch((e) => e);
    assert.ok(error instanceof NotFoundError);
    assert.match(
      error.stack.split("\n")[1],
      /at findMissingRun \(.*js_check\.mjs:\d+:\d+\)/,
    );
  });
});

test("@tinker-ts/tinker/openai streams a checkpoint's answer", async () => {
  await withFake(startFakeTinker, async (fake) => {
    const oai = new OpenAIClient({ baseUrl: fake.url, apiKey: fake.apiKey });
    let answer = "";
    const stream = oai.streamChatCompletion({
      model: FAKE_IDS.publicCheckpointPath,
      messages: [{ role: "user", content: "hello" }],
    });
    for await (const text of stream.textDeltas()) answer += text;
    assert.ok(answer.length > 0);
  });
});

test("@tinker-ts/tinker/download writes a checkpoint's files through node:fs", async () => {
  const dir = await mkdtemp(join(tmpdir(), "tinker-node-download-"));
  try {
    await withFake(startFakeTinker, async (fake) => {
      const target = join(dir, "final");
      const { route, files } = await downloadCheckpoint(
        { baseUrl: fake.url, apiKey: fake.apiKey },
        FAKE_IDS.checkpointPath,
        target,
      );
      assert.equal(route, "export");
      assert.deepEqual((await readdir(target)).sort(), [...files].sort());
      assert.ok(files.includes("adapter_model.safetensors"));
      assert.ok(fake.log.some((r) => r.method === "DELETE")); // the temporary export is gone
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
