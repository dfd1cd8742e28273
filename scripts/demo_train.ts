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
 * Its decoder. The fake samples token ids 0–63 (its vocabulary), which this
 * maps back onto the characters the training text used, by id modulo 64.
 */
const ALPHABET = new Map(
  EXAMPLES.flatMap((e) => encode(`English: ${e.input}\nPig Latin: ${e.output}\n\n`))
    .map((t) => [t % 64, String.fromCodePoint(t)]),
);
const decode = (tokens: readonly number[]): string =>
  tokens.map((t) => ALPHABET.get(t % 64) ?? "?").join("");

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
  for (let step = 0; step < 20; step++) {
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

  // The tutorial's last part: sample from the trained weights.
  const sampler = await training.saveWeightsAndGetSamplingClient();
  const prompt = ModelInput.fromInts(encode("English: coffee break\nPig Latin:"));
  const { sequences } = await sampler.sample(prompt, 4, {
    max_tokens: 20,
    temperature: 0.3,
    seed: 1,
    stop: [encode("\n")[0]!],
  });
  process.stdout.write(`Sampling from ${sampler.getBaseModel()} with the trained weights:\n`);
  sequences.forEach((s, i) => {
    process.stdout.write(`  ${i}: ${JSON.stringify(decode(s.tokens))} (${s.stop_reason})\n`);
  });

  // The sampling loop: the trained weights beside the base model, on the training examples.
  const base = await service.createSamplingClient({ baseModel: "Qwen/Qwen3-8B" });
  for (const example of EXAMPLES.slice(0, 3)) {
    const prompt = ModelInput.fromInts(encode(`English: ${example.input}\nPig Latin:`));
    const completion = encode(` ${example.output}\n\n`);
    // Greedy, up to the answer's length or a newline (its stand-in token id: the fake knows ids,
    // not text, so stop strings would not match).
    const params = { max_tokens: completion.length, temperature: 0, stop: [encode("\n")[0]!] };
    const [after, before] = await Promise.all([
      sampler.sample(prompt, 1, params),
      base.sample(prompt, 1, params),
    ]);
    // How likely each model finds the right answer: its mean logprob per completion token.
    const full = ModelInput.fromInts([...prompt.toInts(), ...completion]);
    const [lpAfter, lpBefore] = await Promise.all([
      sampler.computeLogprobs(full),
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
