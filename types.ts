/**
 * The types of the Tinker REST API: response objects exactly as the wire JSON
 * (snake_case field names, timestamps as the ISO-8601 strings the server
 * sent), and the options objects of the client.
 *
 * @example Reading a training run
 * ```ts
 * import type { TrainingRun } from "@tinker-ts/tinker";
 *
 * function describe(run: TrainingRun): string {
 *   return `${run.training_run_id} (${run.base_model}, LoRA rank ${run.lora_rank ?? "n/a"})`;
 * }
 * ```
 *
 * @module
 */

import type { BootstrapCache } from "./internal/_bootstrap_cache.ts";

/**
 * `"training"` for `weights/…` checkpoints, `"sampler"` for `sampler_weights/…`,
 * `"external"` for `external_weights/…` (exported weights, SDK 0.38).
 */
export type CheckpointType = "training" | "sampler" | "external";

/** Whose resources a call sees: the caller's own, or everything it can read. */
export type AccessScope = "owned" | "accessible";

/**
 * Offset pagination state of a list response.
 *
 * @example
 * ```ts
 * import type { Cursor } from "@tinker-ts/tinker";
 * const cursor: Cursor = { offset: 0, limit: 20, total_count: 57 };
 * ```
 */
export interface Cursor {
  /** The offset used for this page. */
  offset: number;
  /** The maximum number of items requested. */
  limit: number;
  /** The total number of items available. */
  total_count: number;
}

/**
 * A saved checkpoint of a training run.
 *
 * @example
 * ```ts
 * import type { Checkpoint } from "@tinker-ts/tinker";
 * const checkpoint: Checkpoint = {
 *   checkpoint_id: "weights/0001",
 *   checkpoint_type: "training",
 *   time: "2026-09-14T08:21:07.123456Z",
 *   tinker_path: "tinker://run-1/weights/0001",
 *   size_bytes: 1234,
 *   public: false,
 *   expires_at: null,
 * };
 * ```
 */
export interface Checkpoint {
  /** The kind-prefixed id: `weights/0001` or `sampler_weights/final`. */
  checkpoint_id: string;
  /** The type of checkpoint. */
  checkpoint_type: CheckpointType;
  /** When the checkpoint was created (ISO 8601). */
  time: string;
  /** The tinker path, e.g. `tinker://run-1/weights/0001`. */
  tinker_path: string;
  /** The size in bytes, when known. */
  size_bytes?: number | null;
  /** Whether the checkpoint is publicly accessible (default false). */
  public?: boolean;
  /** Metadata set by the end user. */
  user_metadata?: Record<string, string> | null;
  /** When the checkpoint expires (ISO 8601); `null` never. */
  expires_at?: string | null;
}

/**
 * A training run (a model being fine-tuned).
 *
 * @example
 * ```ts
 * import type { TrainingRun } from "@tinker-ts/tinker";
 * const isHealthy = (run: TrainingRun) => !run.corrupted;
 * ```
 */
export interface TrainingRun {
  /** The unique id, e.g. `d07c70ac-…:train:0`. */
  training_run_id: string;
  /** The base model name. */
  base_model: string;
  /** The owner/creator of the run. */
  model_owner: string;
  /** Whether the run uses LoRA. */
  is_lora: boolean;
  /** Whether the model is in a corrupted state (default false). */
  corrupted?: boolean;
  /** The LoRA rank, or null. */
  lora_rank?: number | null;
  /** When the last request was made to this model (ISO 8601). */
  last_request_time: string;
  /** The most recent training checkpoint. */
  last_checkpoint?: Checkpoint | null;
  /** The most recent sampler checkpoint. */
  last_sampler_checkpoint?: Checkpoint | null;
  /** Metadata set by the end user. */
  user_metadata?: Record<string, string> | null;
}

/**
 * One page of training runs.
 *
 * @example
 * ```ts
 * import type { TrainingRunsResponse } from "@tinker-ts/tinker";
 * const hasMore = (page: TrainingRunsResponse) =>
 *   page.cursor.offset + page.training_runs.length < page.cursor.total_count;
 * ```
 */
export interface TrainingRunsResponse {
  /** The runs of this page. */
  training_runs: TrainingRun[];
  /** Where this page sits. */
  cursor: Cursor;
}

/**
 * Checkpoints of one run (unpaged, `cursor` null) or of the caller (paged).
 *
 * @example
 * ```ts
 * import type { CheckpointsListResponse } from "@tinker-ts/tinker";
 * const paths = (page: CheckpointsListResponse) => page.checkpoints.map((c) => c.tinker_path);
 * ```
 */
export interface CheckpointsListResponse {
  /** The checkpoints. */
  checkpoints: Checkpoint[];
  /** Pagination state; null or absent for a single run's list. */
  cursor?: Cursor | null;
}

/**
 * Minimal information for loading a (public) checkpoint.
 *
 * @example
 * ```ts
 * import type { WeightsInfoResponse } from "@tinker-ts/tinker";
 * const rank = (info: WeightsInfoResponse) => info.lora_rank ?? 0;
 * ```
 */
export interface WeightsInfoResponse {
  /** The base model name. */
  base_model: string;
  /** Whether the weights are a LoRA adapter. */
  is_lora: boolean;
  /** The LoRA rank. */
  lora_rank?: number | null;
  /** Whether the unembedding was trained. */
  train_unembed?: boolean | null;
  /** Whether the MLP layers were trained. */
  train_mlp?: boolean | null;
  /** Whether the attention layers were trained. */
  train_attn?: boolean | null;
  /** The optimizer, e.g. `{ type: "adamw" }` (default when absent). */
  optimizer_config?: { type: string; [key: string]: unknown };
}

/**
 * A signed URL to download a checkpoint archive (a `.tar`) without credentials.
 *
 * @example
 * ```ts
 * import type { CheckpointArchiveUrlResponse } from "@tinker-ts/tinker";
 * const stillValid = (a: CheckpointArchiveUrlResponse) => Date.parse(a.expires) > Date.now();
 * ```
 */
export interface CheckpointArchiveUrlResponse {
  /** The signed download URL. */
  url: string;
  /** When the URL expires: an ISO-8601 string in UTC. */
  expires: string;
}

/**
 * The training runs and samplers of one session.
 *
 * @example
 * ```ts
 * import type { GetSessionResponse } from "@tinker-ts/tinker";
 * const size = (s: GetSessionResponse) => s.training_run_ids.length + s.sampler_ids.length;
 * ```
 */
export interface GetSessionResponse {
  /** Training run ids of the session. */
  training_run_ids: string[];
  /** Sampler ids of the session. */
  sampler_ids: string[];
  /** Metadata set by the end user. */
  user_metadata?: Record<string, string> | null;
  /** The session's display name. */
  display_name?: string | null;
}

/**
 * One page of session ids (the server sends no cursor).
 *
 * @example
 * ```ts
 * import type { ListSessionsResponse } from "@tinker-ts/tinker";
 * const first = (page: ListSessionsResponse) => page.sessions[0];
 * ```
 */
export interface ListSessionsResponse {
  /** Session ids. */
  sessions: string[];
}

/**
 * A sampler (a sampling session).
 *
 * @example
 * ```ts
 * import type { GetSamplerResponse } from "@tinker-ts/tinker";
 * const loaded = (s: GetSamplerResponse) => s.model_path ?? s.base_model;
 * ```
 */
export interface GetSamplerResponse {
  /** The sampler id, e.g. `<session>:sample:0`. */
  sampler_id: string;
  /** The base model name. */
  base_model: string;
  /** The tinker path of the loaded weights, if any. */
  model_path?: string | null;
}

/**
 * Signed URLs of the files of an external-weights checkpoint (SDK 0.38).
 *
 * @example
 * ```ts
 * import type { ExternalWeightsUrlsResponse } from "@tinker-ts/tinker";
 * const files = (r: ExternalWeightsUrlsResponse) => Object.keys(r.urls).sort();
 * ```
 */
export interface ExternalWeightsUrlsResponse {
  /** File path (relative to the checkpoint root) → signed URL. */
  urls: Record<string, string>;
  /** When the URLs expire (ISO 8601). */
  expires: string;
}

/**
 * A base model the service offers.
 *
 * @example
 * ```ts
 * import type { SupportedModel } from "@tinker-ts/tinker";
 * const m: SupportedModel = { model_name: "Qwen/Qwen3-8B", max_context_length: 32768 };
 * ```
 */
export interface SupportedModel {
  /** The model name. */
  model_name?: string | null;
  /** The longest context, in tokens. */
  max_context_length?: number | null;
  /** Whether training runs can be created on this model. */
  trainable?: boolean | null;
  /** Whether this model has sampling capacity. */
  sampleable?: boolean | null;
}

/**
 * The models the service offers.
 *
 * @example
 * ```ts
 * import type { GetServerCapabilitiesResponse } from "@tinker-ts/tinker";
 * const names = (r: GetServerCapabilitiesResponse) => r.supported_models.map((m) => m.model_name);
 * ```
 */
export interface GetServerCapabilitiesResponse {
  /** The supported models. */
  supported_models: SupportedModel[];
}

/**
 * Checkpoint storage of one project and owner, now.
 *
 * @example
 * ```ts
 * import type { CurrentCheckpointStorageUsageItem } from "@tinker-ts/tinker";
 * const gb = (item: CurrentCheckpointStorageUsageItem) => item.size_gigabytes;
 * ```
 */
export interface CurrentCheckpointStorageUsageItem {
  /** The project, if any. */
  project_id?: string | null;
  /** Organization-user URN of the owner. */
  org_user_urn?: string | null;
  /** The owner's email. */
  user_email?: string | null;
  /** The owner's name. */
  user_name?: string | null;
  /** How many checkpoints. */
  checkpoint_count: number;
  /** Their total size in bytes. */
  size_bytes: number;
  /** Their total size in gigabytes. */
  size_gigabytes: number;
  /** Projected cost of a 720-hour month. */
  estimated_monthly_cost_usd?: number | null;
}

/**
 * Current checkpoint storage, grouped by project and session owner.
 *
 * @example
 * ```ts
 * import type { CurrentCheckpointStorageUsageResponse } from "@tinker-ts/tinker";
 * const total = (r: CurrentCheckpointStorageUsageResponse) =>
 *   r.data.reduce((sum, item) => sum + item.size_bytes, 0);
 * ```
 */
export interface CurrentCheckpointStorageUsageResponse {
  /** The rate applied, per gigabyte-month. */
  effective_rate_usd_per_gigabyte_month?: number | null;
  /** The rows. */
  data: CurrentCheckpointStorageUsageItem[];
}

/**
 * Options of `copyWeights`.
 *
 * @example
 * ```ts
 * import type { CopyWeightsOptions } from "@tinker-ts/tinker";
 * const options: CopyWeightsOptions = { destinationProjectId: "proj-1", ttlSeconds: 86_400 };
 * ```
 */
export interface CopyWeightsOptions extends RequestOptions {
  /** The project that receives the copy. Default: `TINKER_PROJECT_ID`. */
  destinationProjectId?: string | undefined;
  /** Expire the copy after this many seconds (the source's expiry is not inherited). */
  ttlSeconds?: number | undefined;
  /** A token granting read access to a source owned by another organization. */
  weightsAccessToken?: string | undefined;
}

/**
 * A session search (experimental in the official SDK). Field names are the
 * wire's; `limit` defaults to 50 on the server.
 *
 * @example
 * ```ts
 * import type { SessionSearchRequest } from "@tinker-ts/tinker";
 * const request: SessionSearchRequest = { display_name: "nightly", owner: { type: "accessible" } };
 * ```
 */
export interface SessionSearchRequest {
  /** One session id. */
  session_id?: string;
  /** Only these projects. */
  project_ids?: string[];
  /** Metadata that must match. */
  user_metadata?: Record<string, string>;
  /** The display name. */
  display_name?: string;
  /** Whose sessions. */
  owner?: { type: "own" } | { type: "accessible" } | { type: "user"; owner_urns: string[] };
  /** Only sessions in these states, e.g. `[{ type: "active" }]` (at least one). */
  statuses?: Array<
    | { type: "active" }
    | { type: "cancelled" }
    | { type: "failed" }
    | { type: "client_finished"; reasons?: Array<"success" | "errored" | "interrupted"> }
  >;
  /** Page size, 1 to 200. */
  limit?: number;
  /** The `next_cursor` of the previous page. */
  cursor?: { last_created_at: string; last_session_id: string };
}

/**
 * One session found by a search.
 *
 * @example
 * ```ts
 * import type { SessionSummary } from "@tinker-ts/tinker";
 * const label = (s: SessionSummary) => s.display_name ?? s.session_id;
 * ```
 */
export interface SessionSummary {
  /** The session id. */
  session_id: string;
  /** When it was created (ISO 8601). */
  created_at: string;
  /** Its owner. */
  owner: string;
  /** Its project. */
  project_id: string;
  /** Its state, e.g. `{ type: "active" }`. */
  status?: { type: string; [key: string]: unknown } | null;
  /** How many checkpoints it has. */
  checkpoints_count: number;
  /** Its display name. */
  display_name?: string | null;
  /** Metadata set by the end user. */
  user_metadata?: Record<string, string> | null;
  /** Bytes of checkpoint storage. */
  checkpoint_storage_bytes?: number | null;
}

/**
 * A page of session search results.
 *
 * @example
 * ```ts
 * import type { SessionSearchResponse } from "@tinker-ts/tinker";
 * const more = (r: SessionSearchResponse) => r.next_cursor != null;
 * ```
 */
export interface SessionSearchResponse {
  /** The sessions found. */
  sessions: SessionSummary[];
  /** Pass back as `cursor` for the next page; null at the end. */
  next_cursor?: { last_created_at: string; last_session_id: string } | null;
}

/**
 * One audit log entry.
 *
 * @example
 * ```ts
 * import type { AuditLogEntry } from "@tinker-ts/tinker";
 * const line = (e: AuditLogEntry) => `${e.timestamp} ${e.event} ${e.tinker_path ?? ""}`;
 * ```
 */
export interface AuditLogEntry {
  /** When the event occurred (ISO 8601). */
  timestamp: string;
  /** The event type identifier. */
  event: string;
  /** The model id of the event, if any. */
  model_id?: string | null;
  /** The tinker path of the event, if any. */
  tinker_path?: string | null;
  /** The purpose of the event, if any. */
  purpose?: string | null;
  /** Structured details of the event (SDK 0.38). */
  event_details?: Record<string, unknown>;
}

/**
 * The audit log of one UTC day.
 *
 * @example
 * ```ts
 * import type { AuditLogResponse } from "@tinker-ts/tinker";
 * const count = (log: AuditLogResponse) => log.entries.length;
 * ```
 */
export interface AuditLogResponse {
  /** Entries sorted by timestamp. */
  entries: AuditLogEntry[];
}

/**
 * What one hourly billing row measured, dispatched on `type`.
 *
 * @example
 * ```ts
 * import type { BillingEventInfo } from "@tinker-ts/tinker";
 * const tokens = (e: BillingEventInfo) => "token_count" in e ? e.token_count : 0;
 * ```
 */
export type BillingEventInfo =
  | { type: "training"; token_count: number }
  | { type: "sampling_prefill"; cached: boolean; token_count: number }
  | { type: "sampling_sample"; token_count: number }
  | { type: "checkpoint"; count: number }
  | { type: "storage"; free?: boolean; gigabyte_hours: number };

/**
 * One hourly usage row.
 *
 * @example
 * ```ts
 * import type { BillingUsageEvent } from "@tinker-ts/tinker";
 * const label = (e: BillingUsageEvent) => `${e.bucket_start} ${e.event_info.type}`;
 * ```
 */
export interface BillingUsageEvent {
  /** Inclusive start of the UTC hour bucket. */
  bucket_start: string;
  /** Exclusive end of the UTC hour bucket. */
  bucket_end: string;
  /** The base model, if any. */
  base_model?: string | null;
  /** Organization-user URN of the session creator. */
  user_id?: string | null;
  /** Display name of that user. */
  user_name?: string | null;
  /** The session, if any (null for storage). */
  session_id?: string | null;
  /** The project, if any. */
  project_id?: string | null;
  /** Estimated cost in US dollars, when known. */
  estimated_cost_usd?: number | null;
  /** Effective rate per million tokens, for token events. */
  effective_rate_usd_per_million_tokens?: number | null;
  /** Effective rate per gigabyte-month, for storage events. */
  effective_rate_usd_per_gigabyte_month?: number | null;
  /** What was measured. */
  event_info: BillingEventInfo;
}

/**
 * Attributes of a session named in a billing response.
 *
 * @example
 * ```ts
 * import type { BillingUsageSession } from "@tinker-ts/tinker";
 * const s: BillingUsageSession = { user_metadata: { team: "research" } };
 * ```
 */
export interface BillingUsageSession {
  /** Metadata set by the end user. */
  user_metadata?: Record<string, string> | null;
}

/**
 * Hourly usage rows of a billing window.
 *
 * @example
 * ```ts
 * import type { BillingUsageResponse } from "@tinker-ts/tinker";
 * const rows = (usage: BillingUsageResponse) => usage.data.length;
 * ```
 */
export interface BillingUsageResponse {
  /** Rows ordered by bucket, then descending token count. */
  data: BillingUsageEvent[];
  /** Session id → attributes. */
  sessions?: Record<string, BillingUsageSession>;
  /** Costs before this instant are invoice-derived, after it estimated from the rate card. */
  cost_data_through?: string | null;
}

/**
 * Who the credential belongs to, decoded from the JWT (no request).
 *
 * @example
 * ```ts
 * import type { WhoamiResponse } from "@tinker-ts/tinker";
 * const me: WhoamiResponse = {
 *   user_urn: "tml:organization_user:abc",
 *   org_urn: "tml:organization:org-1",
 *   email: null,
 * };
 * ```
 */
export interface WhoamiResponse {
  /** URN of the calling principal (the JWT's `sub`). */
  user_urn: string;
  /** URN of the organization (`tml:organization:<org_id claim>`), or null without that claim. */
  org_urn: string | null;
  /** The user's email, when the principal is user-backed. */
  email: string | null;
}

/**
 * A parsed tinker path.
 *
 * @example
 * ```ts
 * import { parseTinkerPath } from "@tinker-ts/tinker";
 * const parsed = parseTinkerPath("tinker://run-1/weights/0001");
 * ```
 */
export interface ParsedTinkerPath {
  /** The path as given. */
  tinker_path: string;
  /** The run id (may contain colons). */
  training_run_id: string;
  /** `training` for `weights`, `sampler` for `sampler_weights`. */
  checkpoint_type: CheckpointType;
  /** The kind-prefixed checkpoint id, e.g. `weights/0001`. */
  checkpoint_id: string;
}

/**
 * Options of the {@linkcode RestClient} constructor. Every field is optional.
 *
 * @example
 * ```ts
 * import type { ClientOptions } from "@tinker-ts/tinker";
 * const options: ClientOptions = { baseUrl: "http://127.0.0.1:8080", maxRetries: 2 };
 * ```
 */
export interface ClientOptions {
  /**
   * The API key (`tml-…`) or a JWT. Default: `TINKER_API_KEY`, else
   * `TINKER_CREDENTIAL_CMD`, else the default key stored by `tinker auth login`.
   */
  apiKey?: string | undefined;
  /**
   * Environment variables to read instead of the process's
   * (`TINKER_API_KEY`, `TINKER_BASE_URL`, `TINKER_CREDENTIAL_CMD`, `HOME`),
   * e.g. the bindings of an edge function.
   */
  env?: Record<string, string | undefined> | undefined;
  /**
   * The service's base URL, path prefix included.
   * Default: `TINKER_BASE_URL`, else `https://tinker.thinkingmachines.dev/services/tinker-prod`.
   */
  baseUrl?: string | undefined;
  /**
   * Retries after the first attempt of one request.
   * @default {5}
   */
  maxRetries?: number | undefined;
  /**
   * Time limit of one attempt, in milliseconds.
   * @default {60000}
   */
  timeoutMs?: number | undefined;
  /**
   * First backoff delay; it doubles per retry, with jitter.
   * @default {500}
   */
  initialRetryDelayMs?: number | undefined;
  /**
   * Largest backoff delay.
   * @default {10000}
   */
  maxRetryDelayMs?: number | undefined;
  /**
   * Wait between polls while a checkpoint archive is being built (HTTP 503).
   * @default {30000}
   */
  archivePollIntervalMs?: number | undefined;
  /**
   * Wait between polls while a session trace export is pending.
   * @default {5000}
   */
  tracePollIntervalMs?: number | undefined;
  /**
   * How long `exportSessionTrace` polls an export that stays pending before
   * it fails with `ApiTimeoutError` (10 minutes).
   * @default {600000}
   */
  traceExportTimeoutMs?: number | undefined;
  /**
   * The largest response body the client reads, in bytes, after
   * decompression (64 MiB). A larger one fails with
   * `ApiResponseTooLargeError` as soon as its `Content-Length` or its bytes
   * pass the limit, and is not retried.
   * @default {67108864}
   */
  maxResponseBytes?: number | undefined;
  /** Headers added to every request to the base URL. */
  defaultHeaders?: Record<string, string> | undefined;
  /**
   * The `fetch` to use. A custom one works with `await`; `.result()` needs
   * the global `fetch` (functions cannot cross into the worker).
   */
  fetch?: typeof fetch | undefined;
  /**
   * Receives one line per HTTP attempt (method, URL, status, time) for
   * debugging. Lines never contain the API key or JWT.
   */
  logger?: ((line: string) => void) | undefined;
  /**
   * Whether `.result()` may block the calling thread. Set `false` in server
   * code (a `Deno.serve` handler, an edge function), where blocking would
   * stall every other request: `.result()` then throws a
   * `SyncUnavailableError` at once, before sending, and `await` works as usual.
   * @default {true}
   */
  blocking?: boolean | undefined;
  /**
   * Keeps the server's client config (feature flags, no secret) between
   * clients, so a new client skips `POST /api/v1/client/config`: any `Map`
   * for one process, or a store of your own (see {@linkcode BootstrapCache}).
   * Only a plain API key's config is kept (not a JWT's, nor one fetched with
   * `TINKER_CREDENTIAL_CMD`'s output). Default: none, every client asks the
   * server once.
   */
  bootstrapCache?: BootstrapCache | undefined;
}

/**
 * Per-call options, accepted last by every method.
 *
 * @example
 * ```ts
 * import type { RequestOptions } from "@tinker-ts/tinker";
 * const options: RequestOptions = { timeoutMs: 5_000, signal: AbortSignal.timeout(30_000) };
 * ```
 */
export interface RequestOptions {
  /** Aborts the call (never retried). */
  signal?: AbortSignal | undefined;
  /** Time limit of one attempt, in milliseconds (overrides the client's). */
  timeoutMs?: number | undefined;
}

/**
 * Options of the calls that take an access scope.
 *
 * @example
 * ```ts
 * import type { AccessScopeOptions } from "@tinker-ts/tinker";
 * const options: AccessScopeOptions = { accessScope: "accessible" };
 * ```
 */
export interface AccessScopeOptions extends RequestOptions {
  /**
   * `"owned"` or `"accessible"`.
   * @default {"owned"}
   */
  accessScope?: AccessScope | undefined;
}

/**
 * Offset pagination options.
 *
 * @example
 * ```ts
 * import type { PageOptions } from "@tinker-ts/tinker";
 * const options: PageOptions = { limit: 50, offset: 100 };
 * ```
 */
export interface PageOptions extends RequestOptions {
  /** Page size (default 20; 100 for user checkpoints). */
  limit?: number | undefined;
  /**
   * Items to skip.
   * @default {0}
   */
  offset?: number | undefined;
  /**
   * Iterating (`for await`, `pages()`, `iterSync()`) fails with a
   * `TinkerError` rather than fetch more than this many pages, so a server
   * that never ends its pages cannot keep a loop going forever. (A page
   * identical to the one before it fails at once.)
   * @default {10000}
   */
  maxPages?: number | undefined;
}

/**
 * Options of `listTrainingRuns`.
 *
 * @example
 * ```ts
 * import type { ListTrainingRunsOptions } from "@tinker-ts/tinker";
 * const options: ListTrainingRunsOptions = { limit: 50, projectId: "proj-1" };
 * ```
 */
export interface ListTrainingRunsOptions extends PageOptions {
  /**
   * `"owned"` or `"accessible"`.
   * @default {"owned"}
   */
  accessScope?: AccessScope | undefined;
  /** Only runs of this project. */
  projectId?: string | undefined;
}

/**
 * Options of `listSessions`.
 *
 * @example
 * ```ts
 * import type { ListSessionsOptions } from "@tinker-ts/tinker";
 * const options: ListSessionsOptions = { limit: 10, accessScope: "accessible" };
 * ```
 */
export interface ListSessionsOptions extends PageOptions {
  /**
   * `"owned"` or `"accessible"`.
   * @default {"owned"}
   */
  accessScope?: AccessScope | undefined;
}

/** The audit log's event filters. */
export type AuditEventType = "all" | "checkpoints" | "projects" | "teams" | "organizations";

/**
 * Options of `getAuditLog`.
 *
 * @example
 * ```ts
 * import type { AuditLogOptions } from "@tinker-ts/tinker";
 * const options: AuditLogOptions = { eventType: "checkpoints", day: "2026-07-13" };
 * ```
 */
export interface AuditLogOptions extends RequestOptions {
  /**
   * Which events.
   * @default {"all"}
   */
  eventType?: AuditEventType | undefined;
  /** The UTC day, `"YYYY-MM-DD"` or a `Date`; default: today (server side). */
  day?: string | Date | undefined;
}
