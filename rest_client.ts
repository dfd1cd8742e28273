/**
 * The REST client: training runs, checkpoints, sessions, samplers, the audit
 * log and billing usage. Every method checks its arguments (throwing before
 * any request is sent), describes its request, and returns a
 * {@linkcode TinkerFuture}: await it, or block on it with `.result()`.
 *
 * @example Listing training runs from a local fake server
 * ```ts
 * import { RestClient } from "@tinker-ts/tinker";
 * import { startFakeTinker } from "@tinker-ts/tinker/testing";
 * import assert from "node:assert/strict";
 *
 * await using fake = await startFakeTinker();
 * const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
 * const page = await rest.listTrainingRuns({ limit: 5 });
 * assert.equal(page.training_runs.length, 5);
 * ```
 *
 * @module
 */

import { InvalidArgumentError } from "./errors.ts";
import {
  checkCheckpointId,
  checkChoice,
  checkDay,
  checkId,
  checkInstant,
  checkInt,
  checkScope,
  checkText,
  checkTtl,
} from "./internal/_args.ts";
import type { Operation } from "./internal/_engine.ts";
import { callSettings, ClientCore, DEFAULT_MAX_PAGES } from "./internal/_core.ts";
import { Future, PagedFuture, type PageFuture, type TinkerFuture } from "./internal/_future.ts";
import { encodeSegment, type HttpSpec, type Method } from "./internal/_request.ts";
import type { SchemaName } from "./internal/_schema.ts";
import { checkOptions, KEYS } from "./internal/_options.ts";
import { sessionSearchBody } from "./internal/_session_search.ts";
import { parseTinkerPath, TinkerPathError } from "./tinker_path.ts";
import type {
  AccessScopeOptions,
  AuditLogOptions,
  AuditLogResponse,
  BillingUsageResponse,
  Checkpoint,
  CheckpointArchiveUrlResponse,
  CheckpointsListResponse,
  ClientOptions,
  CopyWeightsOptions,
  CurrentCheckpointStorageUsageResponse,
  ExternalWeightsUrlsResponse,
  GetSamplerResponse,
  GetServerCapabilitiesResponse,
  GetSessionResponse,
  ListSessionsOptions,
  ListSessionsResponse,
  ListTrainingRunsOptions,
  PageOptions,
  RequestOptions,
  SessionSearchRequest,
  SessionSearchResponse,
  TrainingRun,
  TrainingRunsResponse,
  WeightsInfoResponse,
  WhoamiResponse,
} from "./types.ts";

export type { PageFuture, TinkerFuture };
export { DEFAULT_BASE_URL } from "./internal/_core.ts";

/**
 * The client of the Tinker REST API.
 *
 * Configuration comes from the options, then `TINKER_API_KEY` /
 * `TINKER_BASE_URL` (where the runtime lets us read the environment), then
 * the defaults. The credential is found as the official SDK finds it: the
 * `apiKey` option, `TINKER_API_KEY`, `TINKER_CREDENTIAL_CMD` (a command
 * printing a fresh credential, run on every token request), then the default
 * key stored in `~/.tinker/credentials.json` by `tinker auth login`. The
 * last two need a runtime that can run commands and read files (Deno with
 * the permissions granted, Bun, Node); elsewhere pass `apiKey`. The bootstrap (`POST /api/v1/client/config`, and the JWT
 * exchange when the server enables it) runs once, lazily, on the first call.
 *
 * @example Reading one run and its checkpoints
 * ```ts
 * import { RestClient } from "@tinker-ts/tinker";
 * import { FAKE_IDS, startFakeTinker } from "@tinker-ts/tinker/testing";
 * import assert from "node:assert/strict";
 *
 * await using fake = await startFakeTinker();
 * const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
 * const run = await rest.getTrainingRun(FAKE_IDS.run);
 * const { checkpoints } = await rest.listCheckpoints(run.training_run_id);
 * assert.ok(checkpoints.length > 0);
 * ```
 */
export class RestClient implements Disposable {
  #core: ClientCore;

  /**
   * Creates a client. Nothing is sent until the first call.
   *
   * @param options Key, base URL, retries, timeouts, polling, headers, fetch.
   * @throws {InvalidArgumentError} An unknown option key (named, with the closest known one) or a
   *  bad `maxRetries` / `timeoutMs`.
   */
  constructor(options: ClientOptions = {}) {
    checkOptions(options, KEYS.client, "new RestClient()");
    this.#core = new ClientCore(options);
  }

  /** The base URL requests go to. */
  get baseUrl(): string {
    return this.#core.engine.config.transport.baseUrl;
  }

  /**
   * Gets a training run.
   *
   * @param trainingRunId e.g. `d07c70ac-…:train:0`.
   * @param options `accessScope` (default `"owned"`), `signal`, `timeoutMs`.
   * @returns The run.
   *
   * @throws {InvalidArgumentError} At once, before sending: an invalid argument or an unknown
   *  option key.
   * @throws {NotFoundError} The future rejects: no such training run, or not one the caller may
   *  see.
   * @throws {ApiError} The future rejects with the subclass of any other failure
   *  (`AuthenticationError`, `RateLimitError`, `ApiConnectionError`, `ApiTimeoutError`,
   *  `ApiUserAbortError`, …).
   *
   * @example
   * ```ts
   * import { RestClient } from "@tinker-ts/tinker";
   * import { FAKE_IDS, startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * assert.equal((await rest.getTrainingRun(FAKE_IDS.run)).training_run_id, FAKE_IDS.run);
   * ```
   */
  getTrainingRun(
    trainingRunId: string,
    options: AccessScopeOptions = {},
  ): TinkerFuture<TrainingRun> {
    checkOptions(options, KEYS.accessScope, "getTrainingRun()");
    const id = checkId("trainingRunId", trainingRunId);
    const query: [string, string][] = [["access_scope", checkScope(options.accessScope)]];
    return this.#json("GET", `/training_runs/${encodeSegment(id)}`, "TrainingRun", options, query);
  }

  /**
   * Gets the training run of a checkpoint's tinker path.
   *
   * @param tinkerPath e.g. `tinker://run-1/weights/0001`.
   * @param options `accessScope`, `signal`, `timeoutMs`.
   * @returns The run.
   *
   * @throws {InvalidArgumentError} At once, before sending: an invalid argument or an unknown
   *  option key.
   * @throws {TinkerPathError} At once, before sending: a malformed tinker path.
   * @throws {NotFoundError} The future rejects: no such training run, or not one the caller may
   *  see.
   * @throws {ApiError} The future rejects with the subclass of any other failure
   *  (`AuthenticationError`, `RateLimitError`, `ApiConnectionError`, `ApiTimeoutError`,
   *  `ApiUserAbortError`, …).
   *
   * @example
   * ```ts
   * import { RestClient } from "@tinker-ts/tinker";
   * import { FAKE_IDS, startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const run = await rest.getTrainingRunByTinkerPath(FAKE_IDS.checkpointPath);
   * assert.ok(FAKE_IDS.checkpointPath.includes(run.training_run_id));
   * ```
   */
  getTrainingRunByTinkerPath(
    tinkerPath: string,
    options: AccessScopeOptions = {},
  ): TinkerFuture<TrainingRun> {
    checkOptions(options, KEYS.accessScope, "getTrainingRunByTinkerPath()");
    return this.getTrainingRun(parseTinkerPath(tinkerPath).training_run_id, options);
  }

  /**
   * Minimal information for loading a checkpoint's weights.
   *
   * @param tinkerPath The checkpoint's tinker path (validated, sent as given).
   * @param options `signal`, `timeoutMs`.
   * @returns Base model and LoRA settings.
   *
   * @throws {InvalidArgumentError} At once, before sending: an invalid argument or an unknown
   *  option key.
   * @throws {TinkerPathError} At once, before sending: a malformed tinker path.
   * @throws {NotFoundError} The future rejects: no such checkpoint, or not one the caller may see.
   * @throws {ApiError} The future rejects with the subclass of any other failure
   *  (`AuthenticationError`, `RateLimitError`, `ApiConnectionError`, `ApiTimeoutError`,
   *  `ApiUserAbortError`, …).
   *
   * @example
   * ```ts
   * import { RestClient } from "@tinker-ts/tinker";
   * import { FAKE_IDS, startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const info = await rest.getWeightsInfoByTinkerPath(FAKE_IDS.checkpointPath);
   * assert.equal(typeof info.base_model, "string");
   * ```
   */
  getWeightsInfoByTinkerPath(
    tinkerPath: string,
    options: RequestOptions = {},
  ): TinkerFuture<WeightsInfoResponse> {
    checkOptions(options, KEYS.request, "getWeightsInfoByTinkerPath()");
    parseTinkerPath(tinkerPath);
    const body = { tinker_path: tinkerPath };
    return this.#json("POST", "/weights_info", "WeightsInfoResponse", options, [], body, "safe");
  }

  /**
   * One page of training runs; iterate it (`for await`) for every run.
   *
   * @param options `limit` (default 20), `offset`, `accessScope`, `projectId`.
   * @returns A page future.
   *
   * @throws {InvalidArgumentError} At once, before sending: an invalid argument or an unknown
   *  option key.
   * @throws {ApiError} The future rejects with the subclass of any other failure
   *  (`AuthenticationError`, `RateLimitError`, `ApiConnectionError`, `ApiTimeoutError`,
   *  `ApiUserAbortError`, …).
   *
   * @example
   * ```ts
   * import { RestClient } from "@tinker-ts/tinker";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const page = await rest.listTrainingRuns({ limit: 10 });
   * let all = 0;
   * for await (const _run of rest.listTrainingRuns({ limit: 10 })) all++;
   * assert.equal(all, page.cursor.total_count);
   * ```
   */
  listTrainingRuns(
    options: ListTrainingRunsOptions = {},
  ): PageFuture<TrainingRunsResponse, TrainingRun> {
    checkOptions(options, KEYS.listTrainingRuns, "listTrainingRuns()");
    const scope = checkScope(options.accessScope);
    const project = options.projectId === undefined
      ? []
      : [["project_id", checkText("projectId", options.projectId)] as [string, string]];
    return this.#paged("/training_runs", "TrainingRunsResponse", options, 20, (page) => ({
      items: (page as TrainingRunsResponse).training_runs,
      total: (page as TrainingRunsResponse).cursor.total_count,
    }), [["access_scope", scope], ...project]);
  }

  /**
   * Every checkpoint of one training run (unpaged).
   *
   * @param trainingRunId The run.
   * @param options `signal`, `timeoutMs`.
   * @returns The checkpoints, training and sampler alike.
   *
   * @throws {InvalidArgumentError} At once, before sending: an invalid argument or an unknown
   *  option key.
   * @throws {NotFoundError} The future rejects: no such training run, or not one the caller may
   *  see.
   * @throws {ApiError} The future rejects with the subclass of any other failure
   *  (`AuthenticationError`, `RateLimitError`, `ApiConnectionError`, `ApiTimeoutError`,
   *  `ApiUserAbortError`, …).
   *
   * @example
   * ```ts
   * import { RestClient } from "@tinker-ts/tinker";
   * import { FAKE_IDS, startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const { checkpoints } = await rest.listCheckpoints(FAKE_IDS.run);
   * assert.ok(checkpoints.every((c) => c.tinker_path.includes(FAKE_IDS.run)));
   * ```
   */
  listCheckpoints(
    trainingRunId: string,
    options: RequestOptions = {},
  ): TinkerFuture<CheckpointsListResponse> {
    checkOptions(options, KEYS.request, "listCheckpoints()");
    const id = checkId("trainingRunId", trainingRunId);
    const path = `/training_runs/${encodeSegment(id)}/checkpoints`;
    return this.#json("GET", path, "CheckpointsListResponse", options);
  }

  /**
   * One page of all the caller's checkpoints, newest first; iterate it for all.
   *
   * @param options `limit` (default 100), `offset`.
   * @returns A page future.
   *
   * @throws {InvalidArgumentError} At once, before sending: an invalid argument or an unknown
   *  option key.
   * @throws {ApiError} The future rejects with the subclass of any other failure
   *  (`AuthenticationError`, `RateLimitError`, `ApiConnectionError`, `ApiTimeoutError`,
   *  `ApiUserAbortError`, …).
   *
   * @example
   * ```ts
   * import { RestClient } from "@tinker-ts/tinker";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const page = await rest.listUserCheckpoints({ limit: 3 });
   * assert.equal(page.checkpoints.length, 3);
   * ```
   */
  listUserCheckpoints(
    options: PageOptions = {},
  ): PageFuture<CheckpointsListResponse, Checkpoint> {
    checkOptions(options, KEYS.page, "listUserCheckpoints()");
    return this.#paged("/checkpoints", "CheckpointsListResponse", options, 100, (page) => ({
      items: (page as CheckpointsListResponse).checkpoints,
      total: (page as CheckpointsListResponse).cursor?.total_count,
    }));
  }

  /**
   * A signed URL to download a checkpoint's archive (no credentials needed).
   * Polls while the server builds the archive (HTTP 503).
   *
   * @param trainingRunId The run.
   * @param checkpointId The kind-prefixed id, e.g. `weights/0001`.
   * @param options `signal`, `timeoutMs`.
   * @returns `{ url, expires }`.
   *
   * @throws {InvalidArgumentError} At once, before sending: an invalid argument or an unknown
   *  option key.
   * @throws {NotFoundError} The future rejects: no such checkpoint, or not one the caller may see.
   * @throws {ApiError} The future rejects with the subclass of any other failure
   *  (`AuthenticationError`, `RateLimitError`, `ApiConnectionError`, `ApiTimeoutError`,
   *  `ApiUserAbortError`, …).
   *
   * @example
   * ```ts
   * import { RestClient } from "@tinker-ts/tinker";
   * import { FAKE_IDS, startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const { url } = await rest.getCheckpointArchiveUrl(FAKE_IDS.run, "weights/000010");
   * assert.ok(url.startsWith(fake.storageUrl));
   * ```
   */
  getCheckpointArchiveUrl(
    trainingRunId: string,
    checkpointId: string,
    options: RequestOptions = {},
  ): TinkerFuture<CheckpointArchiveUrlResponse> {
    checkOptions(options, KEYS.request, "getCheckpointArchiveUrl()");
    const http = this.#http("GET", `${checkpointPath(trainingRunId, checkpointId)}/archive`);
    return this.#future({ kind: "archive", http }, options);
  }

  /**
   * {@linkcode RestClient.getCheckpointArchiveUrl} for a tinker path.
   *
   * @param tinkerPath e.g. `tinker://run-1/weights/0001`.
   * @param options `signal`, `timeoutMs`.
   * @returns `{ url, expires }`.
   *
   * @throws {InvalidArgumentError} At once, before sending: an invalid argument or an unknown
   *  option key.
   * @throws {TinkerPathError} At once, before sending: a malformed tinker path.
   * @throws {NotFoundError} The future rejects: no such checkpoint, or not one the caller may see.
   * @throws {ApiError} The future rejects with the subclass of any other failure
   *  (`AuthenticationError`, `RateLimitError`, `ApiConnectionError`, `ApiTimeoutError`,
   *  `ApiUserAbortError`, …).
   *
   * @example
   * ```ts
   * import { RestClient } from "@tinker-ts/tinker";
   * import { FAKE_IDS, startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const archive = await rest.getCheckpointArchiveUrlFromTinkerPath(FAKE_IDS.checkpointPath);
   * assert.ok(Date.parse(archive.expires) > Date.now());
   * ```
   */
  getCheckpointArchiveUrlFromTinkerPath(
    tinkerPath: string,
    options: RequestOptions = {},
  ): TinkerFuture<CheckpointArchiveUrlResponse> {
    checkOptions(options, KEYS.request, "getCheckpointArchiveUrlFromTinkerPath()");
    const { training_run_id, checkpoint_id } = parseTinkerPath(tinkerPath);
    return this.getCheckpointArchiveUrl(training_run_id, checkpoint_id, options);
  }

  /**
   * Deletes a checkpoint. Not retried once it may have reached the server.
   *
   * @param trainingRunId The run.
   * @param checkpointId The kind-prefixed id, e.g. `weights/0001`.
   * @param options `signal`, `timeoutMs`.
   * @returns Resolves to `undefined`.
   *
   * @throws {InvalidArgumentError} At once, before sending: an invalid argument or an unknown
   *  option key.
   * @throws {NotFoundError} The future rejects: no such checkpoint, or not one the caller may see.
   * @throws {ApiError} The future rejects with the subclass of any other failure; after it may have
   *  reached the server it is not resent (`ApiConnectionError`, `ApiTimeoutError`,
   *  `InternalServerError`).
   *
   * @example
   * ```ts
   * import { RestClient } from "@tinker-ts/tinker";
   * import { FAKE_IDS, startFakeTinker } from "@tinker-ts/tinker/testing";
   *
   * await using fake = await startFakeTinker();
   * const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * await rest.deleteCheckpoint(FAKE_IDS.run, "weights/000010");
   * ```
   */
  deleteCheckpoint(
    trainingRunId: string,
    checkpointId: string,
    options: RequestOptions = {},
  ): TinkerFuture<void> {
    checkOptions(options, KEYS.request, "deleteCheckpoint()");
    return this.#void("DELETE", checkpointPath(trainingRunId, checkpointId), options);
  }

  /**
   * {@linkcode RestClient.deleteCheckpoint} for a tinker path.
   *
   * @param tinkerPath e.g. `tinker://run-1/weights/0001`.
   * @param options `signal`, `timeoutMs`.
   * @returns Resolves to `undefined`.
   *
   * @throws {InvalidArgumentError} At once, before sending: an invalid argument or an unknown
   *  option key.
   * @throws {TinkerPathError} At once, before sending: a malformed tinker path.
   * @throws {NotFoundError} The future rejects: no such checkpoint, or not one the caller may see.
   * @throws {ApiError} The future rejects with the subclass of any other failure; after it may have
   *  reached the server it is not resent (`ApiConnectionError`, `ApiTimeoutError`,
   *  `InternalServerError`).
   *
   * @example
   * ```ts
   * import { RestClient } from "@tinker-ts/tinker";
   * import { FAKE_IDS, startFakeTinker } from "@tinker-ts/tinker/testing";
   *
   * await using fake = await startFakeTinker();
   * const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * await rest.deleteCheckpointFromTinkerPath(FAKE_IDS.checkpointPath);
   * ```
   */
  deleteCheckpointFromTinkerPath(
    tinkerPath: string,
    options: RequestOptions = {},
  ): TinkerFuture<void> {
    checkOptions(options, KEYS.request, "deleteCheckpointFromTinkerPath()");
    const { training_run_id, checkpoint_id } = parseTinkerPath(tinkerPath);
    return this.deleteCheckpoint(training_run_id, checkpoint_id, options);
  }

  /**
   * Makes a checkpoint public. A 409 (already public) is a `ConflictError` at once.
   *
   * @param tinkerPath e.g. `tinker://run-1/weights/0001`.
   * @param options `signal`, `timeoutMs`.
   * @returns Resolves to `undefined`.
   *
   * @throws {InvalidArgumentError} At once, before sending: an invalid argument or an unknown
   *  option key.
   * @throws {TinkerPathError} At once, before sending: a malformed tinker path.
   * @throws {NotFoundError} The future rejects: no such checkpoint, or not one the caller may see.
   * @throws {ConflictError} The future rejects: the checkpoint is already public.
   * @throws {ApiError} The future rejects with the subclass of any other failure; after it may have
   *  reached the server it is not resent (`ApiConnectionError`, `ApiTimeoutError`,
   *  `InternalServerError`).
   *
   * @example
   * ```ts
   * import { RestClient } from "@tinker-ts/tinker";
   * import { FAKE_IDS, startFakeTinker } from "@tinker-ts/tinker/testing";
   *
   * await using fake = await startFakeTinker();
   * const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * await rest.publishCheckpointFromTinkerPath(FAKE_IDS.checkpointPath);
   * ```
   */
  publishCheckpointFromTinkerPath(
    tinkerPath: string,
    options: RequestOptions = {},
  ): TinkerFuture<void> {
    checkOptions(options, KEYS.request, "publishCheckpointFromTinkerPath()");
    const { training_run_id, checkpoint_id } = parseTinkerPath(tinkerPath);
    return this.#void("POST", `${checkpointPath(training_run_id, checkpoint_id)}/publish`, options);
  }

  /**
   * Makes a public checkpoint private again. A 409 (already private) is a `ConflictError` at once.
   *
   * @param tinkerPath e.g. `tinker://run-1/weights/0001`.
   * @param options `signal`, `timeoutMs`.
   * @returns Resolves to `undefined`.
   *
   * @throws {InvalidArgumentError} At once, before sending: an invalid argument or an unknown
   *  option key.
   * @throws {TinkerPathError} At once, before sending: a malformed tinker path.
   * @throws {NotFoundError} The future rejects: no such checkpoint, or not one the caller may see.
   * @throws {ConflictError} The future rejects: the checkpoint is already private.
   * @throws {ApiError} The future rejects with the subclass of any other failure; after it may have
   *  reached the server it is not resent (`ApiConnectionError`, `ApiTimeoutError`,
   *  `InternalServerError`).
   *
   * @example
   * ```ts
   * import { RestClient } from "@tinker-ts/tinker";
   * import { FAKE_IDS, startFakeTinker } from "@tinker-ts/tinker/testing";
   *
   * await using fake = await startFakeTinker();
   * const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * await rest.unpublishCheckpointFromTinkerPath(FAKE_IDS.publicCheckpointPath);
   * ```
   */
  unpublishCheckpointFromTinkerPath(
    tinkerPath: string,
    options: RequestOptions = {},
  ): TinkerFuture<void> {
    checkOptions(options, KEYS.request, "unpublishCheckpointFromTinkerPath()");
    const { training_run_id, checkpoint_id } = parseTinkerPath(tinkerPath);
    const path = `${checkpointPath(training_run_id, checkpoint_id)}/publish`;
    return this.#void("DELETE", path, options);
  }

  /**
   * Sets a checkpoint to expire `ttlSeconds` from now, or never (`null`).
   *
   * @param tinkerPath e.g. `tinker://run-1/weights/0001`.
   * @param ttlSeconds Whole seconds (at least 1), or `null` to remove the TTL.
   * @param options `signal`, `timeoutMs`.
   * @returns Resolves to `undefined`.
   *
   * @throws {InvalidArgumentError} At once, before sending: an invalid argument or an unknown
   *  option key.
   * @throws {TinkerPathError} At once, before sending: a malformed tinker path.
   * @throws {NotFoundError} The future rejects: no such checkpoint, or not one the caller may see.
   * @throws {ApiError} The future rejects with the subclass of any other failure
   *  (`AuthenticationError`, `RateLimitError`, `ApiConnectionError`, `ApiTimeoutError`,
   *  `ApiUserAbortError`, …).
   *
   * @example
   * ```ts
   * import { RestClient } from "@tinker-ts/tinker";
   * import { FAKE_IDS, startFakeTinker } from "@tinker-ts/tinker/testing";
   *
   * await using fake = await startFakeTinker();
   * const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * await rest.setCheckpointTtlFromTinkerPath(FAKE_IDS.checkpointPath, 7 * 24 * 3600);
   * await rest.setCheckpointTtlFromTinkerPath(FAKE_IDS.checkpointPath, null);
   * ```
   */
  setCheckpointTtlFromTinkerPath(
    tinkerPath: string,
    ttlSeconds: number | null,
    options: RequestOptions = {},
  ): TinkerFuture<void> {
    checkOptions(options, KEYS.request, "setCheckpointTtlFromTinkerPath()");
    const { training_run_id, checkpoint_id } = parseTinkerPath(tinkerPath);
    const path = `${checkpointPath(training_run_id, checkpoint_id)}/ttl`;
    return this.#void("PUT", path, options, { ttl_seconds: checkTtl(ttlSeconds) }, "safe");
  }

  /**
   * The training runs and samplers of a session.
   *
   * @param sessionId The session.
   * @param options `accessScope`, `signal`, `timeoutMs`.
   * @returns Run and sampler ids.
   *
   * @throws {InvalidArgumentError} At once, before sending: an invalid argument or an unknown
   *  option key.
   * @throws {NotFoundError} The future rejects: no such session, or not one the caller may see.
   * @throws {ApiError} The future rejects with the subclass of any other failure
   *  (`AuthenticationError`, `RateLimitError`, `ApiConnectionError`, `ApiTimeoutError`,
   *  `ApiUserAbortError`, …).
   *
   * @example
   * ```ts
   * import { RestClient } from "@tinker-ts/tinker";
   * import { FAKE_IDS, startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const session = await rest.getSession(FAKE_IDS.sessionId);
   * assert.ok(Array.isArray(session.training_run_ids));
   * ```
   */
  getSession(
    sessionId: string,
    options: AccessScopeOptions = {},
  ): TinkerFuture<GetSessionResponse> {
    checkOptions(options, KEYS.accessScope, "getSession()");
    const id = checkId("sessionId", sessionId);
    const query: [string, string][] = [["access_scope", checkScope(options.accessScope)]];
    return this.#json(
      "GET",
      `/sessions/${encodeSegment(id)}`,
      "GetSessionResponse",
      options,
      query,
    );
  }

  /**
   * One page of session ids (no cursor: iteration stops at a short page).
   *
   * @param options `limit` (default 20), `offset`, `accessScope`.
   * @returns A page future.
   *
   * @throws {InvalidArgumentError} At once, before sending: an invalid argument or an unknown
   *  option key.
   * @throws {ApiError} The future rejects with the subclass of any other failure
   *  (`AuthenticationError`, `RateLimitError`, `ApiConnectionError`, `ApiTimeoutError`,
   *  `ApiUserAbortError`, …).
   *
   * @example
   * ```ts
   * import { RestClient } from "@tinker-ts/tinker";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const ids: string[] = [];
   * for await (const id of rest.listSessions({ limit: 3 })) ids.push(id);
   * assert.ok(ids.length > 3);
   * ```
   */
  listSessions(
    options: ListSessionsOptions = {},
  ): PageFuture<ListSessionsResponse, string> {
    checkOptions(options, KEYS.listSessions, "listSessions()");
    const scope = checkScope(options.accessScope);
    return this.#paged("/sessions", "ListSessionsResponse", options, 20, (page) => ({
      items: (page as ListSessionsResponse).sessions,
      total: undefined,
    }), [["access_scope", scope]]);
  }

  /**
   * Moves a session (with its runs and samplers) into a project.
   *
   * @param sessionId The session.
   * @param projectId The destination project.
   * @param options `signal`, `timeoutMs`.
   * @returns Resolves to `undefined`.
   *
   * @throws {InvalidArgumentError} At once, before sending: an invalid argument or an unknown
   *  option key.
   * @throws {NotFoundError} The future rejects: no such session, or not one the caller may see.
   * @throws {ApiError} The future rejects with the subclass of any other failure
   *  (`AuthenticationError`, `RateLimitError`, `ApiConnectionError`, `ApiTimeoutError`,
   *  `ApiUserAbortError`, …).
   *
   * @example
   * ```ts
   * import { RestClient } from "@tinker-ts/tinker";
   * import { FAKE_IDS, startFakeTinker } from "@tinker-ts/tinker/testing";
   *
   * await using fake = await startFakeTinker();
   * const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * await rest.assignSessionProject(FAKE_IDS.sessionId, "proj-research");
   * ```
   */
  assignSessionProject(
    sessionId: string,
    projectId: string,
    options: RequestOptions = {},
  ): TinkerFuture<void> {
    checkOptions(options, KEYS.request, "assignSessionProject()");
    const path = `/sessions/${encodeSegment(checkId("sessionId", sessionId))}/project`;
    const body = { project_id: checkText("projectId", projectId) };
    return this.#void("PUT", path, options, body, "safe");
  }

  /**
   * Exports a session's trace; polls until it is ready.
   *
   * @param sessionId The session.
   * @param options `signal`, `timeoutMs`.
   * @returns The signed URL of the `.pftrace` file (valid about an hour).
   *
   * @throws {InvalidArgumentError} At once, before sending: an invalid argument or an unknown
   *  option key.
   * @throws {NotFoundError} The future rejects: no such session, or not one the caller may see.
   * @throws {TinkerError} The future rejects: the server reports that the export failed (its reason
   *  in the message).
   * @throws {ApiError} The future rejects with the subclass of any other failure
   *  (`AuthenticationError`, `RateLimitError`, `ApiConnectionError`, `ApiTimeoutError`,
   *  `ApiUserAbortError`, …).
   *
   * @example
   * ```ts
   * import { RestClient } from "@tinker-ts/tinker";
   * import { FAKE_IDS, startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey, tracePollIntervalMs: 10 });
   * const url = await rest.exportSessionTrace(FAKE_IDS.sessionId);
   * assert.ok(url.startsWith(fake.storageUrl));
   * ```
   */
  exportSessionTrace(sessionId: string, options: RequestOptions = {}): TinkerFuture<string> {
    checkOptions(options, KEYS.request, "exportSessionTrace()");
    const id = checkId("sessionId", sessionId);
    const http = this.#http("GET", `/sessions/${encodeSegment(id)}/trace_export`);
    return this.#future({ kind: "trace", http, sessionId: id }, options);
  }

  /**
   * Gets a sampler.
   *
   * @param samplerId e.g. `<session>:sample:0`.
   * @param options `signal`, `timeoutMs`.
   * @returns The sampler.
   *
   * @throws {InvalidArgumentError} At once, before sending: an invalid argument or an unknown
   *  option key.
   * @throws {NotFoundError} The future rejects: no such sampler, or not one the caller may see.
   * @throws {ApiError} The future rejects with the subclass of any other failure
   *  (`AuthenticationError`, `RateLimitError`, `ApiConnectionError`, `ApiTimeoutError`,
   *  `ApiUserAbortError`, …).
   *
   * @example
   * ```ts
   * import { RestClient } from "@tinker-ts/tinker";
   * import { FAKE_IDS, startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * assert.equal((await rest.getSampler(FAKE_IDS.samplerId)).sampler_id, FAKE_IDS.samplerId);
   * ```
   */
  getSampler(samplerId: string, options: RequestOptions = {}): TinkerFuture<GetSamplerResponse> {
    checkOptions(options, KEYS.request, "getSampler()");
    const path = `/samplers/${encodeSegment(checkId("samplerId", samplerId))}`;
    return this.#json("GET", path, "GetSamplerResponse", options);
  }

  /**
   * The audit log of one UTC day (needs the `tinker-admin` role).
   *
   * @param options `eventType` (`"all"`), `day` (`"YYYY-MM-DD"` or a `Date`).
   * @returns The entries.
   *
   * @throws {InvalidArgumentError} At once, before sending: an invalid argument or an unknown
   *  option key.
   * @throws {PermissionDeniedError} The future rejects: the credential may not read the audit log.
   * @throws {ApiError} The future rejects with the subclass of any other failure
   *  (`AuthenticationError`, `RateLimitError`, `ApiConnectionError`, `ApiTimeoutError`,
   *  `ApiUserAbortError`, …).
   *
   * @example
   * ```ts
   * import { RestClient } from "@tinker-ts/tinker";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const log = await rest.getAuditLog({ day: "2026-09-14" });
   * assert.ok(Array.isArray(log.entries));
   * ```
   */
  getAuditLog(options: AuditLogOptions = {}): TinkerFuture<AuditLogResponse> {
    checkOptions(options, KEYS.auditLog, "getAuditLog()");
    const types = ["all", "checkpoints", "projects", "teams", "organizations"] as const;
    const query: [string, string][] = [
      ["event_type", checkChoice("eventType", options.eventType, types, "all")],
    ];
    if (options.day !== undefined) query.push(["day", checkDay(options.day)]);
    const http = { ...this.#http("GET", "/audit", query), followRedirects: true };
    return this.#future({ kind: "json", http, schema: "AuditLogResponse" }, options);
  }

  /**
   * Hourly billing usage in `[startingOn, endingBefore)` (UTC hour boundaries, at most 14 days).
   *
   * @param startingOn RFC 3339 string with an offset, or a `Date`.
   * @param endingBefore RFC 3339 string with an offset, or a `Date`.
   * @param options `signal`, `timeoutMs`.
   * @returns The usage rows and the sessions they name.
   *
   * @throws {InvalidArgumentError} At once, before sending: an invalid argument or an unknown
   *  option key.
   * @throws {ApiError} The future rejects with the subclass of any other failure
   *  (`AuthenticationError`, `RateLimitError`, `ApiConnectionError`, `ApiTimeoutError`,
   *  `ApiUserAbortError`, …).
   *
   * @example
   * ```ts
   * import { RestClient } from "@tinker-ts/tinker";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const usage = await rest.getBillingUsage("2026-07-13T00:00:00Z", new Date("2026-07-14T00:00:00Z"));
   * assert.ok(usage.data.length > 0);
   * ```
   */
  getBillingUsage(
    startingOn: string | Date,
    endingBefore: string | Date,
    options: RequestOptions = {},
  ): TinkerFuture<BillingUsageResponse> {
    checkOptions(options, KEYS.request, "getBillingUsage()");
    const query: [string, string][] = [
      ["starting_on", checkInstant("startingOn", startingOn)],
      ["ending_before", checkInstant("endingBefore", endingBefore)],
    ];
    return this.#json("GET", "/billing/usage/events", "BillingUsageResponse", options, query);
  }

  /**
   * Who the credential belongs to, decoded from the JWT (no request beyond
   * the bootstrap). Throws a `TinkerError` when there is no JWT.
   *
   * @param options `signal`, `timeoutMs` (for the bootstrap).
   * @returns The user URN and email.
   *
   * @throws {InvalidArgumentError} At once, before sending: an invalid argument or an unknown
   *  option key.
   * @throws {TinkerError} The future rejects: the server has JWT auth off and the credential is a
   *  plain API key (nothing to decode).
   * @throws {ApiError} The future rejects with the subclass of any other failure
   *  (`AuthenticationError`, `RateLimitError`, `ApiConnectionError`, `ApiTimeoutError`,
   *  `ApiUserAbortError`, …).
   *
   * @example
   * ```ts
   * import { RestClient } from "@tinker-ts/tinker";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker({ jwtAuth: true });
   * const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const me = await rest.whoami();
   * assert.ok(me.user_urn.startsWith("tml:"));
   * ```
   */
  whoami(options: RequestOptions = {}): TinkerFuture<WhoamiResponse> {
    checkOptions(options, KEYS.request, "whoami()");
    return this.#future({ kind: "whoami" }, options);
  }

  /**
   * The base models the service offers (SDK 0.38).
   *
   * @param options `signal`, `timeoutMs`.
   * @returns The supported models.
   *
   * @throws {InvalidArgumentError} At once, before sending: an invalid argument or an unknown
   *  option key.
   * @throws {ApiError} The future rejects with the subclass of any other failure
   *  (`AuthenticationError`, `RateLimitError`, `ApiConnectionError`, `ApiTimeoutError`,
   *  `ApiUserAbortError`, …).
   *
   * @example
   * ```ts
   * import { RestClient } from "@tinker-ts/tinker";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const { supported_models } = await rest.getServerCapabilities();
   * assert.ok(supported_models.length > 0);
   * ```
   */
  getServerCapabilities(options: RequestOptions = {}): TinkerFuture<GetServerCapabilitiesResponse> {
    checkOptions(options, KEYS.request, "getServerCapabilities()");
    return this.#json("GET", "/get_server_capabilities", "GetServerCapabilitiesResponse", options);
  }

  /**
   * Signed URLs of every file of an external-weights checkpoint (SDK 0.38).
   *
   * @param tinkerPath `tinker://<run>/external_weights/<name>`.
   * @param options `signal`, `timeoutMs`.
   * @returns File path → URL, and when they expire.
   *
   * @throws {InvalidArgumentError} At once, before sending: an invalid argument or an unknown
   *  option key.
   * @throws {TinkerPathError} At once, before sending: a malformed tinker path.
   * @throws {NotFoundError} The future rejects: no such checkpoint, or not one the caller may see.
   * @throws {ApiError} The future rejects with the subclass of any other failure
   *  (`AuthenticationError`, `RateLimitError`, `ApiConnectionError`, `ApiTimeoutError`,
   *  `ApiUserAbortError`, …).
   *
   * @example
   * ```ts
   * import { RestClient } from "@tinker-ts/tinker";
   * import { FAKE_IDS, startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const { urls } = await rest.getExternalWeightsUrls(FAKE_IDS.externalCheckpointPath);
   * assert.ok(Object.keys(urls).length > 0);
   * ```
   */
  getExternalWeightsUrls(
    tinkerPath: string,
    options: RequestOptions = {},
  ): TinkerFuture<ExternalWeightsUrlsResponse> {
    checkOptions(options, KEYS.request, "getExternalWeightsUrls()");
    const { training_run_id, checkpoint_id, checkpoint_type } = parseTinkerPath(tinkerPath);
    if (checkpoint_type !== "external") {
      throw new TinkerPathError(
        tinkerPath,
        "external weights URLs exist only for tinker://<run>/external_weights/<name> paths",
      );
    }
    const path = `${checkpointPath(training_run_id, checkpoint_id)}/external_weights_urls`;
    const http = this.#http("GET", path);
    return this.#future(
      { kind: "json", http, schema: "ExternalWeightsUrlsResponse", urls: "urls" },
      options,
    );
  }

  /**
   * Copies a checkpoint's weights into a project (SDK 0.38). Safe to retry:
   * one idempotency key covers every attempt of this call.
   *
   * @param tinkerPath The source checkpoint.
   * @param options `destinationProjectId` (default `TINKER_PROJECT_ID`), `ttlSeconds`, `weightsAccessToken`.
   * @returns The tinker path of the copy.
   *
   * @throws {InvalidArgumentError} At once, before sending: an invalid argument or an unknown
   *  option key.
   * @throws {TinkerPathError} At once, before sending: a malformed tinker path.
   * @throws {NotFoundError} The future rejects: no such checkpoint, or not one the caller may see.
   * @throws {ApiError} The future rejects with the subclass of any other failure
   *  (`AuthenticationError`, `RateLimitError`, `ApiConnectionError`, `ApiTimeoutError`,
   *  `ApiUserAbortError`, …).
   *
   * @example
   * ```ts
   * import { RestClient } from "@tinker-ts/tinker";
   * import { FAKE_IDS, startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const copy = await rest.copyWeights(FAKE_IDS.checkpointPath, { destinationProjectId: "proj-b" });
   * assert.ok(copy.startsWith("tinker://"));
   * ```
   */
  copyWeights(tinkerPath: string, options: CopyWeightsOptions = {}): TinkerFuture<string> {
    checkOptions(options, KEYS.copyWeights, "copyWeights()");
    parseTinkerPath(tinkerPath);
    const project = options.destinationProjectId ?? this.#core.env("TINKER_PROJECT_ID");
    if (project === undefined) {
      throw new InvalidArgumentError(
        "destinationProjectId",
        "is required: pass it or set the TINKER_PROJECT_ID environment variable",
      );
    }
    const body: Record<string, unknown> = {
      destination_project_id: checkText("destinationProjectId", project),
      source_path: tinkerPath,
    };
    if (options.ttlSeconds !== undefined) body.ttl_seconds = checkTtl(options.ttlSeconds);
    const token = options.weightsAccessToken;
    const http: HttpSpec = {
      ...this.#http("POST", "/copy_weights"),
      body,
      retry: "safe",
      idempotencyKey: crypto.randomUUID(),
      ...(token !== undefined &&
        {
          secretHeaders: {
            "X-Tinker-Weights-Access-Token": checkText("weightsAccessToken", token),
          },
        }),
    };
    return this.#future(
      { kind: "json", http, schema: "CopyWeightsResponse", pick: "tinker_path" },
      options,
    );
  }

  /**
   * Searches sessions (experimental in the official SDK). Page with the
   * response's `next_cursor`.
   *
   * @param request Filters; `limit` defaults to 50, `owner` to your own sessions.
   * @param options `signal`, `timeoutMs`.
   * @returns One page of matching sessions.
   *
   * @throws {InvalidArgumentError} At once, before sending: an invalid argument or an unknown
   *  option key.
   * @throws {ApiError} The future rejects with the subclass of any other failure
   *  (`AuthenticationError`, `RateLimitError`, `ApiConnectionError`, `ApiTimeoutError`,
   *  `ApiUserAbortError`, …).
   *
   * @example
   * ```ts
   * import { RestClient } from "@tinker-ts/tinker";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const found = await rest.searchSessions({ limit: 5 });
   * assert.ok(found.sessions.length <= 5);
   * ```
   */
  searchSessions(
    request: SessionSearchRequest = {},
    options: RequestOptions = {},
  ): TinkerFuture<SessionSearchResponse> {
    checkOptions(options, KEYS.request, "searchSessions()");
    const body = sessionSearchBody(request);
    return this.#json(
      "POST",
      "/sessions/search",
      "SessionSearchResponse",
      options,
      [],
      body,
      "safe",
    );
  }

  /**
   * Checkpoint storage now, by project and owner (SDK 0.38; needs a billing role).
   *
   * @param options `projectId` to narrow to one project.
   * @returns The rows and the rate.
   *
   * @throws {InvalidArgumentError} At once, before sending: an invalid argument or an unknown
   *  option key.
   * @throws {ApiError} The future rejects with the subclass of any other failure
   *  (`AuthenticationError`, `RateLimitError`, `ApiConnectionError`, `ApiTimeoutError`,
   *  `ApiUserAbortError`, …).
   *
   * @example
   * ```ts
   * import { RestClient } from "@tinker-ts/tinker";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const usage = await rest.getCurrentCheckpointStorageUsage();
   * assert.ok(Array.isArray(usage.data));
   * ```
   */
  getCurrentCheckpointStorageUsage(
    options: RequestOptions & { projectId?: string | undefined } = {},
  ): TinkerFuture<CurrentCheckpointStorageUsageResponse> {
    checkOptions(options, KEYS.storageUsage, "getCurrentCheckpointStorageUsage()");
    const query: [string, string][] = options.projectId === undefined
      ? []
      : [["project_id", checkText("projectId", options.projectId)]];
    const path = "/billing/usage/checkpoints/current";
    return this.#json("GET", path, "CurrentCheckpointStorageUsageResponse", options, query);
  }

  /**
   * Stops the sync worker, if one was started. The client stays usable with
   * `await`; a later `.result()` starts a new worker.
   *
   * @example
   * ```ts
   * import { RestClient } from "@tinker-ts/tinker";
   * using rest = new RestClient({ apiKey: "tml-example" });
   * rest.close();
   * ```
   */
  close(): void {
    this.#core.close();
  }

  /** Same as {@linkcode RestClient.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #http(method: Method, path: string, query: [string, string][] = []): HttpSpec {
    return { method, path: `/api/v1${path}`, query, retry: method === "GET" ? "safe" : "unsent" };
  }

  #future<T>(op: Operation, options: RequestOptions): TinkerFuture<T> {
    return this.#core.future<T>(op, options);
  }

  #json<T>(
    method: Method,
    path: string,
    schema: SchemaName,
    options: RequestOptions,
    query: [string, string][] = [],
    body?: unknown,
    retry?: HttpSpec["retry"],
  ): TinkerFuture<T> {
    const http = { ...this.#http(method, path, query), body, ...(retry && { retry }) };
    return this.#future({ kind: "json", http, schema }, options);
  }

  #void(
    method: Method,
    path: string,
    options: RequestOptions,
    body?: unknown,
    retry?: HttpSpec["retry"],
  ): TinkerFuture<void> {
    const http = { ...this.#http(method, path), body, ...(retry && { retry }) };
    return this.#future({ kind: "void", http }, options);
  }

  #paged<Page, Item>(
    path: string,
    schema: SchemaName,
    options: PageOptions,
    defaultLimit: number,
    read: (page: unknown) => { items: Item[]; total: number | undefined },
    extra: [string, string][] = [],
  ): PageFuture<Page, Item> {
    const limit = checkInt("limit", options.limit, 1, defaultLimit);
    const offset = checkInt("offset", options.offset, 0, 0);
    const maxPages = checkInt("maxPages", options.maxPages, 1, DEFAULT_MAX_PAGES);
    const call = callSettings(options);
    const op = (at: number): Operation => ({
      kind: "json",
      http: this.#http("GET", path, [["limit", String(limit)], ["offset", String(at)], ...extra]),
      schema,
    });
    const runner = this.#core.runner;
    return new PagedFuture<Page, Item>(op(offset), runner, call, {
      items: (page) => read(page).items,
      total: (page) => read(page).total,
      fetch: (at) => new Future<Page>(op(at), runner, call),
      offset,
      limit,
      maxPages,
      what: `GET /api/v1${path}`,
    });
  }
}

/**
 * The official SDK 0.38 moved billing and the audit log to an `AdminClient`;
 * this one is constructed the same way as {@linkcode RestClient} and calls
 * the same endpoints, so ported code reads the same.
 *
 * @example
 * ```ts
 * import { AdminClient } from "@tinker-ts/tinker";
 * import { startFakeTinker } from "@tinker-ts/tinker/testing";
 * import assert from "node:assert/strict";
 *
 * await using fake = await startFakeTinker();
 * const admin = new AdminClient({ baseUrl: fake.url, apiKey: fake.apiKey });
 * const usage = await admin.getBillingUsage("2026-07-13T00:00:00Z", "2026-07-14T00:00:00Z");
 * assert.ok(usage.data.length > 0);
 * ```
 */
export class AdminClient implements Disposable {
  #rest: RestClient;

  /**
   * Creates an admin client; nothing is sent.
   *
   * @param options As for {@linkcode RestClient}.
   * @throws {InvalidArgumentError} An unknown option key (named, with the closest known one) or a
   *  bad `maxRetries` / `timeoutMs`.
   */
  constructor(options: ClientOptions = {}) {
    checkOptions(options, KEYS.client, "new AdminClient()");
    this.#rest = new RestClient(options);
  }

  /**
   * See {@linkcode RestClient.getBillingUsage}.
   *
   * @param startingOn RFC 3339 string with an offset, or a `Date`.
   * @param endingBefore RFC 3339 string with an offset, or a `Date`.
   * @param options `signal`, `timeoutMs`.
   * @returns The usage rows.
   *
   * @throws {InvalidArgumentError} At once, before sending: an invalid argument or an unknown
   *  option key.
   * @throws {ApiError} The future rejects with the subclass of any other failure
   *  (`AuthenticationError`, `RateLimitError`, `ApiConnectionError`, `ApiTimeoutError`,
   *  `ApiUserAbortError`, …).
   *
   * @example
   * ```ts
   * import { AdminClient } from "@tinker-ts/tinker";
   * const admin = new AdminClient({ apiKey: "tml-example" });
   * const pending = () => admin.getBillingUsage("2026-07-13T00:00:00Z", "2026-07-14T00:00:00Z");
   * ```
   */
  getBillingUsage(
    startingOn: string | Date,
    endingBefore: string | Date,
    options: RequestOptions = {},
  ): TinkerFuture<BillingUsageResponse> {
    checkOptions(options, KEYS.request, "getBillingUsage()");
    return this.#rest.getBillingUsage(startingOn, endingBefore, options);
  }

  /**
   * See {@linkcode RestClient.getCurrentCheckpointStorageUsage}.
   *
   * @param options `projectId`, `signal`, `timeoutMs`.
   * @returns The rows and the rate.
   *
   * @throws {InvalidArgumentError} At once, before sending: an invalid argument or an unknown
   *  option key.
   * @throws {ApiError} The future rejects with the subclass of any other failure
   *  (`AuthenticationError`, `RateLimitError`, `ApiConnectionError`, `ApiTimeoutError`,
   *  `ApiUserAbortError`, …).
   *
   * @example
   * ```ts
   * import { AdminClient } from "@tinker-ts/tinker";
   * const admin = new AdminClient({ apiKey: "tml-example" });
   * const pending = () => admin.getCurrentCheckpointStorageUsage({ projectId: "proj-1" });
   * ```
   */
  getCurrentCheckpointStorageUsage(
    options: RequestOptions & { projectId?: string | undefined } = {},
  ): TinkerFuture<CurrentCheckpointStorageUsageResponse> {
    checkOptions(options, KEYS.storageUsage, "getCurrentCheckpointStorageUsage()");
    return this.#rest.getCurrentCheckpointStorageUsage(options);
  }

  /**
   * See {@linkcode RestClient.getAuditLog}.
   *
   * @param options `eventType`, `day`, `signal`, `timeoutMs`.
   * @returns The entries.
   *
   * @throws {InvalidArgumentError} At once, before sending: an invalid argument or an unknown
   *  option key.
   * @throws {PermissionDeniedError} The future rejects: the credential may not read the audit log.
   * @throws {ApiError} The future rejects with the subclass of any other failure
   *  (`AuthenticationError`, `RateLimitError`, `ApiConnectionError`, `ApiTimeoutError`,
   *  `ApiUserAbortError`, …).
   *
   * @example
   * ```ts
   * import { AdminClient } from "@tinker-ts/tinker";
   * const admin = new AdminClient({ apiKey: "tml-example" });
   * const pending = () => admin.getAuditLog({ eventType: "projects", day: "2026-07-13" });
   * ```
   */
  getAuditLog(options: AuditLogOptions = {}): TinkerFuture<AuditLogResponse> {
    checkOptions(options, KEYS.auditLog, "getAuditLog()");
    return this.#rest.getAuditLog(options);
  }

  /**
   * Stops the sync worker, if one was started.
   *
   * @example
   * ```ts
   * import { AdminClient } from "@tinker-ts/tinker";
   * new AdminClient({ apiKey: "tml-example" }).close();
   * ```
   */
  close(): void {
    this.#rest.close();
  }

  /** Same as {@linkcode AdminClient.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/** `/training_runs/{run}/checkpoints/{kind}/{name}`, each segment checked and encoded. */
function checkpointPath(trainingRunId: string, checkpointId: string): string {
  const run = encodeSegment(checkId("trainingRunId", trainingRunId));
  const checkpoint = checkCheckpointId(checkpointId).split("/").map(encodeSegment).join("/");
  return `/training_runs/${run}/checkpoints/${checkpoint}`;
}
