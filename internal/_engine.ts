// The engine runs operations: plain-data descriptions of one client call.
// It owns the bootstrap (client config, JWT exchange and refresh) and the
// polling calls (archive, trace export), and sends every HTTP request through
// `sendRequest`. It is written as steps (`_request.ts`): `execute` performs
// them with `await`, `.result()` (`_sync.ts`) performs the same steps blocking.

import {
  ApiError,
  type ApiErrorInit,
  ApiResponseValidationError,
  ApiTimeoutError,
  InternalServerError,
  TinkerError,
  UnsafeUrlError,
} from "../errors.ts";
import { jwtClaims, secondsUntilExpiry } from "./_jwt.ts";
import { unreadableNote } from "./_env.ts";
import {
  prepare,
  type Schema,
  SchemaIssue,
  type SchemaName,
  schemaName,
  validate,
} from "./_schema.ts";
import {
  type CallSettings,
  cut,
  drive,
  ERROR_BODY_CHARS,
  errorBody,
  type HttpSpec,
  isLoopback,
  type RawResponse,
  redact,
  sendRequest,
  type Shared,
  type Steps,
  type Transport,
  type TransportConfig,
  urlProblem,
} from "./_request.ts";
import { SDK_COMPAT_VERSION } from "./_version.ts";
import {
  COMMAND_TIMEOUT_MS,
  commandCredential,
  type Credential,
  credentialsPath,
  HostUnavailable,
  isHeaderToken,
  readStoredKey,
  resolveCredential,
  runCommand,
  runCommandSync,
  type StoredKey,
} from "./_credentials.ts";
import {
  type BootstrapCache,
  bootstrapCacheKey,
  cachedFlags,
  dropFlags,
  storableFlags,
  storeFlags,
} from "./_bootstrap_cache.ts";
import type { CheckpointArchiveUrlResponse, WhoamiResponse } from "../types.ts";

/** One client call as plain data: what a future needs to run it anywhere. */
export type Operation =
  | {
    kind: "json";
    http: HttpSpec;
    schema: SchemaName;
    pick?: string;
    /** A field of the result holding URLs from the server (a record of them): checked. */
    urls?: string;
  }
  | { kind: "void"; http: HttpSpec }
  | { kind: "archive"; http: HttpSpec }
  | { kind: "trace"; http: HttpSpec; sessionId: string }
  | { kind: "whoami" }
  | { kind: "steps"; what: string; run(calls: Calls, call: CallSettings): Steps<unknown> }
  /**
   * The OpenAI-compatible endpoint: the API key as a Bearer token, no
   * bootstrap. A `stream` request resolves to the `RawResponse` with its body
   * unread; otherwise to the JSON checked against `schema`.
   */
  | { kind: "oai"; http: HttpSpec; schema?: Schema };

/**
 * What a `steps` operation may do: requests through the engine, with its
 * bootstrap, credential, retries and scrubbing (client calls made of several
 * requests: a session, a model's creation).
 */
export interface Calls {
  /** Sends `http`: a 2xx or passed status. */
  send(http: HttpSpec, call?: CallSettings): Steps<RawResponse>;
  /** Sends `http` and validates its JSON body. */
  json(http: HttpSpec, schema: SchemaName | Schema, call?: CallSettings): Steps<unknown>;
  /** Validates a response's JSON body (a failure is ApiResponseValidationError). */
  parse(res: RawResponse, schema: SchemaName | Schema): unknown;
  /** The client's logger, if any (lines are scrubbed of secrets). */
  log(line: string): void;
  /** The server's `/client/config` answer (`{}` until the first request bootstrapped). */
  clientConfig(): Readonly<Record<string, unknown>>;
}

/** The engine's settings, as plain data. */
export interface EngineConfig {
  transport: TransportConfig;
  /** The `apiKey` option, else `TINKER_API_KEY`. */
  apiKey: string | undefined;
  /** `TINKER_CREDENTIAL_CMD`: run for a fresh credential on every token request. */
  credentialCmd?: string | undefined;
  /**
   * The home directory holding `.tinker/credentials.json` (the stored
   * default key); undefined when it is unknown or not needed.
   */
  home?: string | undefined;
  /** True when the settings came from the process's environment (not `options.env`). */
  processEnv?: boolean;
  archivePollIntervalMs: number;
  tracePollIntervalMs: number;
  /** How long a trace export may stay `pending` before the call gives up. */
  traceExportTimeoutMs: number;
  /** Where the client config is kept between clients (`_bootstrap_cache.ts`); none: not kept. */
  bootstrapCache?: BootstrapCache | undefined;
}

/** The bootstrap's outcome (the JWT itself is kept apart: it is refreshed). */
interface AuthState {
  jwtEnabled: boolean;
  /** The `X-API-Key` of every call when no JWT is exchanged for it. */
  direct: string | undefined;
  /** What the JWT is exchanged with (and refreshed with) otherwise. */
  exchange: Credential | undefined;
  /** The flags came from the bootstrap cache: the server may have changed them since. */
  cached: boolean;
}

/** The SDK's message when no credential source is available. */
export const MISSING_API_KEY =
  "The API key is missing: pass apiKey to the client, set the TINKER_API_KEY environment variable, or store a key with `tinker auth login`";

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
  #clientConfig: Readonly<Record<string, unknown>> = {};
  #checkedBaseUrl: string | undefined;
  #checkedApiKey: string | undefined;
  #callTransport: Transport | undefined;
  #callTransportKey: string | undefined;
  #decoded: { jwt: string; exp: unknown } | undefined;
  #stored: StoredKey | undefined;
  #initial: Credential | undefined;
  #initialFor: string | undefined;
  /** The last credentials a command printed (secrets, like the key). */
  #printed: string[] = [];
  /** The bootstrap cache's key, and the base URL and key it was computed for. */
  #cacheKey: { for: string; key: string } | undefined;
  /** The server showed a cached entry stale: fresh flags are stored, never read again. */
  #cacheDropped = false;
  #fromCache = false;
  /** The strings errors and logs never show, for `redact` and `parseJson`. */
  #secretsOf: Pick<Transport, "secrets"> = { secrets: () => this.#secrets() };

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
      throw scrub(error, this.#secretsOf);
    }
  }

  *#steps(op: Operation, call: CallSettings): Steps<unknown> {
    // A client call made of several requests checks and bootstraps at its first request.
    if (op.kind === "steps") return yield* op.run(this.#calls(), call);
    const credential = this.#checkConfig();
    if (op.kind === "whoami") return yield* this.#whoami(credential);
    if (op.kind === "oai") {
      const keyTransport = this.#transport(() => this.#token(credential));
      const res = yield* sendRequest(keyTransport, op.http, call);
      return op.schema === undefined ? res : parseJson(res, op.schema, keyTransport);
    }
    const transport = this.#callTransportFor(credential);
    if (this.#authDone === undefined) yield* this.#bootstrap(credential);
    switch (op.kind) {
      case "json": {
        // Built in the microtask after this one, which sends the request.
        queueMicrotask(() => prepare(op.schema));
        const res = yield* sendRequest(transport, op.http, call);
        const value = parseJson(res, op.schema, transport);
        if (op.urls !== undefined) {
          const urls = (value as Record<string, Record<string, string>>)[op.urls]!;
          const what = `a URL in "${op.urls}" of ${op.http.method} ${op.http.path}`;
          for (const url of Object.values(urls)) this.#checkServerUrl(url, res, what, transport);
        }
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

  /**
   * The engine's requests, for a `steps` operation: the key and base URL are
   * checked, and the bootstrap run, before its first request (one that sends
   * nothing, e.g. closing an unused session, needs neither).
   */
  #calls(): Calls {
    const box: { transport?: Transport } = {};
    return {
      send: (http, call = {}) => this.#callSteps(box, (t) => sendRequest(t, http, call)),
      json: (http, schema, call = {}) =>
        this.#callSteps(box, function* (t) {
          return parseJson(yield* sendRequest(t, http, call), schema, t);
        }),
      parse: (res, schema) => parseJson(res, schema, this.#secretsOf),
      log: (line) => this.#log?.(redact(this.#secretsOf, line)),
      clientConfig: () => this.#clientConfig,
    };
  }

  /** Runs `steps` with the call transport of a `steps` operation, made ready on first use. */
  *#callSteps<T>(
    box: { transport?: Transport },
    steps: (transport: Transport) => Steps<T>,
  ): Steps<T> {
    if (box.transport === undefined) {
      const credential = this.#checkConfig();
      const transport = this.#callTransportFor(credential);
      if (this.#authDone === undefined) yield* this.#bootstrap(credential);
      box.transport = transport;
    }
    return yield* steps(box.transport);
  }

  /** The strings errors and logs never show (a streamed body's errors are scrubbed with them). */
  secrets(): string[] {
    return this.#secrets();
  }

  /** The strings errors and logs never show: the keys, the JWT, what a command printed. */
  #secrets(): string[] {
    return [this.config.apiKey ?? "", this.#stored?.record.key ?? "", this.#jwt ?? ""].concat(
      this.#printed,
    );
  }

  /**
   * The credential of the first request (`resolve_auth_provider(api_key,
   * enforce_cmd=False)`): the key of the option or `TINKER_API_KEY`; else,
   * or when that key is malformed, `TINKER_CREDENTIAL_CMD`; else the stored
   * default key (consulted only without a command, as in the SDK).
   */
  #resolve(): Credential {
    const { apiKey, credentialCmd } = this.config;
    if (this.#initial === undefined || this.#initialFor !== apiKey) {
      this.#initial = this.#resolveWith(apiKey, credentialCmd);
      this.#initialFor = apiKey;
    }
    return this.#initial;
  }

  #resolveWith(apiKey: string | undefined, command: string | undefined): Credential {
    const credential = resolveCredential(apiKey, command, () => this.#storedKey());
    if (credential === undefined) {
      throw new TinkerError(MISSING_API_KEY + this.#whyNoFile() + this.#unreadable());
    }
    return credential;
  }

  /** The stored default key (read once; a file that cannot be read is an error). */
  #storedKey(): StoredKey | undefined {
    if (this.#stored) return this.#stored;
    const home = this.config.home;
    if (home === undefined) return undefined;
    try {
      return this.#stored = readStoredKey(credentialsPath(home));
    } catch (error) {
      if (error instanceof HostUnavailable) return undefined;
      throw error;
    }
  }

  /** Which credential variables Deno's permissions hid, when the process environment was read. */
  #unreadable(): string {
    if (!this.config.processEnv) return "";
    return unreadableNote(["TINKER_API_KEY", "TINKER_CREDENTIAL_CMD", "HOME"]);
  }

  /** Why the stored key could not be looked for, when it could not (an edge runtime). */
  #whyNoFile(): string {
    const home = this.config.home;
    if (home === undefined) {
      return " (the stored key was not looked for: HOME is not set or not readable here)";
    }
    try {
      readStoredKey(credentialsPath(home));
      return "";
    } catch (error) {
      return error instanceof HostUnavailable
        ? ` (the stored key was not looked for: ${error.message})`
        : "";
    }
  }

  /** Validates the key and base URL; throws a clear TinkerError at the first call. */
  #checkConfig(): Credential {
    const credential = this.#resolve();
    if (credential.kind === "key") this.#checkKey(credential.key);
    this.#checkBaseUrl();
    return credential;
  }

  #checkKey(apiKey: string): void {
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
    if (!known && !isHeaderToken(apiKey)) {
      throw new TinkerError(
        "The API key contains whitespace or characters that cannot be sent in an HTTP header",
      );
    }
    this.#checkedApiKey = apiKey;
  }

  #checkBaseUrl(): void {
    const { transport } = this.config;
    if (transport.baseUrl === this.#checkedBaseUrl) return; // Checked already.
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
  }

  /** The transport of client calls: one per credential (it holds nothing of a call). */
  #callTransportFor(initial: Credential): Transport {
    const reused = this.#callTransport;
    const id = initial.kind === "key" ? initial.key : `\0${initial.command}`;
    if (reused?.config === this.config.transport && this.#callTransportKey === id) {
      return reused;
    }
    this.#callTransportKey = id;
    return this.#callTransport = this.#transport(() => this.#credential(initial), initial);
  }

  #transport(credential: () => string | Steps<string>, initial?: Credential): Transport {
    return {
      config: this.config.transport,
      fetch: this.#fetch,
      credential,
      secrets: () => this.#secrets(),
      renewCredential: initial === undefined
        ? undefined
        : (used, invalidToken) => this.#renew(initial, used, invalidToken),
      log: this.#log,
    };
  }

  /** The key, or the command's fresh output (the SDK runs it on every token request). */
  #token(credential: Credential): string | Steps<string> {
    return credential.kind === "key" ? credential.key : this.#runCommand(credential.command);
  }

  *#runCommand(command: string): Steps<string> {
    const timeoutMs = Math.min(this.config.transport.timeoutMs, COMMAND_TIMEOUT_MS);
    const output = (yield {
      t: "run",
      what: "TINKER_CREDENTIAL_CMD",
      run: () => runCommand(command, timeoutMs),
      runSync: () => runCommandSync(command, timeoutMs),
    }) as Parameters<typeof commandCredential>[0];
    const credential = commandCredential(output, this.#secrets());
    this.#printed = [credential, ...this.#printed.slice(0, 3)];
    return credential;
  }

  /**
   * After a 401 to a request sent with `used`: true when a different
   * credential is ready to resend with. Flags from the bootstrap cache are
   * dropped and fetched afresh (the server may have switched JWT auth on or
   * off); an `invalid_token` gets a fresh JWT (one exchange shared by
   * concurrent callers).
   */
  *#renew(initial: Credential, used: string, invalidToken: boolean): Steps<boolean> {
    let auth = yield* this.#bootstrap(initial);
    if (auth.cached) {
      if (this.#authDone === auth) this.#dropCachedFlags();
      try {
        auth = yield* this.#bootstrap(initial);
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return false; // The 401 stands.
        throw error;
      }
    }
    const pending = this.#credential(initial);
    if ((typeof pending === "string" ? pending : yield* pending) !== used) return true;
    if (!invalidToken || auth.exchange === undefined) return false;
    yield* this.#refresh(auth.exchange);
    return true;
  }

  /**
   * `POST /client/config` once, then the JWT exchange if enabled. Concurrent
   * first calls share one bootstrap; a failed one is tried again next call.
   */
  *#bootstrap(initial: Credential): Steps<AuthState> {
    if (this.#authDone !== undefined) return this.#authDone;
    const run = () => this.#bootstrapOnce(initial);
    return (yield { t: "share", slot: this.#bootstrapping, run }) as AuthState;
  }

  /** The bootstrap; when cached flags lead to a refusal (a JWT exchange 4xx), again without them. */
  *#bootstrapOnce(initial: Credential): Steps<AuthState> {
    try {
      return yield* this.#runBootstrap(initial);
    } catch (error) {
      const refused = error instanceof ApiError && error.status !== undefined &&
        error.status >= 400 && error.status < 500;
      if (!this.#fromCache || !refused) throw error;
      this.#dropCachedFlags();
      return yield* this.#runBootstrap(initial);
    }
  }

  *#runBootstrap(initial: Credential): Steps<AuthState> {
    const config = (yield* this.#fetchClientConfig(initial)) as {
      pjwt_auth_enabled?: boolean;
      credential_default_source?: string;
    };
    this.#clientConfig = config;
    const jwtEnabled = config.pjwt_auth_enabled === true;
    const useCommand = config.credential_default_source === "credential_cmd";
    const auth = { ...this.#afterConfig(jwtEnabled, useCommand), cached: this.#fromCache };
    if (auth.exchange) this.#jwt = yield* this.#exchange(auth.exchange);
    return this.#authDone = auth;
  }

  /**
   * The bootstrap cache's key for `initial`, or null when it is not cached:
   * no cache, a JWT given as the key (it changes with every login), or
   * `TINKER_CREDENTIAL_CMD` (its output may change with every run, and the
   * entry's MAC needs a stable secret).
   */
  #cacheKeyFor(initial: Credential): string | null {
    if (this.config.bootstrapCache === undefined) return null;
    if (initial.kind !== "key" || isJwt(initial.key)) return null;
    const baseUrl = this.config.transport.baseUrl;
    const id = `${baseUrl}\0${initial.key}`;
    if (this.#cacheKey?.for !== id) {
      this.#cacheKey = { for: id, key: bootstrapCacheKey(baseUrl, initial.key) };
    }
    return this.#cacheKey.key;
  }

  /**
   * The server's client config: from the bootstrap cache when it holds a
   * live entry for this base URL and key, else `POST /client/config` (then
   * stored, when cacheable).
   */
  *#fetchClientConfig(initial: Credential): Steps<Record<string, unknown>> {
    const cache = this.config.bootstrapCache!;
    const key = this.#cacheKeyFor(initial);
    const apiKey = initial.kind === "key" ? initial.key : "";
    const cached = key === null || this.#cacheDropped
      ? undefined
      : cachedFlags(cache, key, apiKey, Date.now());
    this.#fromCache = cached !== undefined;
    if (cached !== undefined) {
      this.#log?.("POST /api/v1/client/config skipped: the client config is cached");
      return cached;
    }
    const keyTransport = this.#transport(() => this.#token(initial));
    const res = yield* sendRequest(keyTransport, {
      method: "POST",
      path: "/api/v1/client/config",
      body: { sdk_version: SDK_COMPAT_VERSION },
      retry: "safe",
    });
    const config = parseJson(res, "ClientConfig", keyTransport) as Record<string, unknown>;
    if (key !== null) storeFlags(cache, key, apiKey, storableFlags(config), Date.now());
    return config;
  }

  /** Forgets the cached flags, in the store and here; this client reads the cache no more. */
  #dropCachedFlags(): void {
    const key = this.#cacheKey?.key;
    if (key) dropFlags(this.config.bootstrapCache!, key);
    this.#cacheDropped = true;
    this.#fromCache = false;
    this.#authDone = undefined;
    this.#jwt = undefined;
  }

  /**
   * The credential of later calls, as the SDK's client holder picks it once
   * the config is known: without JWT auth, a key (the option, the variable,
   * else the stored key when no command is set); with it, a JWT key as it is,
   * else a JWT exchanged with the command (required when the organization's
   * `credential_default_source` is `credential_cmd`) or with the key.
   */
  #afterConfig(jwtEnabled: boolean, useCommand: boolean): Omit<AuthState, "cached"> {
    const { credentialCmd } = this.config;
    const key = this.config.apiKey ||
      (credentialCmd ? undefined : this.#storedKey()?.record.key);
    if (!jwtEnabled) {
      if (key === undefined && credentialCmd) {
        throw new TinkerError(
          `${MISSING_API_KEY} (TINKER_CREDENTIAL_CMD is set, but this server has JWT auth disabled and accepts only an API key)`,
        );
      }
      if (key === undefined) {
        throw new TinkerError(MISSING_API_KEY + this.#whyNoFile() + this.#unreadable());
      }
      this.#checkKey(key);
      return { jwtEnabled, direct: key, exchange: undefined };
    }
    if (key !== undefined && isJwt(key)) {
      return { jwtEnabled, direct: key, exchange: undefined };
    }
    if (useCommand) {
      if (!credentialCmd) {
        throw new TinkerError(
          "Your organization requires dynamic credentials — set TINKER_CREDENTIAL_CMD to a command that prints a valid credential.",
        );
      }
      return {
        jwtEnabled,
        direct: undefined,
        exchange: { kind: "command", command: credentialCmd },
      };
    }
    const exchange = key === undefined ? this.#resolve() : this.#resolveWith(key, credentialCmd);
    if (exchange.kind === "key") this.#checkKey(exchange.key);
    return { jwtEnabled, direct: undefined, exchange };
  }

  /** A fresh JWT, stored for later calls (one exchange shared by concurrent callers). */
  *#refresh(exchange: Credential): Steps<string> {
    const run = () => this.#runRefresh(exchange);
    return (yield { t: "share", slot: this.#refreshing, run }) as string;
  }

  *#runRefresh(exchange: Credential): Steps<string> {
    return this.#jwt = yield* this.#exchange(exchange);
  }

  /** `POST /auth/token` with the key or the command's output: a fresh JWT. */
  *#exchange(exchange: Credential): Steps<string> {
    const keyTransport = this.#transport(() => this.#token(exchange));
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
  #credential(initial: Credential): string | Steps<string> {
    const auth = this.#authDone;
    const jwt = this.#jwt;
    if (auth?.direct !== undefined) return auth.direct;
    if (auth && jwt !== undefined) { // A JWT far from expiry needs no wait either.
      const exp = this.#expiry(jwt);
      if (typeof exp === "number" && exp - Date.now() / 1000 > REFRESH_BEFORE_EXPIRY_S) return jwt;
    }
    return this.#jwtCredential(initial);
  }

  /** The `exp` claim of `jwt`, kept for the last JWT asked about: every call asks. */
  #expiry(jwt: string): unknown {
    if (this.#decoded?.jwt !== jwt) this.#decoded = { jwt, exp: jwtClaims(jwt)?.exp };
    return this.#decoded.exp;
  }

  *#jwtCredential(initial: Credential): Steps<string> {
    const auth = yield* this.#bootstrap(initial);
    if (auth.direct !== undefined) return auth.direct;
    const jwt = this.#jwt;
    const left = jwt === undefined ? 0 : secondsUntilExpiry(jwt);
    if (jwt !== undefined && left > REFRESH_BEFORE_EXPIRY_S) return jwt;
    try {
      return yield* this.#refresh(auth.exchange!);
    } catch (error) {
      if (jwt !== undefined && left > 0) return jwt; // Still valid: use it, refresh again next call.
      throw error;
    }
  }

  *#whoami(initial: Credential): Steps<WhoamiResponse> {
    let auth = yield* this.#bootstrap(initial);
    if (auth.cached && !auth.jwtEnabled) { // Stale, perhaps: ask the server.
      this.#dropCachedFlags();
      auth = yield* this.#bootstrap(initial);
    }
    const direct = auth.direct;
    let jwt: string | undefined;
    if (auth.exchange !== undefined) {
      const credential = this.#credential(initial);
      jwt = typeof credential === "string" ? credential : yield* credential;
    } else if (
      direct !== undefined && isJwt(direct) &&
      String(jwtClaims(direct)?.iss ?? "").startsWith("passport-")
    ) {
      jwt = direct;
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
            body: errorBody(transport, res.text),
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
            body: errorBody(transport, res.text),
            message: `The archive redirect has no Location header (GET ${http.path})`,
          });
        }
        this.#checkServerUrl(url, res, `the archive URL of GET ${http.path}`, transport);
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
      this.#checkServerUrl(body.url, res, `the archive URL of GET ${http.path}`, transport);
      const expires = typeof body.expires === "number"
        ? new Date(body.expires * 1000)
        : new Date(body.expires);
      return { ...body, expires: expires.toISOString() };
    }
  }

  /**
   * Polls the trace export until it is `ready` (its URL) or `failed`; while it
   * is `pending`, for at most `traceExportTimeoutMs` (then ApiTimeoutError).
   */
  *#trace(
    transport: Transport,
    op: Extract<Operation, { kind: "trace" }>,
    call: CallSettings,
  ): Steps<string> {
    const { tracePollIntervalMs: interval, traceExportTimeoutMs: limit } = this.config;
    const started = Date.now();
    for (let polls = 1;; polls++) {
      const res = yield* sendRequest(transport, op.http, call);
      const poll = parseJson(res, "TraceExport", transport) as {
        status: string;
        url?: string | null;
        error?: string | null;
      };
      if (poll.status === "ready") {
        if (typeof poll.url !== "string") {
          throw validationError(
            res,
            'Response field "url" must be a string when status is "ready"',
            transport,
          );
        }
        this.#checkServerUrl(poll.url, res, `the trace URL of GET ${op.http.path}`, transport);
        return poll.url;
      }
      if (poll.status === "failed") {
        const reason = poll.error ? cut(redact(transport, poll.error), ERROR_BODY_CHARS) : "";
        throw new TinkerError(
          `Trace export failed for session ${op.sessionId}: ${reason || "no reason given"}`,
        );
      }
      const elapsed = Date.now() - started;
      if (elapsed >= limit) {
        throw new ApiTimeoutError({
          message: `The trace export of session ${op.sessionId} was still pending after ${
            Math.round(elapsed / 1000)
          } s (${polls} polls); gave up at the traceExportTimeoutMs limit of ${limit} ms`,
        });
      }
      yield { t: "sleep", ms: Math.min(interval, limit - elapsed), signal: call.signal };
    }
  }

  /** Throws UnsafeUrlError when `url`, sent by the server, must not be used. */
  #checkServerUrl(url: string, res: RawResponse, what: string, transport: Transport): void {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      // Reported below.
    }
    const problem = parsed === undefined
      ? "not a valid absolute URL"
      : urlProblem(parsed, this.config.transport.baseUrl);
    if (problem !== undefined) {
      throw new UnsafeUrlError(parsed?.protocol ?? "", {
        status: res.status,
        headers: res.headers,
        body: errorBody(transport, res.text),
        message: `The server sent ${what} as ${problem}`,
      });
    }
  }
}

/** Parses and validates a JSON body; failures are ApiResponseValidationError. */
export function parseJson(
  res: RawResponse,
  schema: SchemaName | Schema,
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
      transport,
    );
  }
  try {
    validate(schema, value, (text) => redact(transport, text));
  } catch (error) {
    if (error instanceof SchemaIssue) {
      throw validationError(res, `${error.message} (${schemaName(schema)})`, transport);
    }
    throw error;
  }
  return value;
}

/** The body is the response's as errors carry it (redacted, then cut: `errorBody`). */
function validationError(
  res: RawResponse,
  message: string,
  transport: Pick<Transport, "secrets">,
): ApiError {
  return new ApiResponseValidationError({
    status: res.status,
    headers: res.headers,
    body: errorBody(transport, res.text),
    message,
  });
}

/** `error` with every secret replaced by `[redacted]` (a new error when anything changed). */
export function scrub(error: unknown, transport: Pick<Transport, "secrets">): unknown {
  if (!(error instanceof TinkerError)) return error;
  const clean = (text: string) => redact(transport, text);
  if (!(error instanceof ApiError)) {
    const message = clean(error.message);
    if (message === error.message) return error;
    if (error.constructor === TinkerError) return new TinkerError(message);
    // A subclass with fields of its own (RequestFailedError): cleaned where it is.
    error.message = message;
    if (error.stack !== undefined) error.stack = clean(error.stack);
    return error;
  }
  const body = typeof error.body === "string" ? error.body : JSON.stringify(error.body) ?? "";
  const headers = error.headers ? [...error.headers] : [];
  const dirty = [error.message, body, ...headers.map(([, v]) => v)].some((t) => clean(t) !== t);
  if (!dirty) return error;
  const Class = error.constructor as new (init: ApiErrorInit) => ApiError;
  return new Class({
    status: error.status,
    headers: error.headers &&
      new Headers(headers.map(([k, v]): [string, string] => [k, clean(v)])),
    body: typeof error.body === "string" || error.body === undefined
      ? error.body === undefined ? undefined : clean(error.body)
      : JSON.parse(clean(body)),
    message: clean(error.message),
    cause: error.cause,
  });
}

function isJwt(credential: string): boolean {
  return credential.startsWith("eyJ");
}
