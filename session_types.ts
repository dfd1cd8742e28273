/**
 * Types of sessions, server-side futures and training clients (the
 * `ServiceClient` and `TrainingClient` of SDK 0.38). Wire fields keep the
 * SDK's snake_case names.
 *
 * @module
 */

import type { ClientOptions, RequestOptions } from "./types.ts";

/**
 * How a session ended, as `close(status)` reports it to the server.
 *
 * @example
 * ```ts
 * import type { SessionStatus } from "@tinker-ts/tinker";
 * const status: SessionStatus = "errored";
 * ```
 */
export type SessionStatus = "success" | "errored" | "interrupted";

/**
 * Options of a `ServiceClient`: the client's options plus what its session is
 * created with.
 *
 * @example
 * ```ts
 * import type { ServiceClientOptions } from "@tinker-ts/tinker";
 * const options: ServiceClientOptions = {
 *   apiKey: "tml-example",
 *   userMetadata: { experiment: "sweep-3" },
 *   displayName: "nightly",
 * };
 * ```
 */
export interface ServiceClientOptions extends ClientOptions {
  /** Metadata of the session (`user_metadata`). */
  userMetadata?: Record<string, string> | undefined;
  /** The session's project. Default: `TINKER_PROJECT_ID`. */
  projectId?: string | undefined;
  /** A display name of the session (need not be unique). */
  displayName?: string | undefined;
  /** Session tags. Default: `TINKER_TAGS` split on commas, else none. */
  tags?: string[] | undefined;
  /**
   * Time between session heartbeats, in milliseconds. The timer never keeps
   * a process alive.
   * @default {10000}
   */
  heartbeatIntervalMs?: number | undefined;
}

/**
 * Options of calls answered through a server-side future.
 *
 * @example
 * ```ts
 * import type { FutureOptions } from "@tinker-ts/tinker";
 * const options: FutureOptions = { deadlineMs: 600_000, signal: AbortSignal.timeout(900_000) };
 * ```
 */
export interface FutureOptions extends RequestOptions {
  /**
   * Overall time limit for the result, in milliseconds, from the first
   * request (`ApiTimeoutError` after it; the server is asked to cancel).
   * Default: none (`timeoutMs` still limits each request).
   */
  deadlineMs?: number | undefined;
}

/**
 * Options of `ServiceClient.createTrainingClientFromState`.
 *
 * @example
 * ```ts
 * import type { CreateTrainingClientFromStateOptions } from "@tinker-ts/tinker";
 * const options: CreateTrainingClientFromStateOptions = {
 *   userMetadata: { created_by: "my script" },
 * };
 * ```
 */
export interface CreateTrainingClientFromStateOptions extends FutureOptions {
  /** Metadata of the new training run. */
  userMetadata?: Record<string, string> | undefined;
  /** Override of the checkpoint's base model (must be compatible with it). */
  baseModel?: string | undefined;
  /** Access token for a checkpoint of another account. */
  weightsAccessToken?: string | undefined;
}

/**
 * Options of `TrainingClient.saveWeightsExternal`.
 *
 * @example
 * ```ts
 * import type { SaveWeightsExternalOptions } from "@tinker-ts/tinker";
 * const options: SaveWeightsExternalOptions = { ttlSeconds: 3600 };
 * ```
 */
export interface SaveWeightsExternalOptions extends FutureOptions {
  /** Seconds until the export is deleted (3600 to 10 years); default never. */
  ttlSeconds?: number | undefined;
  /** age recipients (at most 10) every exported file is encrypted to (`.age` files). */
  ageEncryptionRecipients?: string[] | undefined;
}

/**
 * A model's architecture data, as `get_info` returns it.
 *
 * @example
 * ```ts
 * import type { ModelData } from "@tinker-ts/tinker";
 * const data: ModelData = { arch: "qwen3", model_name: "Qwen/Qwen3-8B", tokenizer_id: "Qwen/Qwen3-8B" };
 * ```
 */
export interface ModelData {
  /** The architecture. */
  arch?: string | null;
  /** The model's name. */
  model_name?: string | null;
  /** The tokenizer (the SDK drops anything after a `:`). */
  tokenizer_id?: string | null;
}

/**
 * What `TrainingClient.getInfo()` returns: the model, fetched when the client
 * was created.
 *
 * @example
 * ```ts
 * import type { GetInfoResponse } from "@tinker-ts/tinker";
 * const info: GetInfoResponse = {
 *   model_id: "3f2a:train:0",
 *   model_data: { model_name: "Qwen/Qwen3-8B" },
 *   is_lora: true,
 *   lora_rank: 32,
 * };
 * ```
 */
export interface GetInfoResponse {
  /** Always `"get_info"` when present. */
  type?: string | null;
  /** The model's architecture data. */
  model_data: ModelData;
  /** The model (training run) id. */
  model_id: string;
  /** The optimizer, e.g. `{ type: "adamw" }`. */
  optimizer_config?: Record<string, unknown>;
  /** Whether it is a LoRA model. */
  is_lora?: boolean | null;
  /** The LoRA rank. */
  lora_rank?: number | null;
  /** The model's name. */
  model_name?: string | null;
}

/**
 * What `TrainingClient.saveWeightsExternal` resolves to.
 *
 * @example
 * ```ts
 * import type { SaveWeightsExternalResponse } from "@tinker-ts/tinker";
 * const saved: SaveWeightsExternalResponse = { path: "tinker://3f2a:train:0/external_weights/download" };
 * ```
 */
export interface SaveWeightsExternalResponse {
  /** The tinker path of the export (`tinker://<run>/external_weights/<name>`). */
  path: string;
  /** Its size in bytes, when the server says. */
  size_bytes?: number | null;
  /** Always `"save_weights_external"` when present. */
  type?: string | null;
}
