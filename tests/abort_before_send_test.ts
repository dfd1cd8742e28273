// A call whose signal is already aborted sends nothing: fetch is called with
// an aborted signal (the call's own listener is wired only once a request
// is on its way), so the server never sees the request.

import assert from "node:assert/strict";
import { ApiUserAbortError, RestClient } from "../mod.ts";
import { FAKE_IDS, startFakeTinker } from "../testing/mod.ts";
import { rejection } from "./_assert.ts";

Deno.test("a call made with an aborted signal is refused without a request", async () => {
  await using fake = await startFakeTinker();
  const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey, maxRetries: 0 });
  await rest.getTrainingRun(FAKE_IDS.run); // The bootstrap is done: the next call goes straight out.
  await fake.clearLog();
  const error = await rejection(
    rest.getTrainingRun(FAKE_IDS.run, { signal: AbortSignal.abort() }),
  );
  assert.ok(error instanceof ApiUserAbortError, String(error));
  assert.deepEqual(await fake.requests(), []);
});

Deno.test("a call aborted while its request is on its way stops at once", async () => {
  await using fake = await startFakeTinker();
  const rest = new RestClient({ baseUrl: fake.url, apiKey: fake.apiKey, maxRetries: 0 });
  await rest.getTrainingRun(FAKE_IDS.run);
  await fake.inject({ path: `/api/v1/training_runs/${FAKE_IDS.run}`, delayMs: 5_000 });
  const controller = new AbortController();
  const pending = rest.getTrainingRun(FAKE_IDS.run, { signal: controller.signal });
  const started = Date.now();
  setTimeout(() => controller.abort(), 50);
  const error = await rejection(pending);
  assert.ok(error instanceof ApiUserAbortError, String(error));
  assert.ok(Date.now() - started < 2_500, "the abort did not wait for the answer");
});
