// CLI errors and exit codes. Every failure becomes one `Error: …` line on
// stderr (plus an optional details block, as the official CLI prints) and a
// distinct exit code. The official CLI exits 1 for every error; set
// TINKER_CLI_EXIT_CODES=official to get exactly that.

import { pyRepr } from "./_format.ts";
import { quoted } from "./_inert.ts";

/**
 * Exit codes of the `tinker` CLI.
 *
 * | code | meaning |
 * |---|---|
 * | 0 | success |
 * | 1 | API or server error (5xx, 409, 429, 402, unexpected) — the official CLI's code for every error |
 * | 2 | usage error (unknown command or option, missing argument, bad option value) |
 * | 3 | authentication or configuration (no API key, bad key, 401, 403, bad base URL) |
 * | 4 | not found (404, checkpoint not in its run) |
 * | 5 | network (connection refused, DNS, timeout, download cut short) |
 * | 6 | invalid input (bad tinker path, date, type, 400/422 from the server, target exists) |
 * | 7 | local or archive failure (corrupt or unsafe archive, disk write error) |
 * | 130 | interrupted (Ctrl-C, SIGINT) |
 * | 143 | terminated (SIGTERM: `kill`, `timeout`, CI cancellation, `docker stop`) |
 */
export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  auth: 3,
  notFound: 4,
  network: 5,
  input: 6,
  local: 7,
  interrupted: 130,
  terminated: 143,
} as const;

/**
 * An exit code of the CLI: 0 success, 1 API/server error, 2 usage, 3
 * authentication or configuration, 4 not found, 5 network, 6 invalid input,
 * 7 local or archive failure, 130 interrupted, 143 terminated.
 *
 * @example
 * ```ts
 * import type { ExitCode } from "@tinker-ts/tinker/download";
 *
 * const network: ExitCode = 5;
 * ```
 */
export type ExitCode = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 130 | 143;

/**
 * A failure to report as `Error: message` (+ details) with an exit code;
 * also what `downloadCheckpoint` throws for a failed transfer or a refused
 * input, `code` saying which kind.
 *
 * @example
 * ```ts
 * import { CliError } from "@tinker-ts/tinker/download";
 *
 * const error = new CliError("Failed to download checkpoint: cut short", "Try again.", 5);
 * console.log(error.code, error.details);
 * ```
 */
export class CliError extends Error {
  /**
   * Creates the error.
   *
   * @param message What failed, naming the bad value.
   * @param details A second line: why, or what to do.
   * @param code The exit code (default 1).
   * @param options The error's `cause`.
   */
  constructor(
    message: string,
    readonly details: string | undefined = undefined,
    readonly code: ExitCode = EXIT.error,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "CliError";
  }
}

/** A usage error: printed with the command's usage line, exit 2. */
export class UsageError extends Error {
  constructor(message: string, readonly usage: string, readonly helpCommand: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Ctrl-C (exit 130) or SIGTERM (exit 143), or a `downloadCheckpoint` whose
 * `signal` fired.
 *
 * @example
 * ```ts
 * import { Interrupted } from "@tinker-ts/tinker/download";
 *
 * const stopped = (error: unknown) => error instanceof Interrupted;
 * ```
 */
export class Interrupted extends Error {
  /**
   * Creates the error.
   *
   * @param message What was interrupted (default `"Interrupted"`).
   */
  constructor(message = "Interrupted") {
    super(message);
    this.name = "Interrupted";
  }
}

/**
 * The text of an API error as the official SDK words it (`str(e)`):
 * `Error code: 404 - {'detail': 'Training run not found'}`. Connection
 * errors and the like keep this client's message.
 */
export function pyErrorText(error: unknown): string {
  const e = error as { status?: unknown; body?: unknown; message?: unknown };
  if (typeof e?.status === "number") {
    const body = e.body;
    if (body !== null && typeof body === "object") {
      return `Error code: ${e.status} - ${pyRepr(body)}`;
    }
    if (typeof body === "string" && body.trim() !== "") return body.trim();
    return `Error code: ${e.status}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Maps anything thrown by a command to a {@linkcode CliError}, with the
 * official CLI's messages (`handle_api_errors`) and our exit codes. A 401 or
 * 403 names where the key came from (`keySource`, as `credentialSource()`
 * describes it) instead of guessing: self-hosted servers such as TuFT answer
 * an unknown key with 403.
 */
export async function toCliError(
  error: unknown,
  keySource?: string,
): Promise<CliError | Interrupted | UsageError> {
  if (error instanceof CliError || error instanceof Interrupted || error instanceof UsageError) {
    return error;
  }
  const status = (error as { status?: unknown })?.status;
  // By class (`instanceof`: minifiers rename classes, so `error.name` is not
  // reliable in a bundled binary), then by status, then by name.
  const name = (await libraryClassName(error)) ??
    (typeof status === "number" && STATUS_NAMES[status]
      ? STATUS_NAMES[status]
      : typeof status === "number" && status >= 500
      ? "InternalServerError"
      : (error as { name?: string })?.name ?? "");
  const details = (lead?: string) => {
    const line = `Details: ${pyErrorText(error)}`;
    return lead ? `${lead}\n${line}` : line;
  };
  const wrap = (message: string, detail: string | undefined, code: ExitCode) =>
    new CliError(message, detail, code, { cause: error });
  switch (name) {
    case "ApiUserAbortError":
    case "AbortError":
      return new Interrupted();
    case "NotFoundError":
      return wrap("Resource not found", details(), EXIT.notFound);
    case "AuthenticationError": {
      // One sentence saying what was refused and why, then what to check.
      const detail = (error as { detail?: unknown }).detail;
      const why = typeof detail === "string" && detail !== "" ? `: ${detail}` : "";
      return wrap(
        `Authentication failed: the Tinker API did not accept the API key (HTTP 401${why}).`,
        keySource
          ? `Please check the API key from ${keySource}, and TINKER_BASE_URL.`
          : "Please check TINKER_API_KEY (or the key stored by `tinker auth login`) and TINKER_BASE_URL.",
        EXIT.auth,
      );
    }
    case "BillingError":
      return wrap(
        "Billing issue",
        details(
          "There is a billing issue with your account. Please check that billing is set up.",
        ),
        EXIT.error,
      );
    case "PermissionDeniedError":
      return wrap(
        "Permission denied",
        details(
          keySource
            ? `The API key from ${keySource} may not access this resource, or this server does not know it.`
            : "You don't have permission to access this resource.",
        ),
        EXIT.auth,
      );
    case "BadRequestError":
      return wrap("Invalid request", details(), EXIT.input);
    case "UnprocessableEntityError":
      return wrap("Invalid data provided", details(), EXIT.input);
    case "RateLimitError":
      return wrap("Rate limit exceeded", details("Please wait a moment before trying again."), 1);
    case "InternalServerError":
      return wrap(
        "Internal server error",
        details("The Tinker API encountered an internal error. Please try again later."),
        EXIT.error,
      );
    case "ApiTimeoutError":
      return wrap(
        "Request timeout",
        details("The request to Tinker API timed out. Please try again."),
        EXIT.network,
      );
    case "ApiConnectionError":
      return wrap(
        "Connection failed",
        details("Could not connect to the Tinker API. Please check your network connection."),
        EXIT.network,
      );
    case "UnsafeUrlError": {
      const scheme = (error as { scheme?: string }).scheme || "malformed";
      return wrap(
        `Nothing fetched: refusing a ${quoted(scheme)} URL from the server`,
        `${messageOf(error)}. Nothing was downloaded or read.`,
        EXIT.local,
      );
    }
    case "ApiResponseValidationError":
      // The official CLI's headline; the detail is what was wrong, naming the field.
      return wrap("API error occurred", `Details: ${messageOf(error)}`, EXIT.error);
    case "TinkerPathError":
      return wrap(`Invalid checkpoint path: ${messageOf(error)}`, undefined, EXIT.input);
    case "InvalidArgumentError": {
      const argument = (error as { argument?: string }).argument ?? "";
      const shown = ARGUMENT_NAMES[argument];
      const message = messageOf(error);
      return wrap(
        shown ? message.replace(`Invalid ${argument}:`, `Invalid ${shown}:`) : message,
        undefined,
        EXIT.input,
      );
    }
  }
  if (typeof status === "number") return wrap(`API error (status ${status})`, details(), 1);
  if (name === "TinkerError") {
    // Raised by the client before any request: key or base URL problems.
    const message = messageOf(error);
    if (/api key|base url|credential|JWT/i.test(message)) {
      return wrap(
        `Configuration error: ${message}`,
        "Please check your Tinker API credentials.",
        EXIT.auth,
      );
    }
    return wrap(message, undefined, EXIT.error);
  }
  return wrap(`Unexpected error occurred: ${messageOf(error)}`, undefined, EXIT.error);
}

/** The library error class of `error`, most specific first (the library is already loaded when it threw). */
async function libraryClassName(error: unknown): Promise<string | undefined> {
  if (!(error instanceof Error)) return undefined;
  const [errors, paths] = await Promise.all([import("../errors.ts"), import("../tinker_path.ts")]);
  const lib = { ...errors, ...paths };
  const classes: [new (...args: never[]) => Error, string][] = [
    [lib.ApiUserAbortError, "ApiUserAbortError"],
    [lib.ApiTimeoutError, "ApiTimeoutError"],
    [lib.ApiConnectionError, "ApiConnectionError"],
    [lib.UnsafeUrlError, "UnsafeUrlError"],
    [lib.ApiResponseValidationError, "ApiResponseValidationError"],
    [lib.TinkerPathError, "TinkerPathError"],
    [lib.InvalidArgumentError, "InvalidArgumentError"],
  ];
  for (const [cls, name] of classes) if (error instanceof cls) return name;
  if (error instanceof lib.ApiError) return undefined; // by status
  if (error instanceof lib.TinkerError) return "TinkerError";
  return undefined;
}

const STATUS_NAMES: Record<number, string> = {
  400: "BadRequestError",
  401: "AuthenticationError",
  402: "BillingError",
  403: "PermissionDeniedError",
  404: "NotFoundError",
  409: "ConflictError",
  422: "UnprocessableEntityError",
  429: "RateLimitError",
};

/** Client argument names as the CLI user knows them. */
const ARGUMENT_NAMES: Record<string, string> = {
  trainingRunId: "RUN_ID",
  sessionId: "SESSION_ID",
  samplerId: "SAMPLER_ID",
  startingOn: "STARTING_ON",
  endingBefore: "ENDING_BEFORE",
  ttlSeconds: "--ttl",
  limit: "--limit",
  projectId: "--project-id",
  maxRetries: "--max-retries",
  max_tokens: "--max-tokens",
};

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The chain of causes of an error, for `--verbose`. */
export function causeChain(error: unknown): string[] {
  const lines: string[] = [];
  let e = (error as { cause?: unknown })?.cause;
  for (let depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    lines.push(`Caused by: ${text}`);
    e = (e as { cause?: unknown }).cause;
  }
  return lines;
}
