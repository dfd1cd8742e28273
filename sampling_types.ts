/**
 * Options of the sampling calls (SDK 0.38's `SamplingClient` and
 * `ServiceClient.create_sampling_client`).
 *
 * @module
 */

import type { FutureOptions } from "./session_types.ts";
import type { TensorData } from "./tensor_data.ts";

/**
 * A future's place in the server's queue, as `retrieve_future` reports it:
 * `"active"` (being worked on), or paused for capacity or a rate limit
 * (`"paused_capacity"`, `"paused_rate_limit"`; a newer server may name others).
 *
 * @example
 * ```ts
 * import type { QueueState } from "@tinker-ts/tinker";
 * const state: QueueState = "paused_capacity";
 * ```
 */
export type QueueState = "active" | "paused_capacity" | "paused_rate_limit" | string;

/**
 * Called when a sample's queue state changes (the SDK's
 * `on_queue_state_change`), and with `"active"` once a paused one is over.
 *
 * @example
 * ```ts
 * import type { QueueStateListener } from "@tinker-ts/tinker";
 * const listener: QueueStateListener = (state, reason) =>
 *   console.warn(`sampling is ${state}${reason ? `: ${reason}` : ""}`);
 * ```
 */
export type QueueStateListener = (state: QueueState, reason: string | undefined) => void;

/**
 * Options of `ServiceClient.createSamplingClient`: exactly one of
 * `modelPath` (a sampler checkpoint, `tinker://<run>/sampler_weights/<name>`)
 * and `baseModel`.
 *
 * @example
 * ```ts
 * import type { CreateSamplingClientOptions } from "@tinker-ts/tinker";
 * const fromBase: CreateSamplingClientOptions = { baseModel: "Qwen/Qwen3-8B" };
 * const fromPath: CreateSamplingClientOptions = {
 *   modelPath: "tinker://run-1/sampler_weights/final",
 *   onQueueStateChange: (state) => console.log(state),
 * };
 * ```
 */
export interface CreateSamplingClientOptions extends FutureOptions {
  /** The weights to sample from: a `tinker://` path. */
  modelPath?: string | undefined;
  /** Or a base model's name (e.g. `"Qwen/Qwen3-8B"`). */
  baseModel?: string | undefined;
  /** Hears the queue state of this client's samples (see {@linkcode QueueStateListener}). */
  onQueueStateChange?: QueueStateListener | undefined;
}

/**
 * Options of `SamplingClient.sample`.
 *
 * @example
 * ```ts
 * import type { SampleOptions } from "@tinker-ts/tinker";
 * const options: SampleOptions = { includePromptLogprobs: true, topkPromptLogprobs: 5 };
 * ```
 */
export interface SampleOptions extends FutureOptions {
  /** Return each prompt token's logprob (`prompt_logprobs`; default false). */
  includePromptLogprobs?: boolean | undefined;
  /** Top-k logprobs per prompt position (default 0: none). */
  topkPromptLogprobs?: number | undefined;
  /** Top-k logprobs per sampled position (default 0: none). */
  topkSampleLogprobs?: number | undefined;
  /** Score only the last N prompt tokens (needs `includePromptLogprobs`). */
  promptLogprobsLastN?: number | undefined;
  /**
   * Token ids whose logprobs to return at each prompt position, an int64
   * tensor of shape `[len(prompt) - 1, K]` (dense, or sparse CSR to name only
   * some cells): row `i` is scored at prompt position `i + 1`; `-1` skips a
   * cell. The result's `target_prompt_logprobs` has the same shape and layout.
   */
  targetPromptLogprobs?: TensorData | undefined;
  /**
   * Draw this many alternative tokens at every prompt position after the
   * first (the result's `prompt_alt_tokens`, two `[len(prompt) - 1, k]` tensors).
   */
  promptAltTokensK?: number | undefined;
}

/**
 * Options of `SamplingClient.computeLogprobs`.
 *
 * @example
 * ```ts
 * import type { ComputeLogprobsOptions } from "@tinker-ts/tinker";
 * const options: ComputeLogprobsOptions = { promptLogprobsLastN: 4 };
 * ```
 */
export interface ComputeLogprobsOptions extends FutureOptions {
  /** Score only the last N prompt tokens (earlier entries are `null`). */
  promptLogprobsLastN?: number | undefined;
}
