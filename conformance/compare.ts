/**
 * Normalising and diffing what two clients did: the requests a fake server
 * recorded and the results (or errors) each call gave. Pure functions; the
 * policy of which differences are acceptable lives in `deliberate.ts`.
 *
 * @module
 */
import type { RecordedRequest } from "../testing/mod.ts";
import { SDK_ONLY_REQUESTS } from "./deliberate.ts";
import { canonicalForwardBackwardBody } from "./proto_body.ts";

/** What one call gave: a JSON value, or an error as data. */
export type Outcome = { ok: unknown } | { error: ErrorInfo };

/** An error as data: the SDK's exception class name, or ours mapped onto it. */
export interface ErrorInfo {
  class: string;
  status: number | null;
  body: unknown;
  message?: string;
}

/** One difference between our client and the reference. */
export interface Difference {
  /** What differs: a request field, a header, the bootstrap, a result... */
  kind:
    | "bootstrap"
    | "request-count"
    | "method"
    | "path"
    | "body"
    | "header"
    | "result"
    | "result-key-order";
  /** Where, e.g. `call 2` or `step 1 .cursor.total_count`. */
  where: string;
  /** The header name, for `header` differences. */
  name?: string;
  ours: unknown;
  theirs: unknown;
}

/** A request reduced to what is compared. Header values are normalised (see `headerValue`). */
export interface WireRequest {
  method: string;
  /** Path and query exactly as sent. */
  rawPath: string;
  /** Body text exactly as sent (`""` for none). */
  body: string;
  headers: Record<string, string>;
}

const CONFIG = "/api/v1/client/config";
const TOKEN = "/api/v1/auth/token";
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Splits a request log into the bootstraps (each `client/config` request and a
 * JWT exchange right after it) and the calls, after dropping the requests only
 * the SDK sends. A JWT exchange elsewhere (a 401 replay) stays with the calls.
 */
export function splitLog(log: readonly RecordedRequest[]): {
  bootstrap: WireRequest[];
  calls: WireRequest[];
} {
  const kept = log.filter((r) => !SDK_ONLY_REQUESTS.some((d) => d.matches(r)));
  const keys = new Map<string, number>();
  const bootstrap: WireRequest[] = [], calls: WireRequest[] = [];
  kept.forEach((r, i) => {
    const after = kept[i - 1]?.path;
    const isBootstrap = r.path === CONFIG || (r.path === TOKEN && after === CONFIG);
    (isBootstrap ? bootstrap : calls).push(toWire(r, keys));
  });
  return { bootstrap, calls };
}

function toWire(r: RecordedRequest, keys: Map<string, number>): WireRequest {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(r.headers)) {
    if (name === "host") continue; // Each side's fake has its own port.
    headers[name] = headerValue(name, value, keys);
  }
  // A protobuf body compares as its decoded, canonical text (two encodings may differ in bytes).
  const body = (r.headers["content-type"] ?? "").startsWith("application/x-protobuf")
    ? canonicalForwardBackwardBody(r.bytes)
    : r.body;
  return { method: r.method, rawPath: r.rawPath, body, headers };
}

/**
 * `x-api-key` becomes its kind (`api-key`, `jwt`); `x-idempotency-key` becomes
 * its prefix plus the order in which distinct keys appeared (`stainless-python-retry-<uuid#1>`),
 * so "same key on a retry, new key on the next call" is compared, not the random values.
 */
export function headerValue(name: string, value: string, keys: Map<string, number>): string {
  if (name === "x-api-key") {
    return value.startsWith("tml-") ? "<api-key>" : value.startsWith("eyJ") ? "<jwt>" : "<other>";
  }
  if (name === "x-tinker-create-promise-roundtrip-time" && /^\d+(\.\d+)?(e-\d+)?$/.test(value)) {
    return "<seconds>"; // A measured time: its form is compared, not its value.
  }
  if (name === "x-idempotency-key") {
    const uuid = UUID.exec(value);
    if (!uuid) return value;
    if (!keys.has(value)) keys.set(value, keys.size + 1);
    return `${value.slice(0, uuid.index)}<uuid#${keys.get(value)}>`;
  }
  return value;
}

/** Differences between two request sequences, field by field and header by header. */
export function diffRequests(
  ours: readonly WireRequest[],
  theirs: readonly WireRequest[],
  label = "call",
): Difference[] {
  const out: Difference[] = [];
  if (ours.length !== theirs.length) {
    out.push({
      kind: "request-count",
      where: label,
      ours: ours.map(summary),
      theirs: theirs.map(summary),
    });
  }
  for (let i = 0; i < Math.min(ours.length, theirs.length); i++) {
    const a = ours[i]!, b = theirs[i]!;
    const where = `${label} ${i + 1} (${b.method} ${b.rawPath.split("?")[0]})`;
    if (a.method !== b.method) {
      out.push({ kind: "method", where, ours: a.method, theirs: b.method });
    }
    if (a.rawPath !== b.rawPath) {
      out.push({ kind: "path", where, ours: a.rawPath, theirs: b.rawPath });
    }
    if (a.body !== b.body) out.push({ kind: "body", where, ours: a.body, theirs: b.body });
    for (const name of new Set([...Object.keys(b.headers), ...Object.keys(a.headers)])) {
      if (a.headers[name] !== b.headers[name]) {
        out.push({ kind: "header", where, name, ours: a.headers[name], theirs: b.headers[name] });
      }
    }
  }
  return out;
}

function summary(r: WireRequest): string {
  return `${r.method} ${r.rawPath}`;
}

/** Origins of one side's fake, replaced by placeholders in results. */
export interface Origins {
  api: string;
  storage: string;
}

const ISO_DATETIME =
  /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?(Z|z|[+-]\d{2}:?\d{2})?$/;

/** An ISO-8601 date-time as an instant: `{ ms, micros }` (naive means UTC), else undefined. */
export function instant(text: string): { ms: number; micros: number } | undefined {
  const m = ISO_DATETIME.exec(text);
  if (!m) return undefined;
  const [, day, time, frac = "", zone = "Z"] = m;
  const ms = Date.parse(`${day}T${time!.length === 5 ? `${time}:00` : time}${fixZone(zone)}`);
  if (Number.isNaN(ms)) return undefined;
  const digits = (frac.slice(1) + "000000").slice(0, 6);
  return { ms: ms + Math.floor(Number(digits) / 1000), micros: Number(digits) % 1000 };
}

function fixZone(zone: string): string {
  if (/^[Zz]$/.test(zone)) return "Z";
  return zone.includes(":") ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
}

/**
 * Makes a result comparable across the two fakes: origins become `<api>` /
 * `<storage>`, signed-URL parameters that depend on the moment or the
 * server's secret become `*`, and `undefined` becomes `null`.
 */
export function normalize(value: unknown, origins: Origins): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value === "string") {
    let s = value.replaceAll(origins.storage, "<storage>").replaceAll(origins.api, "<api>");
    if (s.startsWith("<storage>")) {
      s = s.replace(/(X-Goog-(?:Date|Signature|Credential)=)[^&]*/g, "$1*");
    }
    return s;
  }
  if (Array.isArray(value)) return value.map((v) => normalize(v, origins));
  if (typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, normalize(v, origins)]),
    );
  }
  return value;
}

/** Two date-times near "now" (signed URL expiry, creation times) may differ by this much. */
const NOW_TOLERANCE_MS = 60_000;

/**
 * Deep differences between two normalised values. Date-times compare as
 * instants (pydantic re-serialises them); object keys compare as sets, with
 * a separate `result-key-order` difference when the orders differ.
 */
export function diffValues(
  ours: unknown,
  theirs: unknown,
  where: string,
  now: number = Date.now(),
): Difference[] {
  if (typeof ours === "string" && typeof theirs === "string") {
    const a = instant(ours), b = instant(theirs);
    if (a && b) {
      const same = a.ms === b.ms && a.micros === b.micros;
      const nearNow = Math.abs(a.ms - now) < 86_400_000 && Math.abs(b.ms - now) < 86_400_000;
      if (same || (nearNow && Math.abs(a.ms - b.ms) < NOW_TOLERANCE_MS)) return [];
    }
    return ours === theirs ? [] : [{ kind: "result", where, ours, theirs }];
  }
  if (Array.isArray(ours) && Array.isArray(theirs)) {
    if (ours.length !== theirs.length) {
      return [{
        kind: "result",
        where: `${where} (length)`,
        ours: ours.length,
        theirs: theirs.length,
      }];
    }
    return ours.flatMap((v, i) => diffValues(v, theirs[i], `${where}[${i}]`, now));
  }
  if (isObject(ours) && isObject(theirs)) {
    const out: Difference[] = [];
    const a = Object.keys(ours), b = Object.keys(theirs);
    for (const key of new Set([...b, ...a])) {
      if (!(key in ours) || !(key in theirs)) {
        out.push({
          kind: "result",
          where: `${where}.${key}`,
          ours: key in ours ? ours[key] : "<absent>",
          theirs: key in theirs ? theirs[key] : "<absent>",
        });
      } else out.push(...diffValues(ours[key], theirs[key], `${where}.${key}`, now));
    }
    const common = (keys: string[], other: object) => keys.filter((k) => k in other);
    if (out.length === 0 && common(a, theirs).join() !== common(b, ours).join()) {
      out.push({ kind: "result-key-order", where, ours: a, theirs: b });
    }
    return out;
  }
  return Object.is(ours, theirs) || JSON.stringify(ours) === JSON.stringify(theirs)
    ? []
    : [{ kind: "result", where, ours, theirs }];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Our error classes under the SDK's names. Client-side argument errors are
 * `ValueError` in Python; `whoami` without a JWT and failed trace exports are
 * `RuntimeError`.
 */
export const SDK_CLASS_OF: Record<string, string> = {
  ApiError: "APIStatusError",
  BadRequestError: "BadRequestError",
  AuthenticationError: "AuthenticationError",
  BillingError: "BillingError",
  PermissionDeniedError: "PermissionDeniedError",
  NotFoundError: "NotFoundError",
  ConflictError: "ConflictError",
  UnprocessableEntityError: "UnprocessableEntityError",
  RateLimitError: "RateLimitError",
  InternalServerError: "InternalServerError",
  ApiConnectionError: "APIConnectionError",
  ApiTimeoutError: "APITimeoutError",
  ApiResponseValidationError: "APIResponseValidationError",
  TinkerPathError: "ValueError",
  InvalidArgumentError: "ValueError",
  TinkerError: "RuntimeError",
};

/** Our outcome of a call, with the error mapped onto the SDK's class names. */
export async function outcomeOf(run: () => unknown): Promise<Outcome> {
  try {
    return { ok: (await run()) ?? null };
  } catch (e) {
    const error = e as { constructor: { name: string }; status?: number; body?: unknown };
    const name = error.constructor.name;
    return {
      error: {
        class: SDK_CLASS_OF[name] ?? name,
        status: error.status ?? null,
        body: error.status === undefined ? null : error.body ?? null,
        message: String((e as Error).message),
      },
    };
  }
}

/** SDK exception classes that are one family here (pydantic's ValidationError is a ValueError). */
const SDK_FAMILY: Record<string, string> = { ValidationError: "ValueError" };

/** Differences between two outcomes: class, status and body of errors; values of results. */
export function diffOutcomes(
  ours: Outcome,
  theirs: Outcome,
  where: string,
  origins: { ours: Origins; theirs: Origins },
  now?: number,
): Difference[] {
  if ("ok" in ours && "ok" in theirs) {
    return diffValues(
      normalize(ours.ok, origins.ours),
      normalize(theirs.ok, origins.theirs),
      where,
      now,
    );
  }
  if ("error" in ours && "error" in theirs) {
    const a = ours.error, b = theirs.error;
    return diffValues(
      { class: a.class, status: a.status, body: normalize(a.body, origins.ours) },
      {
        class: SDK_FAMILY[b.class] ?? b.class,
        status: b.status,
        body: normalize(b.body, origins.theirs),
      },
      `${where} error`,
      now,
    );
  }
  return [{ kind: "result", where, ours: brief(ours), theirs: brief(theirs) }];
}

function brief(outcome: Outcome): string {
  if ("ok" in outcome) return "ok";
  return `${outcome.error.class}${outcome.error.status ? ` ${outcome.error.status}` : ""}`;
}
