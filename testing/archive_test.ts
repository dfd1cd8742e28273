import assert from "node:assert/strict";
import { call, readTar } from "./_test_helpers.ts";
import { checkpointArchive } from "./_archive.ts";
import { handleStorage, signUrl } from "./_storage.ts";
import { tarSize } from "./_tar.ts";
import { createState } from "./_state.ts";
import { DEFAULT_BEHAVIOUR, FAKE_IDS, type FakeTinker, startFakeTinker } from "./mod.ts";

const ARCHIVE = `/api/v1/training_runs/${FAKE_IDS.run}/checkpoints/weights/000010/archive`;

async function archiveUrl(fake: FakeTinker, path = ARCHIVE): Promise<string> {
  const res = await call(fake, "GET", path);
  assert.equal(res.status, 302);
  return res.headers.get("location")!;
}

Deno.test("archive redirect: a signed storage URL that serves the checkpoint tar", async (t) => {
  await using fake = await startFakeTinker();
  let location = "";
  await t.step("the API answers 302 with Location and an Expires 15 minutes out", async () => {
    const res = await call(fake, "GET", ARCHIVE);
    assert.equal(res.status, 302);
    assert.equal(res.body, undefined);
    location = res.headers.get("location")!;
    const url = new URL(location);
    assert.equal(url.origin, fake.storageUrl);
    assert.equal(url.pathname, `/signed/${FAKE_IDS.run.replaceAll(":", "%3A")}/weights/000010.tar`);
    assert.deepEqual([...url.searchParams.keys()], [
      "X-Goog-Algorithm",
      "X-Goog-Credential",
      "X-Goog-Date",
      "X-Goog-Expires",
      "X-Goog-SignedHeaders",
      "X-Goog-Signature",
    ]);
    const expires = Date.parse(res.headers.get("expires")!);
    assert.ok(Math.abs(expires - Date.now() - 900_000) < 5000);
  });
  await t.step("the storage origin serves a ustar with the adapter files", async () => {
    const res = await fetch(location);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/x-tar");
    const bytes = await res.bytes();
    assert.equal(Number(res.headers.get("content-length")), bytes.byteLength);
    const files = readTar(bytes);
    assert.deepEqual(files.map((f) => [f.name, f.size]), [
      ["adapter_config.json", files[0]!.size],
      ["adapter_model.safetensors", 65536],
      ["checkpoint_complete", 0],
    ]);
    const config = JSON.parse(new TextDecoder().decode(files[0]!.data));
    const run = fake.state!.runs.get(FAKE_IDS.run)!;
    assert.equal(config.base_model_name_or_path, run.base_model);
    assert.equal(config.r, run.lora_rank);
    assert.equal(config.peft_type, "LORA");
    const st = files[1]!.data;
    const headerLength = Number(new DataView(st.buffer, st.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(st.subarray(8, 8 + headerLength)));
    const [tensor] = Object.values(header).filter((v) => (v as { dtype?: string }).dtype) as {
      data_offsets: [number, number];
    }[];
    assert.equal(8 + headerLength + tensor!.data_offsets[1], 65536);
  });
  await t.step("archives are deterministic", async () => {
    const [a, b] = await Promise.all([
      fetch(location).then((r) => r.bytes()),
      fetch(location).then((r) => r.bytes()),
    ]);
    assert.deepEqual(a, b);
  });
  await t.step("storage refuses a forwarded X-API-Key and records it", async () => {
    const res = await fetch(location, { headers: { "X-API-Key": fake.apiKey } });
    assert.equal(res.status, 403);
    assert.deepEqual(await res.json(), { detail: "Credentials must not be sent to storage" });
    assert.equal(fake.storageLog.at(-1)!.headers["x-api-key"], fake.apiKey);
    assert.equal(fake.storageLog.at(-1)!.status, 403);
  });
  await t.step("a tampered signature is a 403", async () => {
    const url = new URL(location);
    url.searchParams.set("X-Goog-Signature", "00".repeat(32));
    const res = await fetch(url);
    assert.equal(res.status, 403);
    assert.match(await res.text(), /SignatureDoesNotMatch/);
  });
  await t.step("a deleted checkpoint is a 404 at the API and at storage", async () => {
    fake.state!.deleteCheckpoint(FAKE_IDS.run, "weights/000010");
    const res = await fetch(location);
    assert.equal(res.status, 404);
    await res.body?.cancel();
    assert.equal((await call(fake, "GET", ARCHIVE)).status, 404);
  });
});

Deno.test("an expired signature is refused by storage", async () => {
  const ctx = {
    state: createState(),
    options: { ...DEFAULT_BEHAVIOUR },
    secret: "s3cret",
    storageUrl: "http://storage.test",
    parked: new Map(),
  };
  const url = new URL(
    signUrl(ctx, `/signed/${FAKE_IDS.run}/weights/000010.tar`, Date.now() - 901_000),
  );
  const fresh = new URL(signUrl(ctx, `/signed/${FAKE_IDS.run}/weights/000010.tar`));
  const expired = await handleStorage(ctx, "GET", url.pathname + url.search, {});
  assert.equal(expired.status, 403);
  assert.match(String(expired.body), /ExpiredToken/);
  assert.equal((await handleStorage(ctx, "GET", fresh.pathname + fresh.search, {})).status, 200);
});

Deno.test("archive modes: no Expires, JSON and not-ready", async (t) => {
  await using fake = await startFakeTinker({ archiveMode: "redirect-no-expires" });
  await t.step("redirect-no-expires omits Expires", async () => {
    const res = await call(fake, "GET", ARCHIVE);
    assert.equal(res.status, 302);
    assert.equal(res.headers.get("expires"), null);
  });
  await t.step("json answers 200 {url, expires}", async () => {
    await fake.setOptions({ archiveMode: "json" });
    const res = await call(fake, "GET", ARCHIVE);
    const body = res.body as { url: string; expires: string };
    assert.deepEqual([res.status, Object.keys(body)], [200, ["url", "expires"]]);
    assert.ok(body.url.startsWith(`${fake.storageUrl}/signed/`));
    assert.match(body.expires, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });
  await t.step("not-ready answers 503 twice per checkpoint, then redirects", async () => {
    await fake.setOptions({ archiveMode: "not-ready" });
    assert.equal((await call(fake, "GET", ARCHIVE)).status, 503);
    assert.equal((await call(fake, "GET", ARCHIVE)).status, 503);
    assert.equal((await call(fake, "GET", ARCHIVE)).status, 302);
    const other = ARCHIVE.replace(FAKE_IDS.run, FAKE_IDS.bigRun);
    assert.equal((await call(fake, "GET", other)).status, 503);
  });
});

Deno.test("archive access: someone else's checkpoint only when public", async () => {
  await using fake = await startFakeTinker();
  const base = `/api/v1/training_runs/${FAKE_IDS.foreignRun}/checkpoints`;
  assert.equal((await call(fake, "GET", `${base}/weights/000010/archive`)).status, 404);
  assert.equal((await call(fake, "GET", `${base}/sampler_weights/000010/archive`)).status, 302);
});

Deno.test("gzip mode serves a gzipped tar with a Content-Length", async () => {
  await using fake = await startFakeTinker({ archiveGzip: true, archiveBytes: 100_000 });
  const res = await fetch(await archiveUrl(fake));
  assert.equal(res.headers.get("content-type"), "application/gzip");
  const gz = await res.bytes();
  assert.equal(Number(res.headers.get("content-length")), gz.byteLength);
  assert.deepEqual([...gz.subarray(0, 2)], [0x1f, 0x8b]);
  const tar = await new Response(
    new Blob([gz]).stream().pipeThrough(new DecompressionStream("gzip")),
  ).bytes();
  assert.deepEqual(readTar(tar).map((f) => f.size).slice(1), [100_000, 0]);
});

Deno.test("a multi-gigabyte archive streams with its exact Content-Length", async () => {
  await using fake = await startFakeTinker({ archiveBytes: 3 * 2 ** 30 });
  const res = await fetch(await archiveUrl(fake));
  const reader = res.body!.getReader();
  const first = await reader.read();
  await reader.cancel();
  const run = fake.state!.runs.get(FAKE_IDS.run)!;
  const entries = checkpointArchive(run, run.checkpoints[0]!, 3 * 2 ** 30);
  assert.equal(Number(res.headers.get("content-length")), tarSize(entries));
  assert.ok(tarSize(entries) > 3 * 2 ** 30);
  assert.equal(new TextDecoder().decode(first.value!.subarray(0, 19)), "adapter_config.json");
});

Deno.test("auditRedirect sends the audit log through the storage origin", async () => {
  await using fake = await startFakeTinker({ auditRedirect: true });
  const res = await call(fake, "GET", "/api/v1/audit?event_type=all&day=2026-09-12");
  assert.equal(res.status, 302);
  const location = res.headers.get("location")!;
  assert.ok(location.startsWith(`${fake.storageUrl}/signed/audit/`));
  const withKey = await fetch(location, { headers: { "X-API-Key": fake.apiKey } });
  assert.equal(withKey.status, 403);
  await withKey.body?.cancel();
  const body = await (await fetch(location)).json();
  assert.ok(body.entries.length > 0);
});
