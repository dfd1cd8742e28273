// The library under Node: bundled by `bun build --target=node` and run with
// the machine's `node` (Node 20 cannot run TypeScript itself). Prints a
// Deno-style summary line; exits non-zero on a failure.
//
//   npx -y bun@1.4.5 build tests/node_smoke.ts --target=node --outfile=/tmp/node_smoke.mjs
//   node /tmp/node_smoke.mjs

import assert from "node:assert/strict";
import process from "node:process";
import { ModelInput, NotFoundError, RestClient, ServiceClient, TinkerPathError } from "../mod.ts";
import {
  decodeForwardBackwardRequest,
  encodeForwardBackwardRequest,
} from "../internal/_proto_messages.ts";
import { FAKE_IDS, startFakeTinker } from "../testing/mod.ts";
import { OpenAIClient } from "../openai_client.ts";
import { downloadCheckpoint } from "../download.ts";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const fake = await startFakeTinker();
const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey, initialRetryDelayMs: 1 });
const checks: [string, () => Promise<void>][] = [
  ["getTrainingRun returns the run", async () => {
    assert.equal((await rest.getTrainingRun(FAKE_IDS.run)).training_run_id, FAKE_IDS.run);
  }],
  ["for await walks every training run", async () => {
    const first = await rest.listTrainingRuns({ limit: 5 });
    let n = 0;
    for await (const _ of rest.listTrainingRuns({ limit: 5 })) n++;
    assert.equal(n, first.cursor.total_count);
  }],
  ["a 404 is a NotFoundError with its detail", async () => {
    const error = await rest.getTrainingRun("missing:train:0").catch((e) => e);
    assert.ok(error instanceof NotFoundError);
    assert.equal(error.status, 404);
  }],
  ["a retried 503 succeeds", async () => {
    await fake.inject({ path: `/api/v1/training_runs/${FAKE_IDS.run}`, status: 503 });
    await rest.getTrainingRun(FAKE_IDS.run);
  }],
  ["the archive URL comes from the 302", async () => {
    const { url } = await rest.getCheckpointArchiveUrlFromTinkerPath(FAKE_IDS.checkpointPath);
    assert.ok(url.startsWith(fake.storageUrl));
  }],
  ["a session: a training client from a checkpoint exports its weights", async () => {
    await fake.setOptions({ futureTryAgainCount: 1 });
    await using service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
    const training = await service.createTrainingClientFromState(FAKE_IDS.checkpointPath);
    const { path } = await training.saveWeightsExternal("export");
    assert.equal(path, `tinker://${training.modelId}/external_weights/export`);
    await fake.setOptions({ futureTryAgainCount: 0 });
  }],
  ["downloadCheckpoint exports a training checkpoint into a directory", async () => {
    const root = await mkdtemp(join(tmpdir(), "tinker-node-download-"));
    try {
      const result = await downloadCheckpoint(
        { baseUrl: fake.url, apiKey: fake.apiKey },
        FAKE_IDS.checkpointPath,
        join(root, "model"),
      );
      assert.equal(result.route, "export");
      const save = fake.log.findLast((r) => r.path === "/api/v1/save_weights_external")!;
      const model = (save.json as { model_id: string }).model_id;
      const digests = await fake.fileDigests(`tinker://${model}/external_weights/download`);
      for (const file of result.files) {
        const data = await readFile(join(result.dir, file));
        assert.equal(createHash("sha256").update(data).digest("hex"), digests[file], file);
      }
      assert.ok(fake.log.some((r) => r.method === "DELETE" && r.path.includes(model)));
    } finally {
      await rm(root, { recursive: true, force: true });
      await fake.clearLog(); // The next check counts DELETEs.
    }
  }],
  ["a delete whose connection dies after the server read it is sent once", async () => {
    const path = `/api/v1/training_runs/${FAKE_IDS.run}/checkpoints/${
      FAKE_IDS.checkpointPath.split("/").slice(-2).join("/")
    }`;
    await rest.getTrainingRun(FAKE_IDS.run); // Leaves a pooled connection.
    await fake.inject({ path, drop: "before-headers", times: 2 });
    const error = await rest.deleteCheckpointFromTinkerPath(FAKE_IDS.checkpointPath).catch((e) =>
      e
    );
    assert.equal(error?.name, "ApiConnectionError");
    assert.equal(fake.log.filter((r) => r.method === "DELETE").length, 1);
  }],
  ["a bad tinker path throws before sending", () => {
    assert.throws(
      () => rest.deleteCheckpointFromTinkerPath("tinker://r/weights/"),
      TinkerPathError,
    );
    return Promise.resolve();
  }],
  ["a forward_backward request round-trips through protobuf", () => {
    const bytes = encodeForwardBackwardRequest({
      model_id: "m",
      seq_id: 1,
      loss_fn: "cross_entropy",
      data: [{
        model_input: ModelInput.fromInts([1, 2]),
        loss_fn_inputs: { target_tokens: [2, -3], weights: new Float32Array([0.5, NaN]) },
      }],
    });
    const datum = decodeForwardBackwardRequest(bytes).data[0]!;
    assert.deepEqual(datum.model_input.toInts(), [1, 2]);
    assert.deepEqual(datum.loss_fn_inputs.target_tokens!.data, [2, -3]);
    assert.deepEqual([...datum.loss_fn_inputs.weights!.data], [0.5, NaN]);
    return Promise.resolve();
  }],
  ["an OpenAI-compatible answer streams, and ends at [DONE]", async () => {
    const oai = new OpenAIClient({ baseUrl: fake.url, apiKey: fake.apiKey });
    const request = {
      model: FAKE_IDS.publicCheckpointPath,
      messages: [{ role: "user", content: "hi" }],
    };
    let pieces = 0;
    let text = "";
    for await (const piece of oai.streamChatCompletion(request).textDeltas()) {
      pieces++;
      text += piece;
    }
    assert.ok(pieces > 5);
    const whole = await oai.chatCompletion(request);
    assert.equal(whole.choices[0]!.message.content, text);
  }],
];
let passed = 0;
let failed = 0;
for (const [name, check] of checks) {
  try {
    await check();
    passed++;
    console.log(`${name} ... ok`);
  } catch (error) {
    failed++;
    console.log(`${name} ... FAILED\n  ${error}`);
  }
}
await fake.close();
console.log(
  `\n${
    failed === 0 ? "ok" : "FAILED"
  } | ${passed} passed | ${failed} failed (Node ${process.version})`,
);
process.exit(failed === 0 ? 0 : 1);
