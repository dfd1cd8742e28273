// The engine runs operations: plain-data descriptions of one client call.
// It owns the bootstrap (client config, JWT exchange and refresh) and the
// polling calls (archive, trace export), and sends every HTTP request through
// `sendRequest`. It is written as steps (`_request.ts`): `execute` performs
// them with `await`, `.result()` (`_sync.ts`) performs the same steps blocking.

import {
  ApiError,
  type ApiErrorInit,
  ApiResponseValidationError,
  InternalServerError,
  TinkerError,
} from "./errors.ts";
import { jwtClaims, secondsUntilExpiry } from "./_jwt.ts";
import { type CustomSchema, SchemaIssue, type SchemaName, validate } from "./_schema.ts";
import {
  type CallSettings,
  drive,
  type HttpSpec,
  type RawResponse,
  redact,
  sendRequest,
  type Shared,
  type Steps,
  type Transport,
  type TransportConfig,
} from "./_request.ts";
import { SDK_COMPAT_VERSION } from "./_version.ts";
import type { CheckpointArchiveUrlResponse, WhoamiResponse } from "./types.ts";

/** One client call as plain data: what a future needs to run it anywhere. */
export type Operation =
  | { kind: "json"; http: HttpSpec; schema: SchemaName; pick?: string }
  | { kind: "void"; http: HttpSpec }
  | { kind: "archive"; http: HttpSpec }
  | { kind: "trace"; http: HttpSpec; sessionId: string }
  | { kind: "whoami" }
  /**
   * The OpenAI-compatible endpoint: the API key as a Bearer token, no
   * bootstrap. A `stream` request resolves to the `RawResponse` with its body
   * unread; otherwise to the JSON checked against `schema`.
   */
  | { kind: "oai"; http: HttpSpec; schema?: CustomSchema };

/** The engine's settings, as plain data. */
export interface EngineConfig {
  transport: TransportConfig;
  apiKey: string | undefined;
  archivePollIntervalMs: number;
  tracePollIntervalMs: number;
}

/** The bootstrap's outcome (the JWT itself is kept apart: it is refreshed). */
interface AuthState {
  jwtEnabled: boolean;
}

const ARCHIVE_POLLS = 6;
const REFRESH_BEFORE_EXPIRY_S = 300;
const ARCHIVE_DEFAULT_TTL_MS = 15 * 60_000;

/** Runs operations for one client. */
export class Engine {
  readonly config: EngineConfig;
  #fetch: typeof fetch;
  #log: ((line: string) => void) | undefined;
  #authDone: AuthState | undefined;
  #jwt: string | undefined;
  /** The bootstrap and the JWT refresh in flight, shared by concurrent async calls. */
  #bootstrapping: Shared = {};
  #refreshing: Shared = {};
  #warned = false;
  #checkedBaseUrl: string | undefined;
  #checkedApiKey: string | undefined;
  #callTransport: Transport | undefined;
  #callTransportKey: string | undefined;
  #decoded: { jwt: string; exp: unknown } | undefined;

  constructor(
    config: EngineConfig,
    fetchImpl: typeof fetch = globalThis.fetch,
    log?: (line: string) => void,
  ) {
    this.config = config;
    this.#fetch = fetchImpl;
    this.#log = log;
  }

  /** Runs `op`; resolves with its result (already validated). */
  execute(op: Operation, call: CallSettings = {}): Promise<unknown> {
    return drive(this.steps(op, call));
  }

  /** The steps of `op`, for a driver to perform (`execute`, or `.result()`). */
  *steps(op: Operation, call: CallSettings = {}): Steps<unknown> {
    try {
      return yield* this.#steps(op, call);
    } catch (error) {
      // Server data in an error (body, headers, a field quoted by validation,
      // a trace failure's reason) may echo the key or the JWT: scrub it here,
      // where every error of a call passes.
      throw scrub(error, { secrets: () => [this.config.apiKey ?? "", this.#jwt ?? ""] });
    }
  }

  *#steps(op: Operation, call: CallSettings): Steps<unknown> {
    const apiKey = this.#checkConfig();
    if (op.kind === "whoami") return yield* this.#whoami(apiKey);
    if (op.kind === "oai") {
      const keyTransport = this.#transport(() => apiKey);
      const res = yield* sendRequest(keyTransport, op.http, call);
      return op.schema === undefined ? res : parseJson(res, op.schema, keyTransport);
    }
    const transport = this.#callTransportFor(apiKey);
    if (this.#authDone === undefined) yield* this.#bootstrap(apiKey);
    switch (op.kind) {
      case "json": {
        const res = yield* sendRequest(transport, op.http, call);
        const value = parseJson(res, op.schema, transport);
        return op.pick === undefined ? value : (value as Record<string, unknown>)[op.pick];
      }
      case "void":
        yield* sendRequest(transport, op.http, call);
        return undefined;
      case "archive":
        return yield* this.#archive(transport, op.http, call);
      case "trace":
        return yield* this.#trace(transport, op, call);
    }
  }

  /** Validates the key and base URL; throws a clear TinkerError at the first call. */
  #checkConfig(): string {
    const { apiKey, transport } = this.config;
    if (apiKey === undefined) {
      throw new TinkerError(
        "The API key is missing: pass apiKey to the client or set the TINKER_API_KEY environment variable",
      );
    }
    const known = apiKey === this.#checkedApiKey; // It passed the checks below before.
    if (!known && !apiKey.startsWith("tml-") && !apiKey.startsWith("eyJ")) {
      throw new TinkerError(
        `The API key must start with "tml-" (or be a JWT starting with "eyJ"); the given key of ${apiKey.length} characters does not`,
      );
    }
    if (isJwt(apiKey)) { // Every call: it may have expired since the last one.
      const exp = this.#expiry(apiKey);
      if (typeof exp === "number" && exp * 1000 <= Date.now()) {
        throw new TinkerError(
          `The API key is a JWT that expired at ${
            new Date(exp * 1000).toISOString()
          }; pass a fresh one`,
        );
      }
    }
    if (!known && !/^[\x21-\x7e]+$/.test(apiKey)) {
      throw new TinkerError(
        "The API key contains whitespace or characters that cannot be sent in an HTTP header",
      );
    }
    this.#checkedApiKey = apiKey;
    if (transport.baseUrl === this.#checkedBaseUrl) return apiKey; // Checked already.
    let url: URL;
    try {
      url = new URL(transport.baseUrl);
    } catch {
      throw new TinkerError(
        `The base URL ${JSON.stringify(transport.baseUrl)} is not a valid URL`,
      );
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new TinkerError(
        `The base URL ${JSON.stringify(transport.baseUrl)} must use http:// or https://`,
      );
    }
    if (url.username || url.password || url.search || url.hash) {
      throw new TinkerError(
        "The base URL must not contain credentials, a query string or a fragment",
      );
    }
    if (url.protocol === "http:" && !isLoopback(url.hostname) && !this.#warned) {
      this.#warned = true;
      console.warn(
        `Warning: the Tinker base URL ${url.origin} uses plain http:// to a non-loopback host; the API key travels unencrypted.`,
      );
    }
    this.#checkedBaseUrl = transport.baseUrl;
    return apiKey;
  }

  /** The transport of client calls: one per API key (it holds nothing of a call). */
  #callTransportFor(apiKey: string): Transport {
    const reused = this.#callTransport;
    if (reused?.config === this.config.transport && this.#callTransportKey === apiKey) {
      return reused;
    }
    this.#callTransportKey = apiKey;
    return this.#callTransport = this.#transport(() => this.#credential(apiKey), apiKey);
  }

  #transport(credential: () => string | Steps<string>, apiKey?: string): Transport {
    return {
      config: this.config.transport,
      fetch: this.#fetch,
      credential,
      secrets: () => [this.config.apiKey ?? "", this.#jwt ?? ""],
      renewCredential: apiKey === undefined ? undefined : () => this.#renew(apiKey),
      log: this.#log,
    };
  }

  /** After a 401 `invalid_token`: a fresh JWT (one exchange shared by concurrent callers). */
  *#renew(apiKey: string): Steps<boolean> {
    const auth = yield* this.#bootstrap(apiKey);
    if (!auth.jwtEnabled || isJwt(apiKey)) return false;
    yield* this.#refresh(apiKey);
    return true;
  }

  /**
   * `POST /client/config` once, then the JWT exchange if enabled. Concurrent
   * first calls share one bootstrap; a failed one is tried again next call.
   */
  *#bootstrap(apiKey: string): Steps<AuthState> {
    if (this.#authDone !== undefined) return this.#authDone;
    const run = () => this.#runBootstrap(apiKey);
    return (yield { t: "share", slot: this.#bootstrapping, run }) as AuthState;
  }

  *#runBootstrap(apiKey: string): Steps<AuthState> {
    const keyTransport = this.#transport(() => apiKey);
    const res = yield* sendRequest(keyTransport, {
      method: "POST",
      path: "/api/v1/client/config",
      body: { sdk_version: SDK_COMPAT_VERSION },
      retry: "safe",
    });
    const config = parseJson(res, "ClientConfig", keyTransport) as {
      pjwt_auth_enabled?: boolean;
      credential_default_source?: string;
    };
    const jwtEnabled = config.pjwt_auth_enabled === true;
    if (jwtEnabled && config.credential_default_source === "credential_cmd" && !isJwt(apiKey)) {
      throw new TinkerError(
        "Your organization requires dynamic credentials (TINKER_CREDENTIAL_CMD), which this client does not run; pass a JWT as the API key instead",
      );
    }
    if (jwtEnabled && !isJwt(apiKey)) this.#jwt = yield* this.#exchange(apiKey);
    return this.#authDone = { jwtEnabled };
  }

  /** A fresh JWT, stored for later calls (one exchange shared by concurrent callers). */
  *#refresh(apiKey: string): Steps<string> {
    const run = () => this.#runRefresh(apiKey);
    return (yield { t: "share", slot: this.#refreshing, run }) as string;
  }

  *#runRefresh(apiKey: string): Steps<string> {
    return this.#jwt = yield* this.#exchange(apiKey);
  }

  /** `POST /auth/token` with the API key: a fresh JWT. */
  *#exchange(apiKey: string): Steps<string> {
    const keyTransport = this.#transport(() => apiKey);
    const res = yield* sendRequest(keyTransport, {
      method: "POST",
      path: "/api/v1/auth/token",
      body: {},
      retry: "safe",
    });
    return (parseJson(res, "AuthToken", keyTransport) as { jwt: string }).jwt;
  }

  /**
   * The `X-API-Key` value: the JWT (refreshed near expiry) or the API key.
   * After the bootstrap, a plain API key is returned as it is, not as
   * steps: most calls need not wait for anything here.
   */
  #credential(apiKey: string): string | Steps<string> {
    const auth = this.#authDone;
    const jwt = this.#jwt;
    if (auth && (!auth.jwtEnabled || isJwt(apiKey) || jwt === undefined)) return apiKey;
    if (auth && jwt !== undefined) { // A JWT far from expiry needs no wait either.
      const exp = this.#expiry(jwt);
      if (typeof exp === "number" && exp - Date.now() / 1000 > REFRESH_BEFORE_EXPIRY_S) return jwt;
    }
    return this.#jwtCredential(apiKey);
  }

  /** The `exp` claim of `jwt`, kept for the last JWT asked about: every call asks. */
  #expiry(jwt: string): unknown {
    if (this.#decoded?.jwt !== jwt) this.#decoded = { jwt, exp: jwtClaims(jwt)?.exp };
    return this.#decoded.exp;
  }

  *#jwtCredential(apiKey: string): Steps<string> {
    const auth = yield* this.#bootstrap(apiKey);
    const jwt = this.#jwt;
    if (!auth.jwtEnabled || isJwt(apiKey) || jwt === undefined) return apiKey;
    const left = secondsUntilExpiry(jwt);
    if (left > REFRESH_BEFORE_EXPIRY_S) return jwt;
    try {
      return yield* this.#refresh(apiKey);
    } catch (error) {
      if (left > 0) return jwt; // Still valid: use it, refresh again next call.
      throw error;
    }
  }

  *#whoami(apiKey: string): Steps<WhoamiResponse> {
    const auth = yield* this.#bootstrap(apiKey);
    let jwt: string | undefined;
    if (auth.jwtEnabled && !isJwt(apiKey)) {
      const credential = this.#credential(apiKey);
      jwt = typeof credential === "string" ? credential : yield* credential;
    } else if (isJwt(apiKey) && String(jwtClaims(apiKey)?.iss ?? "").startsWith("passport-")) {
      jwt = apiKey;
    }
    if (jwt === undefined) {
      throw new TinkerError(
        "whoami() needs JWT auth, but the server has it disabled and the credential is a plain API key",
      );
    }
    const claims = jwtClaims(jwt);
    if (claims === undefined || typeof claims.sub !== "string") {
      throw new TinkerError('Cannot read the JWT\'s claims: it has no string "sub" claim');
    }
    const email = typeof claims.email === "string" && claims.email !== "" ? claims.email : null;
    const org = claims.org_id;
    const orgUrn = typeof org === "string" || typeof org === "number"
      ? `tml:organization:${org}`
      : null;
    return { user_urn: claims.sub, org_urn: orgUrn, email };
  }

  /** 302 + Location/Expires, or 200 JSON; 503 means "being built": poll. */
  *#archive(
    transport: Transport,
    http: HttpSpec,
    call: CallSettings,
  ): Steps<CheckpointArchiveUrlResponse> {
    const spec: HttpSpec = { ...http, passStatuses: [302, 503] };
    for (let poll = 1;; poll++) {
      const res = yield* sendRequest(transport, spec, call);
      if (res.status === 503) {
        if (poll >= ARCHIVE_POLLS) {
          throw new InternalServerError({
            status: 503,
            headers: res.headers,
            body: bodyOf(res),
            message:
              `The checkpoint archive was still not ready after ${ARCHIVE_POLLS} polls (GET ${http.path})`,
          });
        }
        yield { t: "sleep", ms: this.config.archivePollIntervalMs, signal: call.signal };
        continue;
      }
      if (res.status === 302) {
        const url = res.headers.get("location");
        if (url === null) {
          throw new ApiError({
            status: 302,
            headers: res.headers,
            body: bodyOf(res),
            message: `The archive redirect has no Location header (GET ${http.path})`,
          });
        }
        const expires = Date.parse(res.headers.get("expires") ?? "");
        return {
          url,
          expires: new Date(
            Number.isNaN(expires) ? Date.now() + ARCHIVE_DEFAULT_TTL_MS : expires,
          ).toISOString(),
        };
      }
      const body = parseJson(res, "CheckpointArchiveUrlResponse", transport) as {
        url: string;
        expires: string | number;
      };
      const expires = typeof body.expires === "number"
        ? new Date(body.expires * 1000)
        : new Date(body.expires);
      return { ...body, expires: expires.toISOString() };
    }
  }

  /** Polls the trace export until it is `ready` (its URL) or `failed`. */
  *#trace(
    transport: Transport,
    op: Extract<Operation, { kind: "trace" }>,
    call: CallSettings,
  ): Steps<string> {
    for (;;) {
      const res = yield* sendRequest(transport, op.http, call);
      const poll = parseJson(res, "TraceExport", transport) as {
        status: string;
        url?: string | null;
        error?: string | null;
      };
      if (poll.status === "ready") {
        if (typeof poll.url === "string") return poll.url;
        throw validationError(res, 'Response field "url" must be a string when status is "ready"');
      }
      if (poll.status === "failed") {
        throw new TinkerError(
          `Trace export failed for session ${op.sessionId}: ${poll.error ?? "no reason given"}`,
        );
      }
      yield { t: "sleep", ms: this.config.tracePollIntervalMs, signal: call.signal };
    }
  }
}

/** Parses and validates a JSON body; failures are ApiResponseValidationError. */
export function parseJson(
  res: RawResponse,
  schema: SchemaName | CustomSchema,
  transport: Pick<Transport, "secrets">,
): unknown {
  let value: unknown;
  try {
    value = JSON.parse(res.text);
  } catch {
    const type = res.headers.get("content-type") ?? "none";
    throw validationError(
      res,
      `Expected a JSON response body, got content-type ${type} and ${
        res.text.length === 0 ? "an empty body" : "a body that is not JSON"
      }`,
      redact(transport, res.text.slice(0, 2000)),
    );
  }
  try {
    validate(schema, value);
  } catch (error) {
    if (error instanceof SchemaIssue) {
      const name = typeof schema === "string" ? schema : schema.name;
      throw validationError(res, `${error.message} (${name})`);
    }
    throw error;
  }
  return value;
}

function validationError(res: RawResponse, message: string, body?: unknown): ApiError {
  return new ApiResponseValidationError({
    status: res.status,
    headers: res.headers,
    body: body ?? bodyOf(res),
    message,
  });
}

/** `error` with every secret replaced by `[redacted]` (a new error when anything changed). */
export function scrub(error: unknown, transport: Pick<Transport, "secrets">): unknown {
  if (!(error instanceof TinkerError)) return error;
  const clean = (text: string) => redact(transport, text);
  if (!(error instanceof ApiError)) {
    const dirty = clean(error.message) !== error.message;
    return dirty && error.constructor === TinkerError
      ? new TinkerError(clean(error.message))
      : error;
  }
  const body = typeof error.body === "string" ? error.body : JSON.stringify(error.body) ?? "";
  const headers = error.headers ? [...error.headers] : [];
  const dirty = [error.message, body, ...headers.map(([, v]) => v)].some((t) => clean(t) !== t);
  if (!dirty) return error;
  const Class = error.constructor as new (init: ApiErrorInit) => ApiError;
  return new Class({
    status: error.status,
    headers: error.headers && new Headers(headers.map(([k, v]) => [k, clean(v)])),
    body: typeof error.body === "string" || error.body === undefined
      ? error.body === undefined ? undefined : clean(error.body)
      : JSON.parse(clean(body)),
    message: clean(error.message),
    cause: error.cause,
  });
}

function bodyOf(res: RawResponse): unknown {
  try {
    return JSON.parse(res.text);
  } catch {
    return res.text;
  }
}

function isJwt(credential: string): boolean {
  return credential.startsWith("eyJ");
}

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\./.test(hostname);
}
