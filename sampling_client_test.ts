import assert from "node:assert/strict";
import { rejection } from "./tests/_assert.ts";
import {
  ApiTimeoutError,
  ApiUserAbortError,
  InvalidArgumentError,
  ModelInput,
  RequestFailedError,
  SamplingClient,
  ServiceClient,
  type ServiceClientOptions,
  TensorData,
  TinkerError,
  TinkerPathError,
  tokenizerIdFor,
} from "./mod.ts";
import {
  FAKE_IDS,
  type FakeTinker,
  type RecordedRequest,
  spawnFakeTinker,
  startFakeTinker,
} from "./testing/mod.ts";
import { initialTable, promptLogprobs, topLogprobs } from "./testing/_bigram.ts";

const BASE = "Qwen/Qwen3-8B";
const PROMPT = ModelInput.fromInts([3, 1, 4, 1, 5]);

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

Deno.test("createSamplingClient from a base model creates one sampling session and samples from it", async () => {
  await using fake = await startFakeTinker();
  await using client = service(fake);
  const sampler = await client.createSamplingClient({ baseModel: BASE });
  assert.ok(sampler instanceof SamplingClient);
  assert.equal(sampler.getBaseModel(), BASE);
  assert.equal(sampler.samplingSessionId, `${client.sessionId}:sample:0`);
  const [created] = await requests(fake, "/api/v1/create_sampling_session");
  assert.equal(
    created!.body,
    JSON.stringify({
      session_id: client.sessionId,
      sampling_session_seq_id: 0,
      base_model: BASE,
      type: "create_sampling_session",
    }),
  );

  const result = await sampler.sample(PROMPT, 3, { max_tokens: 4, seed: 11 });
  assert.equal(result.sequences.length, 3);
  for (const [i, seq] of result.sequences.entries()) {
    assert.equal(seq.tokens.length, 4);
    assert.equal(seq.logprobs?.length, 4);
    assert.equal(seq.stop_reason, "length");
    assert.equal(seq.sequence_id, `${sampler.samplingSessionId}:seq:${i}`);
  }
  assert.equal(result.prompt_logprobs, null);

  const [asample] = await requests(fake, "/api/v1/asample");
  assert.equal(
    asample!.body,
    JSON.stringify({
      num_samples: 3,
      prompt: { chunks: [{ tokens: [3, 1, 4, 1, 5], type: "encoded_text" }] },
      sampling_params: { max_tokens: 4, seed: 11, temperature: 1, top_k: -1, top_p: 1 },
      sampling_session_id: sampler.samplingSessionId,
      seq_id: 0,
      prompt_logprobs: false,
      topk_prompt_logprobs: 0,
      topk_sample_logprobs: 0,
      prompt_alt_tokens_k: 0,
      record_stability_info: false,
      type: "sample",
    }),
  );
  assert.equal(asample!.headers["x-tinker-sampling-backpressure"], "1");
  const polls = await requests(fake, "/api/v1/retrieve_future");
  assert.equal(polls.length, 1, "the long-poll said it was done: one fetch of the payload");
  assert.equal(polls[0]!.headers["accept"], "application/x-protobuf");
  assert.equal(polls[0]!.headers["x-tinker-request-type"], "Sample");
  assert.deepEqual(polls[0]!.json, {
    request_id: (JSON.parse(polls[0]!.body)).request_id,
    allow_metadata_only: false,
  });
});

Deno.test("samples are deterministic per seed and follow the sampler's weights", async () => {
  await using fake = await startFakeTinker();
  await using client = service(fake);
  const sampler = await client.createSamplingClient({ baseModel: BASE });
  const a = await sampler.sample(PROMPT, 2, { max_tokens: 8, seed: 5 });
  const b = await sampler.sample(PROMPT, 2, { max_tokens: 8, seed: 5 });
  const c = await sampler.sample(PROMPT, 2, { max_tokens: 8, seed: 6 });
  assert.deepEqual(a.sequences.map((s) => s.tokens), b.sequences.map((s) => s.tokens));
  assert.notDeepEqual(a.sequences.map((s) => s.tokens), c.sequences.map((s) => s.tokens));
  // temperature 0 picks the likeliest token after the last one.
  const greedy = await sampler.sample(PROMPT, 1, { max_tokens: 1, temperature: 0 });
  const [best] = topLogprobs(initialTable(BASE), 5, 1);
  assert.equal(greedy.sequences[0]!.tokens[0], best![0]);
  // Sequence ids go on across calls of the sampling session.
  assert.equal(c.sequences[1]!.sequence_id, `${sampler.samplingSessionId}:seq:5`);
  const seqIds = (await requests(fake, "/api/v1/asample")).map((r) =>
    (r.json as { seq_id: number }).seq_id
  );
  assert.deepEqual(seqIds, [0, 1, 2, 3]);
});

Deno.test("prompt logprobs and top-k prompt logprobs are the model's", async () => {
  await using fake = await startFakeTinker();
  await using client = service(fake);
  const sampler = await client.createSamplingClient({ baseModel: BASE });
  const result = await sampler.sample(PROMPT, 1, { max_tokens: 2 }, {
    includePromptLogprobs: true,
    topkPromptLogprobs: 3,
    topkSampleLogprobs: 2,
  });
  const expected = promptLogprobs(initialTable(BASE), PROMPT.toInts());
  assert.equal(result.prompt_logprobs!.length, 5);
  assert.equal(result.prompt_logprobs![0], null);
  for (let i = 1; i < 5; i++) {
    assert.equal(result.prompt_logprobs![i], Math.fround(expected[i]!));
  }
  const topk = result.topk_prompt_logprobs!;
  assert.equal(topk.length, 5);
  assert.equal(topk.k, 3);
  const top = topLogprobs(initialTable(BASE), 4, 3); // Position 3 follows token 4.
  assert.deepEqual([...topk.token_ids.subarray(9, 12)], top.map(([id]) => id));
  assert.equal(result.sequences[0]!.topk_logprobs!.k, 2);
  const body = (await requests(fake, "/api/v1/asample"))[0]!.json as Record<string, unknown>;
  assert.equal(body.prompt_logprobs, true);
  assert.equal(body.topk_prompt_logprobs, 3);
  assert.equal(body.topk_sample_logprobs, 2);
});

Deno.test("computeLogprobs scores the prompt with one one-token sample", async () => {
  await using fake = await startFakeTinker();
  await using client = service(fake);
  const sampler = await client.createSamplingClient({ baseModel: BASE });
  const logprobs = await sampler.computeLogprobs(PROMPT);
  const expected = promptLogprobs(initialTable(BASE), PROMPT.toInts());
  assert.deepEqual(logprobs, expected.map((x) => (x === null ? null : Math.fround(x))));
  const last = await sampler.computeLogprobs(PROMPT, { promptLogprobsLastN: 2 });
  assert.deepEqual(last.slice(0, 3), [null, null, null]);
  assert.equal(last[4], Math.fround(expected[4]!));
  const bodies = (await requests(fake, "/api/v1/asample")).map((r) =>
    r.json as Record<string, unknown>
  );
  assert.deepEqual(bodies[0]!.sampling_params, {
    max_tokens: 1,
    temperature: 1,
    top_k: -1,
    top_p: 1,
  });
  assert.equal(bodies[0]!.num_samples, 1);
  assert.equal(bodies[0]!.prompt_logprobs, true);
  assert.equal(bodies[1]!.prompt_logprobs_last_n, 2);
});

Deno.test("createSamplingClient from a sampler checkpoint asks the server for its base model", async () => {
  await using fake = await startFakeTinker();
  await using client = service(fake);
  const sampler = await client.createSamplingClient({ modelPath: FAKE_IDS.publicCheckpointPath });
  const run = fake.state!.runs.get(FAKE_IDS.run)!;
  assert.equal(sampler.getBaseModel(), run.base_model);
  assert.equal(sampler.getTokenizerId(), tokenizerIdFor(run.base_model));
  const [created] = await requests(fake, "/api/v1/create_sampling_session");
  assert.deepEqual(created!.json, {
    session_id: client.sessionId,
    sampling_session_seq_id: 0,
    model_path: FAKE_IDS.publicCheckpointPath,
    type: "create_sampling_session",
  });
  const [get] = await requests(fake, `/api/v1/samplers/${sampler.samplingSessionId}`);
  assert.equal(get!.method, "GET");
  const second = await client.createSamplingClient({ baseModel: BASE });
  assert.equal(second.samplingSessionId, `${client.sessionId}:sample:1`);
  await assert.rejects(
    client.createSamplingClient({ modelPath: `tinker://${FAKE_IDS.run}/sampler_weights/nope` }),
    (e: unknown) => e instanceof TinkerError && /Sampler checkpoint not found/.test(e.message),
  );
});

Deno.test("the long-poll is shared: concurrent samples each fetch their payload once", async () => {
  await using fake = await startFakeTinker({ futureDelayMs: 150 });
  await using client = service(fake);
  const sampler = await client.createSamplingClient({ baseModel: BASE });
  const results = await Promise.all(
    Array.from({ length: 6 }, (_, i) => sampler.sample(PROMPT, 1, { max_tokens: 2, seed: i })),
  );
  assert.equal(results.length, 6);
  const fetches = await requests(fake, "/api/v1/retrieve_future");
  assert.equal(fetches.length, 6);
  const polls = (await requests(fake, "/api/v1/retrieve_futures")).map((r) =>
    r.json as {
      target: unknown;
      prev_cursor: number;
      timeout?: number;
      retrieved_request_ids: string[];
    }
  );
  assert.ok(polls.length >= 1);
  assert.deepEqual(polls[0]!.target, {
    type: "sampling_session",
    sampling_session_id: sampler.samplingSessionId,
    cloned_sampler_id: 0,
  });
  assert.equal(polls[0]!.prev_cursor, 0);
  // Once no sample waits, an ack-only poll reports every result read (it runs in the background).
  for (let i = 0; i < 100; i++) {
    const sampling = [
      ...(await import("./testing/_routes_sampling.ts")).samplingSessions(fake.state!).values(),
    ][0]!;
    if (sampling.retrieved.size === 6) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const all = (await requests(fake, "/api/v1/retrieve_futures")).map((r) =>
    r.json as {
      timeout?: number;
      retrieved_request_ids: string[];
    }
  );
  const acked = new Set(all.flatMap((p) => p.retrieved_request_ids));
  assert.equal(acked.size, 6);
  assert.equal(all.at(-1)!.timeout, 0);
});

Deno.test("without sample_use_retrieve_futures, a sample polls its own future", async () => {
  await using fake = await startFakeTinker({
    futureDelayMs: 50,
    clientConfig: { sample_use_retrieve_futures: false },
  });
  await using client = service(fake);
  const sampler = await client.createSamplingClient({ baseModel: BASE });
  const result = await sampler.sample(PROMPT, 1, { max_tokens: 3 });
  assert.equal(result.sequences[0]!.tokens.length, 3);
  assert.equal((await requests(fake, "/api/v1/retrieve_futures")).length, 0);
  const first = (await requests(fake, "/api/v1/retrieve_future"))[0]!.json;
  assert.equal((first as { allow_metadata_only: boolean }).allow_metadata_only, true);
});

Deno.test("queue states reach onQueueStateChange, then active once the sample is done", async () => {
  await using fake = await startFakeTinker({
    futureTryAgainCount: 2,
    futureQueueState: "paused_capacity",
  });
  await using client = service(fake);
  const seen: [string, string | undefined][] = [];
  const sampler = await client.createSamplingClient({
    baseModel: BASE,
    onQueueStateChange: (state, reason) => seen.push([state, reason]),
  });
  await sampler.sample(PROMPT, 1, { max_tokens: 1 });
  assert.deepEqual(seen, [["paused_capacity", "Waiting for capacity"], ["active", undefined]]);
});

Deno.test("a failed sample rejects with RequestFailedError", async () => {
  await using fake = await startFakeTinker({
    futureFailure: { error: "sampler crashed", category: "server", requestType: "Sample" },
  });
  await using client = service(fake);
  const sampler = await client.createSamplingClient({ baseModel: BASE });
  const error = await rejection(sampler.sample(PROMPT, 1, { max_tokens: 1 }));
  assert.ok(error instanceof RequestFailedError, String(error));
  assert.match(error.message, /sampler crashed/);
  const [poll] = await requests(fake, "/api/v1/retrieve_futures");
  assert.ok(poll);
});

Deno.test("a signal that fires stops the wait and cancels the server's sample", async () => {
  await using fake = await startFakeTinker({ futureDelayMs: 60_000 });
  await using client = service(fake);
  const sampler = await client.createSamplingClient({ baseModel: BASE });
  const controller = new AbortController();
  const pending = sampler.sample(PROMPT, 1, { max_tokens: 1 }, { signal: controller.signal });
  setTimeout(() => controller.abort(), 100);
  const error = await rejection(pending);
  assert.ok(error instanceof ApiUserAbortError, String(error));
  const [cancel] = await requests(fake, "/api/v1/cancel_future");
  assert.ok(cancel, "cancel_future was sent");
  assert.ok([...fake.state!.futures.values()].some((f) => f.cancelled));
  await fake.setOptions({ futureDelayMs: 0 });
});

Deno.test({
  name: ".result() samples without await",
  ignore: Deno.permissions === undefined, // Deno only: the Bun runner's Deno stand-in cannot spawn
}, async () => {
  await using fake = await spawnFakeTinker({ futureDelayMs: 50 });
  using client = service(fake);
  const sampler = client.createSamplingClient({ baseModel: BASE }).result();
  const result = sampler.sample(PROMPT, 2, { max_tokens: 3, seed: 1 }).result();
  assert.equal(result.sequences.length, 2);
  const logprobs = sampler.computeLogprobs(PROMPT).result();
  assert.equal(logprobs.length, 5);
  const again = await sampler.sample(PROMPT, 2, { max_tokens: 3, seed: 1 });
  assert.deepEqual(again.sequences.map((s) => s.tokens), result.sequences.map((s) => s.tokens));
});

Deno.test("bad arguments are refused before anything is sent", async () => {
  await using fake = await startFakeTinker();
  await using client = service(fake);
  assert.throws(() => client.createSamplingClient({}), InvalidArgumentError);
  assert.throws(
    () =>
      client.createSamplingClient({ baseModel: BASE, modelPath: FAKE_IDS.publicCheckpointPath }),
    InvalidArgumentError,
  );
  assert.throws(() => client.createSamplingClient({ modelPath: "s3://x" }), TinkerPathError);
  assert.throws(
    () => client.createSamplingClient({ baseModel: BASE, modelPth: "x" } as never),
    /modelPth.*modelPath/,
  );
  const sampler = await client.createSamplingClient({ baseModel: BASE });
  const before = (await fake.requests()).length;
  assert.throws(() => sampler.sample([1, 2] as never, 1, {}), /prompt.*ModelInput/);
  assert.throws(() => sampler.sample(PROMPT, 0, {}), /numSamples/);
  assert.throws(() => sampler.sample(PROMPT, 1, { max_tokens: 0 }), /max_tokens/);
  assert.throws(() => sampler.sample(PROMPT, 1, { top_p: 0 }), /top_p/);
  assert.throws(() => sampler.sample(PROMPT, 1, { temperature: -1 }), /temperature/);
  assert.throws(() => sampler.sample(PROMPT, 1, { maxTokens: 3 } as never), /maxTokens/);
  assert.throws(
    () => sampler.sample(PROMPT, 1, {}, { promptLogprobsLastN: 2 }),
    /includePromptLogprobs/,
  );
  assert.throws(
    () => sampler.sample(PROMPT, 1, {}, { topkPromptLogprobs: -1 }),
    /topkPromptLogprobs/,
  );
  assert.throws(() => new SamplingClient(), /ServiceClient.createSamplingClient/);
  assert.equal((await fake.requests()).length, before);
});

Deno.test("getServerCapabilities lists the models, with no session", async () => {
  await using fake = await startFakeTinker();
  await using client = service(fake);
  const { supported_models } = await client.getServerCapabilities();
  assert.ok(supported_models.some((m) => m.model_name === BASE && m.sampleable));
  assert.equal(client.sessionId, undefined);
});

Deno.test("tokenizerIdFor follows the SDK's rules", () => {
  assert.equal(tokenizerIdFor("Qwen/Qwen3-8B"), "Qwen/Qwen3-8B");
  assert.equal(tokenizerIdFor("Qwen/Qwen3-8B:peft"), "Qwen/Qwen3-8B");
  assert.equal(tokenizerIdFor("org/model/variant"), "org/model");
  assert.equal(
    tokenizerIdFor("meta-llama/Llama-3.1-8B"),
    "thinkingmachineslabinc/meta-llama-3-instruct-tokenizer",
  );
  assert.equal(tokenizerIdFor("x/y", "tok/z"), "tok/z");
});

Deno.test("a sampler handle carries no key, and a client of it joins the sampling session", async () => {
  await using fake = await startFakeTinker({
    clientConfig: { sample_join_sampling_session: true },
  });
  await using client = service(fake);
  const sampler = await client.createSamplingClient({ baseModel: BASE });
  const handle = sampler.getSamplerHandle();
  assert.ok(!handle.includes(fake.apiKey));
  const worker = SamplingClient.fromSamplerHandle(handle, { apiKey: fake.apiKey });
  assert.equal(worker.samplingSessionId, sampler.samplingSessionId);
  assert.equal(worker.getBaseModel(), BASE);
  const [a, b] = await Promise.all([
    worker.sample(PROMPT, 1, { max_tokens: 2, seed: 9 }),
    worker.sample(PROMPT, 1, { max_tokens: 2, seed: 9 }),
  ]);
  assert.deepEqual(a!.sequences[0]!.tokens, b!.sequences[0]!.tokens);
  const joins = await requests(fake, "/api/v1/join_sampling_session");
  assert.equal(joins.length, 1, "one join for concurrent first samples");
  assert.equal(
    joins[0]!.body,
    JSON.stringify({
      sampling_session_id: sampler.samplingSessionId,
      type: "join_sampling_session",
    }),
  );
  const seqIds = (await requests(fake, "/api/v1/asample")).map((r) =>
    (r.json as { seq_id: number }).seq_id
  );
  assert.deepEqual(seqIds, [1_000_000_000, 1_000_000_001], "clone 1's block of sequence ids");
  const polls = (await requests(fake, "/api/v1/retrieve_futures")).map((r) =>
    (r.json as { target: { cloned_sampler_id: number } }).target.cloned_sampler_id
  );
  assert.ok(polls.length > 0 && polls.every((id) => id === 1));
  // No session of its own: nothing created, no heartbeat from the worker.
  assert.equal((await requests(fake, "/api/v1/create_session")).length, 1);
});

Deno.test("without sample_join_sampling_session, a handle's client picks its own clone id", async () => {
  await using fake = await startFakeTinker();
  await using client = service(fake);
  const sampler = await client.createSamplingClient({ baseModel: BASE });
  const worker = SamplingClient.fromSamplerHandle(sampler.getSamplerHandle(), {
    apiKey: fake.apiKey,
  });
  await worker.sample(PROMPT, 1, { max_tokens: 1 });
  assert.equal((await requests(fake, "/api/v1/join_sampling_session")).length, 0);
  const [seq] = (await requests(fake, "/api/v1/asample")).map((r) =>
    (r.json as { seq_id: number }).seq_id
  );
  assert.ok(seq! >= 1_000_000_000 && seq! % 1_000_000_000 === 0, String(seq));
  assert.throws(() => SamplingClient.fromSamplerHandle("nope"), /handle.*not a sampler handle/);
  assert.throws(() => SamplingClient.fromSamplerHandle(btoa("{}")), /no session_id/);
});

const PYTHON = new URL("./.venv/bin/python", import.meta.url).pathname;
const hasPython = (() => {
  try {
    return Deno.statSync(PYTHON).isFile;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "sampler handles cross between the Python SDK and this client, both ways",
  ignore: Deno.permissions === undefined || !hasPython,
}, async () => {
  await using fake = await spawnFakeTinker();
  const python = async (script: string, ...args: string[]) => {
    const out = await new Deno.Command(PYTHON, {
      args: ["-c", script, fake.url, fake.apiKey, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    return new TextDecoder().decode(out.stdout).trim();
  };
  // The SDK's handle, sampled from here.
  const theirs = await python(
    `import sys, tinker
s = tinker.ServiceClient(base_url=sys.argv[1], api_key=sys.argv[2])
print(s.create_sampling_client(base_model="${BASE}").result().get_sampler_handle())`,
  );
  const fromPython = SamplingClient.fromSamplerHandle(theirs, { apiKey: fake.apiKey });
  assert.equal(fromPython.getBaseModel(), BASE);
  const ours = await fromPython.sample(PROMPT, 1, { max_tokens: 3, seed: 4 });
  assert.equal(ours.sequences[0]!.tokens.length, 3);
  // Our handle, sampled by the SDK: the same seed gives the same tokens.
  await using client = service(fake);
  const sampler = await client.createSamplingClient({ baseModel: BASE });
  const tokens = await python(
    `import sys, tinker
from tinker import types
c = tinker.SamplingClient.from_sampler_handle(sys.argv[3], api_key=sys.argv[2])
r = c.sample(types.ModelInput.from_ints([3, 1, 4, 1, 5]), 1, types.SamplingParams(max_tokens=3, seed=4)).result()
print(list(r.sequences[0].tokens))`,
    sampler.getSamplerHandle(),
  );
  assert.equal(tokens, JSON.stringify(ours.sequences[0]!.tokens).replaceAll(",", ", "));
});

Deno.test("samples follow training: a sampler checkpoint saved after steps samples its weights", async () => {
  await using fake = await startFakeTinker();
  await using client = service(fake);
  const training = await client.createLoraTrainingClient(BASE);
  const pattern = [5, 9, 2, 7];
  const tokens = Array.from({ length: 17 }, (_, i) => pattern[i % 4]!);
  const data = [{
    model_input: ModelInput.fromInts(tokens.slice(0, -1)),
    loss_fn_inputs: { target_tokens: tokens.slice(1), weights: tokens.slice(1).map(() => 1) },
  }];
  const before = await training.saveWeightsForSampler("before");
  for (let step = 0; step < 30; step++) {
    await training.forwardBackward(data, "cross_entropy");
    await training.optimStep({ learning_rate: 0.1 });
  }
  const after = await training.saveWeightsForSampler("after");
  const base = await client.createSamplingClient({ modelPath: before.path! });
  const trained = await client.createSamplingClient({ modelPath: after.path! });
  assert.equal(trained.getBaseModel(), BASE);
  const prompt = ModelInput.fromInts([5, 9, 2, 7, 5]);
  const greedy = { max_tokens: 8, temperature: 0 };
  const [a, b] = await Promise.all([
    base.sample(prompt, 1, greedy),
    trained.sample(prompt, 1, greedy),
  ]);
  assert.deepEqual(b.sequences[0]!.tokens, [9, 2, 7, 5, 9, 2, 7, 5], "the trained pattern");
  assert.notDeepEqual(a.sequences[0]!.tokens, b.sequences[0]!.tokens);
  const [lpBase, lpTrained] = await Promise.all([
    base.computeLogprobs(prompt),
    trained.computeLogprobs(prompt),
  ]);
  const sum = (xs: (number | null)[]) => xs.reduce<number>((s, x) => s + (x ?? 0), 0);
  assert.ok(sum(lpTrained) > sum(lpBase), "the trained weights find the pattern likelier");
});

Deno.test({
  name: "sampling with await needs only fetch: no Worker or SharedArrayBuffer (an edge function)",
  ignore: Deno.permissions === undefined, // Deno only: it spawns a Deno subprocess
}, async () => {
  await using fake = await startFakeTinker({ futureDelayMs: 20 });
  const mod = new URL("./mod.ts", import.meta.url).href;
  const code = `
    for (const name of ["Worker", "SharedArrayBuffer"]) delete globalThis[name];
    const { ModelInput, ServiceClient, SyncUnavailableError } = await import(${
    JSON.stringify(mod)
  });
    const service = new ServiceClient({ baseUrl: ${JSON.stringify(fake.url)},
      apiKey: ${JSON.stringify(fake.apiKey)}, env: {} });
    const sampler = await service.createSamplingClient({ baseModel: "Qwen/Qwen3-8B" });
    const prompt = ModelInput.fromInts([1, 2, 3]);
    const { sequences } = await sampler.sample(prompt, 2, { max_tokens: 3 });
    let refused = false;
    try { sampler.sample(prompt, 1, { max_tokens: 1 }).result(); }
    catch (e) { refused = e instanceof SyncUnavailableError; }
    await service.close();
    console.log(JSON.stringify({ n: sequences.length, refused, worker: typeof Worker }));`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=js", code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const report = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
  assert.deepEqual(report, { n: 2, refused: true, worker: "undefined" });
});

Deno.test("a 429 on asample and a 503 on the long-poll are retried; a 400 fails the sample", async () => {
  await using fake = await startFakeTinker();
  await using client = service(fake);
  const sampler = await client.createSamplingClient({ baseModel: BASE });
  await fake.inject({ path: "/api/v1/asample", status: 429, times: 1 });
  await fake.inject({ path: "/api/v1/retrieve_futures", status: 503, times: 1 });
  const result = await sampler.sample(PROMPT, 1, { max_tokens: 2 });
  assert.equal(result.sequences.length, 1);
  assert.equal((await requests(fake, "/api/v1/asample")).length, 2);
  assert.equal(
    (await requests(fake, "/api/v1/asample")).map((r) => r.headers["x-idempotency-key"])
      .filter((k, i, all) => all.indexOf(k) === i).length,
    1,
    "the resend is the same request",
  );
  await fake.inject({ path: "/api/v1/asample", status: 400, times: 1 });
  await assert.rejects(sampler.sample(PROMPT, 1, { max_tokens: 2 }), /400/);
});

Deno.test("target prompt logprobs (dense and sparse) and prompt alternatives are the model's", async () => {
  await using fake = await startFakeTinker();
  await using client = service(fake);
  const sampler = await client.createSamplingClient({ baseModel: BASE });
  const table = initialTable(BASE);
  const prompt = PROMPT.toInts(); // [3, 1, 4, 1, 5]
  const lp = (prev: number, id: number) =>
    Math.fround(topLogprobs(table, prev, 64).find(([t]) => t === id)![1]);
  const dense = new TensorData({
    data: [7, -1, 8, 9, -1, -1, 2, 3],
    dtype: "int64",
    shape: [4, 2],
  });
  const result = await sampler.sample(PROMPT, 1, { max_tokens: 1 }, {
    targetPromptLogprobs: dense,
    promptAltTokensK: 3,
  });
  const scored = result.target_prompt_logprobs!;
  assert.deepEqual(scored.shape, [4, 2]);
  assert.deepEqual(Array.from(scored.data), [
    lp(3, 7),
    0,
    lp(1, 8),
    lp(1, 9),
    0,
    0,
    lp(1, 2),
    lp(1, 3),
  ]);
  const alt = result.prompt_alt_tokens!;
  assert.deepEqual(alt.tokens.shape, [4, 3]);
  assert.deepEqual(alt.logprobs.shape, [4, 3]);
  Array.from(alt.tokens.data).forEach((id, i) => {
    assert.equal(alt.logprobs.data[i], lp(prompt[Math.floor(i / 3)]!, id));
  });
  const body = (await requests(fake, "/api/v1/asample"))[0]!.json as Record<string, unknown>;
  assert.deepEqual(body.target_prompt_logprobs, {
    data: [7, -1, 8, 9, -1, -1, 2, 3],
    dtype: "int64",
    shape: [4, 2],
  });
  assert.equal(body.prompt_alt_tokens_k, 3);

  const sparse = new TensorData({
    data: [6, 2],
    dtype: "int64",
    shape: [4, 1],
    sparse_crow_indices: [0, 0, 1, 1, 2],
    sparse_col_indices: [0, 0],
  });
  const only = await sampler.sample(PROMPT, 1, { max_tokens: 1 }, { targetPromptLogprobs: sparse });
  const out = only.target_prompt_logprobs!;
  assert.deepEqual(out.sparse_crow_indices, [0, 0, 1, 1, 2]);
  assert.deepEqual(Array.from(out.data), [lp(1, 6), lp(1, 2)]);
  assert.throws(
    () =>
      sampler.sample(PROMPT, 1, {}, {
        targetPromptLogprobs: new TensorData({ data: [1], dtype: "float32" }),
      }),
    /targetPromptLogprobs.*int64/,
  );
  assert.throws(() => sampler.sample(PROMPT, 1, {}, { promptAltTokensK: -1 }), /promptAltTokensK/);
});

Deno.test("a server that ignores promptAltTokensK or promptLogprobsLastN fails the sample, as the SDK does", async () => {
  // A server that predates the fields answers as if they were not there (no long poll either).
  await using fake = await startFakeTinker({
    clientConfig: { sample_use_retrieve_futures: false },
  });
  await using client = service(fake, { maxRetries: 0 });
  const sampler = await client.createSamplingClient({ baseModel: BASE });
  await fake.inject({
    path: "/api/v1/asample",
    status: 200,
    body: { request_id: "old-server" },
    times: 1,
  });
  fake.state!.futures.set("old-server", {
    request_id: "old-server",
    request_type: "Sample",
    ready_at: 0,
    try_again_left: 0,
    outcome: {
      result: {
        sequences: [{ tokens: [1], logprobs: [-1], stop_reason: "length" }],
        prompt_logprobs: [null, -1, -2, -3, -4],
      },
    },
    cancelled: false,
    polls: 0,
  });
  await assert.rejects(
    sampler.sample(PROMPT, 1, { max_tokens: 1 }, {
      includePromptLogprobs: true,
      promptLogprobsLastN: 2,
    }),
    (e: unknown) =>
      e instanceof TinkerError && /promptLogprobsLastN=2.*may predate/.test(e.message),
  );
});

Deno.test("deadlineMs bounds the wait on the long poll: ApiTimeoutError, and the sample is cancelled", async () => {
  await using fake = await startFakeTinker({ futureDelayMs: 60_000 });
  await using client = service(fake);
  const sampler = await client.createSamplingClient({ baseModel: BASE });
  const error = await rejection(sampler.sample(PROMPT, 1, { max_tokens: 1 }, { deadlineMs: 200 }));
  assert.ok(error instanceof ApiTimeoutError, String(error));
  assert.match(error.message, /deadline/);
  assert.equal((await requests(fake, "/api/v1/cancel_future")).length, 1);
  await fake.setOptions({ futureDelayMs: 0 });
});
