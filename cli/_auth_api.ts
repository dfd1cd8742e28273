// The two API-key routes of `tinker auth login` and `logout`, which act on
// the key they are given (not on the client's credential):
// `GET /api/v1/auth/apikey/me` verifies a key and describes it,
// `DELETE /api/v1/auth/apikey/me` deletes it. Sent through the library's one
// request function, with the key as the only credential and secret.

import type { KeyDetails } from "../internal/_credentials.ts";
import {
  drive,
  sendRequest,
  type Transport,
  withoutTrailingSlashes,
} from "../internal/_request.ts";
import { VERSION } from "../internal/_version.ts";
import type { Context } from "./_context.ts";
import { CliError, EXIT } from "./_errors.ts";

/** The SDK's timeout for these calls. */
const TIMEOUT_MS = 30_000;
const PATH = "/api/v1/auth/apikey/me";

/** What the server says of a key (the SDK's `SelfApiKeyResponse`). */
export interface SelfApiKey {
  key_id: number;
  name: string;
  note: string;
  details: KeyDetails;
}

/** The base URL these calls go to: `TINKER_BASE_URL`, else the hosted service. */
export async function authBaseUrl(ctx: Context): Promise<string> {
  const { DEFAULT_BASE_URL } = await import("../mod.ts");
  return withoutTrailingSlashes(ctx.env.TINKER_BASE_URL?.trim() || DEFAULT_BASE_URL);
}

async function transport(ctx: Context, key: string): Promise<Transport> {
  const baseUrl = await authBaseUrl(ctx);
  try {
    new URL(baseUrl);
  } catch {
    throw new CliError(`The base URL ${JSON.stringify(baseUrl)} is not a valid URL`, undefined, 3);
  }
  return {
    config: {
      baseUrl,
      maxRetries: ctx.maxRetries ?? 2,
      timeoutMs: TIMEOUT_MS,
      initialRetryDelayMs: 500,
      maxRetryDelayMs: 10_000,
      defaultHeaders: {},
      userAgent: `tinker-ts/${VERSION} (cli)`,
      maxResponseBytes: 1024 * 1024, // A key record is tiny.
    },
    fetch: globalThis.fetch,
    credential: () => key,
    secrets: () => [key],
    log: ctx.verbose ? (line) => ctx.err(`[http] ${line}\n`) : undefined,
  };
}

/** Verifies `key` and returns what the server says of it. */
export async function getSelfApiKey(ctx: Context, key: string): Promise<SelfApiKey> {
  const t = await transport(ctx, key);
  const res = await drive(sendRequest(t, { method: "GET", path: PATH, retry: "safe" }, {
    signal: ctx.signal,
  }));
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    body = undefined;
  }
  const b = body as Partial<SelfApiKey> | undefined;
  if (
    typeof b?.key_id !== "number" || typeof b.name !== "string" || typeof b.note !== "string" ||
    typeof b.details?.org_details?.name !== "string" ||
    typeof b.details?.user_details?.email !== "string"
  ) {
    throw new CliError(
      "Could not validate the API key",
      `The Tinker API returned an unexpected response (GET ${PATH}): key_id, name, note and details are required`,
      EXIT.error,
    );
  }
  return b as SelfApiKey;
}

/** Deletes `key` itself on the server. */
export async function deleteSelfApiKey(ctx: Context, key: string): Promise<void> {
  const t = await transport(ctx, key);
  await drive(sendRequest(t, { method: "DELETE", path: PATH, retry: "unsent" }, {
    signal: ctx.signal,
  }));
}

/** The SDK's wording of a failed auth call: the server's detail, the status and the path. */
export function authApiError(error: unknown, baseUrl: string): string {
  const e = error as { status?: unknown; body?: unknown; message?: unknown };
  if (typeof e?.status === "number") {
    const detail = (e.body as { detail?: unknown } | undefined)?.detail;
    return `${
      typeof detail === "string" ? detail : "Tinker API request failed"
    } (HTTP ${e.status} from ${PATH})`;
  }
  return `Could not reach the Tinker API at ${baseUrl}: ${
    error instanceof Error ? error.message : String(error)
  }`;
}
