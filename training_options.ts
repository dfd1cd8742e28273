/**
 * Options of the training calls (`ServiceClient.createLoraTrainingClient`,
 * `TrainingClient.saveState`, `loadState`, `saveWeightsForSampler`, …) and
 * the contract of a custom loss (`TrainingClient.forwardBackwardCustom`).
 *
 * @module
 */

import type { FutureOptions } from "./session_types.ts";
import type { QueueStateListener } from "./sampling_types.ts";
import type { Datum, OptimizerConfig, SamplingClientKind } from "./training_types.ts";

/**
 * Options of `ServiceClient.createLoraTrainingClient` (the SDK's keyword
 * arguments, camel-cased; defaults as the SDK's).
 *
 * @example
 * ```ts
 * import type { CreateLoraTrainingClientOptions } from "@tinker-ts/tinker";
 * const options: CreateLoraTrainingClientOptions = { rank: 16, trainUnembed: false };
 * ```
 */
export interface CreateLoraTrainingClientOptions extends FutureOptions {
  /** The LoRA rank (default 32). */
  rank?: number | undefined;
  /** The adapter's initialisation seed (default: the server picks one). */
  seed?: number | undefined;
  /** Train the MLP layers (default true). */
  trainMlp?: boolean | undefined;
  /** Train the attention layers (default true). */
  trainAttn?: boolean | undefined;
  /** Train the unembedding layer (default true). At least one of the three must be true. */
  trainUnembed?: boolean | undefined;
  /** Metadata of the new training run. */
  userMetadata?: Record<string, string> | undefined;
  /** The model's optimizer, fixed at creation (default `{ type: "adamw" }`). */
  optimizer?: OptimizerConfig | undefined;
}

/**
 * Options of `TrainingClient.saveState`.
 *
 * @example
 * ```ts
 * import type { SaveStateOptions } from "@tinker-ts/tinker";
 * const options: SaveStateOptions = { ttlSeconds: 7 * 24 * 3600, userMetadata: { step: "100" } };
 * ```
 */
export interface SaveStateOptions extends FutureOptions {
  /** Seconds until the checkpoint expires (3600 to 10 years); default never. */
  ttlSeconds?: number | undefined;
  /** Replace a checkpoint of the same name (its metadata too); default false. */
  overwrite?: boolean | undefined;
  /** Metadata of the checkpoint. */
  userMetadata?: Record<string, string> | undefined;
}

/**
 * Options of `TrainingClient.loadState` and `loadStateWithOptimizer`.
 *
 * @example
 * ```ts
 * import type { LoadStateOptions } from "@tinker-ts/tinker";
 * const options: LoadStateOptions = { deadlineMs: 600_000 };
 * ```
 */
export interface LoadStateOptions extends FutureOptions {
  /** Access token for a checkpoint of another account. */
  weightsAccessToken?: string | undefined;
}

/**
 * Options of `TrainingClient.saveWeightsForSampler`.
 *
 * @example
 * ```ts
 * import type { SaveWeightsForSamplerOptions } from "@tinker-ts/tinker";
 * const options: SaveWeightsForSamplerOptions = { ttlSeconds: 3600 };
 * ```
 */
export interface SaveWeightsForSamplerOptions extends FutureOptions {
  /** Seconds until the sampler checkpoint expires (3600 to 10 years); default never. */
  ttlSeconds?: number | undefined;
  /** Metadata of the checkpoint. */
  userMetadata?: Record<string, string> | undefined;
}

/**
 * Options of `TrainingClient.saveWeightsAndGetSamplingClient`.
 *
 * @example
 * ```ts
 * import type { SaveWeightsAndGetSamplingClientOptions } from "@tinker-ts/tinker";
 * const options: SaveWeightsAndGetSamplingClientOptions = { kind: "snapshot" };
 * ```
 */
export interface SaveWeightsAndGetSamplingClientOptions extends FutureOptions {
  /** `"snapshot"` (default): these weights; `"inflight"`: weights the model keeps updating. */
  kind?: SamplingClientKind | undefined;
  /** Hears the queue state of the sampling client's samples. */
  onQueueStateChange?: QueueStateListener | undefined;
}

/**
 * What a custom loss returns: the loss, its gradient with respect to each
 * datum's logprobs (same lengths as the logprobs it was given), and metrics.
 *
 * @example
 * ```ts
 * import type { CustomLossResult } from "@tinker-ts/tinker";
 * const result: CustomLossResult = { loss: 1.5, gradients: [[-1, -1]], metrics: { "n:sum": 2 } };
 * ```
 */
export interface CustomLossResult {
  /** The loss (reported as the result's `loss:sum`). */
  loss: number;
  /** `dLoss/dLogprob` per datum, per token: one array per datum, as long as its logprobs. */
  gradients: readonly ArrayLike<number>[];
  /** Extra metrics, `"name:reduction"` keys (merged into the result's metrics). */
  metrics?: Record<string, number> | undefined;
}

/**
 * A custom loss for `TrainingClient.forwardBackwardCustom`. TypeScript has no
 * autograd, so the function returns the gradient itself: it receives the
 * batch and, for each datum, the logprobs of its `target_tokens` as the
 * server's forward pass computed them (one value per target token, row-major
 * for a 2-D `target_tokens`), and returns the loss and `dLoss/dLogprob` for
 * each of those values. It runs synchronously, between the forward pass and
 * the backward pass.
 *
 * @example Cross-entropy written by hand: loss = −Σ logprobs, gradient −1 each
 * ```ts
 * import type { CustomLossFn } from "@tinker-ts/tinker";
 *
 * const loss: CustomLossFn = (_data, logprobs) => ({
 *   loss: -logprobs.reduce((sum, lp) => sum + lp.reduce((a, b) => a + b, 0), 0),
 *   gradients: logprobs.map((lp) => lp.map(() => -1)),
 * });
 * ```
 */
export type CustomLossFn = (
  data: readonly Datum[],
  logprobs: readonly Float32Array[],
) => CustomLossResult;
