// The one request function: every HTTP call of the client goes through
// `sendRequest`, which owns URL building, headers, the per-attempt timeout,
// retries with backoff, redirects (credentials never cross origins) and the
// mapping of failures to error classes. It yields steps (`Steps` below) for
// what it waits on; `drive` here performs them with `await`.

import {
  ApiConnectionError,
  ApiError,
  ApiResponseTooLargeError,
  ApiTimeoutError,
  ApiUserAbortError,
  errorForStatus,
  UnsafeUrlError,
} from "../errors.ts";

/** HTTP methods the Tinker REST API uses. */
export type Method = "GET" | "POST" | "PUT" | "DELETE";

/**
 * One HTTP request, as plain data (what a call names; `sendRequest` does the rest).
 * `path` is already encoded and starts with `/api/v1/` (or `/oai/api/v1/`).
 */
export interface HttpSpec {
  method: Method;
  path: string;
  query?: [string, string][];
  /** The JSON body; `undefined` sends none. */
  body?: unknown;
  /** A binary body sent instead of `body`, with its content type (e.g. a protobuf message). */
  binaryBody?: { bytes: Uint8Array; contentType: string } | undefined;
  /** The `Accept` header (default `application/json`). */
  accept?: string | undefined;
  /**
   * `"safe"`: reads and idempotent writes, retried on any transient failure.
   * `"unsent"`: writes retried only when the failure shows the server did not
   * act on them (connect failures, 408, 429, 503, `x-should-retry: true`).
   */
  retry: "safe" | "unsent";
  /** Statuses handed back to the caller instead of thrown (e.g. the archive's 302, 503). */
  passStatuses?: number[];
  /** Follow redirects (GET only); other-origin hops get no credentials. */
  followRedirects?: boolean;
  /** The idempotency key, when the call fixes it; else one per request (non-GET). */
  idempotencyKey?: string;
  /** Extra headers of this call; their values are treated as secrets. */
  secretHeaders?: Record<string, string>;
  /** Extra headers of this call that are not secret (e.g. a poll's iteration). */
  headers?: Record<string, string>;
  /** Retries of this request, when not the client's (e.g. 0 for a heartbeat). */
  maxRetries?: number;
  /** How the credential is sent: `X-API-Key` (default) or `Authorization: Bearer`. */
  auth?: "x-api-key" | "bearer";
  /**
   * Hand a 2xx response back with its body unread, as `RawResponse.body`
   * (server-sent events). Only `drive` performs it; the body is read on the
   * calling thread, never retried once the response head has arrived. The
   * function that reads it is passed in (`streamBody` of `_stream_body.ts`),
   * so clients that never stream do not carry it.
   */
  stream?: StreamBody;
}

/** Wraps the body of a streamed 2xx response; `detach` unhooks the call's signal. */
export type StreamBody = (
  body: ReadableStream<Uint8Array>,
  step: FetchStep,
  controller: AbortController,
  detach: () => void,
) => BodyChunks;

/** Client-wide transport settings (plain data). */
export interface TransportConfig {
  baseUrl: string;
  maxRetries: number;
  timeoutMs: number;
  initialRetryDelayMs: number;
  maxRetryDelayMs: number;
  defaultHeaders: Record<string, string>;
  userAgent: string;
  /** The largest response body read, in bytes (decompressed); larger ones fail, unretried. */
  maxResponseBytes: number;
}

/** Per-call settings. */
export interface CallSettings {
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
}

/** What the request function hands back: the body is read in full (`text`), or unread (`body`). */
export interface RawResponse {
  status: number;
  headers: Headers;
  /** The body as text (`""` for a binary body: see `bytes`). */
  text: string;
  url: string;
  /** The unread body of a 2xx answer to a `stream` request (`text` is then empty). */
  body?: BodyChunks;
  /** The body's bytes, for a binary content type (see `isBinaryBody`); else undefined. */
  bytes?: Uint8Array | undefined;
}

/**
 * The body of a streamed response, chunk by chunk. Each wait for a chunk is
 * bounded by the call's timeout; the call's signal aborts it
 * (`ApiUserAbortError`); a broken connection is an `ApiConnectionError`.
 * `return()` (a `for await` left early) closes the connection.
 */
export interface BodyChunks extends AsyncIterableIterator<Uint8Array> {
  return(): Promise<IteratorResult<Uint8Array, undefined>>;
}

/** Content types whose bodies are kept as bytes, not decoded as text. */
const BINARY_TYPES = ["application/x-protobuf", "application/octet-stream"];

/** True when a response with these headers has a binary body (protobuf): read as bytes. */
export function isBinaryBody(headers: Headers): boolean {
  const type = headers.get("content-type")?.split(";")[0]?.trim().toLowerCase() ?? "";
  return BINARY_TYPES.includes(type);
}

/**
 * A call's work is written once, as generators that yield a `Step` whenever
 * they must wait: `drive` below performs steps with `await` (every async
 * call), `_sync.ts` performs the same steps blocking (`.result()`, through a
 * worker that only fetches). So retries, timeouts, auth and polling exist
 * once, on the calling thread.
 */
export type Steps<T> = Generator<Step, T, unknown>;

/** What a call waits for. */
export type Step = FetchStep | SleepStep | ShareStep | RunStep | TurnStep;

/** One fetch, as plain data (the sync worker gets it as it is). */
export interface FetchOrder {
  url: string;
  method: Method;
  headers: Record<string, string>;
  body: string | Uint8Array | undefined;
  /** A connection of its own (writes that must not be resent by the runtime). */
  fresh: boolean;
  /** When set, a 3xx with a Location whose status is not listed is returned unread. */
  follow: number[] | undefined;
  /** The largest body read, in bytes (see `readBody`). */
  maxBytes: number;
}

/** One HTTP exchange, body read in full (a redirect it may follow is not read). */
export interface FetchStep extends FetchOrder {
  t: "fetch";
  /** `performance.now()` time when the attempt times out. */
  deadline: number;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  /** `METHOD /path`, for error messages. */
  what: string;
  /** The fetch of the async path (the sync worker uses its own). */
  fetch: typeof fetch;
  /** Return a 2xx body unread (`HttpSpec.stream`); the sync driver refuses it. */
  stream?: StreamBody | undefined;
}

/** A pause (retry backoff, polling). */
export interface SleepStep {
  t: "sleep";
  ms: number;
  signal: AbortSignal | undefined;
}

/** Work that concurrent async callers share (the bootstrap, a JWT refresh). */
export interface ShareStep {
  t: "share";
  slot: Shared;
  run(): Steps<unknown>;
  /** Stops this caller's wait (not the shared work, which others may await). */
  signal?: AbortSignal | undefined;
}

/**
 * Work on the machine (running `TINKER_CREDENTIAL_CMD`), bounded in time by
 * itself: `drive` awaits `run`, `.result()` calls `runSync`.
 */
export interface RunStep {
  t: "run";
  /** What runs, for error messages. */
  what: string;
  run(): Promise<unknown>;
  runSync(): unknown;
}

/**
 * Waits until every earlier turn of a queue is over (the requests of one
 * model go out in call order).
 */
export interface TurnStep {
  t: "turn";
  queue: TurnQueue;
  turn: number;
  signal: AbortSignal | undefined;
}

/** Turns handed out in call order; a turn may go once every earlier one is over. */
export interface TurnQueue {
  /** Undefined when `turn` may go now, else a promise of that moment. */
  wait(turn: number, signal: AbortSignal | undefined): Promise<void> | undefined;
  /** The same, blocking (`.result()`): runs earlier turns not yet started, or throws. */
  waitSync(turn: number): void;
}

/** Where a shared piece of work keeps its promise while it runs. */
export interface Shared {
  pending?: Promise<unknown> | undefined;
}

/** How the request function reaches the network and the credential. */
export interface Transport {
  config: TransportConfig;
  fetch: typeof fetch;
  /**
   * The value of `X-API-Key` for this attempt: a string when it is known
   * already (most calls), steps to run when it must be fetched or refreshed.
   */
  credential(): string | Steps<string>;
  /** Strings that must never appear in errors or logs. */
  secrets(): string[];
  /**
   * Called once per request on a 401, with the credential the request was
   * sent with and whether `WWW-Authenticate` says `error="invalid_token"`:
   * true when a different credential is ready to resend with (a 401 shows
   * the server did not act on the request, so a write is replayed too).
   */
  renewCredential?: ((used: string, invalidToken: boolean) => Steps<boolean>) | undefined;
  log?: ((line: string) => void) | undefined;
}

const MAX_REDIRECTS = 5;
const MAX_SERVER_DELAY_MS = 60_000;

/** Runs `steps` to the end, performing each step with `await`. */
export async function drive<T>(steps: Steps<T>): Promise<T> {
  let next = steps.next();
  while (!next.done) {
    let value: unknown;
    try {
      value = await perform(next.value);
    } catch (error) {
      next = steps.throw(error);
      continue;
    }
    next = steps.next(value);
  }
  return next.value;
}

function perform(step: Step): Promise<unknown> {
  if (step.t === "fetch") return fetchOnce(step);
  if (step.t === "sleep") return sleep(step.ms, step.signal);
  if (step.t === "run") return step.run();
  if (step.t === "turn") return step.queue.wait(step.turn, step.signal) ?? Promise.resolve();
  const slot = step.slot;
  const pending = slot.pending ??= drive(step.run()).finally(() => (slot.pending = undefined));
  if (!step.signal) return pending;
  const signal = step.signal;
  return untilAborted(
    pending,
    signal,
    () => new ApiUserAbortError({ message: "Request was aborted", cause: signal.reason }),
  );
}

/**
 * `pending`, or a rejection with `reason()` as soon as `signal` fires, after
 * calling `stop` (which may end what `pending` waits for; else it goes on).
 */
export function untilAborted<T>(
  pending: Promise<T>,
  signal: AbortSignal,
  reason: () => unknown,
  stop?: () => void,
): Promise<T> {
  if (signal.aborted) {
    pending.catch(() => {}); // What it settles to is no longer anyone's.
    stop?.();
    return Promise.reject(reason());
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      stop?.();
      reject(reason());
    };
    signal.addEventListener("abort", onAbort, { once: true });
    pending.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** Sends `spec`, retrying per the rules above; returns a 2xx or passed status. */
export function* sendRequest(
  transport: Transport,
  spec: HttpSpec,
  call: CallSettings = {},
): Steps<RawResponse> {
  const { config } = transport;
  const maxRetries = spec.maxRetries ?? config.maxRetries;
  const idempotencyKey = spec.method === "GET"
    ? undefined
    : spec.idempotencyKey ?? `tinker-ts-retry-${crypto.randomUUID()}`;
  let renewed = false;
  for (let attempt = 0;; attempt++) {
    const retriesLeft = attempt < maxRetries;
    // Outside the try below: a credential problem (a failed JWT refresh, a
    // failing TINKER_CREDENTIAL_CMD) is thrown as it is, never retried.
    const pending = transport.credential();
    const credential = typeof pending === "string" ? pending : yield* pending;
    let response: RawResponse;
    try {
      response = yield* attemptOnce(transport, spec, call, idempotencyKey, attempt, credential);
    } catch (error) {
      if (isFinal(error)) throw error;
      const timedOut = error instanceof ApiTimeoutError;
      const retryable = spec.retry === "safe" || (!timedOut && isConnectFailure(error));
      if (retryable && retriesLeft) {
        yield { t: "sleep", ms: backoff(config, attempt), signal: call.signal };
        continue;
      }
      throw failure(callSecrets(transport, spec), error, retryable, attempt, spec);
    }
    const { status, headers } = response;
    if ((status >= 200 && status < 300) || spec.passStatuses?.includes(status)) {
      return response;
    }
    if (status === 401 && !renewed && transport.renewCredential) {
      renewed = true;
      const invalidToken = /error="?invalid_token/i.test(headers.get("www-authenticate") ?? "");
      if (yield* transport.renewCredential(credential, invalidToken)) {
        attempt--; // The replay is not a retry.
        continue;
      }
    }
    if (retriesLeft && shouldRetry(status, headers, spec.retry)) {
      yield { t: "sleep", ms: retryDelay(config, headers, attempt), signal: call.signal };
      continue;
    }
    if (spec.followRedirects && status >= 300 && status < 400) {
      throw new ApiError({
        status,
        headers,
        body: errorBody(callSecrets(transport, spec), response.text),
        message: `Too many redirects (more than ${MAX_REDIRECTS}) for ${spec.method} ${spec.path}`,
      });
    }
    throw statusError(callSecrets(transport, spec), response, `${spec.method} ${spec.path}`);
  }
}

/**
 * True for an error no retry can help: the caller's abort, and the errors an
 * attempt raises about what the server sent (a body over the size limit, a
 * redirect the client refuses). Connection failures and timeouts are not final.
 */
function isFinal(error: unknown): boolean {
  return error instanceof ApiError && !(error instanceof ApiConnectionError) &&
    !(error instanceof ApiTimeoutError);
}

/** What errors of a call redact: the client's secrets and the call's secret headers. */
function callSecrets(transport: Transport, spec: HttpSpec): Pick<Transport, "secrets"> {
  return {
    secrets: () => [...transport.secrets(), ...Object.values(spec.secretHeaders ?? {})],
  };
}

// Every call passes here, so the common path (credential known, no logger,
// no redirect) does nothing it does not need. Work here costs several times
// more in a real call loop than with a mocked fetch: the process sleeps in
// the event loop while the server answers and resumes with cold caches (the
// library's ~8 µs a call with a mocked fetch cost ~45 µs a call against a
// local server, as much as the same work done after a raw fetch).
function* attemptOnce(
  transport: Transport,
  spec: HttpSpec,
  call: CallSettings,
  idempotencyKey: string | undefined,
  attempt: number,
  credential: string,
): Steps<RawResponse> {
  const { config } = transport;
  const timeoutMs = call.timeoutMs ?? config.timeoutMs;
  const started = transport.log ? Date.now() : 0;
  // A plain record with lower-case names (later ones win): Deno's fetch
  // converts a `Headers` instance several times more slowly (~50 µs a call).
  const headers: Record<string, string> = {};
  addLowerCased(headers, config.defaultHeaders);
  addLowerCased(headers, spec.secretHeaders);
  addLowerCased(headers, spec.headers);
  headers["accept"] = spec.accept ?? "application/json";
  headers["user-agent"] = config.userAgent;
  if (spec.method !== "GET") {
    headers["content-type"] = spec.binaryBody?.contentType ?? "application/json";
  }
  if (idempotencyKey) headers["x-idempotency-key"] = idempotencyKey;
  headers["x-stainless-retry-count"] = String(attempt);
  if (spec.auth === "bearer") headers["authorization"] = `Bearer ${credential}`;
  else headers["x-api-key"] = credential;
  const body = spec.binaryBody !== undefined
    ? spec.binaryBody.bytes
    : spec.body === undefined
    ? undefined
    : JSON.stringify(spec.body);
  let step: FetchStep = {
    t: "fetch",
    url: buildUrl(config.baseUrl, spec),
    method: spec.method,
    headers,
    body: body ?? (spec.method === "POST" ? "" : undefined),
    fresh: spec.retry === "unsent",
    follow: spec.followRedirects ? spec.passStatuses ?? [] : undefined,
    maxBytes: config.maxResponseBytes,
    deadline: performance.now() + timeoutMs,
    timeoutMs,
    signal: call.signal,
    what: `${spec.method} ${spec.path}`,
    fetch: transport.fetch,
  };
  if (spec.stream) step.stream = spec.stream;
  let origin: string | undefined; // Parsed on the first redirect only.
  try {
    for (let hops = 1;; hops++) {
      const res = (yield step) as RawResponse;
      const { status } = res;
      const location = step.follow !== undefined && status >= 300 && status < 400
        ? res.headers.get("location")
        : null;
      if (location === null || step.follow!.includes(status)) {
        if (transport.log) {
          log(transport, `${spec.method} ${step.url} -> ${status} (${Date.now() - started} ms)`);
        }
        return res;
      }
      if (transport.log) log(transport, `${spec.method} ${step.url} -> ${status} redirect`);
      const url = redirectTarget(location, step.url, config.baseUrl, res, step.what);
      // Credentials and custom headers stay with the base URL's origin; once a
      // hop has left it they are gone for good (a redirect back gets none).
      origin ??= new URL(config.baseUrl).origin;
      const sameOrigin = new URL(url).origin === origin && step.headers === headers;
      step = {
        ...step,
        url,
        headers: sameOrigin ? headers : { accept: "application/json" },
        follow: hops < MAX_REDIRECTS ? step.follow : undefined,
      };
    }
  } catch (error) {
    log(transport, `${spec.method} ${step.url} -> failed (${Date.now() - started} ms)`);
    throw error;
  }
}

/** The absolute URL a redirect points to, when the client may follow it; else a final ApiError. */
function redirectTarget(
  location: string,
  from: string,
  baseUrl: string,
  res: RawResponse,
  what: string,
): string {
  let url: URL | undefined;
  try {
    url = new URL(location, from);
  } catch {
    // Reported below.
  }
  const problem = url === undefined
    ? "a Location that is not a valid URL"
    : urlProblem(url, baseUrl);
  if (problem === undefined) return url!.href;
  throw new UnsafeUrlError(url?.protocol ?? "", {
    status: res.status,
    headers: res.headers,
    message: `The server redirected ${what} to ${problem}`,
  });
}

/**
 * Why the client must not follow or return `url`, a URL the server sent
 * (a redirect, a signed download or trace URL), or undefined when it may:
 * only `https:` is accepted, and `http:` to a loopback host or when the base
 * URL itself uses `http:`. A `file:` or `data:` URL from a server would read
 * local files or server-chosen content.
 */
export function urlProblem(url: URL, baseUrl: string): string | undefined {
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:") {
    if (isLoopback(url.hostname) || protocolOf(baseUrl) === "http:") return undefined;
    return "an http: URL to a non-loopback host while the base URL uses https: (only https: is accepted from the server)";
  }
  return `a URL with the scheme ${
    JSON.stringify(url.protocol)
  } (only https:, or http: to a loopback host or with an http: base URL, is accepted from the server)`;
}

function protocolOf(url: string): string | undefined {
  try {
    return new URL(url).protocol;
  } catch {
    return undefined;
  }
}

/** True for `localhost`, `127.*` and `[::1]` (a URL's `hostname`). */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || hostname.startsWith("127.");
}

/**
 * Performs a fetch step with `await`: the attempt's deadline and the call's
 * signal abort it, as ApiTimeoutError and ApiUserAbortError.
 */
async function fetchOnce(step: FetchStep): Promise<RawResponse> {
  const controller = new AbortController();
  let deadline: Deadline | undefined;
  const { signal } = step;
  const onAbort = () => controller.abort("user");
  if (signal?.aborted) controller.abort("user"); // fetch then rejects at once: nothing is sent.
  let handedOver = false;
  try {
    const sent = step.fetch(step.url, fetchInit(step, controller.signal));
    // Armed and wired once the request is on its way (a first timer and a
    // first listener cost ~0.1 ms in Bun, spent while the server answers):
    // the deadline is absolute, and no code runs in between to abort.
    deadline = armDeadline(step.deadline, controller);
    signal?.addEventListener("abort", onAbort, { once: true });
    const res = await sent;
    const { status, headers } = res;
    if (isFollowed(step, status, headers)) {
      await res.body?.cancel();
      return { status, headers, text: "", url: step.url };
    }
    if (step.stream && status >= 200 && status < 300 && res.body) {
      handedOver = true; // The signal stays wired to the body until it is read or closed.
      const detach = () => signal?.removeEventListener("abort", onAbort);
      return {
        status,
        headers,
        text: "",
        url: step.url,
        body: step.stream(res.body, step, controller, detach),
      };
    }
    if (isBinaryBody(headers)) {
      return {
        status,
        headers,
        text: "",
        bytes: await readBytes(res, step.maxBytes),
        url: step.url,
      };
    }
    return { status, headers, text: await readBody(res, step.maxBytes), url: step.url };
  } catch (error) {
    const reason = controller.signal.aborted ? controller.signal.reason : undefined;
    if (reason === "user") throw abortError(step);
    if (reason === "timeout") throw timeoutError(step);
    if (error instanceof BodyTooLarge) throw tooLargeError(step, error);
    throw error;
  } finally {
    if (deadline !== undefined) deadlines.delete(deadline);
    if (!handedOver) signal?.removeEventListener("abort", onAbort);
  }
}

/** Thrown by `readBody`: the body is over its limit (status and headers kept for the error). */
export class BodyTooLarge extends Error {
  constructor(
    readonly status: number,
    readonly headers: Headers,
    readonly bytes: number,
    readonly announced: boolean,
  ) {
    super(`The response body is larger than allowed (${bytes} bytes)`);
  }
}

/**
 * Reads `res`'s body as text, at most `maxBytes` bytes (after the runtime's
 * decompression): a larger `Content-Length` fails before anything is read,
 * a body without one (or compressed) is counted as it streams and fails as
 * soon as it passes the limit. Either way it throws BodyTooLarge.
 */
export async function readBody(res: Response, maxBytes: number): Promise<string> {
  const announced = await announcedLength(res, maxBytes);
  // The runtime stops at the announced length of a body it does not inflate:
  // read it at once (the common case, and the fastest).
  if (announced >= 0 && !res.headers.has("content-encoding")) return res.text();
  // Decoded as it arrives: no chunk is kept, the text is the only copy.
  const decoder = new TextDecoder();
  let text = "";
  await readChunks(
    res,
    maxBytes,
    (chunk) => void (text += decoder.decode(chunk, { stream: true })),
  );
  return text + decoder.decode();
}

/** Reads `res`'s body as bytes, with the same limit as `readBody`. */
export async function readBytes(res: Response, maxBytes: number): Promise<Uint8Array> {
  await announcedLength(res, maxBytes);
  const parts: Uint8Array[] = [];
  const total = await readChunks(res, maxBytes, (chunk) => void parts.push(chunk));
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/** `res`'s `Content-Length` (NaN when absent); over `maxBytes`, the body is cancelled and BodyTooLarge thrown. */
async function announcedLength(res: Response, maxBytes: number): Promise<number> {
  const length = res.headers.get("content-length");
  const announced = length === null ? Number.NaN : Number(length);
  if (announced > maxBytes) {
    await res.body?.cancel().catch(() => {});
    throw new BodyTooLarge(res.status, res.headers, announced, true);
  }
  return announced;
}

/** Hands `res`'s body to `take` chunk by chunk; past `maxBytes` in all, cancels it and throws BodyTooLarge. */
async function readChunks(
  res: Response,
  maxBytes: number,
  take: (chunk: Uint8Array) => void,
): Promise<number> {
  if (res.body === null) return 0;
  const reader = res.body.getReader();
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return total;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLarge(res.status, res.headers, total, false);
    }
    take(value);
  }
}

/** The error of a response whose body is over the limit (never retried). */
export function tooLargeError(
  step: Pick<FetchStep, "what" | "maxBytes">,
  over: Pick<BodyTooLarge, "status" | "headers" | "bytes" | "announced">,
): ApiResponseTooLargeError {
  const seen = over.announced
    ? `its Content-Length is ${over.bytes} bytes`
    : `more than that arrived`;
  return new ApiResponseTooLargeError({
    status: over.status,
    headers: over.headers,
    message:
      `The response to ${step.what} (status ${over.status}) is larger than the limit of ${step.maxBytes} bytes (maxResponseBytes): ${seen}; not read further, not retried`,
  });
}

/** The `fetch` options of `order` (redirects are the caller's to follow). */
export function fetchInit(order: FetchOrder, signal: AbortSignal): RequestInit {
  const init: RequestInit & { client?: unknown } = {
    method: order.method,
    headers: order.headers,
    body: order.body as BodyInit | undefined, // Uint8Array<ArrayBufferLike> is a BufferSource.
    redirect: "manual",
    signal,
  };
  if (order.fresh) {
    // Bun's fetch silently resends a request whose pooled keep-alive
    // connection dies before the response, even a DELETE the server received;
    // with `keepalive: false` (Bun's own meaning: no pooling) it opens a
    // connection of its own and does not. Node's fetch never resends; Deno
    // needs the unpooled client below; other runtimes get the standard init.
    if ("Bun" in globalThis) init.keepalive = false;
    const client = freshConnection();
    if (client !== undefined) init.client = client;
  }
  return init;
}

/** True when the fetch's caller will follow this response (its body is not needed). */
export function isFollowed(
  step: Pick<FetchOrder, "follow">,
  status: number,
  headers: Headers,
): boolean {
  return step.follow !== undefined && status >= 300 && status < 400 &&
    !step.follow.includes(status) && headers.get("location") !== null;
}

/** The error of a fetch step whose call's signal fired. */
export function abortError(step: FetchStep): ApiUserAbortError {
  return new ApiUserAbortError({
    message: `Request was aborted (${step.what})`,
    cause: step.signal?.reason,
  });
}

/** The error of a fetch step past its deadline. */
export function timeoutError(step: FetchStep): ApiTimeoutError {
  return new ApiTimeoutError({
    message: `Request timed out after ${step.timeoutMs} ms (${step.what})`,
  });
}

/** Copies `from` into `into` with lower-case names. */
function addLowerCased(into: Record<string, string>, from: Record<string, string> | undefined) {
  if (from === undefined) return;
  for (const name of Object.keys(from)) into[name.toLowerCase()] = from[name]!;
}

/** The timeout of one attempt in flight: `at` is in `performance.now()` time. */
export interface Deadline {
  at: number;
  controller: AbortController;
}

/**
 * Per-attempt timeouts share one timer, armed for the earliest deadline: in
 * Deno a `setTimeout`/`clearTimeout` pair per request costs ~30 µs, a
 * measurable share of a call to a nearby server. Finished attempts leave the
 * set; the timer never keeps a process alive by itself (an attempt in flight
 * does, through its fetch).
 */
const deadlines = new Set<Deadline>();
let wheelAt = Infinity;
let cancelWheel: (() => void) | undefined;

/** Aborts `controller` with "timeout" at `at`, unless deleted from `deadlines` first. */
export function armDeadline(at: number, controller: AbortController): Deadline {
  const entry = { at, controller };
  deadlines.add(entry);
  if (entry.at < wheelAt) scheduleWheel(entry.at);
  return entry;
}

/** Stops `entry` from firing (its wait is over). */
export function disarmDeadline(entry: Deadline): void {
  deadlines.delete(entry);
}

function scheduleWheel(at: number): void {
  cancelWheel?.();
  wheelAt = at;
  cancelWheel = unrefTimer(fireWheel, Math.max(0, at - performance.now()));
}

function fireWheel(): void {
  cancelWheel = undefined;
  wheelAt = Infinity;
  const now = performance.now();
  let next = Infinity;
  for (const entry of deadlines) {
    if (entry.at <= now) {
      deadlines.delete(entry);
      entry.controller.abort("timeout");
    } else if (entry.at < next) next = entry.at;
  }
  if (next < Infinity) scheduleWheel(next);
}

let waitCell: Int32Array | undefined;

/**
 * Calls `fire` after `ms` without keeping the process alive; returns a
 * function that cancels it.
 *
 * In Deno the timer is `Atomics.waitAsync` with a timeout on a cell no one
 * writes: it does not keep the process alive, and it spares Deno its global
 * `setTimeout`, whose first call loads Deno's Node timers (6–8 ms of a CLI's
 * cold start). `AbortSignal.timeout` would not do: Deno keeps the process
 * alive until it fires, and one per attempt costs ~30 µs there. Elsewhere
 * (Bun, Node, and Deno without shared memory) an unref'd `setTimeout`, whose
 * first call costs a quarter of `waitAsync`'s first in a compiled Bun binary.
 */
function unrefTimer(fire: () => void, ms: number): () => void {
  if (
    "Deno" in globalThis && typeof SharedArrayBuffer === "function" &&
    typeof Atomics.waitAsync === "function"
  ) {
    waitCell ??= new Int32Array(new SharedArrayBuffer(4));
    let live = true;
    // A promise, or at once "timed-out" when `ms` is 0.
    const { value } = Atomics.waitAsync(waitCell, 0, 0, ms);
    void Promise.resolve(value).then(() => live && fire());
    return () => {
      live = false;
      Atomics.notify(waitCell!, 0); // Ends the wait (the only one: the wheel is one timer).
    };
  }
  const timer = setTimeout(fire, ms);
  unrefTimeout(timer);
  return () => clearTimeout(timer);
}

/** Lets a `setTimeout` timer not keep the process alive (Deno, Bun, Node). */
export function unrefTimeout(timer: ReturnType<typeof setTimeout>): void {
  const deno = (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno;
  if (typeof timer === "number") deno?.unrefTimer?.(timer);
  else (timer as { unref?: () => void }).unref?.();
}

let denoClient: unknown;

/**
 * Deno's fetch silently resends a request whose pooled keep-alive connection
 * closes before the response, even a POST the server already received. Writes
 * that must not be repeated therefore get a connection of their own there
 * (`Deno.createHttpClient` without pooling, passed as fetch's `client`);
 * other runtimes need nothing (undefined).
 */
function freshConnection(): unknown {
  const deno = (globalThis as {
    Deno?: { createHttpClient?: (options: { poolMaxIdlePerHost: number }) => unknown };
  }).Deno;
  if (typeof deno?.createHttpClient !== "function") return undefined;
  denoClient ??= deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  return denoClient;
}

/** `base` + `path` + query, keeping the base URL's path prefix. */
export function buildUrl(base: string, spec: Pick<HttpSpec, "path" | "query">): string {
  let url = withoutTrailingSlashes(base) + spec.path;
  const query = spec.query;
  if (query) {
    for (let i = 0; i < query.length; i++) {
      url += `${i === 0 ? "?" : "&"}${encodeQuery(query[i]![0])}=${encodeQuery(query[i]![1])}`;
    }
  }
  return url;
}

/** A base URL without its trailing slashes (a loop: a regex's first use costs more at a CLI's start). */
export function withoutTrailingSlashes(base: string): string {
  let end = base.length;
  while (end > 0 && base.charCodeAt(end - 1) === 0x2f) end--;
  return end === base.length ? base : base.slice(0, end);
}

/** Query encoding as httpx does it (`urlencode` with `quote_plus`). */
export function encodeQuery(value: string): string {
  // Most values (ids, numbers, scopes) are left as they are: skip the rest.
  if (isUnreserved(value)) return value;
  return encodeURIComponent(value)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll("%20", "+");
}

/**
 * Whether `value` has only `[A-Za-z0-9_.~-]`, which query encoding leaves as
 * they are (a loop: a regex's first use costs more at a CLI's start).
 */
function isUnreserved(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (!isWordCode(c) && c !== 0x2e && c !== 0x7e && c !== 0x2d) return false;
  }
  return true;
}

/** Whether the UTF-16 code `c` is one of `[A-Za-z0-9_]` (a regex's `\w`). */
export function isWordCode(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) ||
    c === 0x5f;
}

const SEGMENT_AS_IS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@]*$/;

/**
 * Encodes one path segment the way the official SDK's transport does: ids are
 * sent as they are (`:` and `@` stay literal), only characters that cannot
 * appear in a path are percent-encoded (UTF-8).
 */
export function encodeSegment(segment: string): string {
  if (SEGMENT_AS_IS.test(segment)) return segment; // Most ids: one test, no copy.
  return segment.replace(
    /[^A-Za-z0-9\-._~!$&'()*+,;=:@]/gu,
    (c) => encodeURIComponent(c),
  );
}

function shouldRetry(status: number, headers: Headers, mode: HttpSpec["retry"]): boolean {
  const header = headers.get("x-should-retry");
  if (header === "true") return true;
  if (header === "false") return false;
  if (status === 408 || status === 429) return true;
  return mode === "safe" ? status >= 500 : status === 503;
}

/** `retry-after-ms`, else `retry-after` (seconds or HTTP date), when in (0, 60 s]; else backoff. */
function retryDelay(config: TransportConfig, headers: Headers, attempt: number): number {
  const ms = Number.parseFloat(headers.get("retry-after-ms") ?? "");
  let delay = Number.isFinite(ms) ? ms : Number.NaN;
  const after = headers.get("retry-after");
  if (Number.isNaN(delay) && after !== null) {
    const seconds = Number.parseFloat(after);
    delay = Number.isFinite(seconds) && /^\s*[\d.]+\s*$/.test(after)
      ? seconds * 1000
      : Date.parse(after) - Date.now();
  }
  return delay > 0 && delay <= MAX_SERVER_DELAY_MS ? delay : backoff(config, attempt);
}

/** `min(initial × 2^attempt, max) × (1 − 0.25·random)`. */
function backoff(config: TransportConfig, attempt: number): number {
  const base = Math.min(config.initialRetryDelayMs * 2 ** attempt, config.maxRetryDelayMs);
  return base * (1 - 0.25 * Math.random());
}

/** Resolves after `ms`, or rejects with ApiUserAbortError when `signal` fires. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const abort = () => {
      clearTimeout(timer);
      reject(new ApiUserAbortError({ message: "Request was aborted", cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", abort);
      resolve();
    }, ms);
    if (signal?.aborted) abort();
    else signal?.addEventListener("abort", abort, { once: true });
  });
}

/**
 * True when `error` shows the connection was never made (refused, DNS), so
 * the server cannot have acted on the request.
 */
function isConnectFailure(error: unknown): boolean {
  const text: string[] = [];
  for (let e = error, depth = 0; e && depth < 5; depth++) {
    const { message, code, cause } = e as { message?: unknown; code?: unknown; cause?: unknown };
    text.push(String(message ?? ""), String(code ?? ""));
    e = cause;
  }
  return /ECONNREFUSED|ConnectionRefused|Connection refused|ENOTFOUND|EAI_AGAIN|dns error|failed to lookup|getaddrinfo|tcp connect error|Unable to connect/i
    .test(text.join(" "));
}

function failure(
  transport: Pick<Transport, "secrets">,
  error: unknown,
  retryable: boolean,
  attempt: number,
  spec: HttpSpec,
): ApiError {
  if (error instanceof ApiTimeoutError && !retryable) {
    return new ApiTimeoutError({
      message: `${error.message}; not retried: the server may have acted on this ${spec.method}`,
    });
  }
  if (error instanceof ApiTimeoutError) {
    return attempt === 0 ? error : new ApiTimeoutError({
      message: `${error.message}, after ${attempt + 1} attempts`,
    });
  }
  const reason = redact(transport, error instanceof Error ? error.message : String(error));
  const note = retryable
    ? attempt > 0 ? ` after ${attempt + 1} attempts` : ""
    : `; not retried: the server may have acted on this ${spec.method}`;
  return new ApiConnectionError({
    message: `Connection failed (${spec.method} ${spec.path})${note}: ${reason}`,
    cause: error instanceof Error ? new Error(reason) : undefined,
  });
}

function statusError(
  transport: Pick<Transport, "secrets">,
  response: RawResponse,
  what: string,
): ApiError {
  return errorForStatus({
    status: response.status,
    headers: response.headers,
    body: errorBody(transport, response.text),
    request: what,
  });
}

/** The most characters of a non-JSON body an error keeps. */
export const ERROR_BODY_CHARS = 2_000;

/**
 * A response body as an error carries it: parsed JSON, else the text cut to
 * ERROR_BODY_CHARS characters. Secrets are redacted BEFORE the cut, so a key
 * that straddles the cut cannot leave a fragment behind.
 */
export function errorBody(transport: Pick<Transport, "secrets">, text: string): unknown {
  const clean = redact(transport, text);
  try {
    return JSON.parse(clean);
  } catch {
    return cut(clean, ERROR_BODY_CHARS);
  }
}

/** `text` cut to at most `max` characters; redact before cutting. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  // Not between the two halves of a surrogate pair.
  return text.slice(0, /[\uD800-\uDBFF]/.test(text[max - 1] ?? "") ? max - 1 : max);
}

/** Replaces every secret in `text` with `[redacted]`. */
export function redact(transport: Pick<Transport, "secrets">, text: string): string {
  let out = text;
  for (const secret of transport.secrets()) {
    if (secret) out = out.replaceAll(secret, "[redacted]");
  }
  return out;
}

function log(transport: Transport, line: string): void {
  transport.log?.(redact(transport, line));
}
