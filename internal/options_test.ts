// Unknown option keys (what TypeScript cannot catch in plain JavaScript or
// in a variable) throw InvalidArgumentError naming the key and the nearest
// known one, before anything is sent.

import assert from "node:assert/strict";
import { caught } from "../tests/_assert.ts";
import {
  AdminClient,
  InvalidArgumentError,
  RestClient,
  ServiceClient,
  TinkerError,
} from "../mod.ts";
import { closest } from "./_options.ts";
import { FAKE_IDS, startFakeTinker } from "../testing/mod.ts";

/** Options as plain JavaScript would pass them. */
// deno-lint-ignore no-explicit-any
const js = (options: Record<string, unknown>): any => options;

Deno.test("an unknown client option names the key and the known spelling", () => {
  const error = caught(() => new RestClient(js({ baseURL: "http://127.0.0.1:9", apiKey: "k" })));
  assert.ok(error instanceof InvalidArgumentError, `got ${error}`);
  assert.ok(error instanceof TinkerError);
  assert.equal(error.argument, "baseURL");
  assert.match(error.message, /"baseURL" is not an option of new RestClient\(\)/);
  assert.match(error.message, /did you mean "baseUrl"\?/);
});

Deno.test("ServiceClient and AdminClient check their options too", () => {
  for (
    const make of [
      () => new ServiceClient(js({ api_key: "k" })),
      () => new AdminClient(js({ apikey: "k" })),
    ]
  ) {
    const error = caught(make);
    assert.ok(error instanceof InvalidArgumentError, `got ${error}`);
    assert.match(error.message, /did you mean "apiKey"\?/);
  }
});

Deno.test("a key far from every known one lists the known keys", () => {
  const error = caught(() => new RestClient(js({ proxyAgent: {} })));
  assert.ok(error instanceof InvalidArgumentError);
  assert.match(
    error.message,
    /"proxyAgent" is not an option of new RestClient\(\); the known ones are apiKey, baseUrl/,
  );
});

Deno.test("options that are not an object are rejected", () => {
  const error = caught(() => new RestClient(js("http://127.0.0.1:9" as never)));
  assert.ok(error instanceof InvalidArgumentError);
  assert.match(error.message, /takes an options object, got string/);
});

Deno.test("every known client option is accepted", () => {
  const rest = new RestClient({
    apiKey: "tml-x",
    baseUrl: "http://127.0.0.1:9",
    maxRetries: 1,
    timeoutMs: 10,
    initialRetryDelayMs: 1,
    maxRetryDelayMs: 2,
    archivePollIntervalMs: 1,
    tracePollIntervalMs: 1,
    defaultHeaders: {},
    fetch: globalThis.fetch,
    logger: undefined,
    blocking: true,
  });
  assert.equal(rest.baseUrl, "http://127.0.0.1:9");
});

Deno.test("per-call options: unknown keys throw before sending, per method", async (t) => {
  await using fake = await startFakeTinker();
  const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey });
  const admin = new AdminClient({ baseUrl: fake.url, apiKey: fake.apiKey });
  const cases: [string, () => unknown, string, string | undefined][] = [
    [
      "getTrainingRun",
      () => rest.getTrainingRun(FAKE_IDS.run, js({ access_scope: "owned" })),
      "access_scope",
      "accessScope",
    ],
    [
      "getTrainingRunByTinkerPath",
      () => rest.getTrainingRunByTinkerPath(FAKE_IDS.checkpointPath, js({ timeout: 5 })),
      "timeout",
      "timeoutMs",
    ],
    ["listTrainingRuns", () => rest.listTrainingRuns(js({ pageSize: 5 })), "pageSize", undefined],
    [
      "listTrainingRuns",
      () => rest.listTrainingRuns(js({ projectID: "p" })),
      "projectID",
      "projectId",
    ],
    [
      "listCheckpoints",
      () => rest.listCheckpoints(FAKE_IDS.run, js({ limit: 5 })),
      "limit",
      undefined,
    ],
    ["listUserCheckpoints", () => rest.listUserCheckpoints(js({ ofset: 5 })), "ofset", "offset"],
    ["listSessions", () => rest.listSessions(js({ limt: 5 })), "limt", "limit"],
    ["getAuditLog", () => rest.getAuditLog(js({ event_type: "all" })), "event_type", "eventType"],
    [
      "copyWeights",
      () => rest.copyWeights(FAKE_IDS.checkpointPath, js({ ttl: 5 })),
      "ttl",
      undefined,
    ],
    [
      "getCurrentCheckpointStorageUsage",
      () => rest.getCurrentCheckpointStorageUsage(js({ project: "p" })),
      "project",
      "projectId",
    ],
    [
      "deleteCheckpointFromTinkerPath",
      () => rest.deleteCheckpointFromTinkerPath(FAKE_IDS.checkpointPath, js({ signl: undefined })),
      "signl",
      "signal",
    ],
    ["whoami", () => rest.whoami(js({ timeoutMS: 5 })), "timeoutMS", "timeoutMs"],
    ["AdminClient.getAuditLog", () => admin.getAuditLog(js({ dy: "2026-01-01" })), "dy", "day"],
  ];
  for (const [method, call, key, near] of cases) {
    await t.step(`${method}({ ${key} })`, () => {
      const error = caught(call);
      assert.ok(error instanceof InvalidArgumentError, `got ${error}`);
      assert.equal(error.argument, key);
      assert.match(error.message, new RegExp(`"${key}" is not an option of \\w+\\(\\)`));
      if (near) assert.match(error.message, new RegExp(`did you mean "${near}"\\?`));
      else assert.match(error.message, /the known ones are signal, timeoutMs/);
    });
  }
  assert.equal(fake.log.length, 0, "nothing was sent");
});

Deno.test("closest() ignores case, underscores and dashes, and refuses far keys", () => {
  const known = ["baseUrl", "apiKey", "maxRetries"];
  assert.equal(closest("baseURL", known), "baseUrl");
  assert.equal(closest("base_url", known), "baseUrl");
  assert.equal(closest("max-retries", known), "maxRetries");
  assert.equal(closest("maxRetry", known), "maxRetries");
  assert.equal(closest("headers", known), undefined);
});
