import assert from "node:assert/strict";
import {
  accumulateGradient,
  adamStep,
  initialTable,
  newModel,
  promptLogprobs,
  restoreModel,
  sampleSequence,
  saveModel,
  targetLogprobs,
  VOCAB,
} from "./_bigram.ts";
import { prng } from "./_state.ts";

const HYPER = {
  learning_rate: 0.05,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-12,
  weight_decay: 0,
  grad_clip_norm: 0,
};

function crossEntropyStep(model: ReturnType<typeof newModel>, tokens: number[]): number {
  const inputs = tokens.slice(0, -1), targets = tokens.slice(1);
  const lp = targetLogprobs(model.table, inputs, targets);
  accumulateGradient(model, inputs, targets, lp.map(() => -1));
  adamStep(model, HYPER);
  return -lp.reduce((a, b) => a + b, 0);
}

Deno.test("the bigram model's cross-entropy falls under Adam", () => {
  const model = newModel("Qwen/Qwen3-8B");
  const tokens = [5, 9, 2, 7, 5, 9, 2, 7, 5];
  const losses = Array.from({ length: 20 }, () => crossEntropyStep(model, tokens));
  assert.ok(losses.at(-1)! < losses[0]! * 0.75, `losses ${losses.join(", ")}`);
  for (let i = 1; i < losses.length; i++) assert.ok(losses[i]! < losses[i - 1]!);
});

Deno.test("initial tables differ by base model and logprobs are normalised", () => {
  const a = initialTable("Qwen/Qwen3-8B"), b = initialTable("meta-llama/Llama-3.2-1B");
  assert.notDeepEqual(a, b);
  assert.deepEqual(a, initialTable("Qwen/Qwen3-8B"));
  const all = Array.from({ length: VOCAB }, (_, j) => targetLogprobs(a, [3], [j])[0]!);
  assert.ok(Math.abs(all.reduce((s, x) => s + Math.exp(x), 0) - 1) < 1e-12);
  // A token id maps to its index modulo the vocabulary.
  assert.equal(targetLogprobs(a, [3 + VOCAB], [4])[0], targetLogprobs(a, [3], [4 + VOCAB])[0]);
  assert.deepEqual(promptLogprobs(a, [1, 2]), [null, targetLogprobs(a, [1], [2])[0]]);
});

Deno.test("sampling is seeded, greedy at temperature 0, and honours stop and max_tokens", () => {
  const table = initialTable("Qwen/Qwen3-8B");
  const one = sampleSequence(table, [1, 2], { max_tokens: 12 }, prng("s"));
  assert.deepEqual(one, sampleSequence(table, [1, 2], { max_tokens: 12 }, prng("s")));
  assert.equal(one.tokens.length, 12);
  assert.equal(one.stop_reason, "length");
  const greedy = sampleSequence(table, [1], { max_tokens: 1, temperature: 0 }, prng("x"));
  const row = Array.from({ length: VOCAB }, (_, j) => targetLogprobs(table, [1], [j])[0]!);
  assert.equal(greedy.tokens[0], row.indexOf(Math.max(...row)));
  const stopped = sampleSequence(
    table,
    [1, 2],
    { max_tokens: 50, stop: [one.tokens[0]!] },
    prng("s"),
  );
  assert.deepEqual(stopped.tokens, [one.tokens[0]]);
  assert.equal(stopped.stop_reason, "stop");
  const topK = sampleSequence(table, [1], { max_tokens: 1, top_k: 1 }, prng("y"));
  assert.deepEqual(topK.tokens, greedy.tokens);
});

Deno.test("samples change after training and a saved state restores with or without Adam", () => {
  const model = newModel("Qwen/Qwen3-8B");
  const before = sampleSequence(model.table, [5], { max_tokens: 8 }, prng("z"));
  for (let i = 0; i < 30; i++) crossEntropyStep(model, [5, 9, 5, 9, 5, 9]);
  const saved = saveModel(model);
  const after = sampleSequence(model.table, [5], { max_tokens: 8, temperature: 0 }, prng("z"));
  assert.notDeepEqual(after.tokens, before.tokens);
  assert.deepEqual(after.tokens, [9, 5, 9, 5, 9, 5, 9, 5]);
  assert.equal(restoreModel(saved, true).adam.t, 30);
  assert.equal(restoreModel(saved, false).adam.t, 0);
  assert.deepEqual(restoreModel(saved, false).table, model.table);
});
