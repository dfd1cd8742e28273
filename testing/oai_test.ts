// The fake's OpenAI-compatible endpoint answers from its own bigram model:
// trained through `TrainingClient`, saved for sampling, the checkpoint's
// answers change and stay deterministic.

import assert from "node:assert/strict";
import { type Datum, ModelInput, ServiceClient } from "../mod.ts";
import { OpenAIClient } from "../openai_client.ts";
import { startFakeTinker } from "./mod.ts";
import { encode } from "./_tokenizer.ts";

const BASE = "Qwen/Qwen3-8B";
const TEXT = "tinker.";

/** A next-token datum over the fake tokenizer's tokens of `text`. */
function datum(text: string): Datum {
  const tokens = encode(text);
  return {
    model_input: ModelInput.fromInts(tokens.slice(0, -1)),
    loss_fn_inputs: { target_tokens: tokens.slice(1), weights: tokens.slice(1).map(() => 1) },
  };
}

Deno.test("after training, a sampler checkpoint answers from its weights, deterministically per seed", async () => {
  await using fake = await startFakeTinker();
  await using service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
  using oai = new OpenAIClient({ baseUrl: fake.url, apiKey: fake.apiKey });
  const training = await service.createLoraTrainingClient(BASE);
  for (let step = 0; step < 10; step++) {
    await training.forwardBackward([datum(TEXT)], "cross_entropy");
    await training.optimStep({ learning_rate: 0.3 });
  }
  const { path } = await training.saveWeightsForSampler("trained");
  assert.ok(path?.startsWith("tinker://") && path.includes("/sampler_weights/"), path);

  const chat = async (model: string, extra: Record<string, unknown> = {}) => {
    const answer = await oai.chatCompletion({
      model,
      messages: [{ role: "user", content: "t" }],
      ...extra,
    });
    return { text: answer.choices[0]!.message.content, finish: answer.choices[0]!.finish_reason };
  };

  // Greedy: the checkpoint continues "t" with what it learned; the base model does not.
  assert.deepEqual(await chat(path, { temperature: 0 }), { text: "inker.", finish: "stop" });
  assert.deepEqual(await chat(`${BASE};${path}`, { temperature: 0 }), {
    text: "inker.",
    finish: "stop",
  });
  assert.notEqual((await chat(BASE, { temperature: 0, max_tokens: 6 })).text, "inker.");

  // Sampled with a fixed seed: the same answer every time, not the base model's.
  const seeded = await chat(path, { seed: 7, max_tokens: 40 });
  assert.deepEqual(await chat(path, { seed: 7, max_tokens: 40 }), seeded);
  const base = await chat(BASE, { seed: 7, max_tokens: 40 });
  assert.deepEqual(await chat(BASE, { seed: 7, max_tokens: 40 }), base);
  assert.notEqual(seeded.text, base.text);

  // max_tokens and stop, streamed as not.
  assert.deepEqual(await chat(path, { temperature: 0, max_tokens: 3 }), {
    text: "ink",
    finish: "length",
  });
  assert.deepEqual(await chat(path, { temperature: 0, stop: ["ke"] }), {
    text: "in",
    finish: "stop",
  });
  const streamed = await oai.streamCompletion({ model: path, prompt: "t", temperature: 0 }).text();
  assert.equal(streamed, "inker.");
  const whole = await oai.completion({ model: path, prompt: "t", seed: 7, max_tokens: 40 });
  assert.equal(
    await oai.streamCompletion({ model: path, prompt: "t", seed: 7, max_tokens: 40 }).text(),
    whole.choices[0]!.text,
  );
});

Deno.test("bad sampling settings are a 400 naming the value", async () => {
  await using fake = await startFakeTinker();
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ temperature: -1 }, /temperature must be a number from 0 to 2, got -1/],
    [{ temperature: "hot" }, /temperature must be a number from 0 to 2, got "hot"/],
    [{ seed: 1.5 }, /seed must be an integer, got 1\.5/],
    [{ stop: [""] }, /stop must be a non-empty string or an array of up to 4 of them, got \[""\]/],
    [{ stop: 3 }, /stop must be .*, got 3/],
    [{ max_tokens: 0 }, /max_tokens must be a positive integer, got 0/],
  ];
  for (const [extra, message] of cases) {
    const res = await fetch(`${fake.url}/oai/api/v1/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${fake.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: BASE, prompt: "t", ...extra }),
    });
    assert.equal(res.status, 400, JSON.stringify(extra));
    const body = await res.json() as { error: { message: string } };
    assert.match(body.error.message, message);
  }
});
