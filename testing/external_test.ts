import assert from "node:assert/strict";
import { call } from "./_test_helpers.ts";
import { FAKE_IDS, type FakeCheckpoint, startFakeTinker } from "./mod.ts";

const RUN = FAKE_IDS.run;
const URLS =
  `/api/v1/training_runs/${RUN}/checkpoints/external_weights/000010/external_weights_urls`;

Deno.test("external-weights checkpoints are listed with the run's checkpoints", async () => {
  await using fake = await startFakeTinker();
  const res = await call(fake, "GET", `/api/v1/training_runs/${RUN}/checkpoints`);
  const { checkpoints } = res.body as { checkpoints: FakeCheckpoint[] };
  const external = checkpoints.find((c) => c.tinker_path === FAKE_IDS.externalCheckpointPath);
  assert.deepEqual(external && Object.keys(external), [
    "checkpoint_id",
    "checkpoint_type",
    "time",
    "tinker_path",
    "size_bytes",
    "public",
    "user_metadata",
    "expires_at",
  ]);
  assert.equal(external!.checkpoint_type, "external");
  assert.equal(external!.checkpoint_id, "external_weights/000010");
  const times = checkpoints.map((c) => c.time);
  assert.deepEqual(times, [...times].sort(), "oldest first");
});

Deno.test("external_weights_urls signs every file for 15 minutes", async () => {
  await using fake = await startFakeTinker();
  const before = Date.now();
  const res = await call(fake, "GET", URLS);
  assert.equal(res.status, 200);
  const { urls, expires } = res.body as { urls: Record<string, string>; expires: string };
  assert.deepEqual(Object.keys(urls), ["adapter_config.json", "adapter_model.safetensors"]);
  for (const url of Object.values(urls)) {
    assert.ok(url.startsWith(`${fake.storageUrl}/signed/`), url);
    assert.ok(new URL(url).searchParams.has("X-Goog-Signature"));
  }
  const left = Date.parse(expires) - before;
  assert.ok(left > 899_000 && left < 901_000, `expires in ${left} ms`);
});

Deno.test("the storage origin serves the external files and rejects API keys", async () => {
  await using fake = await startFakeTinker({ archiveBytes: 4096 });
  const { urls } = (await call(fake, "GET", URLS)).body as { urls: Record<string, string> };
  const config = await fetch(urls["adapter_config.json"]!);
  assert.equal(config.status, 200);
  assert.equal((await config.json()).peft_type, "LORA");
  const model = await fetch(urls["adapter_model.safetensors"]!);
  assert.equal(model.headers.get("content-length"), "4096");
  assert.equal((await model.arrayBuffer()).byteLength, 4096);
  const keyed = await fetch(urls["adapter_config.json"]!, {
    headers: { "x-api-key": fake.apiKey },
  });
  assert.equal(keyed.status, 403);
  await keyed.body?.cancel();
  const forged = await fetch(
    // Change the signature's first hex digit (to another digit, whatever it was).
    urls["adapter_config.json"]!.replace(
      /Signature=([0-9a-f])/,
      (_, digit) => `Signature=${digit === "0" ? "1" : "0"}`,
    ),
  );
  assert.equal(forged.status, 403);
  await forged.body?.cancel();
  const other = urls["adapter_config.json"]!.replace("adapter_config.json", "checkpoint_complete");
  assert.equal((await fetch(other)).status, 403, "a path the fake did not sign");
});

Deno.test("external_weights_urls answers 404 for unknown, foreign or non-external checkpoints", async () => {
  await using fake = await startFakeTinker();
  const none = await call(fake, "GET", URLS.replace("000010", "none"));
  assert.deepEqual([none.status, none.body], [404, { detail: "Checkpoint not found" }]);
  const foreign = await call(fake, "GET", URLS.replace(RUN, FAKE_IDS.foreignRun));
  assert.equal(foreign.status, 404);
  const weights = await call(fake, "GET", URLS.replace("external_weights", "weights"));
  assert.deepEqual([weights.status, weights.body], [404, { detail: "Not Found" }]);
  const archive = URLS.replace("external_weights_urls", "archive");
  assert.equal((await call(fake, "GET", archive)).status, 404, "external exports have no archive");
});

Deno.test("external checkpoints can have a TTL and be deleted", async () => {
  await using fake = await startFakeTinker();
  const path = `/api/v1/training_runs/${RUN}/checkpoints/external_weights/000010`;
  const ttl = await call(fake, "PUT", `${path}/ttl`, { body: { ttl_seconds: 3600 } });
  assert.equal(ttl.status, 204);
  assert.ok(fake.state!.checkpoint(RUN, "external_weights/000010")!.expires_at);
  assert.equal((await call(fake, "DELETE", path)).status, 204);
  assert.equal((await call(fake, "GET", URLS)).status, 404);
});

Deno.test("weights info and copies accept external-weights paths", async () => {
  await using fake = await startFakeTinker();
  const info = await call(fake, "POST", "/api/v1/weights_info", {
    body: { tinker_path: FAKE_IDS.externalCheckpointPath },
  });
  assert.equal(info.status, 200);
  const copy = await call(fake, "POST", "/api/v1/copy_weights", {
    body: { destination_project_id: "proj-b", source_path: FAKE_IDS.externalCheckpointPath },
  });
  assert.equal(copy.status, 200);
  assert.match((copy.body as { tinker_path: string }).tinker_path, /\/external_weights\/000010$/);
});

Deno.test("the client config answer can carry extra fields", async () => {
  await using fake = await startFakeTinker({
    clientConfig: { billing_exception_max_pause_duration_sec: 0 },
  });
  const res = await call(fake, "POST", "/api/v1/client/config", {
    body: { sdk_version: "0.38.0" },
  });
  assert.equal(
    (res.body as Record<string, unknown>).billing_exception_max_pause_duration_sec,
    0,
  );
  await fake.setOptions({ clientConfig: {} });
  const plain = await call(fake, "POST", "/api/v1/client/config", { body: {} });
  assert.equal("billing_exception_max_pause_duration_sec" in (plain.body as object), false);
});
