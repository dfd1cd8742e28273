/**
 * The error classes of `@tinker-ts/tinker`.
 *
 * `TinkerError` is the root of every error this package throws. HTTP failures
 * are `ApiError` subclasses, one per status, carrying `status`, `headers`,
 * `body` and the server's `detail` message.
 *
 * @example Telling a missing training run from other failures
 * ```ts
 * import { NotFoundError, TinkerError } from "@tinker-ts/tinker";
 * import assert from "node:assert/strict";
 *
 * const error = new NotFoundError({ status: 404, body: { detail: "Training run not found" } });
 * assert.ok(error instanceof TinkerError);
 * assert.equal(error.detail, "Training run not found");
 * ```
 *
 * @module
 */

/**
 * The root of every error thrown by this package.
 *
 * @example Catching anything the client throws
 * ```ts
 * import { TinkerError } from "@tinker-ts/tinker";
 * import assert from "node:assert/strict";
 *
 * const error = new TinkerError("Something went wrong");
 * assert.equal(error.name, "TinkerError");
 * ```
 */
export class TinkerError extends Error {
  /** The class name, spelled out so that it survives minification. */
  override name: string = "TinkerError";
  /**
   * Creates a `TinkerError`.
   *
   * @param message What went wrong, in sentence case.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * The fields an {@linkcode ApiError} is built from.
 *
 * @example An init for a 404
 * ```ts
 * import type { ApiErrorInit } from "@tinker-ts/tinker";
 * const init: ApiErrorInit = { status: 404, body: { detail: "Training run not found" } };
 * ```
 */
export interface ApiErrorInit {
  /** The HTTP status, if a response arrived. */
  status?: number | undefined;
  /** The response headers, if a response arrived. */
  headers?: Headers | undefined;
  /** The response body: parsed JSON, else the text. */
  body?: unknown;
  /** The message; built from the status and detail when absent. */
  message?: string | undefined;
  /** `"GET /api/v1/..."`, to say which request failed. */
  request?: string | undefined;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * An HTTP request to the Tinker API failed: a status error, a connection
 * failure, a timeout, or a response that does not match its type.
 *
 * @example Reading what the server said
 * ```ts
 * import { ApiError } from "@tinker-ts/tinker";
 * import assert from "node:assert/strict";
 *
 * const error = new ApiError({ status: 418, body: "I'm a teapot" });
 * assert.equal(error.status, 418);
 * assert.equal(error.detail, "I'm a teapot");
 * ```
 */
export class ApiError extends TinkerError {
  /** The class name, kept through minification. */
  override name: string = "ApiError";
  /** The HTTP status, or `undefined` when no response arrived. */
  readonly status: number | undefined;
  /** The response headers, or `undefined` when no response arrived. */
  readonly headers: Headers | undefined;
  /** The response body: parsed JSON where it was JSON, else the text. */
  readonly body: unknown;
  /** The server's `detail` message (FastAPI's list `detail` joined into text). */
  readonly detail: string | undefined;

  /**
   * Creates an `ApiError`.
   *
   * @param init The status, headers, body and message.
   */
  constructor(init: ApiErrorInit = {}) {
    const detail = detailOf(init.body);
    super(
      init.message ?? statusMessage(init.status, detail, init.request),
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.status = init.status;
    this.headers = init.headers;
    this.body = init.body;
    this.detail = detail;
  }
}

/**
 * HTTP 400: the request was invalid.
 *
 * @example
 * ```ts
 * import { BadRequestError } from "@tinker-ts/tinker";
 * const error = new BadRequestError({ status: 400, body: { detail: "ttl_seconds must be positive" } });
 * ```
 */
export class BadRequestError extends ApiError {
  /** The class name, kept through minification. */
  override name: string = "BadRequestError";
  /** Always `400`. */
  declare readonly status: 400;

  /**
   * Creates a `BadRequestError`; its status is always 400.
   *
   * @param init The headers, body and message.
   */
  constructor(init: ApiErrorInit = {}) {
    super({ ...init, status: 400 });
  }
}

/**
 * HTTP 401: the API key or JWT was missing, wrong or expired.
 *
 * @example
 * ```ts
 * import { AuthenticationError } from "@tinker-ts/tinker";
 * const error = new AuthenticationError({ status: 401, body: { detail: "Unable to validate credential" } });
 * ```
 */
export class AuthenticationError extends ApiError {
  /** The class name, kept through minification. */
  override name: string = "AuthenticationError";
  /** Always `401`. */
  declare readonly status: 401;

  /**
   * Creates a `AuthenticationError`; its status is always 401.
   *
   * @param init The headers, body and message.
   */
  constructor(init: ApiErrorInit = {}) {
    super({ ...init, status: 401 });
  }
}

/**
 * HTTP 402: a billing problem with the organization (not retried; the
 * official SDK pauses up to an hour instead).
 *
 * @example
 * ```ts
 * import { BillingError } from "@tinker-ts/tinker";
 * const error = new BillingError({ status: 402, body: { detail: "billing not set up" } });
 * ```
 */
export class BillingError extends ApiError {
  /** The class name, kept through minification. */
  override name: string = "BillingError";
  /** Always `402`. */
  declare readonly status: 402;

  /**
   * Creates a `BillingError`; its status is always 402.
   *
   * @param init The headers, body and message.
   */
  constructor(init: ApiErrorInit = {}) {
    super({ ...init, status: 402 });
  }
}

/**
 * HTTP 403: the credential may not do this.
 *
 * @example
 * ```ts
 * import { PermissionDeniedError } from "@tinker-ts/tinker";
 * const error = new PermissionDeniedError({ status: 403 });
 * ```
 */
export class PermissionDeniedError extends ApiError {
  /** The class name, kept through minification. */
  override name: string = "PermissionDeniedError";
  /** Always `403`. */
  declare readonly status: 403;

  /**
   * Creates a `PermissionDeniedError`; its status is always 403.
   *
   * @param init The headers, body and message.
   */
  constructor(init: ApiErrorInit = {}) {
    super({ ...init, status: 403 });
  }
}

/**
 * HTTP 404: no such resource, or not one the caller owns.
 *
 * @example
 * ```ts
 * import { NotFoundError } from "@tinker-ts/tinker";
 * const error = new NotFoundError({ status: 404, body: { detail: "Training run not found" } });
 * ```
 */
export class NotFoundError extends ApiError {
  /** The class name, kept through minification. */
  override name: string = "NotFoundError";
  /** Always `404`. */
  declare readonly status: 404;

  /**
   * Creates a `NotFoundError`; its status is always 404.
   *
   * @param init The headers, body and message.
   */
  constructor(init: ApiErrorInit = {}) {
    super({ ...init, status: 404 });
  }
}

/**
 * HTTP 409: e.g. publishing a checkpoint that is already public. Never retried.
 *
 * @example
 * ```ts
 * import { ConflictError } from "@tinker-ts/tinker";
 * const error = new ConflictError({ status: 409, body: { detail: "Checkpoint is already public" } });
 * ```
 */
export class ConflictError extends ApiError {
  /** The class name, kept through minification. */
  override name: string = "ConflictError";
  /** Always `409`. */
  declare readonly status: 409;

  /**
   * Creates a `ConflictError`; its status is always 409.
   *
   * @param init The headers, body and message.
   */
  constructor(init: ApiErrorInit = {}) {
    super({ ...init, status: 409 });
  }
}

/**
 * HTTP 422: the server could not validate the request (FastAPI).
 *
 * @example
 * ```ts
 * import { UnprocessableEntityError } from "@tinker-ts/tinker";
 * const error = new UnprocessableEntityError({
 *   status: 422,
 *   body: { detail: [{ loc: ["query", "day"], msg: "Input should be a valid date" }] },
 * });
 * ```
 */
export class UnprocessableEntityError extends ApiError {
  /** The class name, kept through minification. */
  override name: string = "UnprocessableEntityError";
  /** Always `422`. */
  declare readonly status: 422;

  /**
   * Creates a `UnprocessableEntityError`; its status is always 422.
   *
   * @param init The headers, body and message.
   */
  constructor(init: ApiErrorInit = {}) {
    super({ ...init, status: 422 });
  }
}

/**
 * HTTP 429: too many requests; retried with backoff before it is thrown.
 *
 * @example
 * ```ts
 * import { RateLimitError } from "@tinker-ts/tinker";
 * const error = new RateLimitError({ status: 429 });
 * ```
 */
export class RateLimitError extends ApiError {
  /** The class name, kept through minification. */
  override name: string = "RateLimitError";
  /** Always `429`. */
  declare readonly status: 429;

  /**
   * Creates a `RateLimitError`; its status is always 429.
   *
   * @param init The headers, body and message.
   */
  constructor(init: ApiErrorInit = {}) {
    super({ ...init, status: 429 });
  }
}

/**
 * HTTP 500 and above; retried with backoff before it is thrown.
 *
 * @example
 * ```ts
 * import { InternalServerError } from "@tinker-ts/tinker";
 * const error = new InternalServerError({ status: 503 });
 * ```
 */
export class InternalServerError extends ApiError {
  /** The class name, kept through minification. */
  override name: string = "InternalServerError";
  /** The status, 500 or above. */
  declare readonly status: number;

  /**
   * Creates an `InternalServerError`.
   *
   * @param init The status (default 500), headers, body and message.
   */
  constructor(init: ApiErrorInit = {}) {
    super({ ...init, status: init.status ?? 500 });
  }
}

/**
 * No response arrived: the connection failed or broke. `status` is undefined.
 *
 * @example
 * ```ts
 * import { ApiConnectionError } from "@tinker-ts/tinker";
 * const error = new ApiConnectionError({ message: "Connection failed" });
 * ```
 */
export class ApiConnectionError extends ApiError {
  /** The class name, kept through minification. */
  override name: string = "ApiConnectionError";
  /** Always `undefined`: no response arrived. */
  declare readonly status: undefined;
  /** Always `undefined`: no response arrived. */
  declare readonly headers: undefined;

  /**
   * Creates an `ApiConnectionError` (no status, no headers: no response arrived).
   *
   * @param init The message and cause.
   */
  constructor(init: Omit<ApiErrorInit, "status" | "headers"> = {}) {
    super({ ...init, status: undefined, headers: undefined });
  }
}

/**
 * A request attempt, or a `.result(timeoutMs)` wait, ran out of time.
 *
 * @example
 * ```ts
 * import { ApiTimeoutError } from "@tinker-ts/tinker";
 * const error = new ApiTimeoutError({ message: "Request timed out after 60000 ms" });
 * ```
 */
export class ApiTimeoutError extends ApiError {
  /** The class name, kept through minification. */
  override name: string = "ApiTimeoutError";
  /** Always `undefined`: no response arrived. */
  declare readonly status: undefined;
  /** Always `undefined`: no response arrived. */
  declare readonly headers: undefined;

  /**
   * Creates an `ApiTimeoutError` (no status, no headers: no response arrived).
   *
   * @param init The message and cause.
   */
  constructor(init: Omit<ApiErrorInit, "status" | "headers"> = {}) {
    super({ ...init, status: undefined, headers: undefined });
  }
}

/**
 * The caller's `AbortSignal` fired. Never retried.
 *
 * @example
 * ```ts
 * import { ApiUserAbortError } from "@tinker-ts/tinker";
 * const error = new ApiUserAbortError({ message: "Request was aborted" });
 * ```
 */
export class ApiUserAbortError extends ApiError {
  /** The class name, kept through minification. */
  override name: string = "ApiUserAbortError";
  /** Always `undefined`: no response arrived. */
  declare readonly status: undefined;
  /** Always `undefined`: no response arrived. */
  declare readonly headers: undefined;

  /**
   * Creates an `ApiUserAbortError` (no status, no headers: no response arrived).
   *
   * @param init The message and cause.
   */
  constructor(init: Omit<ApiErrorInit, "status" | "headers"> = {}) {
    super({ ...init, status: undefined, headers: undefined });
  }
}

/**
 * A successful response whose body does not match the documented type
 * (a required field missing, `null` where a boolean is required, not JSON).
 * The message names the field.
 *
 * @example
 * ```ts
 * import { ApiResponseValidationError } from "@tinker-ts/tinker";
 * const error = new ApiResponseValidationError({
 *   status: 200,
 *   message: 'Response field "training_runs[0].is_lora" must be a boolean, got null',
 * });
 * ```
 */
export class ApiResponseValidationError extends ApiError {
  /** The class name, kept through minification. */
  override name: string = "ApiResponseValidationError";
}

/**
 * The server answered with a URL the client must not use (an archive,
 * external-weights or trace URL, or a redirect): a scheme other than
 * `https:`, or `http:` to a host that is not this machine while the base URL
 * uses `https:`. Nothing was fetched from it.
 *
 * @example
 * ```ts
 * import { ApiResponseValidationError, UnsafeUrlError } from "@tinker-ts/tinker";
 * const error = new UnsafeUrlError("file:", {
 *   status: 200,
 *   message: 'The server sent the trace URL as a URL with the scheme "file:"',
 * });
 * console.assert(error instanceof ApiResponseValidationError && error.scheme === "file:");
 * ```
 */
export class UnsafeUrlError extends ApiResponseValidationError {
  /** The class name, kept through minification. */
  override name: string = "UnsafeUrlError";
  /** The refused URL's scheme (`"file:"`, `"http:"`, …), or `""` when it was not a URL. */
  readonly scheme: string;

  /**
   * Creates an `UnsafeUrlError`.
   *
   * @param scheme The refused URL's scheme.
   * @param init Status, headers, body and message of the response that named it.
   */
  constructor(scheme: string, init: ApiErrorInit) {
    super(init);
    this.scheme = scheme;
  }
}

/**
 * A response body was larger than the client's `maxResponseBytes` (64 MiB by
 * default), by its `Content-Length` or as it streamed in (after
 * decompression). Reading stopped there; the request is not retried.
 *
 * @example Raising the limit for a very large listing
 * ```ts
 * import { ApiResponseTooLargeError, RestClient } from "@tinker-ts/tinker";
 * import assert from "node:assert/strict";
 *
 * const error = new ApiResponseTooLargeError({
 *   status: 200,
 *   message: "The response to GET /api/v1/checkpoints is larger than the limit",
 * });
 * assert.equal(error.name, "ApiResponseTooLargeError");
 * const rest = new RestClient({ apiKey: "tml-example", maxResponseBytes: 256 * 1024 * 1024 });
 * assert.ok(rest instanceof RestClient);
 * ```
 */
export class ApiResponseTooLargeError extends ApiError {
  /** The class name, kept through minification. */
  override name: string = "ApiResponseTooLargeError";
}

/**
 * An argument of a client method is invalid (an empty id, a negative limit, a
 * TTL that is not a whole number). Thrown before any request is sent; the
 * message names the argument and what is wrong.
 *
 * @example
 * ```ts
 * import { InvalidArgumentError, TinkerError } from "@tinker-ts/tinker";
 * import assert from "node:assert/strict";
 *
 * const error = new InvalidArgumentError("limit", "must be a whole number of at least 1, got -5");
 * assert.ok(error instanceof TinkerError);
 * assert.equal(error.argument, "limit");
 * ```
 */
export class InvalidArgumentError extends TinkerError {
  /** The class name, kept through minification. */
  override name: string = "InvalidArgumentError";
  /** The name of the rejected argument. */
  readonly argument: string;

  /**
   * Creates an `InvalidArgumentError`.
   *
   * @param argument The argument's name.
   * @param problem What is wrong with it.
   */
  constructor(argument: string, problem: string) {
    super(`Invalid ${argument}: ${problem}`);
    this.argument = argument;
  }
}

/**
 * A server-side future finished with an error: the request was accepted,
 * then failed (`{"error", "category"}` from `retrieve_future`). The SDK's
 * `RequestFailedError`.
 *
 * @example
 * ```ts
 * import { RequestFailedError, TinkerError } from "@tinker-ts/tinker";
 * import assert from "node:assert/strict";
 *
 * const error = new RequestFailedError("req-1", "user", "request req-1 (LoadWeights) failed: no such checkpoint");
 * assert.ok(error instanceof TinkerError);
 * assert.equal(error.category, "user");
 * ```
 */
export class RequestFailedError extends TinkerError {
  /** The class name, kept through minification. */
  override name: string = "RequestFailedError";
  /** The id of the failed request. */
  readonly requestId: string;
  /** Whose fault it was, as the server says: `"user"`, `"server"` or `"unknown"`. */
  readonly category: string;

  /**
   * Creates a `RequestFailedError`.
   *
   * @param requestId The failed request's id.
   * @param category `"user"`, `"server"` or `"unknown"`.
   * @param message What failed and why.
   */
  constructor(requestId: string, category: string, message: string) {
    super(message);
    this.requestId = requestId;
    this.category = category;
  }
}

/**
 * The session of a `ServiceClient` is over on the server: a heartbeat was
 * answered 404 or 410 (expired, or finished elsewhere). Every later call of
 * the client fails with this error; create a new `ServiceClient`.
 *
 * @example
 * ```ts
 * import { SessionExpiredError, TinkerError } from "@tinker-ts/tinker";
 * import assert from "node:assert/strict";
 *
 * const error = new SessionExpiredError("3f2a…", "Session 3f2a… has expired (heartbeat: 404)");
 * assert.ok(error instanceof TinkerError);
 * assert.equal(error.sessionId, "3f2a…");
 * ```
 */
export class SessionExpiredError extends TinkerError {
  /** The class name, kept through minification. */
  override name: string = "SessionExpiredError";
  /** The session that is over. */
  readonly sessionId: string;

  /**
   * Creates a `SessionExpiredError`.
   *
   * @param sessionId The session.
   * @param message What happened.
   * @param options Standard error options (`cause`: the heartbeat's error).
   */
  constructor(sessionId: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.sessionId = sessionId;
  }
}

/**
 * Builds the `ApiError` subclass for an HTTP status.
 *
 * @param init The error's fields; `init.status` picks the class.
 * @returns The error, not thrown.
 *
 * @example
 * ```ts
 * import { errorForStatus, NotFoundError } from "@tinker-ts/tinker";
 * import assert from "node:assert/strict";
 *
 * assert.ok(errorForStatus({ status: 404 }) instanceof NotFoundError);
 * ```
 */
export function errorForStatus(init: ApiErrorInit): ApiError {
  const status = init.status ?? 0;
  const ErrorClass = STATUS_CLASSES[status] ??
    (status >= 500 ? InternalServerError : ApiError);
  return new ErrorClass(init);
}

const STATUS_CLASSES: Record<number, typeof ApiError> = {
  400: BadRequestError,
  401: AuthenticationError,
  402: BillingError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  422: UnprocessableEntityError,
  429: RateLimitError,
};

/** Extracts FastAPI's `detail` (string or list) or a plain-text body. */
function detailOf(body: unknown): string | undefined {
  if (typeof body === "string") return body.trim() === "" ? undefined : body.trim();
  if (body === null || typeof body !== "object") return undefined;
  const record = body as Record<string, unknown>;
  const detail = record.detail ?? record.message ?? record.error;
  if (typeof detail === "string") return detail;
  // OpenAI-style `{"error": {"message": …}}` (the OpenAI-compatible endpoint).
  const nested = (detail as { message?: unknown } | null)?.message;
  if (typeof nested === "string" && !Array.isArray(detail)) return nested;
  if (Array.isArray(detail)) return detail.map(describeIssue).join("; ");
  if (detail !== undefined) return JSON.stringify(detail);
  return undefined;
}

/** One FastAPI validation issue `{loc, msg}` as `"query.day: Input should be a valid date"`. */
function describeIssue(issue: unknown): string {
  if (issue === null || typeof issue !== "object") return String(issue);
  const { loc, msg } = issue as { loc?: unknown; msg?: unknown };
  const where = Array.isArray(loc) ? loc.join(".") : undefined;
  const what = typeof msg === "string" ? msg : JSON.stringify(issue);
  return where ? `${where}: ${what}` : what;
}

function statusMessage(
  status: number | undefined,
  detail: string | undefined,
  request: string | undefined,
): string {
  const head = status === undefined ? "Request failed" : `Request failed with status ${status}`;
  const where = request ? ` (${request})` : "";
  const tail = detail === undefined ? "" : `: ${truncate(detail, 500)}`;
  return `${head}${where}${tail}`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
