/**
 * `@tinker-ts/tinker`: a zero-dependency TypeScript client for the REST side
 * of Tinker, Thinking Machines' fine-tuning service — training runs,
 * checkpoints, sessions, samplers, the audit log and billing usage. It runs
 * unchanged in Deno, Bun, Node and edge functions.
 *
 * Every call returns a {@linkcode TinkerFuture}: a real `Promise` to await,
 * which can also block with `.result()` for scripts ported from Python. The
 * paged lists are also async iterables over every item.
 *
 * @example List training runs and a run's checkpoints
 * ```ts
 * import { RestClient } from "@tinker-ts/tinker";
 * import { startFakeTinker } from "@tinker-ts/tinker/testing";
 * import assert from "node:assert/strict";
 *
 * await using fake = await startFakeTinker(); // a local Tinker for the example
 * const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
 *
 * for await (const run of rest.listTrainingRuns({ limit: 50 })) {
 *   const { checkpoints } = await rest.listCheckpoints(run.training_run_id);
 *   assert.ok(Array.isArray(checkpoints));
 * }
 * ```
 *
 * @module
 */

export * from "./errors.ts";
export type * from "./types.ts";
export type * from "./session_types.ts";
export type * from "./training_options.ts";
export * from "./tinker_path.ts";
export { AdminClient, DEFAULT_BASE_URL, RestClient } from "./rest_client.ts";
export { ServiceClient } from "./service_client.ts";
export { TrainingClient } from "./training_client.ts";
export { LossHandle } from "./loss_handle.ts";
export type {
  CustomLossInput,
  CustomLossInputRank,
  PerDatumLossFn,
  PerDatumLossResult,
} from "./loss_handle.ts";
export { SamplingClient, tokenizerIdFor } from "./sampling_client.ts";
export type * from "./sampling_types.ts";
export type { PageFuture, TinkerFuture } from "./rest_client.ts";
export { SyncUnavailableError } from "./internal/_future.ts";
export { SDK_COMPAT_VERSION, VERSION } from "./internal/_version.ts";
export { BOOTSTRAP_CACHE_TTL_MS } from "./internal/_bootstrap_cache.ts";
export type { BootstrapCache, BootstrapCacheEntry } from "./internal/_bootstrap_cache.ts";
export * from "./model_input.ts";
export * from "./tensor_data.ts";
export * from "./training_types.ts";
