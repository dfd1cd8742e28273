/**
 * The Tinker SDK's first tutorial (supervised fine-tuning on Pig Latin),
 * ported to TypeScript and run against the standalone fake Tinker server
 * (spawned in a child process: no account, no network). It prints the loss
 * per token as it falls, step by step, then samples from the trained weights
 * and from the base model side by side (the sampling loop).
 *
 * ```sh
 * deno task demo:train
 * ```
 *
 * The fake's model is a tiny bigram table over 64 token ids (see
 * `testing/_bigram.ts`), so this demo tokenizes with a stand-in: one token per
 * character. Against a real model, load the tokenizer `getTokenizerId()` names
 * from npm (e.g. `@huggingface/transformers`' `AutoTokenizer`) instead.
 *
 * @module
 */
import process from "node:process";
import { type Datum, ModelInput, ServiceClient } from "../mod.ts";
import { spawnFakeTinker } from "../testing/mod.ts";

const EXAMPLES = [
  { input: "banana split", output: "anana-bay plit-say" },
  { input: "quantum physics", output: "uantum-qay ysics-phay" },
  { input: "donut shop", output: "onut-day op-shay" },
  { input: "pickle jar", output: "ickle-pay ar-jay" },
  { input: "space exploration", output: "ace-spay exploration-way" },
  { input: "rubber duck", output: "ubber-ray uck-day" },
  { input: "coding wizard", output: "oding-cay izard-way" },
];

/** The stand-in tokenizer: one token per character (its code point). */
const encode = (text: string): number[] => Array.from(text, (c) => c.codePointAt(0)!);

/**
 * One training example, as the tutorial's `process_example`: the prompt's
 * tokens weigh 0, the completion's 1; the model reads tokens `[0, n-1)` and
 * predicts tokens `[1, n)`.
 */
function processExample(example: { input: string; output: string }): Datum {
  const prompt = encode(`English: ${example.input}\nPig Latin:`);
  const completion = encode(` ${example.output}\n\n`);
  const tokens = [...prompt, ...completion];
  const weights = [...prompt.map(() => 0), ...completion.map(() => 1)];
  return {
    model_input: ModelInput.fromInts(tokens.slice(0, -1)),
    loss_fn_inputs: { target_tokens: tokens.slice(1), weights: weights.slice(1) },
  };
}

/**
 * The stand-in tokenizer's decoder for the fake's samples: the fake's model
 * knows token ids modulo 64, so each sampled id reads as the character of the
 * training data that most often had that id.
 */
function standInDecoder(data: readonly Datum[]): (tokens: readonly number[]) => string {
  const counts = new Map<number, Map<number, number>>();
  for (const d of data) {
    for (const t of [...d.model_input.toInts(), ...d.loss_fn_inputs.target_tokens as number[]]) {
      const byChar = counts.get(t % 64) ?? new Map<number, number>();
      byChar.set(t, (byChar.get(t) ?? 0) + 1);
      counts.set(t % 64, byChar);
    }
  }
  const best = (id: number) => {
    const byChar = [...(counts.get(id % 64) ?? new Map<number, number>())];
    return byChar.length ? byChar.sort((a, b) => b[1] - a[1])[0]![0] : 0x3f; // "?"
  };
  return (tokens) => String.fromCodePoint(...tokens.map(best));
}

const fake = await spawnFakeTinker();
try {
  process.stdout.write(`A fake Tinker server is running at ${fake.url} (a child process)\n`);
  await using service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
  const training = await service.createLoraTrainingClient("Qwen/Qwen3-8B", { rank: 32 });
  process.stdout.write(
    `Training ${training.modelId} (tokenizer: ${training.getTokenizerId()})\n`,
  );
  const data = EXAMPLES.map(processExample);
  const tokens = data.reduce((n, d) => n + d.model_input.length, 0);
  for (let step = 0; step < 12; step++) {
    // Both go out at once, in order (sequence ids): no need to await between them.
    const fwdbwd = training.forwardBackward(data, "cross_entropy");
    // The tutorial's rate is 1e-4 for a LoRA of an 8B model; the fake's table needs a larger one.
    const optim = training.optimStep({ learning_rate: 0.1 });
    const out = await fwdbwd;
    await optim;
    // Loss per completion token: the weighted sum over the batch, as the tutorial prints it.
    const weighted = data.reduce(
      (sum, d, i) => {
        const logprobs = out.loss_fn_outputs[i]!.logprobs!.data;
        const weights = d.loss_fn_inputs.weights as number[];
        return sum - weights.reduce((s, w, j) => s + w * logprobs[j]!, 0);
      },
      0,
    );
    const completion = data.reduce(
      (n, d) => n + (d.loss_fn_inputs.weights as number[]).reduce((a, b) => a + b, 0),
      0,
    );
    process.stdout.write(
      `step ${String(step).padStart(2)}: loss per token ${(weighted / completion).toFixed(4)}` +
        ` (${tokens} tokens in the batch)\n`,
    );
  }
  const { path } = await training.saveState("pig-latin");
  process.stdout.write(`Saved the training state to ${path}\n`);

  // The sampling loop: sample from the trained weights and from the base model, side by side.
  const saved = await training.saveWeightsForSampler("pig-latin");
  process.stdout.write(`Saved sampler weights to ${saved.path}\n`);
  const [trained, base] = await Promise.all([
    service.createSamplingClient({ modelPath: saved.path! }),
    service.createSamplingClient({ baseModel: "Qwen/Qwen3-8B" }),
  ]);
  const decode = standInDecoder(data);
  for (const example of EXAMPLES.slice(0, 3)) {
    const prompt = ModelInput.fromInts(encode(`English: ${example.input}\nPig Latin:`));
    const completion = encode(` ${example.output}\n\n`);
    // Greedy, up to the answer's length or a newline (its stand-in token id: the fake knows ids,
    // not text, so stop strings would not match).
    const params = { max_tokens: completion.length, temperature: 0, stop: [encode("\n")[0]!] };
    const [after, before] = await Promise.all([
      trained.sample(prompt, 1, params),
      base.sample(prompt, 1, params),
    ]);
    // How likely each model finds the right answer: its mean logprob per completion token.
    const full = ModelInput.fromInts([...prompt.toInts(), ...completion]);
    const [lpAfter, lpBefore] = await Promise.all([
      trained.computeLogprobs(full),
      base.computeLogprobs(full),
    ]);
    const mean = (lps: (number | null)[]) =>
      lps.slice(-completion.length).reduce<number>((s, x) => s + (x ?? 0), 0) / completion.length;
    process.stdout.write(
      `\n${example.input} → ${example.output}\n` +
        `  base model: ${JSON.stringify(decode(before.sequences[0]!.tokens))}` +
        ` (answer logprob/token ${mean(lpBefore).toFixed(3)})\n` +
        `  trained:    ${JSON.stringify(decode(after.sequences[0]!.tokens))}` +
        ` (answer logprob/token ${mean(lpAfter).toFixed(3)})\n`,
    );
  }
} finally {
  await fake.close();
}
