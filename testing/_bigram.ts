/**
 * The fake's tiny language model: a bigram table of logits over a small
 * vocabulary. A token id `t` stands for `t mod VOCAB`; the next token's
 * distribution depends only on the previous token. Deterministic: the initial
 * table comes from the base model's name, training is plain Adam on the table,
 * and sampling draws from a caller-supplied seeded generator. Small enough to
 * compute per request, real enough that losses fall as training proceeds and
 * samples change after `save_weights_for_sampler`.
 *
 * Weights live beside the fake's state (`bigramStore(state)`): per model the
 * table, its accumulated gradient and Adam moments; per sampler checkpoint
 * (`tinker://…/sampler_weights/…`) a snapshot of the table.
 *
 * @module
 */
import { prng } from "./_state.ts";
import type { FakeState } from "./_state.ts";

/** The vocabulary size: token ids are taken modulo this. */
export const VOCAB = 64;

/** A bigram table: `logits[prev * VOCAB + next]`. */
export type BigramTable = Float64Array;

/** Adam's per-model state. */
export interface AdamState {
  /** First moment, one per table entry. */
  m: Float64Array;
  /** Second moment, one per table entry. */
  v: Float64Array;
  /** Steps taken so far. */
  t: number;
}

/** One trainable model of the fake. */
export interface BigramModel {
  /** The base model it started from. */
  base_model: string;
  /** The current table. */
  table: BigramTable;
  /** The gradient accumulated since the last optimizer step. */
  grad: Float64Array;
  /** Adam's moments. */
  adam: AdamState;
}

/** A saved training state (`save_weights`): table plus optimizer state. */
export interface BigramSaved {
  /** The base model. */
  base_model: string;
  /** The table at save time. */
  table: BigramTable;
  /** Adam's moments at save time. */
  adam: AdamState;
}

/** The fake's model weights, kept beside one `FakeState`. */
export interface BigramStore {
  /** Trainable models by model id. */
  models: Map<string, BigramModel>;
  /** Training checkpoints (`tinker://<run>/weights/<name>`) by tinker path. */
  saved: Map<string, BigramSaved>;
  /** Sampler checkpoints (`tinker://<run>/sampler_weights/<name>`) by tinker path. */
  samplers: Map<string, { base_model: string; table: BigramTable }>;
  /** Weights of sampling sessions made by an unnamed `save_weights_for_sampler`, by session id. */
  samplingSessions: Map<string, { base_model: string; table: BigramTable }>;
}

const stores = new WeakMap<FakeState, BigramStore>();

/** The weights kept beside `state` (created empty on first use; a reset state gets new ones). */
export function bigramStore(state: FakeState): BigramStore {
  let store = stores.get(state);
  if (!store) {
    store = {
      models: new Map(),
      saved: new Map(),
      samplers: new Map(),
      samplingSessions: new Map(),
    };
    stores.set(state, store);
  }
  return store;
}

/** The initial table of a base model: small deterministic logits derived from its name. */
export function initialTable(baseModel: string): BigramTable {
  const rand = prng(`bigram:${baseModel}`);
  const table = new Float64Array(VOCAB * VOCAB);
  for (let i = 0; i < table.length; i++) table[i] = (rand() - 0.5) * 2;
  return table;
}

/** A new trainable model of `baseModel` at its initial table. */
export function newModel(baseModel: string): BigramModel {
  const size = VOCAB * VOCAB;
  return {
    base_model: baseModel,
    table: initialTable(baseModel),
    grad: new Float64Array(size),
    adam: { m: new Float64Array(size), v: new Float64Array(size), t: 0 },
  };
}

/** The vocabulary index of token id `token`. */
export function vocabIndex(token: number): number {
  return ((Math.trunc(token) % VOCAB) + VOCAB) % VOCAB;
}

/** Log-softmax of the row of `prev`. */
export function rowLogprobs(table: BigramTable, prev: number): Float64Array {
  const base = vocabIndex(prev) * VOCAB;
  let max = -Infinity;
  for (let j = 0; j < VOCAB; j++) max = Math.max(max, table[base + j]!);
  let sum = 0;
  for (let j = 0; j < VOCAB; j++) sum += Math.exp(table[base + j]! - max);
  const lse = max + Math.log(sum);
  const out = new Float64Array(VOCAB);
  for (let j = 0; j < VOCAB; j++) out[j] = table[base + j]! - lse;
  return out;
}

/** `log p(targets[i] | inputs[i])` for each position (the model's forward pass). */
export function targetLogprobs(
  table: BigramTable,
  inputs: readonly number[],
  targets: readonly number[],
): number[] {
  const rows = new Map<number, Float64Array>(); // At most VOCAB distinct rows per call.
  return inputs.map((prev, i) => {
    const at = vocabIndex(prev);
    let row = rows.get(at);
    if (!row) rows.set(at, row = rowLogprobs(table, at));
    return row[vocabIndex(targets[i] ?? 0)]!;
  });
}

/**
 * The logprob of each prompt token given the one before it; the first is
 * `null` (nothing precedes it), as the SDK's `prompt_logprobs`.
 */
export function promptLogprobs(table: BigramTable, prompt: readonly number[]): (number | null)[] {
  return prompt.map((t, i) => i === 0 ? null : rowLogprobs(table, prompt[i - 1]!)[vocabIndex(t)]!);
}

/** The `k` likeliest next tokens after `prev` with their logprobs, likeliest first. */
export function topLogprobs(table: BigramTable, prev: number, k: number): [number, number][] {
  const row = rowLogprobs(table, prev);
  return [...row.keys()].sort((a, b) => row[b]! - row[a]! || a - b).slice(0, k)
    .map((j) => [j, row[j]!]);
}

/**
 * Backpropagates `dL/dlogprob` of each position into `model.grad`:
 * `d logp(t | prev) / d logits[prev, j] = [j = t] - p_j`, summed per row
 * (so the cost is one pass over the positions plus one per row used).
 */
export function accumulateGradient(
  model: BigramModel,
  inputs: readonly number[],
  targets: readonly number[],
  dLossDLogprob: readonly number[],
): void {
  const total = new Map<number, number>(); // Σ g over the positions of each row
  inputs.forEach((prev, i) => {
    const g = dLossDLogprob[i] ?? 0;
    if (g === 0) return;
    const at = vocabIndex(prev);
    total.set(at, (total.get(at) ?? 0) + g);
    model.grad[at * VOCAB + vocabIndex(targets[i] ?? 0)]! += g;
  });
  for (const [at, g] of total) {
    const row = rowLogprobs(model.table, at);
    for (let j = 0; j < VOCAB; j++) model.grad[at * VOCAB + j]! -= g * Math.exp(row[j]!);
  }
}

/** Adam's hyperparameters, as the SDK's `AdamParams`. */
export interface AdamHyper {
  /** Step size. */
  learning_rate: number;
  /** First-moment decay. */
  beta1: number;
  /** Second-moment decay. */
  beta2: number;
  /** Denominator epsilon. */
  eps: number;
  /** Decoupled weight decay (AdamW). */
  weight_decay: number;
  /** Clip the gradient's global norm to this (0: no clipping). */
  grad_clip_norm: number;
}

/**
 * One AdamW step on the accumulated gradient, which it then clears.
 *
 * @returns The gradient's global norm before clipping.
 */
export function adamStep(model: BigramModel, hyper: AdamHyper): number {
  const { grad, table, adam } = model;
  let norm = 0;
  for (const g of grad) norm += g * g;
  norm = Math.sqrt(norm);
  const scale = hyper.grad_clip_norm > 0 && norm > hyper.grad_clip_norm
    ? hyper.grad_clip_norm / norm
    : 1;
  adam.t++;
  const c1 = 1 - hyper.beta1 ** adam.t, c2 = 1 - hyper.beta2 ** adam.t;
  for (let i = 0; i < table.length; i++) {
    const g = grad[i]! * scale;
    adam.m[i] = hyper.beta1 * adam.m[i]! + (1 - hyper.beta1) * g;
    adam.v[i] = hyper.beta2 * adam.v[i]! + (1 - hyper.beta2) * g * g;
    const step = (adam.m[i]! / c1) / (Math.sqrt(adam.v[i]! / c2) + hyper.eps);
    table[i] = table[i]! * (1 - hyper.learning_rate * hyper.weight_decay) -
      hyper.learning_rate * step;
  }
  grad.fill(0);
  return norm;
}

/** A copy of `model`'s table and optimizer state, for `save_weights`. */
export function saveModel(model: BigramModel): BigramSaved {
  return {
    base_model: model.base_model,
    table: model.table.slice(),
    adam: { m: model.adam.m.slice(), v: model.adam.v.slice(), t: model.adam.t },
  };
}

/** A trainable model from a saved state; the optimizer state only `withOptimizer`. */
export function restoreModel(saved: BigramSaved, withOptimizer: boolean): BigramModel {
  const model = newModel(saved.base_model);
  model.table.set(saved.table);
  if (withOptimizer) {
    model.adam.m.set(saved.adam.m);
    model.adam.v.set(saved.adam.v);
    model.adam.t = saved.adam.t;
  }
  return model;
}

/**
 * The table a sampler uses: the weights an unnamed save gave `samplingSessionId`,
 * the snapshot saved at `modelPath`, or else the initial table of `baseModel`;
 * undefined when the session or path names no snapshot.
 */
export function samplerTable(
  state: FakeState,
  source: { modelPath?: string | null; baseModel?: string | null; samplingSessionId?: string },
): { base_model: string; table: BigramTable } | undefined {
  if (source.samplingSessionId) {
    return bigramStore(state).samplingSessions.get(source.samplingSessionId);
  }
  if (source.modelPath) return bigramStore(state).samplers.get(source.modelPath);
  if (source.baseModel) {
    return { base_model: source.baseModel, table: initialTable(source.baseModel) };
  }
  return undefined;
}

/** The fake's stand-in detokenizer: one printable character per vocabulary entry (for `stop` strings). */
export function detokenize(tokens: readonly number[]): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ.,!?0123456789\n";
  return tokens.map((t) => alphabet[vocabIndex(t)]!).join("");
}

/** Sampling settings as the SDK's `SamplingParams` (after its defaults). */
export interface BigramSamplingParams {
  /** Tokens to generate at most (default 16 here: the fake needs a bound). */
  max_tokens?: number | null;
  /** Softmax temperature; 0 picks the likeliest token. */
  temperature?: number;
  /** Keep only the `top_k` likeliest tokens (-1: all). */
  top_k?: number;
  /** Keep the smallest set of likeliest tokens whose probability reaches `top_p`. */
  top_p?: number;
  /** Stop token ids, or stop strings (matched on `detokenize`). */
  stop?: string | readonly string[] | readonly number[] | null;
}

/** One sampled continuation. */
export interface BigramSample {
  /** The generated token ids (vocabulary indices). */
  tokens: number[];
  /** Each generated token's logprob under the (untempered) model. */
  logprobs: number[];
  /** Why generation ended. */
  stop_reason: "length" | "stop";
}

/** Default `max_tokens` when a request leaves it out. */
export const DEFAULT_MAX_TOKENS = 16;

/**
 * Draws one continuation of `prompt` from `table` with `rand` (a seeded
 * generator, e.g. `prng(...)`), honouring temperature, top-k, top-p, stop
 * tokens/strings and `max_tokens`.
 */
export function sampleSequence(
  table: BigramTable,
  prompt: readonly number[],
  params: BigramSamplingParams,
  rand: () => number,
): BigramSample {
  const max = params.max_tokens ?? DEFAULT_MAX_TOKENS;
  const temperature = params.temperature ?? 1;
  const topK = params.top_k ?? -1;
  const topP = params.top_p ?? 1;
  const stop = params.stop == null ? [] : typeof params.stop === "string" ? [params.stop] : [
    ...params.stop,
  ];
  const stopTokens = new Set(
    stop.filter((s): s is number => typeof s === "number").map(vocabIndex),
  );
  const stopStrings = stop.filter((s): s is string => typeof s === "string" && s !== "");
  const tokens: number[] = [], logprobs: number[] = [];
  let prev = prompt.at(-1) ?? 0;
  while (tokens.length < max) {
    const row = rowLogprobs(table, prev);
    const next = pick(row, temperature, topK, topP, rand);
    tokens.push(next);
    logprobs.push(row[next]!);
    prev = next;
    if (stopTokens.has(next)) return { tokens, logprobs, stop_reason: "stop" };
    if (stopStrings.length > 0) {
      const text = detokenize(tokens);
      if (stopStrings.some((s) => text.endsWith(s))) {
        return { tokens, logprobs, stop_reason: "stop" };
      }
    }
  }
  return { tokens, logprobs, stop_reason: "length" };
}

function pick(
  row: Float64Array,
  temperature: number,
  topK: number,
  topP: number,
  rand: () => number,
): number {
  const order = [...row.keys()].sort((a, b) => row[b]! - row[a]! || a - b);
  if (temperature <= 0) return order[0]!;
  const kept = topK > 0 ? order.slice(0, topK) : order;
  const weights = kept.map((j) => Math.exp((row[j]! - row[order[0]!]!) / temperature));
  const total = weights.reduce((a, b) => a + b, 0);
  let cut = kept.length, mass = 0;
  if (topP < 1) {
    for (let i = 0; i < kept.length; i++) {
      mass += weights[i]! / total;
      if (mass >= topP) {
        cut = i + 1;
        break;
      }
    }
  }
  const final = weights.slice(0, cut);
  const sum = final.reduce((a, b) => a + b, 0);
  let u = rand() * sum;
  for (let i = 0; i < final.length; i++) {
    u -= final[i]!;
    if (u <= 0) return kept[i]!;
  }
  return kept[cut - 1]!;
}
