// The character checks that replaced regexes on the CLI's start-up path (a
// regex costs 10–120 µs on its first use in a short-lived process) accept
// exactly what those regexes accepted, and the date-time check decides the
// same whether `Date.parse` checks a value alone or after the regex.

import assert from "node:assert/strict";
import { encodeQuery, isLoopback } from "./_request.ts";
import { storableFlags } from "./_bootstrap_cache.ts";
import { SchemaIssue, validate } from "./_schema.ts";

/** Strings at the edges of the character classes below (ASCII neighbours, non-ASCII, empty). */
const EDGES = [
  "",
  "a",
  "Z",
  "09",
  "_",
  "-",
  ".",
  "~",
  "run-1.2_x~",
  "a b",
  "a+b",
  "a/b",
  "a:b",
  "a@b",
  "a%20",
  "`",
  "{",
  "[",
  "^",
  "\\",
  "@",
  "/",
  ":",
  "é",
  "ß",
  "٣", // an Arabic-Indic digit: \d and \w (without the u flag) are ASCII only
  "\u212a", // the Kelvin sign, which case-insensitive Unicode regexes fold to K
  "x\n",
  "\0",
  "x".repeat(64),
  "x".repeat(65),
];

Deno.test("query values of [A-Za-z0-9_.~-] are sent as they are; others are encoded as before", () => {
  const plain = /^[\w.~-]*$/;
  for (const value of EDGES) {
    const expected = plain.test(value) ? value : encodeURIComponent(value)
      .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
      .replaceAll("%20", "+");
    assert.equal(encodeQuery(value), expected, JSON.stringify(value));
  }
  assert.equal(encodeQuery("a b!*"), "a+b%21%2A");
});

Deno.test("loopback hosts are localhost, [::1] and 127.*, as before", () => {
  const hosts = ["localhost", "[::1]", "127.0.0.1", "127.1.2.3", "127.", "127", "1127.0.0.1"];
  for (const host of [...hosts, "localhost.example", "::1", "128.0.0.1", "", "x127.0.0.1"]) {
    const expected = host === "localhost" || host === "[::1]" || /^127\./.test(host);
    assert.equal(isLoopback(host), expected, host);
  }
});

Deno.test("flag names of 1-64 characters of [A-Za-z0-9_] are stored, others are not", () => {
  const name = /^[A-Za-z0-9_]{1,64}$/;
  for (const key of EDGES) {
    const flags = storableFlags({ [key]: true });
    assert.equal(key in flags, name.test(key), JSON.stringify(key));
  }
});

Deno.test("date-times pass exactly when Date.parse accepts them, before and after the regex goes first", () => {
  const good = "2026-01-31T03:04:05.123456Z"; // the common form: the regex passes it once warm
  const odd = "2026-02-29T00:00:00+05:30"; // not a date, but Date.parse takes it: as before
  const bad = "yesterday";
  const runs = (times: unknown[]) => ({
    training_runs: times.map((time, i) => ({
      training_run_id: `run-${i}`,
      base_model: "m",
      model_owner: "o",
      is_lora: false,
      last_request_time: time,
    })),
    cursor: { offset: 0, limit: times.length, total_count: times.length },
  });
  const problem = (times: unknown[]) => {
    try {
      validate("TrainingRunsResponse", runs(times));
      return "ok";
    } catch (error) {
      assert.ok(error instanceof SchemaIssue);
      return error.message;
    }
  };
  // Past the first few hundred values of the process, the regex goes first.
  for (let round = 0; round < 3; round++) {
    const times: unknown[] = Array.from({ length: 400 }, (_, i) => (i % 2 ? good : odd));
    assert.equal(problem(times), "ok");
    times[399] = bad;
    assert.equal(
      problem(times),
      `Response field "training_runs[399].last_request_time" must be an ISO-8601 date-time string, got the string "yesterday"`,
    );
    times[399] = 17;
    assert.equal(
      problem(times),
      `Response field "training_runs[399].last_request_time" must be an ISO-8601 date-time string, got number 17`,
    );
  }
});
