import assert from "node:assert/strict";
import { caught, rejection } from "./tests/_assert.ts";
import {
  ApiError,
  ApiTimeoutError,
  ApiUserAbortError,
  InvalidArgumentError,
  RequestFailedError,
  ServiceClient,
  type ServiceClientOptions,
  SessionExpiredError,
  TinkerError,
  TrainingClient,
} from "./mod.ts";
import {
  FAKE_IDS,
  type FakeTinker,
  type FakeTinkerOptions,
  type RecordedRequest,
  spawnFakeTinker,
  startFakeTinker,
} from "./testing/mod.ts";

const CKPT = FAKE_IDS.checkpointPath;

function service(fake: FakeTinker, options: ServiceClientOptions = {}): ServiceClient {
  return new ServiceClient({
    baseUrl: fake.url,
    apiKey: fake.apiKey,
    initialRetryDelayMs: 1,
    maxRetryDelayMs: 5,
    ...options,
  });
}

async function requests(fake: FakeTinker, path?: string): Promise<RecordedRequest[]> {
  const log = await fake.requests();
  return path === undefined ? log : log.filter((r) => r.path === path);
}

const bodies = async (fake: FakeTinker, path: string) =>
  (await requests(fake, path)).map((r) => r.json as Record<string, unknown>);

/** Waits until `test` holds (checked every 20 ms, for at most 10 s). */
async function until(test: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!(await test())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The error of a call that may throw at once or reject. */
async function failure(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  return assert.fail("expected a failure");
}

async function fakeWith(options: FakeTinkerOptions = {}) {
  return await startFakeTinker(options);
}

Deno.test("a session is created once, on first need, and finished by close(status)", async () => {
  await using fake = await fakeWith();
  const client = service(fake, {
    userMetadata: { team: "a" },
    projectId: "proj-beta",
    displayName: "nightly",
    tags: ["x", "y", "x"],
  });
  assert.equal(client.sessionId, undefined);
  assert.equal((await requests(fake)).length, 0, "nothing is sent at construction");

  const [a, b] = await Promise.all([
    client.createTrainingClientFromState(CKPT),
    client.createTrainingClientFromState(CKPT, { userMetadata: { run: "2" } }),
  ]);
  const created = await bodies(fake, "/api/v1/create_session");
  assert.deepEqual(created, [{
    tags: ["x", "y"],
    user_metadata: { team: "a" },
    sdk_version: "0.38.0",
    project_id: "proj-beta",
    display_name: "nightly",
    type: "create_session",
  }]);
  const id = client.sessionId!;
  assert.equal(a.modelId, `${id}:train:0`);
  assert.equal(b.modelId, `${id}:train:1`);
  const loads = await bodies(fake, "/api/v1/load_weights");
  assert.deepEqual(loads.map((l) => l.model_seq_id).sort(), [0, 1]);
  assert.deepEqual(loads.find((l) => l.model_seq_id === 1), {
    session_id: id,
    model_seq_id: 1,
    user_metadata: { run: "2" },
    path: CKPT,
    optimizer: false,
    type: "load_weights",
  });
  assert.equal(a.getInfo().model_id, a.modelId);
  assert.equal(a.getInfo().model_data.model_name, fake.state!.runs.get(FAKE_IDS.run)!.base_model);

  await client.close("success", "done");
  await client.close("errored"); // Closed already: nothing more is sent.
  assert.deepEqual(await bodies(fake, `/api/v1/sessions/${id}/finish`), [
    { reason: { type: "success" }, detail: "done" },
  ]);
  assert.deepEqual(fake.state!.sessions.get(id)!.live!.finished, {
    reason: "success",
    detail: "done",
  });
  const error = await failure(() => a.saveWeightsExternal("late"));
  assert.ok(error instanceof TinkerError && /closed/.test(error.message), String(error));
});

Deno.test("close() before any session sends nothing; bad statuses are refused", async () => {
  await using fake = await fakeWith();
  const client = service(fake);
  assert.ok(caught(() => client.close("done" as "success")) instanceof InvalidArgumentError);
  await client.close();
  {
    using unused = service(fake);
    await using unusedToo = service(fake);
    assert.ok(unused !== unusedToo);
  }
  assert.equal((await requests(fake)).length, 0);
  assert.ok(caught(() => client.createTrainingClientFromState(CKPT)) instanceof TinkerError);
});

Deno.test("await using finishes the session: success, or errored after a failed call", async (t) => {
  await t.step("success", async () => {
    await using fake = await fakeWith();
    let id: string;
    {
      await using client = service(fake);
      await client.createTrainingClientFromState(CKPT);
      id = client.sessionId!;
    }
    assert.deepEqual(await bodies(fake, `/api/v1/sessions/${id}/finish`), [
      { reason: { type: "success" }, detail: null },
    ]);
  });
  await t.step("errored", async () => {
    await using fake = await fakeWith();
    let id: string;
    {
      await using client = service(fake);
      const training = await client.createTrainingClientFromState(CKPT);
      id = client.sessionId!;
      await fake.setOptions({ futureFailure: { error: "disk full" } });
      await rejection(training.saveWeightsExternal("x"));
    }
    assert.deepEqual(await bodies(fake, `/api/v1/sessions/${id}/finish`), [
      { reason: { type: "errored" }, detail: null },
    ]);
  });
});

Deno.test("heartbeats go out at the interval while the session lives, and stop at close", async () => {
  await using fake = await fakeWith();
  const client = service(fake, { heartbeatIntervalMs: 30 });
  await client.createTrainingClientFromState(CKPT);
  const id = client.sessionId!;
  await until(
    async () => (await requests(fake, "/api/v1/session_heartbeat")).length >= 3,
    "three heartbeats",
  );
  for (const body of await bodies(fake, "/api/v1/session_heartbeat")) {
    assert.deepEqual(body, { session_id: id, type: "session_heartbeat" });
  }
  await client.close();
  const count = (await requests(fake, "/api/v1/session_heartbeat")).length;
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal((await requests(fake, "/api/v1/session_heartbeat")).length, count);
});

Deno.test("an expired session (heartbeat 404) is a clear error on the next call", async () => {
  await using fake = await fakeWith({ sessionExpiryMs: 50 });
  const client = service(fake, { heartbeatIntervalMs: 200 });
  const training = await client.createTrainingClientFromState(CKPT);
  await until(
    async () => (await requests(fake, "/api/v1/session_heartbeat")).some((r) => r.status === 404),
    "a heartbeat answered 404",
  );
  // The fake logs the 404 before the client has read it: let the heartbeat's answer arrive.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const error = await failure(() => training.saveWeightsExternal("x"));
  assert.ok(error instanceof SessionExpiredError, String(error));
  assert.equal(error.sessionId, client.sessionId);
  assert.match(error.message, /heartbeat was answered 404/);
  assert.ok(
    (await failure(() => client.createTrainingClientFromState(CKPT))) instanceof
      SessionExpiredError,
  );
  const before = (await requests(fake)).length;
  await new Promise((resolve) => setTimeout(resolve, 400));
  assert.equal((await requests(fake)).length, before, "no more heartbeats");
  await client.close("errored");
  assert.equal((await requests(fake, `/api/v1/sessions/${client.sessionId}/finish`)).length, 1);
});

Deno.test({
  name: "the heartbeat timer does not keep a process alive",
  ignore: Deno.permissions === undefined, // Deno only (not under the Bun runner)
  fn: heartbeatProcessTest,
});

async function heartbeatProcessTest() {
  await using fake = await fakeWith();
  const script = `
    import { ServiceClient } from ${JSON.stringify(new URL("./mod.ts", import.meta.url).href)};
    const service = new ServiceClient({ baseUrl: ${JSON.stringify(fake.url)}, apiKey: ${
    JSON.stringify(fake.apiKey)
  }, heartbeatIntervalMs: 200 });
    await service.createTrainingClientFromState(${JSON.stringify(CKPT)});
    console.log("created", service.sessionId);
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", script],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const out = await child.output();
  clearTimeout(timer);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.match(new TextDecoder().decode(out.stdout), /^created /);
}

Deno.test("futures: polled with the SDK's headers until their result", async (t) => {
  await t.step("held, then 408 try_again, then the result", async () => {
    // Ready after 2.5 s; each poll is held up to 1 s: one or two 408s, then the result.
    await using fake = await fakeWith({ futureDelayMs: 2500 });
    await using client = service(fake);
    await client.createTrainingClientFromState(CKPT);
    const polls = await requests(fake, "/api/v1/retrieve_future");
    const statuses = polls.map((p) => p.status);
    assert.ok(statuses.length >= 2 && statuses.at(-1) === 200, String(statuses));
    assert.ok(statuses.slice(0, -1).every((s) => s === 408), String(statuses));
    assert.deepEqual(
      polls.map((p) => p.headers["x-tinker-request-iteration"]),
      polls.map((_, i) => String(i)),
    );
    assert.ok(polls.every((p) => p.headers["x-tinker-request-type"] === "LoadWeights"));
    assert.match(polls[0]!.headers["x-tinker-create-promise-roundtrip-time"]!, /^\d+(\.\d+)?/);
    assert.equal(polls[1]!.headers["x-tinker-create-promise-roundtrip-time"], undefined);
    const [load] = await requests(fake, "/api/v1/load_weights");
    const requestId = [...fake.state!.futures.values()][0]!.request_id;
    assert.equal(load!.status, 200);
    assert.deepEqual(polls[0]!.json, { request_id: requestId, allow_metadata_only: true });
  });

  await t.step("try_again twice, with the queue state logged", async () => {
    await using fake = await fakeWith({
      futureTryAgainCount: 2,
      futureQueueState: "paused_capacity",
    });
    const lines: string[] = [];
    await using client = service(fake, { logger: (line) => lines.push(line) });
    await client.createTrainingClientFromState(CKPT);
    const polls = await requests(fake, "/api/v1/retrieve_future");
    assert.deepEqual(polls.map((p) => p.headers["x-tinker-request-iteration"]), ["0", "1", "2"]);
    assert.ok(
      lines.some((l) => /\(LoadWeights\): queue paused_capacity: /.test(l)),
      lines.join("\n"),
    );
  });

  await t.step("a failed future is a RequestFailedError", async () => {
    await using fake = await fakeWith();
    await using client = service(fake);
    const training = await client.createTrainingClientFromState(CKPT);
    await fake.setOptions({
      futureFailure: { error: "disk full", category: "server", requestType: "SaveWeightsExternal" },
    });
    const error = await rejection(training.saveWeightsExternal("x"));
    assert.ok(error instanceof RequestFailedError, String(error));
    assert.equal(error.category, "server");
    assert.match(error.message, /\(SaveWeightsExternal\) failed: disk full/);
    assert.ok(fake.state!.futures.has(error.requestId));
  });

  await t.step("loading a missing checkpoint fails as a user error", async () => {
    await using fake = await fakeWith();
    await using client = service(fake);
    const error = await rejection(
      client.createTrainingClientFromState(CKPT.replace("000010", "999999")),
    );
    assert.ok(error instanceof RequestFailedError && error.category === "user", String(error));
  });

  await t.step("410 Gone: the promise expired", async () => {
    await using fake = await fakeWith();
    await using client = service(fake);
    await fake.inject({ path: "/api/v1/retrieve_future", status: 410 });
    const error = await rejection(client.createTrainingClientFromState(CKPT));
    assert.ok(error instanceof ApiError && error.status === 410, String(error));
    assert.match(error.message, /no longer holds the result of request .* \(LoadWeights\)/);
  });

  await t.step("a 503 on a poll is retried", async () => {
    await using fake = await fakeWith();
    await using client = service(fake);
    await fake.inject({ path: "/api/v1/retrieve_future", status: 503 });
    await client.createTrainingClientFromState(CKPT);
    const polls = await requests(fake, "/api/v1/retrieve_future");
    assert.deepEqual(polls.map((p) => p.status), [503, 200]);
  });
});

Deno.test("a signal that fires while polling sends cancel_future", async () => {
  await using fake = await fakeWith({ futureDelayMs: 60_000 });
  await using client = service(fake);
  const controller = new AbortController();
  const pending = client.createTrainingClientFromState(CKPT, { signal: controller.signal });
  await until(
    async () => (await requests(fake, "/api/v1/retrieve_future")).length > 0,
    "a poll",
  );
  controller.abort();
  const error = await rejection(pending);
  assert.ok(error instanceof ApiUserAbortError, String(error));
  const [future] = [...fake.state!.futures.values()];
  assert.deepEqual(await bodies(fake, "/api/v1/cancel_future"), [
    { request_id: future!.request_id },
  ]);
  assert.equal(future!.cancelled, true);
});

Deno.test("a future past its deadline is an ApiTimeoutError and is cancelled", async () => {
  await using fake = await fakeWith({ futureDelayMs: 60_000 });
  await using client = service(fake);
  const error = await rejection(client.createTrainingClientFromState(CKPT, { deadlineMs: 300 }));
  assert.ok(error instanceof ApiTimeoutError, String(error));
  assert.match(error.message, /did not arrive within 300 ms/);
  assert.equal((await requests(fake, "/api/v1/cancel_future")).length, 1);
});

Deno.test("timeoutMs limits the request that starts a call, not a poll the server holds", async () => {
  await using fake = await fakeWith({ futureDelayMs: 400 }); // The fake holds the poll until then.
  await using client = service(fake);
  const training = await client.createTrainingClientFromState(CKPT, { timeoutMs: 100 });
  assert.ok(training);
  assert.equal((await requests(fake, "/api/v1/retrieve_future")).length, 1);
});

Deno.test("calls of one model go out in call order with sequence ids, un-awaited", async () => {
  await using fake = await fakeWith({ futureDelayMs: 50 });
  await using client = service(fake);
  const training = await client.createTrainingClientFromState(CKPT);
  // The first save is refused once (503), then slow to answer: the others still wait their turn.
  await fake.inject({ path: "/api/v1/save_weights_external", status: 503 });
  await fake.inject({ path: "/api/v1/save_weights_external", delayMs: 200 });
  const names = ["a", "b", "c", "d"];
  const saved = await Promise.all(names.map((n) => training.saveWeightsExternal(n)));
  assert.deepEqual(
    saved.map((s) => s.path),
    names.map((n) => `tinker://${training.modelId}/external_weights/${n}`),
  );
  const sent = await requests(fake, "/api/v1/save_weights_external");
  assert.deepEqual(
    sent.map((r) => [(r.json as { seq_id: number }).seq_id, r.status]),
    [[1, 503], [1, 200], [2, 200], [3, 200], [4, 200]],
  );
  assert.deepEqual(sent.map((r) => (r.json as { path: string }).path), ["a", "a", "b", "c", "d"]);
});

Deno.test("a failed call still lets the model's later calls go", async () => {
  await using fake = await fakeWith();
  await using client = service(fake);
  const training = await client.createTrainingClientFromState(CKPT);
  await fake.inject({ path: "/api/v1/save_weights_external", status: 400 });
  const first = training.saveWeightsExternal("a");
  const second = training.saveWeightsExternal("b");
  assert.ok((await rejection(first)) instanceof ApiError);
  assert.equal((await second).path, `tinker://${training.modelId}/external_weights/b`);
});

Deno.test("an aborted call gives up its turn", async () => {
  await using fake = await fakeWith();
  await using client = service(fake);
  const training = await client.createTrainingClientFromState(CKPT);
  await fake.inject({ path: "/api/v1/save_weights_external", delayMs: 300 });
  const controller = new AbortController();
  const first = training.saveWeightsExternal("a");
  const second = training.saveWeightsExternal("b", { signal: controller.signal });
  const third = training.saveWeightsExternal("c");
  controller.abort();
  assert.ok((await rejection(second)) instanceof ApiUserAbortError);
  await first;
  await third;
  const sent = await bodies(fake, "/api/v1/save_weights_external");
  assert.deepEqual(sent.map((b) => [b.path, b.seq_id]), [["a", 1], ["c", 3]]);
});

Deno.test("saveWeightsExternal exports files the storage origin serves", async () => {
  await using fake = await fakeWith({ archiveBytes: 3000 });
  await using client = service(fake);
  const training = await client.createTrainingClientFromState(CKPT);
  const saved = await training.saveWeightsExternal("download", { ttlSeconds: 3600 });
  assert.deepEqual(await bodies(fake, "/api/v1/save_weights_external"), [{
    model_id: training.modelId,
    path: "download",
    seq_id: 1,
    ttl_seconds: 3600,
    type: "save_weights_external",
  }]);
  const rest = client.createRestClient();
  const { urls } = await rest.getExternalWeightsUrls(saved.path);
  assert.deepEqual(Object.keys(urls).sort(), ["adapter_config.json", "adapter_model.safetensors"]);
  let total = 0;
  for (const url of Object.values(urls)) {
    const res = await fetch(url);
    assert.equal(res.status, 200);
    total += (await res.arrayBuffer()).byteLength;
  }
  assert.equal(total, saved.size_bytes);
  await rest.deleteCheckpointFromTinkerPath(saved.path);
  assert.equal(fake.state!.checkpoint(training.modelId, "external_weights/download"), undefined);
  rest.close();
});

Deno.test("arguments are checked before anything is sent", async () => {
  await using fake = await fakeWith();
  await using client = service(fake);
  assert.ok(caught(() => client.createTrainingClientFromState("s3://x")) instanceof TinkerError);
  assert.ok(
    caught(() => client.createTrainingClientFromState(CKPT, { deadlineMs: 0 })) instanceof
      InvalidArgumentError,
  );
  const training = await client.createTrainingClientFromState(CKPT);
  for (
    const bad of [
      () => training.saveWeightsExternal("x", { ttlSeconds: 60 }),
      () => training.saveWeightsExternal(""),
      () => training.saveWeightsExternal("x", { ageEncryptionRecipients: Array(11).fill("age1x") }),
    ]
  ) {
    assert.ok(caught(bad) instanceof InvalidArgumentError);
  }
  assert.ok(caught(() => new TrainingClient()) instanceof TinkerError);
  assert.ok(
    caught(() => new ServiceClient({ heartbeatIntervalMs: -1 })) instanceof InvalidArgumentError,
  );
});

Deno.test({
  name: ".result() blocks on sessions and futures, in call order",
  ignore: Deno.permissions === undefined, // Deno only: the Bun runner's Deno stand-in cannot spawn
  fn: syncTest,
});

async function syncTest(t: Deno.TestContext) {
  await using fake = await spawnFakeTinker({ futureTryAgainCount: 1, futureDelayMs: 100 });
  await t.step("createTrainingClientFromState and saveWeightsExternal", async () => {
    const client = service(fake);
    const training = client.createTrainingClientFromState(CKPT).result();
    assert.equal(training.modelId, `${client.sessionId}:train:0`);
    const a = training.saveWeightsExternal("a");
    const b = training.saveWeightsExternal("b");
    // b's turn comes after a's: blocking on b sends a first.
    assert.equal(b.result().path, `tinker://${training.modelId}/external_weights/b`);
    assert.equal((await a).path, `tinker://${training.modelId}/external_weights/a`);
    const seqs = (await requests(fake, "/api/v1/save_weights_external"))
      .map((r) => (r.json as { seq_id: number }).seq_id);
    assert.deepEqual(seqs, [1, 2]);
    client.close("success").result();
    const finish = await requests(fake, `/api/v1/sessions/${client.sessionId}/finish`);
    assert.equal(finish.length, 1);
  });
  await t.step("using closes the session, blocking", async () => {
    let id: string;
    {
      using client = service(fake);
      client.createTrainingClientFromState(CKPT).result();
      id = client.sessionId!;
    }
    const finish = await requests(fake, `/api/v1/sessions/${id}/finish`);
    assert.deepEqual(finish.map((r) => r.json), [{ reason: { type: "success" }, detail: null }]);
  });
}

Deno.test("the key never shows in a failed future's error or the log", async () => {
  await using fake = await fakeWith();
  const lines: string[] = [];
  await using client = service(fake, { logger: (line) => lines.push(line) });
  const training = await client.createTrainingClientFromState(CKPT);
  await fake.setOptions({ futureFailure: { error: `bad key ${fake.apiKey}` } });
  const error = await rejection(training.saveWeightsExternal("x"));
  assert.ok(error instanceof RequestFailedError);
  assert.match(error.message, /bad key \[redacted\]/);
  assert.ok(!String(error.stack).includes(fake.apiKey));
  assert.ok(!lines.join("\n").includes(fake.apiKey));
});

Deno.test("getConsoleUrl is the sessions page, then the session's page, and sends nothing", async () => {
  await using fake = await startFakeTinker();
  await using client = service(fake);
  assert.equal(client.getConsoleUrl(), "https://tinker.thinkingmachines.ai/sessions");
  assert.deepEqual(await requests(fake), []);
  const training = await client.createLoraTrainingClient("Qwen/Qwen3-8B");
  const sessionId = client.sessionId!;
  assert.equal(client.getConsoleUrl(), `https://tinker.thinkingmachines.ai/sessions/${sessionId}`);
  const before = (await requests(fake)).length;
  assert.equal(
    training.getConsoleUrl(),
    `https://tinker.thinkingmachines.ai/training_runs/${sessionId}:train:0`,
  );
  assert.equal((await requests(fake)).length, before);
});

Deno.test("copyWeights is the REST client's copy into the client's project, with no session", async (t) => {
  await using fake = await startFakeTinker();
  await t.step(
    "the projectId option is the destination; ttl and token go as the SDK's",
    async () => {
      await using client = service(fake, { projectId: "proj-archive", env: {} });
      const copy = await client.copyWeights(CKPT, {
        ttlSeconds: 7200,
        weightsAccessToken: "tml-weights-token",
      });
      const run = await client.createRestClient().getTrainingRunByTinkerPath(copy);
      assert.ok(copy.startsWith(`tinker://${run.training_run_id}/`));
      const [sent] = await requests(fake, "/api/v1/copy_weights");
      assert.equal(
        sent!.body,
        JSON.stringify({
          destination_project_id: "proj-archive",
          source_path: CKPT,
          ttl_seconds: 7200,
        }),
      );
      assert.equal(sent!.headers["x-tinker-weights-access-token"], "tml-weights-token");
      assert.equal(client.sessionId, undefined);
      assert.deepEqual(await requests(fake, "/api/v1/create_session"), []);
    },
  );
  await t.step("without projectId, TINKER_PROJECT_ID; without either, a clear error", async () => {
    await using fromEnv = service(fake, { env: { TINKER_PROJECT_ID: "proj-env" } });
    await fromEnv.copyWeights(CKPT);
    const bodies = (await requests(fake, "/api/v1/copy_weights")).map((r) => r.json);
    assert.equal((bodies.at(-1) as Record<string, unknown>).destination_project_id, "proj-env");
    await using none = service(fake, { env: {} });
    const error = caught(() => none.copyWeights(CKPT));
    assert.ok(error instanceof InvalidArgumentError);
    assert.match(error.message, /destinationProjectId: is required/);
  });
  await t.step("destinationProjectId is not an option of the service's copy", async () => {
    await using client = service(fake, { projectId: "p", env: {} });
    const options = { destinationProjectId: "other" } as Record<string, unknown>;
    const error = caught(() => client.copyWeights(CKPT, options));
    assert.ok(error instanceof InvalidArgumentError);
    assert.match(error.message, /destinationProjectId/);
  });
});
