import assert from "node:assert/strict";
import { caught, rejection } from "./tests/_assert.ts";
import {
  type Datum,
  type ForwardBackwardOutput,
  InvalidArgumentError,
  ModelInput,
  RequestFailedError,
  ServiceClient,
  type ServiceClientOptions,
  TensorData,
  type TrainingClient,
} from "./mod.ts";
import {
  type FakeTinker,
  type RecordedRequest,
  spawnFakeTinker,
  startFakeTinker,
} from "./testing/mod.ts";
import { decodeForwardBackwardRequest } from "./internal/_proto_messages.ts";
import { bigramStore } from "./testing/_bigram.ts";

const BASE = "Qwen/Qwen3-8B";

function service(fake: FakeTinker, options: ServiceClientOptions = {}): ServiceClient {
  return new ServiceClient({
    baseUrl: fake.url,
    apiKey: fake.apiKey,
    initialRetryDelayMs: 1,
    maxRetryDelayMs: 5,
    ...options,
  });
}

async function requests(fake: FakeTinker, path: string): Promise<RecordedRequest[]> {
  return (await fake.requests()).filter((r) => r.path === path);
}

/** A next-token datum: input `tokens[:-1]`, targets `tokens[1:]`, every token weighted. */
function datum(tokens: number[], weights?: number[]): Datum {
  return {
    model_input: ModelInput.fromInts(tokens.slice(0, -1)),
    loss_fn_inputs: {
      target_tokens: tokens.slice(1),
      weights: weights ?? tokens.slice(1).map(() => 1),
    },
  };
}

const BATCH = [datum([5, 9, 2, 7, 5, 9]), datum([9, 2, 7, 5, 9, 2])];

function loss(out: ForwardBackwardOutput): number {
  return out.metrics["loss:sum"]!;
}

Deno.test("createLoraTrainingClient sends create_model as the SDK does, then get_info", async () => {
  await using fake = await startFakeTinker();
  await using client = service(fake);
  const training = await client.createLoraTrainingClient(BASE, {
    rank: 16,
    seed: 3,
    trainUnembed: false,
    userMetadata: { owner: "test" },
  });
  assert.equal(training.modelId, `${client.sessionId}:train:0`);
  const [create] = await requests(fake, "/api/v1/create_model");
  assert.equal(
    create!.body,
    JSON.stringify({
      session_id: client.sessionId,
      model_seq_id: 0,
      base_model: BASE,
      user_metadata: { owner: "test" },
      lora_config: { rank: 16, seed: 3, train_unembed: false, train_mlp: true, train_attn: true },
      optimizer_config: { type: "adamw" },
      type: "create_model",
    }),
  );
  assert.equal(training.getInfo().lora_rank, 16);
  assert.equal(training.getTokenizerId(), BASE);
  const [retrieve] = await requests(fake, "/api/v1/retrieve_future");
  assert.equal(retrieve!.headers["x-tinker-request-type"], "CreateModel");
  // A second client of the session is model 1.
  const second = await client.createLoraTrainingClient("meta-llama/Llama-3.2-1B");
  assert.equal(second.modelId, `${client.sessionId}:train:1`);
});

Deno.test("supervised fine-tuning on the fake: the loss falls step by step", async () => {
  await using fake = await startFakeTinker();
  await using client = service(fake);
  const training = await client.createLoraTrainingClient(BASE);
  const losses: number[] = [];
  for (let step = 0; step < 8; step++) {
    const fwdbwd = training.forwardBackward(BATCH, "cross_entropy");
    const optim = training.optimStep({ learning_rate: 0.1 });
    losses.push(loss(await fwdbwd));
    const { metrics } = await optim;
    assert.ok(metrics!["grad_norm:mean"]! > 0);
  }
  for (let i = 1; i < losses.length; i++) {
    assert.ok(losses[i]! < losses[i - 1]!, `losses ${losses.join(", ")}`);
  }
  assert.ok(losses.at(-1)! < losses[0]! * 0.8, `losses ${losses.join(", ")}`);
});

Deno.test("forward_backward goes as protobuf; its result comes back as protobuf", async () => {
  await using fake = await startFakeTinker();
  await using client = service(fake);
  const training = await client.createLoraTrainingClient(BASE);
  await fake.clearLog();
  const out = await training.forward(BATCH, "cross_entropy", { unused: 1 });
  const [sent] = await requests(fake, "/api/v1/forward_backward");
  assert.equal(sent!.headers["content-type"], "application/x-protobuf");
  const decoded = decodeForwardBackwardRequest(sent!.bytes);
  assert.equal(decoded.model_id, training.modelId);
  assert.equal(decoded.seq_id, 1);
  assert.equal(decoded.forward_only, true);
  assert.equal(decoded.loss_fn, "cross_entropy");
  assert.deepEqual(decoded.loss_fn_config, { unused: 1 });
  assert.deepEqual(decoded.data[0]!.loss_fn_inputs.target_tokens!.toList(), [9, 2, 7, 5, 9]);
  const polls = await requests(fake, "/api/v1/retrieve_future");
  assert.ok(polls.every((p) => p.headers["accept"] === "application/x-protobuf"));
  assert.ok(polls.every((p) => p.headers["x-tinker-request-type"] === "Forward"));
  assert.equal(out.loss_fn_outputs.length, 2);
  const logprobs = out.loss_fn_outputs[0]!.logprobs!;
  assert.ok(logprobs instanceof TensorData);
  assert.equal(logprobs.data.length, 5);
  const sum = out.loss_fn_outputs.flatMap((o) => [...o.elementwise_loss!.data])
    .reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - loss(out)) < 1e-3);
  // Forward only: a second forward sees the same model.
  assert.equal(loss(await training.forward(BATCH, "cross_entropy")), loss(out));
});

Deno.test("a batch over the chunk limit goes as chunks, the first sent last, results combined", async () => {
  await using fake = await startFakeTinker({ clientConfig: { fwdbwd_max_chunk_len: 2 } });
  await using client = service(fake);
  const training = await client.createLoraTrainingClient(BASE);
  const batch = [1, 2, 3, 4, 5].map((i) => datum([i, i + 1, i + 2, i + 3]));
  await fake.clearLog();
  const whole = training.forward(batch, "cross_entropy");
  const after = training.optimStep();
  const out = await whole;
  await after;
  const sent = (await requests(fake, "/api/v1/forward_backward"))
    .map((r) => decodeForwardBackwardRequest(r.bytes));
  assert.deepEqual(sent.map((r) => [r.seq_id, r.data.length]), [[2, 2], [3, 1], [1, 2]]);
  const [optim] = await requests(fake, "/api/v1/optim_step");
  assert.equal((optim!.json as { seq_id: number }).seq_id, 4);
  assert.equal(out.loss_fn_outputs.length, 5);
  // The same batch in one request gives the same outputs, in the same order.
  await fake.setOptions({ clientConfig: {} });
  const other = await client.createLoraTrainingClient(BASE);
  const single = await other.forward(batch, "cross_entropy");
  assert.deepEqual(
    out.loss_fn_outputs.map((o) => o.logprobs!.toList()),
    single.loss_fn_outputs.map((o) => o.logprobs!.toList()),
  );
  assert.ok(Math.abs(loss(out) - loss(single)) < 1e-6);
});

Deno.test("in serial mode the chunks go in order", async () => {
  await using fake = await startFakeTinker({
    clientConfig: { fwdbwd_max_chunk_len: 1, parallel_fwdbwd_chunks: false },
  });
  await using client = service(fake);
  const training = await client.createLoraTrainingClient(BASE);
  await training.forwardBackward(BATCH, "cross_entropy");
  const sent = (await requests(fake, "/api/v1/forward_backward"))
    .map((r) => decodeForwardBackwardRequest(r.bytes).seq_id);
  assert.deepEqual(sent, [1, 2]);
});

Deno.test("a server that refuses protobuf gets JSON, once asked, from then on", async () => {
  await using fake = await startFakeTinker({ protobufForwardBackward: false });
  await using client = service(fake);
  const training = await client.createLoraTrainingClient(BASE);
  const first = await training.forwardBackward(BATCH, "cross_entropy");
  const second = await training.forward(BATCH, "cross_entropy");
  const fb = await requests(fake, "/api/v1/forward_backward");
  assert.deepEqual(fb.map((r) => [r.headers["content-type"], r.status]), [
    ["application/x-protobuf", 422],
    ["application/json", 200],
  ]);
  const body = fb[1]!.json as Record<string, unknown>;
  assert.deepEqual(Object.keys(body), ["forward_backward_input", "model_id", "seq_id"]);
  assert.equal(body.seq_id, 1);
  const [forward] = await requests(fake, "/api/v1/forward");
  assert.equal((forward!.json as { seq_id: number }).seq_id, 2);
  assert.ok("forward_input" in (forward!.json as object));
  // JSON replies (no protobuf was asked for) give the same tensors.
  assert.ok(first.loss_fn_outputs[0]!.logprobs instanceof TensorData);
  // No optimizer step in between: the weights, so the loss, are unchanged.
  assert.equal(loss(second), loss(first));
});

Deno.test("calls made without awaiting apply in call order with consecutive sequence ids", async () => {
  await using fake = await startFakeTinker({ futureDelayMs: 20 });
  await using client = service(fake);
  const training = await client.createLoraTrainingClient(BASE);
  const calls = [
    training.forwardBackward(BATCH, "cross_entropy"),
    training.optimStep({ learning_rate: 0.1 }),
    training.saveState("after-one"),
    training.forwardBackward(BATCH, "cross_entropy"),
    training.saveWeightsForSampler("sampler-one"),
  ];
  await Promise.all(calls);
  const log = await fake.requests();
  const seqs = log.filter((r) => r.method === "POST" && r.path !== "/api/v1/retrieve_future")
    .flatMap((r) => {
      if (r.path === "/api/v1/forward_backward") {
        return [[r.path, decodeForwardBackwardRequest(r.bytes).seq_id]];
      }
      const seq = (r.json as { seq_id?: number } | undefined)?.seq_id;
      return seq === undefined ? [] : [[r.path, seq]];
    });
  assert.deepEqual(seqs, [
    ["/api/v1/forward_backward", 1],
    ["/api/v1/optim_step", 2],
    ["/api/v1/save_weights", 3],
    ["/api/v1/forward_backward", 4],
    ["/api/v1/save_weights_for_sampler", 5],
  ]);
});

Deno.test("save and load state: weights, and Adam's state only with the optimizer", async (t) => {
  await using fake = await startFakeTinker();
  await using client = service(fake);
  const training = await client.createLoraTrainingClient(BASE);
  await training.forwardBackward(BATCH, "cross_entropy");
  await training.optimStep({ learning_rate: 0.1 });
  const saved = await training.saveState("one-step", { ttlSeconds: 3600 });
  const [body] = await requests(fake, "/api/v1/save_weights");
  assert.equal(
    body!.body,
    JSON.stringify({
      model_id: training.modelId,
      path: "one-step",
      seq_id: 3,
      ttl_seconds: 3600,
      overwrite: false,
      type: "save_weights",
    }),
  );
  assert.equal(saved.path, `tinker://${training.modelId}/weights/one-step`);
  const atSave = loss(await training.forward(BATCH, "cross_entropy"));
  await t.step("loadState restores the weights onto the model", async () => {
    await training.forwardBackward(BATCH, "cross_entropy");
    await training.optimStep({ learning_rate: 0.1 });
    assert.notEqual(loss(await training.forward(BATCH, "cross_entropy")), atSave);
    await training.loadState(saved.path);
    assert.equal(loss(await training.forward(BATCH, "cross_entropy")), atSave);
    const loads = await requests(fake, "/api/v1/load_weights");
    assert.deepEqual(Object.keys(loads.at(-1)!.json as object), [
      "model_id",
      "seq_id",
      "path",
      "optimizer",
      "type",
    ]);
    assert.equal(bigramStore(fake.state!).models.get(training.modelId)!.adam.t, 0);
  });
  await t.step("loadStateWithOptimizer restores Adam's moments too", async () => {
    await training.loadStateWithOptimizer(saved.path);
    assert.equal(bigramStore(fake.state!).models.get(training.modelId)!.adam.t, 1);
  });
  await t.step(
    "createTrainingClientFromStateWithOptimizer starts a new model from it",
    async () => {
      const resumed = await client.createTrainingClientFromStateWithOptimizer(saved.path);
      assert.notEqual(resumed.modelId, training.modelId);
      assert.equal(loss(await resumed.forward(BATCH, "cross_entropy")), atSave);
      assert.equal(bigramStore(fake.state!).models.get(resumed.modelId)!.adam.t, 1);
      const plain = await client.createTrainingClientFromState(saved.path);
      assert.equal(bigramStore(fake.state!).models.get(plain.modelId)!.adam.t, 0);
    },
  );
  await t.step("saving an existing name fails unless overwrite", async () => {
    const error = await rejection(training.saveState("one-step"));
    assert.ok(error instanceof RequestFailedError, String(error));
    assert.match(error.message, /already exists/);
    const again = await training.saveState("one-step", { overwrite: true });
    assert.equal(again.path, saved.path);
  });
});

Deno.test("saveWeightsForSampler snapshots the weights under sampler_weights/", async () => {
  await using fake = await startFakeTinker();
  await using client = service(fake);
  const training = await client.createLoraTrainingClient(BASE);
  const before = await training.saveWeightsForSampler("before");
  await training.forwardBackward(BATCH, "cross_entropy");
  await training.optimStep({ learning_rate: 0.1 });
  const after = await training.saveWeightsForSampler("after", { userMetadata: { step: "1" } });
  assert.equal(after.path, `tinker://${training.modelId}/sampler_weights/after`);
  const [named] = await requests(fake, "/api/v1/save_weights_for_sampler");
  assert.deepEqual(Object.keys(named!.json as object), [
    "model_id",
    "path",
    "kind",
    "seq_id",
    "type",
  ]);
  const store = bigramStore(fake.state!);
  assert.notDeepEqual(
    store.samplers.get(before.path)!.table,
    store.samplers.get(after.path)!.table,
  );
  const run = await client.createRestClient().getTrainingRun(training.modelId);
  assert.equal(run.training_run_id, training.modelId);
});

Deno.test("saveWeightsAndGetSamplingClient samples the trained weights; createSamplingClient a saved path", async () => {
  await using fake = await startFakeTinker();
  await using client = service(fake);
  const training = await client.createLoraTrainingClient(BASE);
  const prompt = ModelInput.fromInts([5]);
  const greedy = { max_tokens: 6, temperature: 0 };
  const before = await training.saveWeightsAndGetSamplingClient();
  assert.equal(before.getBaseModel(), BASE);
  const pattern = [datum([5, 9, 5, 9, 5, 9, 5, 9])];
  for (let i = 0; i < 30; i++) {
    training.forwardBackward(pattern, "cross_entropy");
    training.optimStep({ learning_rate: 0.1 });
  }
  const after = await training.saveWeightsAndGetSamplingClient({ kind: "snapshot" });
  const [save] = (await requests(fake, "/api/v1/save_weights_for_sampler")).slice(-1);
  assert.deepEqual(Object.keys(save!.json as object), [
    "model_id",
    "sampling_session_seq_id",
    "kind",
    "seq_id",
    "type",
  ]);
  assert.equal((save!.json as { sampling_session_seq_id: number }).sampling_session_seq_id, 1);
  const trained = (await after.sample(prompt, 1, greedy)).sequences[0]!.tokens;
  assert.deepEqual(trained, [9, 5, 9, 5, 9, 5]);
  const untrained = (await before.sample(prompt, 1, greedy)).sequences[0]!.tokens;
  assert.notDeepEqual(untrained, trained, "the first snapshot keeps the weights it was saved with");
  const { path } = await training.saveWeightsForSampler("trained");
  const fromPath = await training.createSamplingClient(path);
  assert.deepEqual((await fromPath.sample(prompt, 1, greedy)).sequences[0]!.tokens, trained);
  assert.ok(caught(() => training.saveWeightsAndGetSamplingClient({ kind: "live" as never })));
});

Deno.test("forwardBackwardCustom: the user's gradient reaches the model through a linear loss", async () => {
  await using fake = await startFakeTinker();
  await using client = service(fake);
  const custom = await client.createLoraTrainingClient(BASE);
  const builtin = await client.createLoraTrainingClient(BASE);
  await fake.clearLog();
  let seen: readonly Float32Array[] = [];
  const unweighted = BATCH.map((d) => ({
    model_input: d.model_input,
    loss_fn_inputs: { target_tokens: d.loss_fn_inputs.target_tokens! },
  }));
  const out = await custom.forwardBackwardCustom(unweighted, (data, logprobs) => {
    assert.equal(data, unweighted);
    seen = logprobs;
    return {
      loss: -logprobs.reduce((s, lp) => s + lp.reduce((a, b) => a + b, 0), 0),
      gradients: logprobs.map((lp) => lp.map(() => -1)),
      metrics: { "tokens:sum": 10 },
    };
  });
  const sent = (await requests(fake, "/api/v1/forward_backward"))
    .map((r) => decodeForwardBackwardRequest(r.bytes));
  assert.deepEqual(sent.map((r) => [r.seq_id, r.forward_only, r.loss_fn]), [
    [1, true, "cross_entropy"],
    [2, false, "cross_entropy"],
  ]);
  // Weights default to 0 for the forward pass; the backward pass carries −gradient.
  assert.deepEqual(sent[0]!.data[0]!.loss_fn_inputs.weights!.toList(), [0, 0, 0, 0, 0]);
  assert.deepEqual(sent[1]!.data[0]!.loss_fn_inputs.weights!.toList(), [1, 1, 1, 1, 1]);
  assert.equal(seen.length, 2);
  assert.equal(out.metrics["tokens:sum"], 10);
  assert.ok(Math.abs(out.metrics["loss:sum"]! - out.metrics["surrogate_loss:sum"]!) < 1e-3);
  // The same gradient as the built-in cross-entropy: one step moves both models alike.
  await builtin.forwardBackward(BATCH, "cross_entropy");
  await custom.optimStep({ learning_rate: 0.1 });
  await builtin.optimStep({ learning_rate: 0.1 });
  const a = loss(await custom.forward(BATCH, "cross_entropy"));
  const b = loss(await builtin.forward(BATCH, "cross_entropy"));
  assert.ok(Math.abs(a - b) < 1e-4, `${a} vs ${b}`);
});

Deno.test("a custom loss whose gradients do not fit fails; the model's later calls still go", async () => {
  await using fake = await startFakeTinker();
  await using client = service(fake);
  const training = await client.createLoraTrainingClient(BASE);
  const bad = training.forwardBackwardCustom(BATCH, () => ({ loss: 1, gradients: [[1]] }));
  const next = training.optimStep();
  const error = await rejection(bad);
  assert.ok(error instanceof InvalidArgumentError, String(error));
  assert.match(error.message, /gradient/);
  await next;
  const [optim] = await requests(fake, "/api/v1/optim_step");
  assert.equal((optim!.json as { seq_id: number }).seq_id, 3); // 2 was the unsent backward pass.
});

Deno.test("the fake's other losses train too, and an unknown input is a failed future", async () => {
  await using fake = await startFakeTinker();
  await using client = service(fake);
  const training = await client.createLoraTrainingClient(BASE);
  const forward = await training.forward(BATCH, "cross_entropy");
  const rl = BATCH.map((d, i): Datum => ({
    model_input: d.model_input,
    loss_fn_inputs: {
      target_tokens: d.loss_fn_inputs.target_tokens!,
      logprobs: forward.loss_fn_outputs[i]!.logprobs!,
      advantages: new TensorData({ data: [1, 1, 1, 1, 1], dtype: "float32" }),
    },
  }));
  for (const lossFn of ["importance_sampling", "ppo", "cispo", "dro"] as const) {
    const out = await training.forwardBackward(rl, lossFn);
    assert.ok(Number.isFinite(loss(out)), lossFn);
  }
  const error = await rejection(training.forwardBackward(BATCH, "importance_sampling"));
  assert.ok(error instanceof RequestFailedError);
  assert.match(error.message, /needs loss_fn_inputs\.logprobs/);
});

Deno.test("arguments are checked before anything is sent", async () => {
  await using fake = await startFakeTinker();
  await using client = service(fake);
  const training: TrainingClient = await client.createLoraTrainingClient(BASE);
  await fake.clearLog();
  const bad: (() => unknown)[] = [
    () => training.forwardBackward([], "cross_entropy"),
    () => training.forwardBackward(BATCH, "mse" as never),
    () => training.forward(BATCH, "cross_entropy", { clip: NaN }),
    () => training.forwardBackward([{ model_input: [1, 2] } as never], "cross_entropy"),
    () =>
      training.forwardBackward([{
        model_input: ModelInput.fromInts([1]),
        loss_fn_inputs: { target_tokens: [[1], [2, 3]] },
      }], "cross_entropy"),
    () => training.forwardBackwardCustom([datum([1, 2])], "nope" as never),
    () =>
      training.forwardBackwardCustom([{
        model_input: ModelInput.fromInts([1]),
        loss_fn_inputs: {},
      }], () => ({ loss: 0, gradients: [] })),
    () => training.optimStep({ learning_rate: -1 }),
    () => training.optimStep({ learningRate: 1 } as never),
    () => training.optimStep({ beta1: Infinity }),
    () => training.saveState(""),
    () => training.saveState("x", { ttlSeconds: 60 }),
    () => training.saveState("x", { overwrite: "yes" as never }),
    () => training.saveWeightsForSampler("x", { userMetadata: { a: 1 as never } }),
    () => training.loadState("weights/x"),
    () => training.forward(BATCH, "cross_entropy", null, { deadline: 1 } as never),
    () => client.createLoraTrainingClient(""),
    () => client.createLoraTrainingClient(BASE, { rank: 0 }),
    () =>
      client.createLoraTrainingClient(BASE, {
        trainMlp: false,
        trainAttn: false,
        trainUnembed: false,
      }),
    () => client.createLoraTrainingClient(BASE, { lora_rank: 8 } as never),
  ];
  for (const [i, call] of bad.entries()) {
    const error = caught(call);
    assert.ok(error instanceof Error && error.name.endsWith("Error"), `case ${i}: ${error}`);
    assert.ok(
      error instanceof InvalidArgumentError || error.name === "TinkerPathError",
      `case ${i}: ${error}`,
    );
  }
  assert.deepEqual(await fake.requests(), []);
});

Deno.test("an unsupported base model and an injected failure are RequestFailedErrors", async () => {
  await using fake = await startFakeTinker();
  await using client = service(fake);
  const error = await rejection(client.createLoraTrainingClient("acme/unknown-1B"));
  assert.ok(error instanceof RequestFailedError);
  assert.match(error.message, /acme\/unknown-1B is not supported/);
  const training = await client.createLoraTrainingClient(BASE);
  await fake.setOptions({
    futureFailure: { requestType: "ForwardBackward", error: "GPU fell over", category: "server" },
  });
  const failed = await rejection(training.forwardBackward(BATCH, "cross_entropy"));
  assert.ok(failed instanceof RequestFailedError);
  assert.equal(failed.category, "server");
  await fake.setOptions({ futureFailure: null });
  assert.ok(loss(await training.forwardBackward(BATCH, "cross_entropy")) > 0);
});

Deno.test({
  name: ".result() blocks on training calls, protobuf replies included",
  ignore: Deno.permissions === undefined, // Deno only: the Bun runner's Deno stand-in cannot spawn
  fn: async () => {
    await using fake = await spawnFakeTinker({
      futureTryAgainCount: 1,
      clientConfig: { fwdbwd_max_chunk_len: 1 },
    });
    const client = service(fake);
    const training = client.createLoraTrainingClient(BASE).result();
    const first = training.forwardBackward(BATCH, "cross_entropy");
    const optim = training.optimStep({ learning_rate: 0.1 });
    const out = first.result();
    optim.result();
    assert.equal(out.loss_fn_outputs.length, 2);
    assert.ok(out.loss_fn_outputs[1]!.logprobs instanceof TensorData);
    const after = training.forward(BATCH, "cross_entropy").result();
    assert.ok(loss(after) < loss(out));
    const custom = training.forwardBackwardCustom(BATCH, (_d, lps) => ({
      loss: 0,
      gradients: lps.map((lp) => lp.map(() => 0)),
    })).result();
    assert.equal(custom.metrics["loss:sum"], 0);
    assert.match(training.saveState("sync").result().path, /\/weights\/sync$/);
    client.close("success").result();
  },
});

Deno.test("a LossHandle runs per datum: losses summed, gradients sent, metrics combined by suffix", async () => {
  await using fake = await startFakeTinker();
  await using client = service(fake);
  const handle = await client.createCustomLoss(function weighted_nll(logprobs, weights, scale) {
    const w = weights!.data, k = scale!.data[0]!;
    const loss = -k * logprobs.reduce((s, lp, i) => s + lp * w[i]!, 0);
    return {
      loss,
      gradient: logprobs.map((_, i) => -k * w[i]!),
      metrics: { "custom/nll:sum": loss, "custom/tokens:mean": logprobs.length },
    };
  }, { logprobs: 1, weights: 1, scale: 0 });
  assert.equal(handle.name, "weighted_nll");
  assert.deepEqual(handle.inputs, [
    { name: "logprobs", rank: 1 },
    { name: "weights", rank: 1 },
    { name: "scale", rank: 0 },
  ]);
  assert.equal(handle.sessionId, client.sessionId);
  assert.equal((await requests(fake, "/api/v1/create_session")).length, 1);
  const training = await client.createLoraTrainingClient(BASE);
  await fake.clearLog();
  const data = [datum([5, 9, 2, 7, 5, 9], [1, 0, 1, 1, 1]), datum([9, 2, 7])].map((d, i) => ({
    ...d,
    loss_fn_inputs: {
      ...d.loss_fn_inputs,
      scale: new TensorData({ data: [i + 1], dtype: "float32", shape: [] }),
    },
  }));
  const out = await training.forwardBackwardCustom(data, handle);
  const sent = (await requests(fake, "/api/v1/forward_backward"))
    .map((r) => decodeForwardBackwardRequest(r.bytes));
  assert.deepEqual(sent.map((r) => r.forward_only), [true, false]);
  // weights = −gradient = scale · weights, per datum.
  assert.deepEqual(sent[1]!.data[0]!.loss_fn_inputs.weights!.toList(), [1, 0, 1, 1, 1]);
  assert.deepEqual(sent[1]!.data[1]!.loss_fn_inputs.weights!.toList(), [2, 2]);
  assert.equal(out.metrics["custom/tokens:mean"], (5 + 2) / 2);
  assert.ok(Math.abs(out.metrics["custom/nll:sum"]! - out.metrics["loss:sum"]!) < 1e-9);
  assert.ok(Math.abs(out.metrics["loss:sum"]! - out.metrics["surrogate_loss:sum"]!) < 1e-3);
});

Deno.test("createCustomLoss and a LossHandle refuse bad inputs at once, naming them", async () => {
  await using fake = await startFakeTinker();
  await using client = service(fake);
  const nll = (lp: Float32Array) => ({ loss: 0, gradient: lp.map(() => 0) });
  for (
    const [ranks, pattern] of [
      [{ weights: 1, logprobs: 1 }, /must start with logprobs/],
      [{ logprobs: 0 }, /inputRanks\.logprobs/],
      [{ logprobs: 1, Weights: 1 }, /inputRanks\.Weights: must be a lowercase name/],
      [{ logprobs: 1, weights: 3 }, /inputRanks\.weights: must be 0, 1 or 2, got 3/],
    ] as const
  ) {
    const error = caught(() => client.createCustomLoss(nll, ranks as never));
    assert.ok(error instanceof InvalidArgumentError);
    assert.match(error.message, pattern);
  }
  assert.deepEqual(await requests(fake, "/api/v1/create_session"), []);
  const handle = await client.createCustomLoss(nll, { logprobs: 1, advantages: 1 });
  const training = await client.createLoraTrainingClient(BASE);
  const missing = caught(() => training.forwardBackwardCustom(BATCH, handle));
  assert.ok(missing instanceof InvalidArgumentError);
  assert.match(missing.message, /data\[0\]\.loss_fn_inputs: has no "advantages"/);
  const twoD = caught(() =>
    training.forwardBackwardCustom([{
      ...BATCH[0]!,
      loss_fn_inputs: {
        ...BATCH[0]!.loss_fn_inputs,
        advantages: new TensorData({ data: [1, 2, 3, 4], dtype: "float32", shape: [2, 2] }),
      },
    }], handle)
  );
  assert.match(
    String(twoD),
    /advantages: has rank 2, but loss "nll" declared advantages with rank 1/,
  );
  await using other = service(fake);
  const foreign = await (await other.createLoraTrainingClient(BASE));
  const error = caught(() => foreign.forwardBackwardCustom(BATCH, handle));
  assert.ok(error instanceof InvalidArgumentError);
  assert.match(
    error.message,
    /was created in session .*; it can only be used by clients of that session/,
  );
});
