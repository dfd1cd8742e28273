import assert from "node:assert/strict";
import { FAKE_IDS, startFakeTinker } from "./mod.ts";
import { call } from "./_test_helpers.ts";
import type { FakeTinker } from "./mod.ts";

const CKPT = FAKE_IDS.checkpointPath;

async function openSession(fake: FakeTinker): Promise<string> {
  const res = await call(fake, "POST", "/api/v1/create_session", {
    body: { tags: ["t"], user_metadata: { a: "1" }, sdk_version: "0.38.0", type: "create_session" },
  });
  assert.equal(res.status, 200);
  return (res.body as { session_id: string }).session_id;
}

async function load(fake: FakeTinker, session: string, seq = 0, path = CKPT) {
  return await call(fake, "POST", "/api/v1/load_weights", {
    body: { session_id: session, model_seq_id: seq, path, optimizer: false, type: "load_weights" },
  });
}

const retrieve = (fake: FakeTinker, requestId: string) =>
  call(fake, "POST", "/api/v1/retrieve_future", {
    body: { request_id: requestId, allow_metadata_only: true },
  });

Deno.test("fake sessions: created, listed, kept alive by heartbeats, finished once", async () => {
  await using fake = await startFakeTinker();
  const id = await openSession(fake);
  assert.equal((await call(fake, "GET", `/api/v1/sessions/${id}`)).status, 200);
  const beat = await call(fake, "POST", "/api/v1/session_heartbeat", {
    body: { session_id: id, type: "session_heartbeat" },
  });
  assert.deepEqual([beat.status, beat.body], [200, { type: "session_heartbeat" }]);
  assert.equal(fake.state!.sessions.get(id)!.live!.heartbeats, 1);
  const finish = (type: string) =>
    call(fake, "POST", `/api/v1/sessions/${id}/finish`, {
      body: { reason: { type }, detail: null },
    });
  assert.equal((await finish("errored")).status, 204);
  assert.equal((await finish("success")).status, 204);
  assert.deepEqual(fake.state!.sessions.get(id)!.live!.finished, {
    reason: "errored",
    detail: null,
  });
  assert.equal((await finish("bogus")).status, 422);
  const after = await call(fake, "POST", "/api/v1/session_heartbeat", {
    body: { session_id: id, type: "session_heartbeat" },
  });
  assert.equal(after.status, 410, "a finished session's heartbeat");
  assert.equal((await load(fake, id)).status, 410);
});

Deno.test("fake sessions: without heartbeats a session expires (404)", async () => {
  await using fake = await startFakeTinker({ sessionExpiryMs: 30 });
  const id = await openSession(fake);
  await new Promise((resolve) => setTimeout(resolve, 60));
  const beat = await call(fake, "POST", "/api/v1/session_heartbeat", {
    body: { session_id: id, type: "session_heartbeat" },
  });
  assert.deepEqual([beat.status, beat.body], [404, { detail: "Session expired: no heartbeat" }]);
  const unknown = await call(fake, "POST", "/api/v1/session_heartbeat", {
    body: { session_id: "nope", type: "session_heartbeat" },
  });
  assert.equal(unknown.status, 404);
});

Deno.test("fake futures: held polls, 408 try_again, injected try_again and failures", async () => {
  await using fake = await startFakeTinker({ futureDelayMs: 1300 });
  const id = await openSession(fake);
  const submitted = await load(fake, id);
  const { request_id, model_id } = submitted.body as { request_id: string; model_id: string };
  assert.equal(model_id, `${id}:train:0`);
  const first = await retrieve(fake, request_id);
  assert.deepEqual([first.status, first.body], [408, {
    type: "try_again",
    request_id,
    queue_state: "active",
  }]);
  const second = await retrieve(fake, request_id);
  assert.deepEqual([second.status, second.body], [200, {
    type: "load_weights",
    path: CKPT,
    model_id,
  }]);
  assert.equal((await call(fake, "POST", "/api/v1/get_info", { body: { model_id } })).status, 200);

  await fake.setOptions({
    futureDelayMs: 0,
    futureTryAgainCount: 1,
    futureQueueState: "paused_rate_limit",
    futureFailure: { error: "boom", requestType: "SaveWeightsExternal" },
  });
  const save = await call(fake, "POST", "/api/v1/save_weights_external", {
    body: { model_id, path: "x", seq_id: 1, type: "save_weights_external" },
  });
  const saveId = (save.body as { request_id: string }).request_id;
  const again = await retrieve(fake, saveId);
  assert.equal((again.body as { queue_state: string }).queue_state, "paused_rate_limit");
  const failed = await retrieve(fake, saveId);
  assert.deepEqual(failed.body, { error: "boom", category: "server" });
  assert.equal(fake.state!.checkpoint(model_id, "external_weights/x"), undefined);
  assert.equal((await retrieve(fake, "unknown")).status, 404);
});

Deno.test("fake models: sequence ids in order, resends deduplicated, cancel_future", async () => {
  await using fake = await startFakeTinker({ futureDelayMs: 60_000 });
  const id = await openSession(fake);
  const modelId = ((await load(fake, id)).body as { model_id: string }).model_id;
  const save = (seq: number, path: string) =>
    call(fake, "POST", "/api/v1/save_weights_external", {
      body: { model_id: modelId, path, seq_id: seq, type: "save_weights_external" },
    });
  const two = await save(2, "b");
  assert.equal(two.status, 200, "a request ahead of seq 1 is accepted, and held");
  assert.deepEqual((await save(2, "b")).body, two.body, "a resend gets the same future");
  assert.equal(fake.state!.checkpoint(modelId, "external_weights/b"), undefined);
  const one = await save(1, "a");
  assert.equal(one.status, 200, "seq 1 arriving late is applied, then the held seq 2");
  assert.ok(fake.state!.checkpoint(modelId, "external_weights/a"));
  assert.ok(fake.state!.checkpoint(modelId, "external_weights/b"));
  const four = await save(4, "d");
  // Seq 3 never comes: a poll after the wait applies seq 4, skipping the gap.
  await new Promise((resolve) => setTimeout(resolve, 350));
  await fake.setOptions({ futureDelayMs: 0 });
  const polled = await retrieve(fake, (four.body as { request_id: string }).request_id);
  assert.equal(polled.status, 200, "applied by the poll");
  assert.ok(fake.state!.checkpoint(modelId, "external_weights/d"));
  const late = await save(3, "c");
  assert.equal(late.status, 400);
  assert.match(String((late.body as { detail: string }).detail), /out of order/);
  const requestId = (two.body as { request_id: string }).request_id;
  const cancel = await call(fake, "POST", "/api/v1/cancel_future", {
    body: { request_id: requestId },
  });
  assert.equal(cancel.status, 200);
  assert.deepEqual((await retrieve(fake, requestId)).body, {
    error: "Request was cancelled",
    category: "user",
  });
  assert.ok(fake.log.some((r) => r.path === "/api/v1/cancel_future"), "in the request log");
});

Deno.test("fake save_weights_external: a 1 GiB export is served from storage, streamed", async () => {
  const bytes = 1024 ** 3;
  await using fake = await startFakeTinker({ archiveBytes: bytes });
  const id = await openSession(fake);
  const modelId = ((await load(fake, id)).body as { model_id: string }).model_id;
  const save = await call(fake, "POST", "/api/v1/save_weights_external", {
    body: { model_id: modelId, path: "big", seq_id: 1, ttl_seconds: 3600 },
  });
  const result = await retrieve(fake, (save.body as { request_id: string }).request_id);
  const { path, size_bytes } = result.body as { path: string; size_bytes: number };
  assert.equal(path, `tinker://${modelId}/external_weights/big`);
  assert.ok(size_bytes > bytes);
  const urls = await call(
    fake,
    "GET",
    `/api/v1/training_runs/${modelId}/checkpoints/external_weights/big/external_weights_urls`,
  );
  const files = (urls.body as { urls: Record<string, string> }).urls;
  const res = await fetch(files["adapter_model.safetensors"]!);
  assert.equal(res.headers.get("content-length"), String(bytes));
  // Read the first chunk only: the body is streamed, not built in memory.
  const reader = res.body!.getReader();
  const { value } = await reader.read();
  assert.ok(value!.byteLength > 0 && value!.byteLength < bytes);
  await reader.cancel();
  const checkpoint = fake.state!.checkpoint(modelId, "external_weights/big")!;
  assert.equal(checkpoint.checkpoint_type, "external");
  assert.ok(checkpoint.expires_at !== null);
});

Deno.test("fake load_weights refuses sampler checkpoints and unknown sessions", async () => {
  await using fake = await startFakeTinker();
  const id = await openSession(fake);
  const sampler = await load(fake, id, 0, FAKE_IDS.publicCheckpointPath);
  const result = await retrieve(fake, (sampler.body as { request_id: string }).request_id);
  assert.equal((result.body as { category: string }).category, "user");
  assert.equal((await load(fake, "no-such-session", 1)).status, 404);
});
