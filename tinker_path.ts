/**
 * Tinker paths: `tinker://<training_run_id>/<weights|sampler_weights|external_weights>/<name>`.
 *
 * The grammar is the official SDK's (exactly three segments, case-sensitive,
 * no trimming, no percent-decoding), made stricter where the SDK accepts
 * paths that later become wrong requests: an empty run id or name, `?` or `#`
 * (which would start a query or fragment), `%`, whitespace, control
 * characters, and `.`/`..` segments are rejected with a
 * {@linkcode TinkerPathError} that names the input and the rule broken.
 *
 * @example Parsing and formatting
 * ```ts
 * import { formatTinkerPath, parseTinkerPath } from "@tinker-ts/tinker";
 * import assert from "node:assert/strict";
 *
 * const parsed = parseTinkerPath("tinker://a1b2:train:0/sampler_weights/final");
 * assert.equal(parsed.training_run_id, "a1b2:train:0");
 * assert.equal(parsed.checkpoint_type, "sampler");
 * assert.equal(parsed.checkpoint_id, "sampler_weights/final");
 * assert.equal(formatTinkerPath(parsed), "tinker://a1b2:train:0/sampler_weights/final");
 * ```
 *
 * @module
 */

import { TinkerError } from "./errors.ts";
import type { CheckpointType, ParsedTinkerPath } from "./types.ts";

const PREFIX = "tinker://";
/** Longest run id, checkpoint name or id segment accepted (GCS object names stop at 1024 bytes). */
const MAX_SEGMENT = 1024;
const KINDS: Record<string, CheckpointType> = {
  weights: "training",
  sampler_weights: "sampler",
  external_weights: "external",
};

/**
 * A tinker path (or an id taken from one) is malformed. Thrown before any
 * request is sent.
 *
 * @example
 * ```ts
 * import { parseTinkerPath, TinkerPathError } from "@tinker-ts/tinker";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => parseTinkerPath("tinker://run-1/weights/"), TinkerPathError);
 * ```
 */
export class TinkerPathError extends TinkerError {
  /** The class name, kept through minification. */
  override name: string = "TinkerPathError";
  /** The input that was rejected. */
  readonly input: string;

  /**
   * Creates a `TinkerPathError`.
   *
   * @param input The rejected input.
   * @param rule What is wrong with it.
   */
  constructor(input: string, rule: string) {
    super(`Invalid tinker path ${quote(input)}: ${rule}`);
    this.input = input;
  }
}

/**
 * Parses a checkpoint's tinker path.
 *
 * @param tinkerPath e.g. `tinker://run-1/weights/0001`.
 * @returns The run id, checkpoint type and kind-prefixed checkpoint id.
 * @throws {TinkerPathError} When the path is malformed.
 *
 * @example
 * ```ts
 * import { parseTinkerPath } from "@tinker-ts/tinker";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseTinkerPath("tinker://run-1/weights/0001"), {
 *   tinker_path: "tinker://run-1/weights/0001",
 *   training_run_id: "run-1",
 *   checkpoint_type: "training",
 *   checkpoint_id: "weights/0001",
 * });
 * ```
 */
export function parseTinkerPath(tinkerPath: string): ParsedTinkerPath {
  if (typeof tinkerPath !== "string") {
    throw new TinkerPathError(String(tinkerPath), "expected a string");
  }
  if (!tinkerPath.startsWith(PREFIX)) {
    throw new TinkerPathError(tinkerPath, 'it must start with "tinker://"');
  }
  const parts = tinkerPath.slice(PREFIX.length).split("/");
  if (parts.length !== 3) {
    throw new TinkerPathError(
      tinkerPath,
      `expected 3 segments after "tinker://" (run id, checkpoint kind, name), found ${parts.length}`,
    );
  }
  const [runId, kind, name] = parts as [string, string, string];
  const type = KINDS[kind];
  if (type === undefined) {
    throw new TinkerPathError(
      tinkerPath,
      `the second segment must be "weights", "sampler_weights" or "external_weights", not ${
        quote(kind)
      }`,
    );
  }
  const runProblem = segmentProblem(runId);
  if (runProblem) throw new TinkerPathError(tinkerPath, `the run id ${runProblem}`);
  const nameProblem = segmentProblem(name);
  if (nameProblem) {
    throw new TinkerPathError(tinkerPath, `the checkpoint name ${nameProblem}`);
  }
  return {
    tinker_path: tinkerPath,
    training_run_id: runId,
    checkpoint_type: type,
    checkpoint_id: `${kind}/${name}`,
  };
}

/**
 * Formats a tinker path from a run id and a kind-prefixed checkpoint id (the
 * inverse of {@linkcode parseTinkerPath}).
 *
 * @param parts The run id and checkpoint id (`weights/…` or `sampler_weights/…`).
 * @returns The tinker path.
 * @throws {TinkerPathError} When a part is malformed.
 *
 * @example
 * ```ts
 * import { formatTinkerPath } from "@tinker-ts/tinker";
 * import assert from "node:assert/strict";
 *
 * assert.equal(
 *   formatTinkerPath({ training_run_id: "run-1", checkpoint_id: "weights/0001" }),
 *   "tinker://run-1/weights/0001",
 * );
 * ```
 */
export function formatTinkerPath(
  parts: { training_run_id: string; checkpoint_id: string },
): string {
  const path = `${PREFIX}${parts.training_run_id}/${parts.checkpoint_id}`;
  parseTinkerPath(path);
  return path;
}

/**
 * Why `segment` cannot be one path segment of a request, or `undefined`.
 * Shared by tinker paths and the id arguments of the client.
 */
export function segmentProblem(segment: string): string | undefined {
  if (segment === "") return "is empty";
  if (segment.length > MAX_SEGMENT) return `is longer than ${MAX_SEGMENT} characters`;
  if (segment === "." || segment === "..") {
    return `must not be ${quote(segment)} (it would change the request path)`;
  }
  const bad = /[/?#%\s\p{Cc}]/u.exec(segment);
  if (bad) return `must not contain ${describeChar(bad[0])}`;
  if (!segment.isWellFormed()) return "contains a lone surrogate (not valid Unicode)";
  return undefined;
}

function describeChar(char: string): string {
  const names: Record<string, string> = {
    "/": '"/"',
    "?": '"?" (it would start a query string)',
    "#": '"#" (it would start a fragment)',
    "%": '"%" (ids are sent unescaped, as the official SDK does)',
    " ": "a space",
  };
  const code = char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
  return names[char] ?? `whitespace or a control character (U+${code})`;
}

/** Quotes user input for a message, escaping control characters, cut at 120 characters. */
export function quote(input: string): string {
  const shown = input.length > 120 ? `${input.slice(0, 120)}…` : input;
  // JSON escapes C0 controls; DEL, C1 (e.g. U+009B CSI) and invisible
  // formatting characters (bidi overrides) are escaped too, so a message is
  // always inert on a terminal.
  return JSON.stringify(shown).replace(
    /[\p{Cc}\p{Cf}\u2028\u2029]/gu,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
