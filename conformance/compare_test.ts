import assert from "node:assert/strict";
import type { RecordedRequest } from "../testing/mod.ts";
import {
  diffOutcomes,
  diffRequests,
  diffValues,
  instant,
  normalize,
  outcomeOf,
  splitLog,
} from "./compare.ts";
import { DELIBERATE } from "./deliberate.ts";
import { NotFoundError, TinkerPathError } from "../mod.ts";

const request = (path: string, init: Partial<RecordedRequest> = {}): RecordedRequest => ({
  method: "GET",
  rawPath: path,
  path: path.split("?")[0]!,
  query: [],
  headers: { host: "127.0.0.1:1", "x-api-key": "tml-k" },
  body: "",
  bytes: new Uint8Array(),
  json: undefined,
  status: 200,
  time: 0,
  ...init,
});
const origins = { api: "http://127.0.0.1:1", storage: "http://127.0.0.1:2" };

Deno.test("the log splits into bootstraps and calls, without SDK-only requests", () => {
  const { bootstrap, calls } = splitLog([
    request("/api/v1/client/config", { method: "POST" }),
    request("/api/v1/auth/token", { method: "POST" }),
    request("/api/v1/client/dynamic_config", { method: "POST" }),
    request("/api/v1/training_runs/r"),
    request("/api/v1/telemetry", { method: "POST" }),
    request("/api/v1/auth/token", { method: "POST" }),
  ]);
  assert.deepEqual(bootstrap.map((r) => r.rawPath), [
    "/api/v1/client/config",
    "/api/v1/auth/token",
  ]);
  assert.deepEqual(calls.map((r) => r.rawPath), ["/api/v1/training_runs/r", "/api/v1/auth/token"]);
  assert.equal(calls[0]!.headers.host, undefined, "the host (port) is not compared");
});

Deno.test("credentials compare by kind and idempotency keys by prefix and reuse", () => {
  const key = (k: string) => ({ "x-idempotency-key": k, "x-api-key": "eyJabc" });
  const { calls } = splitLog([
    request("/a", { method: "POST", headers: key("p-11111111-1111-4111-8111-111111111111") }),
    request("/a", { method: "POST", headers: key("p-11111111-1111-4111-8111-111111111111") }),
    request("/b", { method: "POST", headers: key("22222222-2222-4222-8222-222222222222") }),
  ]);
  assert.deepEqual(calls.map((c) => c.headers["x-idempotency-key"]), [
    "p-<uuid#1>",
    "p-<uuid#1>",
    "<uuid#2>",
  ]);
  assert.equal(calls[0]!.headers["x-api-key"], "<jwt>");
});

Deno.test("request differences name the field, header and call", () => {
  const a = splitLog([request("/x?limit=5", { headers: { accept: "application/json" } })]).calls;
  const b = splitLog([request("/x?limit=6", { headers: { accept: "*/*" } })]).calls;
  const kinds = diffRequests(a, b).map((d) => `${d.kind}:${d.name ?? ""}`);
  assert.deepEqual(kinds, ["path:", "header:accept"]);
  assert.equal(diffRequests(a, [])[0]!.kind, "request-count");
  assert.deepEqual(diffRequests(a, a), []);
});

Deno.test("date-times compare as instants, and near now with a tolerance", () => {
  assert.deepEqual(instant("2026-07-13T05:00:00.123456Z"), {
    ms: Date.UTC(2026, 6, 13, 5, 0, 0, 123),
    micros: 456,
  });
  assert.equal(instant("2026-07-13T10:00:00+05:00")!.ms, Date.UTC(2026, 6, 13, 5));
  assert.equal(instant("not a date"), undefined);
  assert.deepEqual(diffValues("2026-07-13T05:00:00.000000Z", "2026-07-13T05:00:00Z", "t"), []);
  assert.equal(diffValues("2026-07-13T05:00:00.000001Z", "2026-07-13T05:00:00Z", "t").length, 1);
  const now = Date.now();
  const soon = (ms: number) => new Date(now + ms).toISOString();
  assert.deepEqual(diffValues(soon(1000), soon(5000), "t", now), []);
  assert.equal(diffValues(soon(0), soon(120_000), "t", now).length, 1);
});

Deno.test("results differ by missing keys, values and key order", () => {
  const diffs = diffValues({ a: 1, b: null }, { a: 1, b: null, c: null }, "r");
  assert.deepEqual(diffs.map((d) => [d.where, d.ours]), [["r.c", "<absent>"]]);
  assert.equal(diffValues({ a: 1, b: 2 }, { b: 2, a: 1 }, "r")[0]!.kind, "result-key-order");
  assert.equal(diffValues([1, 2], [1], "r")[0]!.where, "r (length)");
});

Deno.test("signed URLs normalise to placeholders", () => {
  const url = `${origins.storage}/signed/x?X-Goog-Date=20260101T000000Z&X-Goog-Expires=900` +
    "&X-Goog-Signature=abc";
  assert.equal(
    (normalize({ url }, origins) as { url: string }).url,
    "<storage>/signed/x?X-Goog-Date=*&X-Goog-Expires=900&X-Goog-Signature=*",
  );
  assert.equal(normalize(undefined, origins), null);
});

Deno.test("our errors map onto the SDK's exception names", async () => {
  const notFound = await outcomeOf(() => {
    throw new NotFoundError({ status: 404, body: { detail: "nope" } });
  });
  const sdk = { error: { class: "NotFoundError", status: 404, body: { detail: "nope" } } };
  assert.deepEqual(diffOutcomes(notFound, sdk, "s", { ours: origins, theirs: origins }), []);
  const path = await outcomeOf(() => {
    throw new TinkerPathError("x", "bad");
  });
  const value = { error: { class: "ValidationError", status: null, body: null } };
  assert.deepEqual(diffOutcomes(path, value, "s", { ours: origins, theirs: origins }), []);
  assert.deepEqual(await outcomeOf(() => undefined), { ok: null });
});

Deno.test("deliberate rules have unique ids and reasons", () => {
  const ids = DELIBERATE.map((d) => d.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const d of DELIBERATE) assert.ok(d.reason.length > 40, d.id);
});

Deno.test("a header difference the rules do not name is not accepted", () => {
  const facts = { tags: [], ourCalls: 1, theirCalls: 1 };
  const extra = {
    kind: "header" as const,
    where: "call 1",
    name: "x-extra",
    ours: "1",
    theirs: undefined,
  };
  assert.equal(DELIBERATE.some((d) => d.matches(extra, facts)), false);
  const retry = { ...extra, name: "x-stainless-retry-count", ours: undefined, theirs: "0" };
  assert.equal(DELIBERATE.some((d) => d.matches(retry, facts)), false);
  const ua = { ...extra, name: "user-agent" };
  assert.equal(DELIBERATE.some((d) => d.matches(ua, facts)), true);
});

Deno.test("json-number-spelling accepts only the SDK's body re-spelled by JSON.stringify", () => {
  const rule = DELIBERATE.find((d) => d.id === "json-number-spelling")!;
  const facts = { tags: [], ourCalls: 1, theirCalls: 1 };
  const body = (ours: string, theirs: string) => ({
    kind: "body" as const,
    where: "call 1",
    ours,
    theirs,
  });
  assert.ok(rule.matches(body('{"t":1,"lr":0.00001}', '{"t":1.0,"lr":1e-05}'), facts));
  assert.ok(!rule.matches(body('{"t":2}', '{"t":1.0}'), facts), "another value");
  assert.ok(!rule.matches(body('{"b":1,"a":1}', '{"a":1.0,"b":1.0}'), facts), "another key order");
  const length = {
    kind: "header" as const,
    where: "call 1",
    name: "content-length",
    ours: "9",
    theirs: "11",
  };
  assert.ok(!rule.matches(length, facts));
  assert.ok(rule.matches(length, { ...facts, tags: ["json-floats"] }));
});
