// What every client is built on: its settings (options, then the
// environment, then the defaults), its engine, and the runner of its futures
// (`await` on this thread, `.result()` through the sync worker).

import { checkInt, checkSignal } from "./_args.ts";
import { Engine, type EngineConfig, type Operation } from "./_engine.ts";
import { Future, type Runner, SyncUnavailableError } from "./_future.ts";
import type { CallSettings } from "./_request.ts";
import { readEnv, unreadableNote } from "./_env.ts";
import { SyncExecutor } from "./_sync.ts";
import { servedOnThisThread } from "./_blocking.ts";
import { VERSION } from "./_version.ts";
import type { ClientOptions, RequestOptions } from "../types.ts";

/** The hosted service, used when neither the options nor `TINKER_BASE_URL` name one. */
export const DEFAULT_BASE_URL = "https://tinker.thinkingmachines.dev/services/tinker-prod";

const DEFAULTS = {
  maxRetries: 5,
  timeoutMs: 60_000,
  initialRetryDelayMs: 500,
  maxRetryDelayMs: 10_000,
  archivePollIntervalMs: 30_000,
  tracePollIntervalMs: 5_000,
  traceExportTimeoutMs: 10 * 60_000,
  maxResponseBytes: 64 * 1024 * 1024,
};

/** How many pages a listing walks at most, unless the call says otherwise. */
export const DEFAULT_MAX_PAGES = 10_000;

/** One client's engine and the runner of its futures. */
export class ClientCore {
  readonly engine: Engine;
  readonly runner: Runner;
  /** Reads a variable of the client's environment (`options.env`, else the process's). */
  readonly env: (name: string) => string | undefined;
  #customFetch: boolean;
  #blocking: boolean;
  #sync: SyncExecutor | undefined;

  constructor(options: ClientOptions) {
    const given = options.env;
    const env = given ? (name: string) => given[name]?.trim() || undefined : readEnv;
    this.env = env;
    const apiKey = options.apiKey || env("TINKER_API_KEY");
    const credentialCmd = env("TINKER_CREDENTIAL_CMD");
    const config: EngineConfig = {
      transport: {
        baseUrl: options.baseUrl || env("TINKER_BASE_URL") || DEFAULT_BASE_URL,
        maxRetries: options.maxRetries ?? DEFAULTS.maxRetries,
        timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
        initialRetryDelayMs: options.initialRetryDelayMs ?? DEFAULTS.initialRetryDelayMs,
        maxRetryDelayMs: options.maxRetryDelayMs ?? DEFAULTS.maxRetryDelayMs,
        defaultHeaders: { ...options.defaultHeaders },
        userAgent: `tinker-ts/${VERSION} (${runtimeName()})`,
        maxResponseBytes: options.maxResponseBytes ?? DEFAULTS.maxResponseBytes,
      },
      apiKey,
      credentialCmd,
      // The stored key is looked for only without a key or a command.
      home: apiKey || credentialCmd ? undefined : env("HOME") ?? env("USERPROFILE"),
      processEnv: given === undefined,
      archivePollIntervalMs: options.archivePollIntervalMs ?? DEFAULTS.archivePollIntervalMs,
      tracePollIntervalMs: options.tracePollIntervalMs ?? DEFAULTS.tracePollIntervalMs,
      traceExportTimeoutMs: options.traceExportTimeoutMs ?? DEFAULTS.traceExportTimeoutMs,
      bootstrapCache: options.bootstrapCache,
    };
    if (given === undefined && !options.baseUrl && !options.apiKey && apiKey !== undefined) {
      // The key came from the environment but the base URL could not: say so
      // rather than send the key to the default service in silence.
      const note = unreadableNote(["TINKER_BASE_URL"]);
      if (note) console.warn(`Warning: using the default base URL ${DEFAULT_BASE_URL}${note}.`);
    }
    checkInt("maxRetries", config.transport.maxRetries, 0, 0);
    checkInt("timeoutMs", config.transport.timeoutMs, 1, 0);
    checkInt("maxResponseBytes", config.transport.maxResponseBytes, 1, 0);
    checkInt("traceExportTimeoutMs", config.traceExportTimeoutMs, 0, 0);
    this.#customFetch = options.fetch !== undefined;
    this.#blocking = options.blocking ?? true;
    this.engine = new Engine(config, options.fetch ?? globalThis.fetch, options.logger);
    this.runner = {
      execute: (op, call) => this.engine.execute(op, call),
      executeSync: (op, call, timeoutMs) => this.#executeSync(op, call, timeoutMs),
    };
  }

  /** A future of `op` with the call's settings. */
  future<T>(op: Operation, options: RequestOptions): Future<T> {
    return new Future<T>(op, this.runner, callSettings(options));
  }

  /** Stops the sync worker, if one was started. */
  close(): void {
    this.#sync?.close();
    this.#sync = undefined;
  }

  #executeSync(op: Operation, call: CallSettings, timeoutMs: number | undefined): unknown {
    if (!this.#blocking) {
      throw new SyncUnavailableError(
        "Cannot block with .result(): this client was created with { blocking: false } (server code must not block its event loop); await the call instead",
      );
    }
    if (this.#customFetch) {
      throw new SyncUnavailableError(
        "Cannot use .result() with a custom fetch: functions cannot cross into the worker that .result() blocks on; await the call instead",
      );
    }
    const baseUrl = this.engine.config.transport.baseUrl;
    if (servedOnThisThread(baseUrl)) {
      throw new SyncUnavailableError(
        `Cannot block with .result(): ${baseUrl} is served on this thread by startFakeTinker(), which could not answer while .result() blocks the thread; start the server in its own process with spawnFakeTinker(), or await the call instead`,
      );
    }
    this.#sync ??= new SyncExecutor(this.engine);
    return this.#sync.run(op, call, timeoutMs);
  }
}

/** A call's settings, checked. */
export function callSettings(options: RequestOptions): CallSettings {
  if (options.timeoutMs !== undefined) checkInt("timeoutMs", options.timeoutMs, 1, 0);
  return { signal: checkSignal(options.signal), timeoutMs: options.timeoutMs };
}

function runtimeName(): string {
  const g = globalThis as {
    Deno?: { version?: { deno?: string } };
    Bun?: { version?: string };
    process?: { versions?: { node?: string } };
  };
  if (g.Deno?.version?.deno) return `Deno/${g.Deno.version.deno}`;
  if (g.Bun?.version) return `Bun/${g.Bun.version}`;
  if (g.process?.versions?.node) return `Node/${g.process.versions.node}`;
  return "unknown";
}
