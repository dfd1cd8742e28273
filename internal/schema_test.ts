// Response validation names the first field that does not match, by its full
// path, with what was wrong; everything that matches passes.

import assert from "node:assert/strict";
import {
  bool,
  dict,
  int,
  list,
  nullable,
  num,
  obj,
  oneOf,
  opt,
  req,
  type Schema,
  SchemaIssue,
  str,
  validate,
} from "./_schema.ts";

const checkpoint = {
  checkpoint_id: "weights/000010",
  checkpoint_type: "training",
  time: "2026-01-31T03:04:05.123456Z",
  tinker_path: "tinker://run/weights/000010",
  size_bytes: 1234,
  public: false,
  user_metadata: null,
  expires_at: null,
};

/** The message of the SchemaIssue `validate` throws, or "ok". */
function outcome(schema: Parameters<typeof validate>[0], value: unknown): string {
  try {
    validate(schema, value);
    return "ok";
  } catch (error) {
    assert.ok(error instanceof SchemaIssue, String(error));
    assert.equal(error.message, `Response field "${error.field || "(body)"}" ${error.problem}`);
    return error.message;
  }
}

const listing = (...checkpoints: unknown[]) => ({ checkpoints, cursor: null });

Deno.test("a listing that matches passes, nulls and absent optional fields included", () => {
  assert.equal(outcome("CheckpointsListResponse", listing(checkpoint, checkpoint)), "ok");
  const { size_bytes: _, public: __, ...minimal } = checkpoint;
  assert.equal(outcome("CheckpointsListResponse", listing(minimal)), "ok");
  const full = {
    ...checkpoint,
    size_bytes: null,
    public: true,
    user_metadata: { a: "b" },
    expires_at: "2026-02-29T00:00:00+05:30", // not a date, but Date.parse takes it: as before
  };
  assert.equal(outcome("CheckpointsListResponse", listing(full)), "ok");
});

Deno.test("each kind of field names its path and what it must be", () => {
  const bad = (patch: Record<string, unknown>) =>
    outcome("CheckpointsListResponse", listing(checkpoint, { ...checkpoint, ...patch }));
  const cases: [Record<string, unknown>, string][] = [
    [{ checkpoint_id: 7 }, '"checkpoints[1].checkpoint_id" must be a string, got number 7'],
    [{ checkpoint_id: null }, '"checkpoints[1].checkpoint_id" must be a string, got null'],
    [
      { checkpoint_type: "weights" },
      '"checkpoints[1].checkpoint_type" must be one of "training", "sampler", "external", ' +
      'got the string "weights"',
    ],
    [
      { time: "yesterday" },
      '"checkpoints[1].time" must be an ISO-8601 date-time string, got the string "yesterday"',
    ],
    [{ size_bytes: 1.5 }, '"checkpoints[1].size_bytes" must be an integer, got number 1.5'],
    [{ size_bytes: "1" }, '"checkpoints[1].size_bytes" must be an integer, got the string "1"'],
    [
      { size_bytes: 1e300 },
      '"checkpoints[1].size_bytes" must be an integer within ±2^63, got number 1e+300',
    ],
    [{ public: null }, '"checkpoints[1].public" must be a boolean, got null'],
    [{ public: "no" }, '"checkpoints[1].public" must be a boolean, got the string "no"'],
    [{ user_metadata: [] }, '"checkpoints[1].user_metadata" must be an object, got an array'],
    [
      { user_metadata: { a: "b", tag: 1 } },
      '"checkpoints[1].user_metadata.tag" must be a string, got number 1',
    ],
    [
      { expires_at: false },
      '"checkpoints[1].expires_at" must be an ISO-8601 date-time string, ' +
      "got boolean false",
    ],
    [
      { tinker_path: undefined },
      '"checkpoints[1].tinker_path" must be a string, got undefined undefined',
    ],
  ];
  for (const [patch, message] of cases) {
    assert.equal(bad(patch), `Response field ${message}`, JSON.stringify(patch));
  }
  const { time: _, ...noTime } = checkpoint;
  assert.equal(
    outcome("CheckpointsListResponse", listing(checkpoint, checkpoint, noTime)),
    'Response field "checkpoints[2].time" is missing',
  );
  assert.equal(
    outcome("CheckpointsListResponse", listing(checkpoint, "x")),
    'Response field "checkpoints[1]" must be an object, got the string "x"',
  );
  assert.equal(
    outcome("CheckpointsListResponse", { checkpoints: {} }),
    'Response field "checkpoints" must be an array, got an object',
  );
  assert.equal(
    outcome("CheckpointsListResponse", []),
    'Response field "(body)" must be an object, got an array',
  );
  assert.equal(
    outcome("CheckpointsListResponse", { checkpoints: [], cursor: { offset: 0, limit: 1 } }),
    'Response field "cursor.total_count" is missing',
  );
});

Deno.test("the first failing field is reported, in field order, depth first", () => {
  const two = { ...checkpoint, checkpoint_id: 1, user_metadata: { a: 2 } };
  assert.equal(
    outcome("CheckpointsListResponse", listing(checkpoint, two, { ...checkpoint, time: 0 })),
    'Response field "checkpoints[1].checkpoint_id" must be a string, got number 1',
  );
});

Deno.test("paths join keys as written: nested lists, empty and odd keys", () => {
  const schema: Schema = {
    name: "Nested",
    check: () =>
      obj({
        rows: req(list(list(nullable(obj({ v: opt(dict(num)) }))))),
        meta: opt(dict(dict(int))),
      }),
  };
  assert.equal(outcome(schema, { rows: [[null, { v: { x: 1 } }], []] }), "ok");
  assert.equal(
    outcome(schema, { rows: [[], [null, { v: { x: 1, y: "2" } }]] }),
    'Response field "rows[1][1].v.y" must be a number, got the string "2"',
  );
  assert.equal(
    outcome(schema, { rows: [[Infinity]] }),
    'Response field "rows[0][0]" must be an object, got number Infinity',
  );
  assert.equal(
    outcome(schema, { rows: [], meta: { "": { "[x": 1.5 } } }),
    'Response field "meta.[x" must be an integer, got number 1.5',
  );
  assert.equal(
    outcome(schema, { rows: [], meta: { "a.b": { "": true } } }),
    'Response field "meta.a.b" must be an integer, got boolean true',
  );
  const top: Schema = { name: "Top", check: () => list(str) };
  assert.equal(outcome(top, ["a", 1]), 'Response field "[1]" must be a string, got number 1');
  assert.equal(outcome(top, null), 'Response field "(body)" must be an array, got null');
});

Deno.test("nullable and typed fields outside objects keep their checks", () => {
  const schema: Schema = {
    name: "Loose",
    check: () => obj({ a: req(list(nullable(str))), b: opt(nullable(nullable(bool))) }),
  };
  assert.equal(outcome(schema, { a: [null, "x"], b: null }), "ok");
  assert.equal(
    outcome(schema, { a: [null, true] }),
    'Response field "a[1]" must be a string, got boolean true',
  );
  assert.equal(
    outcome(schema, { a: [], b: 0 }),
    'Response field "b" must be a boolean, got number 0',
  );
  const required: Schema = { name: "Required", check: () => obj({ a: req(nullable(oneOf("x"))) }) };
  assert.equal(outcome(required, { a: null }), "ok");
  assert.equal(outcome(required, {}), 'Response field "a" is missing');
  assert.equal(
    outcome(required, { a: "y" }),
    'Response field "a" must be one of "x", got the string "y"',
  );
});

Deno.test("quoted server text is redacted before it is cut", () => {
  const secret = `tml-${"s".repeat(60)}`;
  const redact = (text: string) => text.replaceAll(secret, "[REDACTED]");
  assert.throws(
    () => validate("CheckpointsListResponse", listing({ ...checkpoint, time: secret }), redact),
    (error: Error) => error.message.includes('got the string "[REDACTED]"'),
  );
  // Only during that call: the next one quotes as it is.
  assert.throws(
    () => validate("CheckpointsListResponse", listing({ ...checkpoint, time: "x".repeat(50) })),
    (error: Error) => error.message.endsWith(`got the string "${"x".repeat(40)}"`),
  );
});

Deno.test("dates: the common shapes, and anything else Date.parse accepts", () => {
  const times = [
    "2026-01-28T23:59:59Z",
    "2026-01-28T23:59:59.123Z",
    "2026-01-28T23:59:59.123456+05:30",
    "2026-01-31T00:00:00Z", // past day 28: Date.parse decides
    "2026-01-28 12:00:00",
  ];
  for (const time of times) {
    assert.equal(outcome("CheckpointsListResponse", listing({ ...checkpoint, time })), "ok", time);
  }
  for (const time of ["2026-13-01T00:00:00Z", "", "2026-01-28T25:00:00Z"]) {
    assert.match(
      outcome("CheckpointsListResponse", listing({ ...checkpoint, time })),
      /"checkpoints\[0\]\.time" must be an ISO-8601 date-time string/,
      time,
    );
  }
});
