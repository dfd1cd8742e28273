// The body of a session search, checked as SDK 0.38's `SessionSearchRequest`
// checks it (pydantic, unknown fields forbidden), so a misspelt field or a
// wrong type throws instead of searching every session.

import { InvalidArgumentError } from "../errors.ts";
import type { SessionSearchRequest } from "../types.ts";
import { checkId, checkInt, checkText, describeValue } from "./_args.ts";
import { checkKnownKeys } from "./_options.ts";

const FIELDS = [
  "session_id",
  "project_ids",
  "user_metadata",
  "display_name",
  "owner",
  "statuses",
  "limit",
  "cursor",
] as const;
const STATUSES = ["active", "cancelled", "failed", "client_finished"] as const;
const REASONS = ["success", "errored", "interrupted"] as const;

/** The JSON body of `POST /sessions/search` for `request`; throws InvalidArgumentError on bad input. */
export function sessionSearchBody(request: unknown): Record<string, unknown> {
  const r = record("request", request, FIELDS, "a session search request");
  const body: Record<string, unknown> = {};
  if (r.session_id != null) body.session_id = checkId("session_id", r.session_id);
  if (r.project_ids != null) {
    body.project_ids = list("project_ids", r.project_ids, 0).map((id, i) =>
      checkText(`project_ids[${i}]`, id)
    );
  }
  body.user_metadata = metadata(r.user_metadata ?? {});
  if (r.display_name != null) body.display_name = checkText("display_name", r.display_name);
  body.owner = owner(r.owner ?? { type: "own" });
  if (r.statuses != null) {
    body.statuses = list("statuses", r.statuses, 1).map((s, i) => status(`statuses[${i}]`, s));
  }
  body.limit = checkInt("limit", r.limit, 1, 50);
  if ((body.limit as number) > 200) {
    throw new InvalidArgumentError("limit", `must be at most 200, got ${body.limit}`);
  }
  if (r.cursor != null) body.cursor = cursor(r.cursor);
  return body;
}

/** `value` as an object with only `fields` (a `type` field, when given, checked by the caller). */
function record(
  name: string,
  value: unknown,
  fields: readonly string[],
  what: string,
): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(
      name,
      `must be ${what} (an object), got ${describeValue(value)}`,
    );
  }
  checkKnownKeys(value, fields, (key) => `${name}.${key}`, `a field of ${what}`);
  return value as Record<string, unknown>;
}

function list(name: string, value: unknown, min: number): unknown[] {
  if (!Array.isArray(value)) {
    throw new InvalidArgumentError(name, `must be an array, got ${describeValue(value)}`);
  }
  if (value.length < min) throw new InvalidArgumentError(name, `must not be empty`);
  return value;
}

function metadata(value: unknown): Record<string, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(
      "user_metadata",
      `must be an object of strings, got ${describeValue(value)}`,
    );
  }
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== "string") {
      throw new InvalidArgumentError(
        `user_metadata.${key}`,
        `must be a string, got ${describeValue(item)}`,
      );
    }
  }
  return value as Record<string, string>;
}

function owner(value: unknown): SessionSearchRequest["owner"] {
  const type = typeOf("owner", value, ["own", "accessible", "user"]);
  if (type !== "user") {
    record("owner", value, ["type"], `an owner of type "${type}"`);
    return { type };
  }
  const o = record("owner", value, ["type", "owner_urns"], 'an owner of type "user"');
  const urns = list("owner.owner_urns", o.owner_urns, 1);
  if (urns.length > 10) {
    throw new InvalidArgumentError(
      "owner.owner_urns",
      `must hold 1 to 10 URNs, got ${urns.length}`,
    );
  }
  return { type, owner_urns: urns.map((u, i) => checkText(`owner.owner_urns[${i}]`, u)) };
}

function status(name: string, value: unknown): Record<string, unknown> {
  const type = typeOf(name, value, STATUSES);
  if (type !== "client_finished") {
    record(name, value, ["type"], `a status of type "${type}"`);
    return { type };
  }
  const s = record(name, value, ["type", "reasons"], 'a status of type "client_finished"');
  if (s.reasons == null) return { type };
  const reasons = list(`${name}.reasons`, s.reasons, 1).map((reason, i) => {
    if (!REASONS.includes(reason as typeof REASONS[number])) {
      throw new InvalidArgumentError(
        `${name}.reasons[${i}]`,
        `must be one of ${REASONS.map((c) => `"${c}"`).join(", ")}, got ${describeValue(reason)}`,
      );
    }
    return reason;
  });
  return { type, reasons };
}

/** A response's `next_cursor`, passed back unchanged once its two fields are strings. */
function cursor(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(
      "cursor",
      `must be the next_cursor of a previous page (an object), got ${describeValue(value)}`,
    );
  }
  for (const field of ["last_created_at", "last_session_id"] as const) {
    const item = (value as Record<string, unknown>)[field];
    if (typeof item !== "string" || item === "") {
      throw new InvalidArgumentError(
        `cursor.${field}`,
        `must be a non-empty string (pass a response's next_cursor back unchanged), got ${
          describeValue(item)
        }`,
      );
    }
  }
  return value;
}

/** The `type` of a tagged object: one of `types`. */
function typeOf<T extends string>(name: string, value: unknown, types: readonly T[]): T {
  const type = (value as { type?: unknown } | null)?.type;
  if (typeof value !== "object" || value === null || !types.includes(type as T)) {
    const expected = types.map((t) => `{ type: "${t}" }`).join(", ");
    const got = typeof value === "object" && value !== null
      ? `type ${describeValue(type)}`
      : describeValue(value);
    throw new InvalidArgumentError(name, `must be one of ${expected}, got ${got}`);
  }
  return type as T;
}
