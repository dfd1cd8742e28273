/**
 * The request and response types of training and sampling, as SDK 0.38
 * defines them (`tinker/types/*.py`), with the SDK's snake_case field names.
 * The classes with behaviour live beside this module:
 * {@linkcode ModelInput} and {@linkcode TensorData}.
 *
 * @example A supervised datum and the optimizer step after it
 * ```ts
 * import { DEFAULT_ADAM_PARAMS, ModelInput } from "@tinker-ts/tinker";
 * import type { AdamParams, Datum } from "@tinker-ts/tinker";
 *
 * const datum: Datum = {
 *   model_input: ModelInput.fromInts([1, 2, 3]),
 *   loss_fn_inputs: { target_tokens: [2, 3, 4], weights: [0, 1, 1] },
 * };
 * const adam: AdamParams = { ...DEFAULT_ADAM_PARAMS, learning_rate: 1e-4 };
 * ```
 *
 * @module
 */

import type { ModelInput } from "./model_input.ts";
import type { LossFnInputValue, TensorData } from "./tensor_data.ts";

/** The loss functions the server implements (SDK 0.38's `LossFnType`). */
export type LossFnType =
  | "cross_entropy"
  | "importance_sampling"
  | "ppo"
  | "cispo"
  | "dro"
  | "gspo"
  | "stable_reinforce"
  | "custom";

/**
 * Where a run of a datum's tokens came from: positions `[offset, offset +
 * length)` of a sampled sequence's prompt (`"prompt"`) or of its sampled
 * tokens (`"sampled"`), named by `SampledSequence.sequence_id`.
 *
 * @example
 * ```ts
 * import type { ProvenanceSpan } from "@tinker-ts/tinker";
 * const span: ProvenanceSpan = { kind: "sampled", sequence_id: "seq-1", length: 12 };
 * ```
 */
export interface ProvenanceSpan {
  /** Prompt tokens of a request, or tokens a sequence sampled. */
  kind: "prompt" | "sampled";
  /** The `sequence_id` of the sampled sequence. */
  sequence_id: string;
  /** The run's start within that prompt or sequence (default 0). */
  offset?: number;
  /** The number of tokens in the run. */
  length: number;
}

/**
 * One training example: the model's input and the loss function's inputs.
 * `loss_fn_inputs` values may be {@linkcode TensorData}, typed arrays or plain
 * number lists (coerced as the SDK does, see `TensorData.fromLossFnInput`).
 *
 * @example
 * ```ts
 * import { ModelInput, TensorData } from "@tinker-ts/tinker";
 * import type { Datum } from "@tinker-ts/tinker";
 *
 * const datum: Datum = {
 *   model_input: ModelInput.fromInts([10, 11, 12]),
 *   loss_fn_inputs: {
 *     target_tokens: new Int32Array([11, 12, 13]),
 *     weights: new TensorData({ data: [1, 1, 1], dtype: "float32" }),
 *   },
 * };
 * ```
 */
export interface Datum {
  /** The model's input tokens (and images). */
  model_input: ModelInput;
  /** The loss function's inputs by name (`target_tokens`, `weights`, `advantages`…). */
  loss_fn_inputs: Record<string, LossFnInputValue>;
  /** Provenance of `model_input` (set together with `loss_fn_input_spans`). */
  model_input_spans?: readonly ProvenanceSpan[] | null;
  /** Provenance of the loss rows (`loss_fn_inputs.target_tokens`). */
  loss_fn_input_spans?: readonly ProvenanceSpan[] | null;
}

/** Extra loss function parameters (PPO clip thresholds, DPO beta…): numbers or strings. */
export type LossFnConfig = Record<string, number | string>;

/**
 * Parameters of sampling (SDK 0.38's `SamplingParams`); unset fields take the
 * defaults in {@linkcode DEFAULT_SAMPLING_PARAMS}.
 *
 * @example
 * ```ts
 * import type { SamplingParams } from "@tinker-ts/tinker";
 * const params: SamplingParams = { max_tokens: 64, temperature: 0.7, stop: ["\n\n"] };
 * ```
 */
export interface SamplingParams {
  /** The maximum number of tokens to generate. */
  max_tokens?: number | null;
  /** The random seed, for reproducible samples. */
  seed?: number | null;
  /**
   * Stop strings or stop token ids. Unset keeps the implicit end-of-sequence
   * stop; `[]` disables every stop, EOS included (generation runs to `max_tokens`).
   */
  stop?: string | readonly string[] | readonly number[] | null;
  /** The sampling temperature (default 1). */
  temperature?: number;
  /** Top-k sampling; -1 for no limit (default). */
  top_k?: number;
  /** Nucleus sampling probability (default 1). */
  top_p?: number;
}

/**
 * The SDK's defaults of {@linkcode SamplingParams}; a sample request always
 * carries these three.
 *
 * @example
 * ```ts
 * import { DEFAULT_SAMPLING_PARAMS } from "@tinker-ts/tinker";
 * import assert from "node:assert/strict";
 * assert.equal(DEFAULT_SAMPLING_PARAMS.top_k, -1);
 * ```
 */
export const DEFAULT_SAMPLING_PARAMS: Readonly<
  Required<Pick<SamplingParams, "temperature" | "top_k" | "top_p">>
> = /* @__PURE__ */ Object.freeze({ temperature: 1, top_k: -1, top_p: 1 });

/**
 * Adam hyperparameters of one optimizer step (SDK 0.38's `AdamParams`);
 * unset fields take {@linkcode DEFAULT_ADAM_PARAMS}.
 *
 * @example
 * ```ts
 * import type { AdamParams } from "@tinker-ts/tinker";
 * const adam: AdamParams = { learning_rate: 2e-5, weight_decay: 0.01 };
 * ```
 */
export interface AdamParams {
  /** The learning rate (default 1e-4). */
  learning_rate?: number;
  /** The first-moment decay (default 0.9). */
  beta1?: number;
  /** The second-moment decay (default 0.95). */
  beta2?: number;
  /** The denominator's stabiliser (default 1e-12). */
  eps?: number;
  /** Decoupled weight decay (default 0). */
  weight_decay?: number;
  /** The maximum global gradient norm; 0 means no clipping (default). */
  grad_clip_norm?: number;
}

/**
 * The SDK's Adam defaults, the values an `optim_step` sends for unset fields.
 *
 * @example
 * ```ts
 * import { DEFAULT_ADAM_PARAMS } from "@tinker-ts/tinker";
 * import assert from "node:assert/strict";
 * assert.equal(DEFAULT_ADAM_PARAMS.beta2, 0.95);
 * ```
 */
export const DEFAULT_ADAM_PARAMS: Readonly<Required<AdamParams>> = /* @__PURE__ */ Object.freeze({
  learning_rate: 0.0001,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-12,
  weight_decay: 0.0,
  grad_clip_norm: 0.0,
});

/**
 * Hyperparameters of one Dimuon optimizer step (for models created with the
 * Dimuon optimizer). Sent as `optimizer_params` instead of `adam_params`.
 *
 * @example
 * ```ts
 * import type { DimuonParams } from "@tinker-ts/tinker";
 * const step: DimuonParams = { type: "dimuon", learning_rate: 0.02 };
 * ```
 */
export interface DimuonParams {
  /** The optimizer family. */
  type: "dimuon";
  /** The step size (at least 0). */
  learning_rate: number;
  /** The maximum global gradient norm; non-positive disables clipping (default 0). */
  grad_clip_norm?: number;
  /** The momentum's EMA coefficient, in [0, 1) (default 0.9). */
  beta1?: number;
}

/** The parameters of one optimizer step: Adam's, or another family's (with `type`). */
export type OptimParams = AdamParams | DimuonParams;

/**
 * The optimizer a training model is created with (fixed for its lifetime).
 *
 * @example
 * ```ts
 * import type { OptimizerConfig } from "@tinker-ts/tinker";
 * const adam: OptimizerConfig = { type: "adamw" };
 * ```
 */
export type OptimizerConfig = { type: "adamw" } | { type: "dimuon"; version?: 1 } | {
  type: string;
  [field: string]: unknown;
};

/**
 * LoRA settings of a new training model (SDK 0.38's `LoraConfig`).
 *
 * @example
 * ```ts
 * import type { LoraConfig } from "@tinker-ts/tinker";
 * const lora: LoraConfig = { rank: 32, train_unembed: false };
 * ```
 */
export interface LoraConfig {
  /** The LoRA rank. */
  rank: number;
  /** The seed of the LoRA weights' initialisation. */
  seed?: number | null;
  /** Whether to add LoRA to the unembedding layer (default true). */
  train_unembed?: boolean;
  /** Whether to add LoRA to the MLP layers, MoE included (default true). */
  train_mlp?: boolean;
  /** Whether to add LoRA to the attention layers (default true). */
  train_attn?: boolean;
}

/** Why a sampled sequence ended: a stop sequence/EOS, or `max_tokens`. */
export type StopReason = "stop" | "length";

/**
 * Top-k logprobs as two dense row-major `length × k` matrices. Empty cells
 * hold token id 0 and logprob {@linkcode TOPK_MASK_LOGPROB}.
 *
 * @example
 * ```ts
 * import type { TopkLogprobs } from "@tinker-ts/tinker";
 * const topk: TopkLogprobs = {
 *   length: 1,
 *   k: 2,
 *   token_ids: new Int32Array([5, 9]),
 *   logprobs: new Float32Array([-0.1, -2.5]),
 * };
 * ```
 */
export interface TopkLogprobs {
  /** Positions (rows). */
  length: number;
  /** Entries per position (columns). */
  k: number;
  /** Token ids, row-major. */
  token_ids: Int32Array;
  /** Their logprobs, row-major. */
  logprobs: Float32Array;
}

/**
 * The logprob filling empty cells of {@linkcode TopkLogprobs}.
 *
 * @example
 * ```ts
 * import { TOPK_MASK_LOGPROB } from "@tinker-ts/tinker";
 * console.log(TOPK_MASK_LOGPROB); // -99999
 * ```
 */
export const TOPK_MASK_LOGPROB: number = -99999.0;

/**
 * Top-k matrices as lists, as the SDK's list properties give them: per
 * position, up to `k` `[token_id, logprob]` pairs (trailing empty cells
 * dropped), or `null` where the position is entirely empty.
 *
 * @param topk The matrices.
 * @returns One entry per position.
 *
 * @example
 * ```ts
 * import { topkToLists } from "@tinker-ts/tinker";
 * import assert from "node:assert/strict";
 *
 * const lists = topkToLists({
 *   length: 2, k: 2,
 *   token_ids: new Int32Array([5, 0, 0, 0]),
 *   logprobs: new Float32Array([-0.5, -99999, -99999, -99999]),
 * });
 * assert.deepEqual(lists, [[[5, -0.5]], null]);
 * ```
 */
export function topkToLists(topk: TopkLogprobs): ([number, number][] | null)[] {
  const { length: n, k } = topk;
  if (n === 0 || k === 0) return [];
  const empty = (i: number) =>
    topk.token_ids[i] === 0 && topk.logprobs[i] === Math.fround(TOPK_MASK_LOGPROB);
  const out: ([number, number][] | null)[] = [];
  for (let row = 0; row < n; row++) {
    const start = row * k;
    if (empty(start)) {
      out.push(null);
      continue;
    }
    let end = start + k;
    while (end > start && empty(end - 1)) end--;
    const pairs: [number, number][] = [];
    for (let i = start; i < end; i++) pairs.push([topk.token_ids[i]!, topk.logprobs[i]!]);
    out.push(pairs);
  }
  return out;
}

/**
 * One sampled sequence.
 *
 * @example
 * ```ts
 * import type { SampledSequence } from "@tinker-ts/tinker";
 * const seq: SampledSequence = {
 *   stop_reason: "length",
 *   sequence_id: "seq-1",
 *   tokens: [5, 6],
 *   logprobs: [-0.2, -1.3],
 *   topk_logprobs: null,
 * };
 * ```
 */
export interface SampledSequence {
  /** Why sampling stopped. */
  stop_reason: StopReason;
  /**
   * The sequence's session-scoped id (from the submission's
   * `sample_sequence_ids`; `""` until the client attaches it).
   */
  sequence_id: string;
  /** The generated token ids. */
  tokens: number[];
  /** Each generated token's logprob, or `null` when not returned. */
  logprobs: number[] | null;
  /** Top-k logprobs per generated token, when `topk_sample_logprobs` was asked for. */
  topk_logprobs: TopkLogprobs | null;
}

/**
 * Alternatives drawn at each prompt position after the first
 * (`prompt_alt_tokens_k` of a sample request): two `[len(prompt) - 1, k]` tensors.
 *
 * @example
 * ```ts
 * import { TensorData } from "@tinker-ts/tinker";
 * import type { PromptAltTokens } from "@tinker-ts/tinker";
 * const alt: PromptAltTokens = {
 *   tokens: new TensorData({ data: [3, 4], dtype: "int64", shape: [1, 2] }),
 *   logprobs: new TensorData({ data: [-1, -2], dtype: "float32", shape: [1, 2] }),
 * };
 * ```
 */
export interface PromptAltTokens {
  /** int64 token ids. */
  tokens: TensorData;
  /** float32 logprobs of those ids. */
  logprobs: TensorData;
}

/**
 * The result of a sample (or `computeLogprobs`) request.
 *
 * @example
 * ```ts
 * import type { SampleResponse } from "@tinker-ts/tinker";
 * const response: SampleResponse = {
 *   sequences: [],
 *   prompt_logprobs: [null, -1.5],
 *   topk_prompt_logprobs: null,
 *   target_prompt_logprobs: null,
 *   prompt_alt_tokens: null,
 *   prompt_cache_hit_tokens: 0,
 * };
 * ```
 */
export interface SampleResponse {
  /** The generated sequences. */
  sequences: SampledSequence[];
  /** Per prompt token logprob (`null` where not computed, e.g. the first), when asked for. */
  prompt_logprobs: (number | null)[] | null;
  /** Top-k logprobs per prompt position, when asked for. */
  topk_prompt_logprobs: TopkLogprobs | null;
  /** Logprobs of the ids the request's `target_prompt_logprobs` named, when asked for. */
  target_prompt_logprobs: TensorData | null;
  /** The draws `prompt_alt_tokens_k` asked for. */
  prompt_alt_tokens: PromptAltTokens | null;
  /** Prompt tokens billed as prefix-cache hits. */
  prompt_cache_hit_tokens: number;
}

/** One datum's loss function outputs by name (`logprobs`, `elementwise_loss`…). */
export type LossFnOutput = Record<string, TensorData>;

/**
 * The result of `forward` / `forwardBackward`.
 *
 * @example
 * ```ts
 * import type { ForwardBackwardOutput } from "@tinker-ts/tinker";
 * const out: ForwardBackwardOutput = {
 *   loss_fn_output_type: "ArrayRecord",
 *   loss_fn_outputs: [],
 *   metrics: { "loss:sum": 3.2 },
 * };
 * ```
 */
export interface ForwardBackwardOutput {
  /** The class name of the output records (e.g. `"ArrayRecord"`). */
  loss_fn_output_type: string;
  /** One record per datum, in request order. */
  loss_fn_outputs: LossFnOutput[];
  /** Metrics; each key names its reduction after a colon (`"loss:sum"`). */
  metrics: Record<string, number>;
}

/**
 * The result of an optimizer step.
 *
 * @example
 * ```ts
 * import type { OptimStepResponse } from "@tinker-ts/tinker";
 * const res: OptimStepResponse = { metrics: { "grad_norm:mean": 0.5 } };
 * ```
 */
export interface OptimStepResponse {
  /** Step metrics, if any. */
  metrics?: Record<string, number> | null;
}

/**
 * The result of `saveState` (training weights, with optimizer state).
 *
 * @example
 * ```ts
 * import type { SaveWeightsResponse } from "@tinker-ts/tinker";
 * const res: SaveWeightsResponse = { path: "tinker://run-1/weights/0001" };
 * ```
 */
export interface SaveWeightsResponse {
  /** The checkpoint's tinker:// path. */
  path: string;
  /** `"save_weights"`. */
  type?: "save_weights" | null;
}

/**
 * The result of `saveWeightsForSampler`.
 *
 * @example
 * ```ts
 * import type { SaveWeightsForSamplerResponse } from "@tinker-ts/tinker";
 * const res: SaveWeightsForSamplerResponse = { path: "tinker://run-1/sampler_weights/0001" };
 * ```
 */
export interface SaveWeightsForSamplerResponse {
  /** The sampler checkpoint's tinker:// path (absent when only a session was made). */
  path: string;
  /** The sampling session made for it, when the request asked for one. */
  sampling_session_id?: string | null;
  /** `"save_weights_for_sampler"`. */
  type?: "save_weights_for_sampler" | null;
}

/**
 * The result of `saveWeightsExternal`.
 *
 * @example
 * ```ts
 * import type { SaveWeightsExternalResponse } from "@tinker-ts/tinker";
 * const res: SaveWeightsExternalResponse = { path: "tinker://run-1/external_weights/final" };
 * ```
 */
export interface SaveWeightsExternalResponse {
  /** The exported weights' tinker:// path. */
  path: string;
  /** Their size in bytes, when the server tells. */
  size_bytes?: number | null;
  /** `"save_weights_external"`. */
  type?: "save_weights_external" | null;
}

/**
 * The result of `loadState` / `loadStateWithOptimizer`.
 *
 * @example
 * ```ts
 * import type { LoadWeightsResponse } from "@tinker-ts/tinker";
 * const res: LoadWeightsResponse = { path: "tinker://run-1/weights/0001", model_id: "run-2" };
 * ```
 */
export interface LoadWeightsResponse {
  /** The loaded checkpoint. */
  path?: string | null;
  /** The model the weights were loaded onto. */
  model_id?: string | null;
  /** `"load_weights"`. */
  type?: "load_weights" | null;
}

/**
 * A model's architecture facts, including the tokenizer to pair it with.
 *
 * @example
 * ```ts
 * import type { ModelData } from "@tinker-ts/tinker";
 * const data: ModelData = { arch: "qwen3", model_name: "Qwen/Qwen3-8B", tokenizer_id: "Qwen/Qwen3-8B" };
 * ```
 */
export interface ModelData {
  /** The architecture id. */
  arch?: string | null;
  /** The model name. */
  model_name?: string | null;
  /** The tokenizer's id (e.g. a Hugging Face repo) to encode prompts with. */
  tokenizer_id?: string | null;
}

/**
 * The result of a training client's `getInfo`.
 *
 * @example
 * ```ts
 * import type { GetInfoResponse } from "@tinker-ts/tinker";
 * const info: GetInfoResponse = {
 *   model_id: "run-1",
 *   model_data: { tokenizer_id: "Qwen/Qwen3-8B" },
 *   is_lora: true,
 *   lora_rank: 32,
 * };
 * ```
 */
export interface GetInfoResponse {
  /** The training model's id. */
  model_id: string;
  /** Architecture facts. */
  model_data: ModelData;
  /** The model's optimizer (Adam when the server does not say). */
  optimizer_config?: OptimizerConfig;
  /** Whether it is a LoRA model. */
  is_lora?: boolean | null;
  /** The LoRA rank. */
  lora_rank?: number | null;
  /** The model's name. */
  model_name?: string | null;
  /** `"get_info"`. */
  type?: "get_info" | null;
}

/**
 * The result of `create_sampling_session`.
 *
 * @example
 * ```ts
 * import type { CreateSamplingSessionResponse } from "@tinker-ts/tinker";
 * const res: CreateSamplingSessionResponse = {
 *   type: "create_sampling_session",
 *   sampling_session_id: "sess-1:sample:0",
 * };
 * ```
 */
export interface CreateSamplingSessionResponse {
  /** `"create_sampling_session"`. */
  type?: "create_sampling_session";
  /** The new sampling session's id. */
  sampling_session_id: string;
}

/**
 * The result of `join_sampling_session`.
 *
 * @example
 * ```ts
 * import type { JoinSamplingSessionResponse } from "@tinker-ts/tinker";
 * const res: JoinSamplingSessionResponse = { type: "join_sampling_session", client_counter: 1 };
 * ```
 */
export interface JoinSamplingSessionResponse {
  /** `"join_sampling_session"`. */
  type?: "join_sampling_session";
  /** A server-allocated id, unique among the session's clients (the original is 0). */
  client_counter: number;
}

/**
 * What a sampling client made by `saveWeightsForSampler` sees: a frozen
 * snapshot, or weights that follow later saves in flight.
 */
export type SamplingClientKind = "snapshot" | "inflight";
