// The bootstrap cache: the server's client config (feature flags; no secret)
// kept between clients or processes, so a short-lived program sends one
// request instead of two. The store is the caller's (`ClientOptions.
// bootstrapCache`; the CLI's is a file, `cli/_cache.ts`); what goes in, its
// key, its lifetime and its checks are here, the same for every store.

import { hmacSha256Hex, sha256Hex } from "./_sha256.ts";
import { isWordCode, withoutTrailingSlashes } from "./_request.ts";

/**
 * Where a client keeps the server's client config between clients or
 * processes (`ClientOptions.bootstrapCache`). Any `Map` will do for one
 * process; the `tinker` CLI keeps one file per key in the user's cache
 * directory. Methods are synchronous; a method that throws is treated as
 * a miss (a cache never fails a call).
 *
 * Keys are the base URL and a one-way fingerprint of the API key (the key
 * itself never reaches the cache); values are {@linkcode BootstrapCacheEntry}:
 * the server's feature flags (booleans, numbers, short strings), when they
 * were fetched, and a MAC under a key derived from the API key, so an entry
 * written by anyone without the API key is ignored. The JWT, if any, is never
 * stored. An entry older than {@linkcode BOOTSTRAP_CACHE_TTL_MS}, or that does
 * not have this shape or MAC, is ignored; a 401 on a call made with cached
 * flags drops the entry, asks the server again and replays the call once when
 * the credential changed.
 *
 * @example Share the bootstrap between clients of one process
 * ```ts
 * import { type BootstrapCache, RestClient } from "@tinker-ts/tinker";
 * import { FAKE_IDS, startFakeTinker } from "@tinker-ts/tinker/testing";
 * import assert from "node:assert/strict";
 *
 * await using fake = await startFakeTinker();
 * const cache: BootstrapCache = new Map();
 * for (let i = 0; i < 2; i++) {
 *   const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey, bootstrapCache: cache });
 *   await rest.getTrainingRun(FAKE_IDS.run);
 * }
 * const bootstraps = fake.log.filter((r) => r.path === "/api/v1/client/config");
 * assert.equal(bootstraps.length, 1); // the second client used the cached config
 * ```
 */
export interface BootstrapCache {
  /** The entry stored under `key`, if any (checked by the client before use). */
  get(key: string): unknown;
  /** Stores `entry` under `key`. */
  set(key: string, entry: BootstrapCacheEntry): unknown;
  /** Removes the entry under `key` (the server showed it is stale). */
  delete(key: string): unknown;
}

/**
 * What the bootstrap cache stores under one key.
 *
 * @example
 * ```ts
 * import type { BootstrapCacheEntry } from "@tinker-ts/tinker";
 *
 * function describe(entry: BootstrapCacheEntry): string {
 *   const jwt = entry.config.pjwt_auth_enabled === true ? "on" : "off";
 *   return `JWT auth ${jwt}, fetched ${new Date(entry.storedAt).toISOString()}`;
 * }
 * ```
 */
export interface BootstrapCacheEntry {
  /** The entry format (1). */
  version: 1;
  /** When the config was fetched, in milliseconds since the epoch. */
  storedAt: number;
  /** The server's client-config flags: booleans, numbers and short strings only. */
  config: Record<string, boolean | number | string>;
  /**
   * HMAC-SHA256 (hex) of the cache key, `storedAt` and `config`, under a key
   * derived from the API key: entries are only used by a client holding it.
   */
  mac: string;
}

/**
 * How long a cached client config is used: one hour. Within it, a server
 * that changes its mind is noticed by its answers (a 401 drops the entry).
 *
 * @example
 * ```ts
 * import { BOOTSTRAP_CACHE_TTL_MS } from "@tinker-ts/tinker";
 * console.log(BOOTSTRAP_CACHE_TTL_MS / 60_000); // 60
 * ```
 */
export const BOOTSTRAP_CACHE_TTL_MS = 60 * 60_000;

const MAX_FLAGS = 64;
const MAX_STRING = 100;
/** Clocks of processes sharing a cache may differ a little. */
const CLOCK_SKEW_MS = 60_000;

/**
 * The cache key of a base URL and API key: the base URL (without trailing
 * slashes), a space, and 32 hex digits of SHA-256 over a domain-separated
 * string holding the key. The key cannot be recovered from it.
 */
export function bootstrapCacheKey(baseUrl: string, apiKey: string): string {
  if (lastKey?.baseUrl === baseUrl && lastKey.apiKey === apiKey) return lastKey.key;
  const fingerprint = sha256Hex(`tinker-ts bootstrap-cache v1\0${apiKey}`).slice(0, 32);
  const key = `${withoutTrailingSlashes(baseUrl)} ${fingerprint}`;
  lastKey = { baseUrl, apiKey, key };
  return key;
}

/** The last key computed (a CLI process computes one, twice: for its file and its client). */
let lastKey: { baseUrl: string; apiKey: string; key: string } | undefined;

/** The flags of a client-config answer that may be stored (primitives, short strings). */
export function storableFlags(config: object): BootstrapCacheEntry["config"] {
  const flags: BootstrapCacheEntry["config"] = {};
  let count = 0;
  for (const [name, value] of Object.entries(config)) {
    if (count >= MAX_FLAGS || !isFlagName(name) || !isFlag(value)) continue;
    flags[name] = value;
    count++;
  }
  return flags;
}

/** The entry of `flags` fetched at `storedAt`, for `key` and its API key. */
export function bootstrapCacheEntry(
  key: string,
  apiKey: string,
  flags: BootstrapCacheEntry["config"],
  storedAt: number,
): BootstrapCacheEntry {
  return { version: 1, storedAt, config: flags, mac: entryMac(key, apiKey, storedAt, flags) };
}

function entryMac(key: string, apiKey: string, storedAt: number, flags: object): string {
  return hmacSha256Hex(
    `tinker-ts bootstrap-cache mac v1\0${apiKey}`,
    `${key}\n${storedAt}\n${JSON.stringify(flags)}`,
  );
}

/**
 * The flags stored under `key` when the entry is well-formed, its MAC holds
 * for `apiKey`, and it is younger than the lifetime at `now`; undefined
 * otherwise (a store that throws is a miss).
 */
export function cachedFlags(
  cache: BootstrapCache,
  key: string,
  apiKey: string,
  now: number,
): BootstrapCacheEntry["config"] | undefined {
  let entry: unknown;
  try {
    entry = cache.get(key);
  } catch {
    return undefined;
  }
  if (typeof entry !== "object" || entry === null) return undefined;
  const { version, storedAt, config, mac } = entry as Partial<BootstrapCacheEntry>;
  if (version !== 1 || typeof storedAt !== "number" || !Number.isFinite(storedAt)) return undefined;
  if (storedAt > now + CLOCK_SKEW_MS || now - storedAt >= BOOTSTRAP_CACHE_TTL_MS) return undefined;
  if (typeof config !== "object" || config === null || Array.isArray(config)) return undefined;
  const flags = storableFlags(config);
  if (Object.keys(flags).length !== Object.keys(config).length) return undefined;
  return mac === entryMac(key, apiKey, storedAt, config) ? flags : undefined;
}

/** Stores `flags` under `key` as fetched at `now`; a failing store is ignored. */
export function storeFlags(
  cache: BootstrapCache,
  key: string,
  apiKey: string,
  flags: BootstrapCacheEntry["config"],
  now: number,
): void {
  try {
    cache.set(key, bootstrapCacheEntry(key, apiKey, flags, now));
  } catch {
    // A cache that cannot write is a cache that misses.
  }
}

/** Removes the entry under `key`; a failing store is ignored. */
export function dropFlags(cache: BootstrapCache, key: string): void {
  try {
    cache.delete(key);
  } catch {
    // Nothing to do: the client no longer reads the cache.
  }
}

/** A name of 1–64 characters of `[A-Za-z0-9_]` (a loop: a regex's first use costs more at start). */
function isFlagName(name: string): boolean {
  if (name.length < 1 || name.length > 64) return false;
  for (let i = 0; i < name.length; i++) {
    if (!isWordCode(name.charCodeAt(i))) return false;
  }
  return true;
}

function isFlag(value: unknown): value is boolean | number | string {
  return typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value)) ||
    (typeof value === "string" && value.length <= MAX_STRING);
}
