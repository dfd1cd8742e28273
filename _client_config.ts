// The settings every client builds from its options the same way: options,
// then `TINKER_API_KEY` / `TINKER_BASE_URL`, then the defaults.

import { checkInt } from "./_args.ts";
import type { EngineConfig } from "./_engine.ts";
import { readEnv } from "./_env.ts";
import { VERSION } from "./_version.ts";
import type { ClientOptions } from "./types.ts";

/** The hosted service, used when neither the options nor `TINKER_BASE_URL` name one. */
export const DEFAULT_BASE_URL = "https://tinker.thinkingmachines.dev/services/tinker-prod";

const DEFAULTS = {
  maxRetries: 5,
  timeoutMs: 60_000,
  initialRetryDelayMs: 500,
  maxRetryDelayMs: 10_000,
  archivePollIntervalMs: 30_000,
  tracePollIntervalMs: 5_000,
};

/** The engine settings of a client's options (checked: throws on bad values). */
export function engineConfig(options: ClientOptions): EngineConfig {
  const config: EngineConfig = {
    transport: {
      baseUrl: options.baseUrl || readEnv("TINKER_BASE_URL") || DEFAULT_BASE_URL,
      maxRetries: options.maxRetries ?? DEFAULTS.maxRetries,
      timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
      initialRetryDelayMs: options.initialRetryDelayMs ?? DEFAULTS.initialRetryDelayMs,
      maxRetryDelayMs: options.maxRetryDelayMs ?? DEFAULTS.maxRetryDelayMs,
      defaultHeaders: { ...options.defaultHeaders },
      userAgent: `tinker-ts/${VERSION} (${runtimeName()})`,
    },
    apiKey: options.apiKey ?? readEnv("TINKER_API_KEY"),
    archivePollIntervalMs: options.archivePollIntervalMs ?? DEFAULTS.archivePollIntervalMs,
    tracePollIntervalMs: options.tracePollIntervalMs ?? DEFAULTS.tracePollIntervalMs,
  };
  checkInt("maxRetries", config.transport.maxRetries, 0, 0);
  checkInt("timeoutMs", config.transport.timeoutMs, 1, 0);
  return config;
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
