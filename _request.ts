// The one request function: every HTTP call of the client goes through
// `sendRequest`, which owns URL building, headers, the per-attempt timeout,
// retries with backoff, redirects (credentials never cross origins) and the
// mapping of failures to error classes.

import {
  ApiConnectionError,
  ApiError,
  ApiTimeoutError,
  ApiUserAbortError,
  errorForStatus,
} from "./errors.ts";

/** HTTP methods the Tinker REST API uses. */
export type Method = "GET" | "POST" | "PUT" | "DELETE";

/**
 * One HTTP request, as plain data (it crosses into the sync worker).
 * `path` is already encoded and starts with `/api/v1/`.
 */
export interface HttpSpec {
  method: Method;
  path: string;
  query?: [string, string][];
  /** The JSON body; `undefined` sends none. */
  body?: unknown;
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
}

/** Client-wide transport settings (plain data). */
export interface TransportConfig {
  baseUrl: string;
  maxRetries: number;
  timeoutMs: number;
  initialRetryDelayMs: number;
  maxRetryDelayMs: number;
  defaultHeaders: Record<string, string>;
  userAgent: string;
}

/** Per-call settings. */
export interface CallSettings {
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
}

/** What the request function hands back: the body is read in full. */
export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  url: string;
}

/** How the request function reaches the network and the credential. */
export interface Transport {
  config: TransportConfig;
  fetch: typeof fetch;
  /** The value of `X-API-Key` for this attempt. */
  credential(): Promise<string>;
  /** Strings that must never appear in errors or logs. */
  secrets(): string[];
  /**
   * Called once per request on a 401 whose `WWW-Authenticate` says
   * `error="invalid_token"`: true when a fresh credential is ready to resend with.
   */
  renewCredential?: (() => Promise<boolean>) | undefined;
  log?: ((line: string) => void) | undefined;
}

const MAX_REDIRECTS = 5;
const MAX_SERVER_DELAY_MS = 60_000;

/** Sends `spec`, retrying per the rules above; resolves with a 2xx or passed status. */
export async function sendRequest(
  transport: Transport,
  spec: HttpSpec,
  call: CallSettings = {},
): Promise<RawResponse> {
  const { config } = transport;
  const maxRetries = config.maxRetries;
  const idempotencyKey = spec.method === "GET"
    ? undefined
    : spec.idempotencyKey ?? `tinker-ts-retry-${crypto.randomUUID()}`;
  const what = `${spec.method} ${spec.path}`;
  const secret = {
    secrets: () => [...transport.secrets(), ...Object.values(spec.secretHeaders ?? {})],
  };
  let renewed = false;
  for (let attempt = 0;; attempt++) {
    const retriesLeft = attempt < maxRetries;
    let response: RawResponse;
    try {
      response = await attemptOnce(transport, spec, call, idempotencyKey, attempt);
    } catch (error) {
      if (error instanceof ApiUserAbortError) throw error;
      const timedOut = error instanceof ApiTimeoutError;
      const retryable = spec.retry === "safe" || (!timedOut && isConnectFailure(error));
      if (retryable && retriesLeft) {
        await sleep(backoff(config, attempt), call.signal);
        continue;
      }
      throw failure(secret, error, what, retryable, attempt, spec);
    }
    const { status, headers } = response;
    if ((status >= 200 && status < 300) || spec.passStatuses?.includes(status)) {
      return response;
    }
    if (
      status === 401 && !renewed && transport.renewCredential &&
      /error="?invalid_token/i.test(headers.get("www-authenticate") ?? "")
    ) {
      renewed = true;
      if (await transport.renewCredential()) {
        attempt--; // The replay is not a retry.
        continue;
      }
    }
    if (retriesLeft && shouldRetry(status, headers, spec.retry)) {
      await sleep(retryDelay(config, headers, attempt), call.signal);
      continue;
    }
    if (spec.followRedirects && status >= 300 && status < 400) {
      throw new ApiError({
        status,
        headers,
        body: response.text,
        message: `Too many redirects (more than ${MAX_REDIRECTS}) for ${what}`,
      });
    }
    throw statusError(secret, response, what);
  }
}

async function attemptOnce(
  transport: Transport,
  spec: HttpSpec,
  call: CallSettings,
  idempotencyKey: string | undefined,
  attempt: number,
): Promise<RawResponse> {
  const { config } = transport;
  const timeoutMs = call.timeoutMs ?? config.timeoutMs;
  // Outside the try below: a credential problem is never retried.
  const credential = await transport.credential();
  const controller = new AbortController();
  const disarm = armDeadline(timeoutMs, () => controller.abort("timeout"));
  const onAbort = () => controller.abort("user");
  call.signal?.addEventListener("abort", onAbort, { once: true });
  if (call.signal?.aborted) controller.abort("user");
  const started = Date.now();
  let url = buildUrl(config.baseUrl, spec);
  try {
    // A plain record with lower-case names (later ones win): Deno's fetch
    // converts a `Headers` instance several times more slowly (~50 µs a call).
    const headers: Record<string, string> = {};
    for (
      const [name, value] of Object.entries({ ...config.defaultHeaders, ...spec.secretHeaders })
    ) {
      headers[name.toLowerCase()] = value;
    }
    headers["accept"] = "application/json";
    headers["user-agent"] = config.userAgent;
    if (spec.method !== "GET") headers["content-type"] = "application/json";
    if (idempotencyKey) headers["x-idempotency-key"] = idempotencyKey;
    headers["x-stainless-retry-count"] = String(attempt);
    headers["x-api-key"] = credential;
    const body = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    let init: RequestInit = {
      method: spec.method,
      headers,
      body: body ?? (spec.method === "POST" ? "" : undefined),
      redirect: "manual",
      signal: controller.signal,
      ...(spec.retry === "unsent" && freshConnection()),
    };
    let origin: string | undefined; // Parsed on the first redirect only.
    for (let hops = 0;; hops++) {
      const res = await transport.fetch(url, init);
      const location = res.headers.get("location");
      const isRedirect = res.status >= 300 && res.status < 400 && location !== null;
      const follow = isRedirect && spec.followRedirects && hops < MAX_REDIRECTS &&
        !spec.passStatuses?.includes(res.status);
      if (!follow) {
        const text = await res.text();
        log(transport, `${spec.method} ${url} -> ${res.status} (${Date.now() - started} ms)`);
        return { status: res.status, headers: res.headers, text, url };
      }
      await res.body?.cancel();
      log(transport, `${spec.method} ${url} -> ${res.status} redirect`);
      url = new URL(location, url).href;
      // Credentials and custom headers stay with the base URL's origin; once a
      // hop has left it they are gone for good (a redirect back gets none).
      origin ??= new URL(config.baseUrl).origin;
      const sameOrigin = new URL(url).origin === origin && init.headers === headers;
      init = {
        ...init,
        headers: sameOrigin ? headers : { accept: "application/json" },
      };
    }
  } catch (error) {
    const reason = controller.signal.aborted ? controller.signal.reason : undefined;
    log(transport, `${spec.method} ${url} -> failed (${Date.now() - started} ms)`);
    if (reason === "user") {
      throw new ApiUserAbortError({
        message: `Request was aborted (${spec.method} ${spec.path})`,
        cause: call.signal?.reason,
      });
    }
    if (reason === "timeout") {
      throw new ApiTimeoutError({
        message: `Request timed out after ${timeoutMs} ms (${spec.method} ${spec.path})`,
      });
    }
    throw error;
  } finally {
    disarm();
    call.signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * Per-attempt timeouts share one unref'd timer, armed for the earliest
 * deadline: in Deno a `setTimeout`/`clearTimeout` pair per request costs
 * ~30 µs, a measurable share of a call to a nearby server. Finished attempts
 * leave the set; the timer never keeps a process alive by itself (an
 * attempt in flight does, through its fetch).
 */
const deadlines = new Set<{ at: number; expire: () => void }>();
let wheel: ReturnType<typeof setTimeout> | undefined;
let wheelAt = Infinity;

function armDeadline(ms: number, expire: () => void): () => void {
  const entry = { at: performance.now() + ms, expire };
  deadlines.add(entry);
  if (entry.at < wheelAt) scheduleWheel(entry.at);
  return () => void deadlines.delete(entry);
}

function scheduleWheel(at: number): void {
  if (wheel !== undefined) clearTimeout(wheel);
  wheelAt = at;
  wheel = setTimeout(fireWheel, Math.max(0, at - performance.now()));
  const deno = (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno;
  if (typeof wheel === "number") deno?.unrefTimer?.(wheel);
  else (wheel as { unref?: () => void }).unref?.();
}

function fireWheel(): void {
  wheel = undefined;
  wheelAt = Infinity;
  const now = performance.now();
  let next = Infinity;
  for (const entry of deadlines) {
    if (entry.at <= now) {
      deadlines.delete(entry);
      entry.expire();
    } else if (entry.at < next) next = entry.at;
  }
  if (next < Infinity) scheduleWheel(next);
}

let denoClient: unknown;

/**
 * Deno's fetch silently resends a request whose pooled keep-alive connection
 * closes before the response, even a POST the server already received. Writes
 * that must not be repeated therefore get a connection of their own there
 * (`Deno.createHttpClient` without pooling); other runtimes need nothing.
 */
function freshConnection(): { client?: unknown } {
  const deno = (globalThis as {
    Deno?: { createHttpClient?: (options: { poolMaxIdlePerHost: number }) => unknown };
  }).Deno;
  if (typeof deno?.createHttpClient !== "function") return {};
  denoClient ??= deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  return { client: denoClient };
}

/** `base` + `path` + query, keeping the base URL's path prefix. */
export function buildUrl(base: string, spec: Pick<HttpSpec, "path" | "query">): string {
  const query = spec.query?.length
    ? "?" + spec.query.map(([k, v]) => `${encodeQuery(k)}=${encodeQuery(v)}`).join("&")
    : "";
  return `${base.replace(/\/+$/, "")}${spec.path}${query}`;
}

/** Query encoding as httpx does it (`urlencode` with `quote_plus`). */
export function encodeQuery(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll("%20", "+");
}

/**
 * Encodes one path segment the way the official SDK's transport does: ids are
 * sent as they are (`:` and `@` stay literal), only characters that cannot
 * appear in a path are percent-encoded (UTF-8).
 */
export function encodeSegment(segment: string): string {
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
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
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
  what: string,
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
    message: `Connection failed (${what})${note}: ${reason}`,
    cause: error instanceof Error ? new Error(reason) : undefined,
  });
}

function statusError(
  transport: Pick<Transport, "secrets">,
  response: RawResponse,
  what: string,
): ApiError {
  const text = redact(transport, response.text);
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: the text is the body.
  }
  return errorForStatus({
    status: response.status,
    headers: response.headers,
    body,
    request: what,
  });
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
