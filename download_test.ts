// `downloadCheckpoint` (download.ts) end to end against the fake, with only
// `node:` file APIs in the test itself so that it runs unchanged under Deno and
// Bun (tests/bun_runner.ts); tests/node_smoke.ts runs it under Node. The CLI's
// own tests are tests/export_download_test.ts and cli/download_test.ts.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FAKE_IDS, startFakeTinker } from "./testing/mod.ts";
import { CliError, downloadCheckpoint, type DownloadProgress, Interrupted } from "./download.ts";

const sha256 = async (path: string) =>
  createHash("sha256").update(await readFile(path)).digest("hex");

Deno.test("downloadCheckpoint exports a training checkpoint and cleans up after it", async () => {
  await using fake = await startFakeTinker({ archiveBytes: 3 << 20 });
  const root = await mkdtemp(join(tmpdir(), "tinker-download-lib-"));
  try {
    const messages: string[] = [];
    const progress: DownloadProgress[] = [];
    const result = await downloadCheckpoint(
      { baseUrl: fake.url, apiKey: fake.apiKey },
      FAKE_IDS.checkpointPath,
      join(root, "nested", "model"),
      { onMessage: (line) => messages.push(line), onProgress: (p) => progress.push(p) },
    );
    assert.equal(result.route, "export");
    assert.equal(result.dir, join(root, "nested", "model"));
    assert.deepEqual(result.files, ["adapter_config.json", "adapter_model.safetensors"]);
    assert.match(messages[0]!, /^Exporting tinker:\/\/\S+ as external weights/);
    const save = fake.log.find((r) => r.path === "/api/v1/save_weights_external")!;
    const exported = `tinker://${
      (save.json as { model_id: string }).model_id
    }/external_weights/download`;
    const digests = await fake.fileDigests(exported);
    for (const file of result.files) {
      assert.equal(await sha256(join(result.dir, file)), digests[file], file);
    }
    assert.equal(
      result.bytes,
      progress.filter((p) => p.event === "end").reduce((n, p) => n + p.fileBytes, 0),
    );
    assert.ok(fake.log.some((r) => r.method === "DELETE" && r.status === 204));
    const finish = fake.log.find((r) => r.path.endsWith("/finish"))!;
    assert.deepEqual((finish.json as { reason: unknown }).reason, { type: "success" });
    assert.deepEqual(await readdir(join(root, "nested")), ["model"]);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

Deno.test("downloadCheckpoint fetches every file of an external-weights checkpoint", async () => {
  await using fake = await startFakeTinker();
  const root = await mkdtemp(join(tmpdir(), "tinker-download-lib-"));
  try {
    const result = await downloadCheckpoint(
      { baseUrl: fake.url, apiKey: fake.apiKey },
      FAKE_IDS.externalCheckpointPath,
      join(root, "ext"),
    );
    assert.equal(result.route, "external_weights");
    const digests = await fake.fileDigests(FAKE_IDS.externalCheckpointPath);
    for (const file of result.files) {
      assert.equal(await sha256(join(root, "ext", file)), digests[file], file);
    }
    assert.ok(!fake.log.some((r) => r.path === "/api/v1/create_session"), "no session needed");
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

Deno.test("downloadCheckpoint refuses what it must before any request", async () => {
  await using fake = await startFakeTinker();
  const root = await mkdtemp(join(tmpdir(), "tinker-download-lib-"));
  try {
    const client = { baseUrl: fake.url, apiKey: fake.apiKey };
    const sampler = await downloadCheckpoint(client, FAKE_IDS.publicCheckpointPath, root)
      .catch((e) => e);
    assert.ok(sampler instanceof CliError);
    assert.equal(sampler.code, 6);
    assert.match(sampler.message, /^Sampler checkpoints cannot be downloaded: tinker:\/\//);
    const bad = await downloadCheckpoint(client, "tinker://run/weights", root).catch((e) => e);
    assert.ok(bad instanceof CliError);
    assert.match(bad.message, /^Invalid checkpoint path: /);
    await writeFile(join(root, "keep"), "mine");
    const exists = await downloadCheckpoint(client, FAKE_IDS.checkpointPath, root).catch((e) => e);
    assert.ok(exists instanceof CliError);
    assert.match(exists.message, /^Target directory already exists: /);
    await assert.rejects(
      downloadCheckpoint(
        client,
        FAKE_IDS.checkpointPath,
        join(root, "x"),
        { maxbytes: 1 } as never,
      ),
      /"maxbytes" is not an option of downloadCheckpoint\(\); did you mean "maxBytes"\?/,
    );
    assert.deepEqual(fake.log, []);
    assert.deepEqual(await readdir(root), ["keep"]);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

Deno.test("an aborted downloadCheckpoint deletes the export, closes the session, keeps nothing", async () => {
  await using fake = await startFakeTinker({ archiveBytes: 1 << 20 });
  await fake.inject({ target: "storage", path: /safetensors$/, delayMs: 30_000 });
  const root = await mkdtemp(join(tmpdir(), "tinker-download-lib-"));
  try {
    const controller = new AbortController();
    const running = downloadCheckpoint(
      { baseUrl: fake.url, apiKey: fake.apiKey },
      FAKE_IDS.checkpointPath,
      join(root, "model"),
      {
        signal: controller.signal,
        onProgress: (p) => p.event === "end" && p.index === 1 && controller.abort(),
      },
    );
    const error = await running.catch((e) => e);
    assert.ok(error instanceof Interrupted, String(error));
    assert.ok(fake.log.some((r) => r.method === "DELETE" && r.status === 204));
    const finish = fake.log.find((r) => r.path.endsWith("/finish"))!;
    assert.deepEqual((finish.json as { reason: unknown }).reason, { type: "errored" });
    assert.deepEqual(await readdir(root), []);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

Deno.test("after an abort, a stalled cleanup is cut at cleanupTimeoutMs with warnings", async () => {
  await using fake = await startFakeTinker({ archiveBytes: 1 << 20 });
  await fake.inject({ target: "storage", path: /safetensors$/, delayMs: 30_000 });
  await fake.inject({ method: "DELETE", path: /\/external_weights\/download$/, delayMs: 30_000 });
  await fake.inject({ path: /\/finish$/, delayMs: 30_000 });
  const root = await mkdtemp(join(tmpdir(), "tinker-download-lib-"));
  try {
    const controller = new AbortController();
    const warnings: string[] = [];
    const error = await downloadCheckpoint(
      { baseUrl: fake.url, apiKey: fake.apiKey },
      FAKE_IDS.checkpointPath,
      join(root, "model"),
      {
        signal: controller.signal,
        cleanupTimeoutMs: 300,
        onMessage: (line, level) => level === "warning" && warnings.push(line),
        onProgress: (p) => {
          if (p.event === "end" && p.index === 1) {
            setTimeout(() => controller.abort(), 20); // while the big file's answer is held back
          }
        },
      },
    ).catch((e) => e);
    assert.ok(error instanceof Interrupted, String(error));
    // Both were cut (unbounded, each would have succeeded after 30 s, with no warning).
    assert.equal(warnings.length, 2, warnings.join("\n"));
    assert.match(warnings[0]!, /^Warning: failed to delete the temporary export tinker:\/\/\S+ \(/);
    assert.match(warnings[0]!, /it expires in 3600 seconds\.$/);
    assert.match(warnings[1]!, /^Warning: failed to close the session \S+ \(/);
    assert.deepEqual(await readdir(root), []);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
