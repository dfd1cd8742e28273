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
   * Default: none. `timeoutMs` limits each attempt of the request that
   * starts the call; each poll for its result is limited to 45 s instead, as
   * in the SDK (the server holds a poll while the result is not ready).
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
