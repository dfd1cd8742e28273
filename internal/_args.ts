// Argument checks of the client methods. Each throws InvalidArgumentError (or
// TinkerPathError) naming the argument, so no request is sent for bad input.

import { InvalidArgumentError } from "../errors.ts";
import { quote, segmentProblem } from "../tinker_path.ts";
import type { AccessScope } from "../types.ts";

/** An id that becomes one path segment (run, session, sampler ids). */
export function checkId(name: string, value: unknown): string {
  if (typeof value !== "string") {
    throw new InvalidArgumentError(name, `expected a string, got ${typeName(value)}`);
  }
  const problem = segmentProblem(value);
  if (problem) throw new InvalidArgumentError(name, `${quote(value)} ${problem}`);
  return value;
}

/**
 * A checkpoint id: `weights/<name>`, `sampler_weights/<name>`, or a bare
 * `<name>` (some self-hosted servers use bare ids).
 */
export function checkCheckpointId(value: unknown): string {
  if (typeof value !== "string") {
    throw new InvalidArgumentError(
      "checkpointId",
      `expected a string, got ${typeName(value)}`,
    );
  }
  const parts = value.split("/");
  if (parts.length > 2 || (parts.length === 2 && !KINDS.has(parts[0]!))) {
    throw new InvalidArgumentError(
      "checkpointId",
      `${
        quote(value)
      } must be "<kind>/<name>" (kind weights, sampler_weights or external_weights) or a bare name`,
    );
  }
  const name = parts.at(-1)!;
  const problem = segmentProblem(name);
  if (problem) {
    throw new InvalidArgumentError("checkpointId", `${quote(value)}: the name ${problem}`);
  }
  return value;
}

const KINDS = new Set(["weights", "sampler_weights", "external_weights"]);

/** A whole number in `[min, 2^53)`, or the default when undefined. */
export function checkInt(
  name: string,
  value: unknown,
  min: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new InvalidArgumentError(
      name,
      `must be a whole number of at least ${min}, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** A TTL in whole seconds (at least 1), or null to remove it. */
export function checkTtl(value: unknown): number | null {
  if (value === null) return null;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidArgumentError(
      "ttlSeconds",
      `must be a whole number of seconds of at least 1, or null to remove the TTL; got ${
        describeValue(value)
      }`,
    );
  }
  return value;
}

/** `"owned"` (the default) or `"accessible"`. */
export function checkScope(value: unknown): AccessScope {
  return checkChoice("accessScope", value, ["owned", "accessible"], "owned");
}

/** One of `choices`, or `fallback` when undefined. */
export function checkChoice<T extends string>(
  name: string,
  value: unknown,
  choices: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || !choices.includes(value as T)) {
    throw new InvalidArgumentError(
      name,
      `must be one of ${choices.map((c) => `"${c}"`).join(", ")}, got ${describeValue(value)}`,
    );
  }
  return value as T;
}

/** A non-empty string without control characters (project ids, …). */
export function checkText(name: string, value: unknown): string {
  if (typeof value !== "string") {
    throw new InvalidArgumentError(name, `expected a string, got ${typeName(value)}`);
  }
  if (value.trim() === "" || /\p{Cc}/u.test(value)) {
    throw new InvalidArgumentError(
      name,
      `${quote(value)} must be non-empty text without control characters`,
    );
  }
  return value;
}

/** A UTC day as `YYYY-MM-DD`, from that string or a `Date`. */
export function checkDay(value: unknown): string {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) {
      throw new InvalidArgumentError("day", "is an invalid Date");
    }
    return value.toISOString().slice(0, 10);
  }
  if (typeof value === "string" && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const date = new Date(`${value}T00:00:00Z`);
    if (!Number.isNaN(date.getTime()) && date.toISOString().startsWith(value)) {
      return value;
    }
  }
  throw new InvalidArgumentError(
    "day",
    `must be a "YYYY-MM-DD" calendar day or a Date, got ${describeValue(value)}`,
  );
}

/**
 * A billing window bound as RFC 3339 UTC (`2026-07-13T00:00:00Z`), from an
 * RFC 3339 string with an offset or a `Date`.
 */
export function checkInstant(name: string, value: unknown): string {
  let date: Date | undefined;
  if (value instanceof Date) date = value;
  else if (
    typeof value === "string" &&
    /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})$/.test(
      value.trim(),
    )
  ) {
    date = new Date(value.trim());
    // The JS parser rolls 2026-02-30 over to March and accepts hour 24: refuse both.
    const [y, mo, d, h] = value.trim().split(/[-Tt :]/, 4).map(Number);
    const day = new Date(Date.UTC(y!, mo! - 1, d!)).toISOString().slice(0, 10);
    if (day !== value.trim().slice(0, 10) || h! > 23) date = undefined;
  }
  if (date === undefined || Number.isNaN(date.getTime())) {
    throw new InvalidArgumentError(
      name,
      `must be an RFC 3339 date-time with an offset (e.g. "2026-07-13T00:00:00Z") or a Date, got ${
        describeValue(value)
      }`,
    );
  }
  return toRfc3339(date);
}

/** `2026-07-13T00:00:00Z`, with milliseconds only when non-zero. */
export function toRfc3339(date: Date): string {
  const iso = date.toISOString();
  return iso.endsWith(".000Z") ? `${iso.slice(0, -5)}Z` : iso;
}

function typeName(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
}

/** A value as an error names it: strings quoted, numbers as written, else its type. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return quote(value);
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  return typeName(value);
}

/**
 * An `AbortSignal`, or undefined. Checked by shape (signals of another realm
 * or polyfill pass); passing the controller itself, an easy slip, is named.
 */
export function checkSignal(value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  const v = value as Partial<AbortSignal & AbortController> | null;
  if (
    typeof v === "object" && v !== null && typeof v.aborted === "boolean" &&
    typeof v.addEventListener === "function" && typeof v.removeEventListener === "function"
  ) {
    return value as AbortSignal;
  }
  const controller = typeof v === "object" && v !== null && typeof v.abort === "function" &&
    typeof v.signal === "object";
  throw new InvalidArgumentError(
    "signal",
    controller
      ? "must be an AbortSignal, got an AbortController: pass its .signal"
      : `must be an AbortSignal, got ${describeValue(value)}`,
  );
}
