// The npm build of @tinker-ts/tinker from TypeScript under Node 20: compiled
// by stock tsc (strict, NodeNext: the package's `exports` and `.d.ts` files),
// then run. Run by tests/node/run.ts.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type ClientOptions,
  InvalidArgumentError,
  NotFoundError,
  RestClient,
  SyncUnavailableError,
  type TinkerFuture,
  type TrainingRun,
} from "@tinker-ts/tinker";
import {
  FAKE_IDS,
  type FakeTinker,
  spawnFakeTinker,
  startFakeTinker,
} from "@tinker-ts/tinker/testing";

function client(fake: FakeTinker): RestClient {
  const options: ClientOptions = { baseUrl: fake.url, apiKey: fake.apiKey };
  return new RestClient(options);
}

test("typed calls against the in-process fake", async () => {
  await using fake = await startFakeTinker();
  const rest = client(fake);
  const future: TinkerFuture<TrainingRun> = rest.getTrainingRun(FAKE_IDS.run);
  const run: TrainingRun = await future;
  assert.equal(run.training_run_id, FAKE_IDS.run);
  const ids: string[] = [];
  for await (const r of rest.listTrainingRuns({ limit: 7 })) {
    ids.push(r.training_run_id);
  }
  assert.equal(ids.length, new Set(ids).size);
});

test("spawnFakeTinker from TypeScript", async () => {
  await using fake = await spawnFakeTinker({ tracePendingCount: 0 });
  const url: string = await client(fake).exportSessionTrace(FAKE_IDS.sessionId);
  assert.ok(url.startsWith(fake.storageUrl));
});

test("errors narrow by class", async () => {
  await using fake = await startFakeTinker();
  const error: unknown = await client(fake).getTrainingRun("missing:train:0")
    .catch((e) => e);
  assert.ok(error instanceof NotFoundError);
  const status: 404 = error.status; // the .d.ts narrows it
  assert.equal(status, 404);
  assert.throws(() => client(fake).whoami().result(), SyncUnavailableError);
  const fromJavaScript = { baseURL: fake.url } as unknown as ClientOptions;
  assert.throws(() => new RestClient(fromJavaScript), InvalidArgumentError);
});
