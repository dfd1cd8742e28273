/**
 * Public types of the fake Tinker server.
 *
 * @module
 */
import type { FakeSeedOptions, FakeState } from "./_state.ts";

/**
 * How the archive endpoint answers.
 *
 * @example
 * ```ts
 * import { type ArchiveMode, startFakeTinker } from "./mod.ts";
 *
 * const archiveMode: ArchiveMode = "not-ready";
 * await using fake = await startFakeTinker({ archiveMode, archiveNotReadyCount: 1 });
 * ```
 */
export type ArchiveMode = "redirect" | "redirect-no-expires" | "json" | "not-ready";

/**
 * Behaviour flags; all of them can be changed at runtime with `setOptions`.
 *
 * @example
 * ```ts
 * import { startFakeTinker } from "./mod.ts";
 *
 * await using fake = await startFakeTinker();
 * await fake.setOptions({ jwtAuth: true, latencyMs: 20 });
 * ```
 */
export interface FakeBehaviour {
  /** The valid API key (default `"tml-fake-key-0123456789abcdef"`). */
  apiKey: string;
  /** Whether `/api/v1/client/config` enables JWT exchange and `/api/v1/auth/token` issues JWTs (default false). */
  jwtAuth: boolean;
  /** Lifetime of issued JWTs (default 3600). */
  jwtTtlSeconds: number;
  /** How the archive endpoint answers (default `"redirect"`). */
  archiveMode: ArchiveMode;
  /** In `"not-ready"` mode, how many 503s each checkpoint gets before its redirect (default 2). */
  archiveNotReadyCount: number;
  /** Whether archives are gzipped tars (default false: plain tar). */
  archiveGzip: boolean;
  /**
   * Size of `adapter_model.safetensors` in archives and external-weights
   * checkpoints, exports included (default 64 KiB; streamed, so gigabytes are fine).
   */
  archiveBytes: number;
  /** How many times a session's trace export answers `pending` before `ready` (default 2). */
  tracePendingCount: number;
  /** Whether `/api/v1/audit` answers 302 to the storage origin, which serves the JSON (default false). */
  auditRedirect: boolean;
  /** Milliseconds added to every API response (default 0). */
  latencyMs: number;
  /**
   * Extra fields of the `/api/v1/client/config` answer (default none), e.g.
   * `{ billing_exception_max_pause_duration_sec: 0 }` to keep the Python SDK's 402 pause short.
   * The answer has `sample_use_retrieve_futures: true` (samples share the `retrieve_futures`
   * long poll) unless this overrides it; `sample_join_sampling_session: true` makes clients of
   * a sampler handle join the sampling session.
   */
  clientConfig: Record<string, unknown>;
  /**
   * Whether `/api/v1/forward_backward` takes protobuf bodies (default true);
   * false answers them 422 as SDK 0.25-era servers (TuFT) do, which take JSON only.
   */
  protobufForwardBackward: boolean;
  /** How long a server-side future (load_weights, save_weights_external, …) takes to finish (default 0). */
  futureDelayMs: number;
  /** How many polls of each future answer `{"type":"try_again"}` (200) before anything else (default 0). */
  futureTryAgainCount: number;
  /** The `queue_state` of those `try_again` answers (default `"active"`). */
  futureQueueState: "active" | "paused_capacity" | "paused_rate_limit";
  /** Futures created while this is set fail with it (only of `requestType`, when given). */
  futureFailure: FutureFailure | null;
  /** A session without a heartbeat for this long is expired: 404 (default 120000). */
  sessionExpiryMs: number;
  /** Pause between the tokens of a streamed OpenAI-compatible answer (default 0). */
  tokenDelayMs: number;
  /**
   * Whether the session, model and future routes exist (default true). `false` answers them 404
   * `Not Found`, like a self-hosted peer that serves only the REST routes and the archive.
   */
  sessionRoutes: boolean;
}

/**
 * How injected futures fail: `retrieve_future` answers `{"error", "category"}`.
 *
 * @example
 * ```ts
 * import { startFakeTinker } from "./mod.ts";
 *
 * await using fake = await startFakeTinker();
 * await fake.setOptions({ futureFailure: { error: "out of memory", category: "server", requestType: "SaveWeightsExternal" } });
 * ```
 */
export interface FutureFailure {
  /** The error message. */
  error: string;
  /** `"user"`, `"server"` or `"unknown"` (default `"server"`). */
  category?: string;
  /** Only futures of this request type (`LoadWeights`, `SaveWeightsExternal`); default all. */
  requestType?: string;
}

/**
 * Options of `startFakeTinker`.
 *
 * @example
 * ```ts
 * import { startFakeTinker } from "./mod.ts";
 *
 * await using fake = await startFakeTinker({ seed: { runs: 3 }, archiveMode: "json", archiveGzip: true });
 * console.log(fake.state!.runs.size); // 6: three owned, three foreign
 * ```
 */
export interface FakeTinkerOptions extends Partial<FakeBehaviour> {
  /** API port (default 0: any free port). The storage origin always gets its own free port. */
  port?: number;
  /** Loopback address to bind (default `"127.0.0.1"`). */
  hostname?: string;
  /** How much data to seed; `false` starts empty (default: the standard seed, see `FAKE_IDS`). */
  seed?: FakeSeedOptions | false;
}

/**
 * One request as the fake received it.
 *
 * @example
 * ```ts
 * import { startFakeTinker } from "./mod.ts";
 *
 * await using fake = await startFakeTinker();
 * await (await fetch(`${fake.url}/api/v1/checkpoints?limit=5`, { headers: { "X-API-Key": fake.apiKey } })).body?.cancel();
 * const [req] = await fake.requests();
 * console.log(req!.path, req!.query, req!.headers["x-api-key"], req!.status);
 * ```
 */
export interface RecordedRequest {
  /** HTTP method. */
  method: string;
  /** The request target exactly as received, query included. */
  rawPath: string;
  /** `rawPath` before `?`, still percent-encoded. */
  path: string;
  /** Decoded query pairs in the order sent. */
  query: [string, string][];
  /** Lower-cased header names; repeated headers joined with `", "`. */
  headers: Record<string, string>;
  /** The body as UTF-8 text (`""` if none); lossy for binary bodies: see `bytes`. */
  body: string;
  /** The body's bytes exactly as received (a protobuf body is decoded from these). */
  bytes: Uint8Array;
  /** The body parsed as JSON, or undefined. */
  json: unknown;
  /** Status the fake answered, 0 if the connection was dropped. */
  status: number;
  /** `Date.now()` at arrival. */
  time: number;
}

/**
 * A queued misbehaviour. Faults match in order; each applies `times` times (default 1).
 *
 * @example
 * ```ts
 * import { startFakeTinker } from "./mod.ts";
 *
 * await using fake = await startFakeTinker();
 * await fake.inject({ path: /\/archive$/, status: 503, headers: { "retry-after": "1" }, times: 3 });
 * await fake.inject({ target: "storage", truncate: 1000 });
 * await fake.inject({ method: "GET", path: "/api/v1/checkpoints", drop: "mid-body" });
 * await fake.inject({ path: "/api/v1/checkpoints", truncate: 10, stallMs: 2000 });
 * ```
 */
export interface Fault {
  /** Only requests with this method. */
  method?: string;
  /** Only requests whose raw path (no query) equals this string or matches this RegExp. */
  path?: string | RegExp;
  /** Which origin (default `"api"`; admin requests never match). */
  target?: "api" | "storage";
  /** Answer with this status instead of the route (body default `{"detail":"Injected fault"}`). */
  status?: number;
  /** Headers of the injected answer, or extra headers on the route's answer when `status` is unset. */
  headers?: Record<string, string>;
  /** Body of the injected answer: a string as is, anything else as JSON. */
  body?: string | object;
  /** Wait this long before answering. */
  delayMs?: number;
  /**
   * Destroy the connection before writing anything, or after the headers and half the body.
   * Note: Deno's and Bun's `fetch` silently resend a GET that was dropped before headers on a
   * reused keep-alive connection, so one call may consume two `before-headers` faults.
   */
  drop?: "before-headers" | "mid-body";
  /** Send only this many body bytes (with the full `Content-Length`), then destroy the connection. */
  truncate?: number;
  /**
   * With `truncate` or `drop: "mid-body"`: keep the connection open and silent this long after
   * those bytes before destroying it (a server that stops sending mid-body).
   */
  stallMs?: number;
  /** How many requests this fault applies to (default 1). */
  times?: number;
}

/**
 * A running fake Tinker service (in-process or spawned). `await using` closes it.
 *
 * @example
 * ```ts
 * import { type FakeTinker, startFakeTinker } from "./mod.ts";
 *
 * const fake: FakeTinker = await startFakeTinker();
 * try {
 *   console.log(fake.url, fake.storageUrl, fake.apiKey);
 * } finally {
 *   await fake.close();
 * }
 * ```
 */
export interface FakeTinker extends AsyncDisposable {
  /** API base URL without trailing slash, e.g. `"http://127.0.0.1:41234"`. */
  readonly url: string;
  /** The valid API key. */
  readonly apiKey: string;
  /** Origin of the signed-storage server (a different port, so a different origin). */
  readonly storageUrl: string;
  /** API requests so far (live in-process; a spawned handle refreshes it in `requests()`). */
  readonly log: RecordedRequest[];
  /** Requests that reached the storage origin (same liveness as `log`). */
  readonly storageLog: RecordedRequest[];
  /** Direct access to the data (undefined when spawned). */
  readonly state: FakeState | undefined;
  /** The API requests so far; works in-process and spawned. */
  requests(): Promise<RecordedRequest[]>;
  /** Forgets the recorded API and storage requests. */
  clearLog(): Promise<void>;
  /** Queues a fault. */
  inject(fault: Fault): Promise<void>;
  /** Changes behaviour flags. */
  setOptions(patch: Partial<FakeBehaviour>): Promise<void>;
  /** Reseeds the data, forgets faults, poll counters and logs. */
  reset(): Promise<void>;
  /**
   * The SHA-256 (hex) of each file the storage origin serves for an external-weights checkpoint
   * (`tinker://<run>/external_weights/<name>`), computed by the fake from what it serves; also
   * after the checkpoint was deleted, while its run exists. Throws for an unknown run.
   */
  fileDigests(tinkerPath: string): Promise<Record<string, string>>;
  /** Stops the servers, dropping open connections. */
  close(): Promise<void>;
}
