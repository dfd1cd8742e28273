// `tinker checkpoint download` of a training checkpoint through a temporary
// export, as SDK 0.38's CLI does it, against the fake: the files equal what
// the fake exported (digests computed by the fake), and the export is deleted
// and the session finished on success, on a cut transfer, on Ctrl-C and on
// SIGTERM (signals to a `deno run cli/_entry.ts` process). Also the SDK's refusal of sampler
// checkpoints, the archive fallback of a server without session routes, and
// re-signing with the export's TTL renewed (through `downloadCheckpoint`).

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { FAKE_IDS, type FakeTinker, spawnFakeTinker, startFakeTinker } from "../testing/mod.ts";
import type { RecordedRequest } from "../testing/mod.ts";
import { main } from "../cli/_entry.ts";
import { downloadCheckpoint, type DownloadProgress } from "../download.ts";
import { listTree } from "./_reliability.ts";

const CKPT = FAKE_IDS.checkpointPath;
const NAME = CKPT.replace("tinker://", "").replaceAll("/", "_");
const CLI = new URL("../cli/_entry.ts", import.meta.url).pathname;

async function sha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Uint8Array);
  return hash.digest("hex");
}

/** The export the CLI made (from `save_weights_external`), its deletion and the session's end. */
function exportTrail(log: RecordedRequest[]) {
  const save = log.find((r) => r.path === "/api/v1/save_weights_external");
  assert.ok(save, "no save_weights_external request");
  const body = save.json as { model_id: string; path: string; ttl_seconds: number };
  assert.equal(body.path, "download");
  assert.equal(body.ttl_seconds, 3600);
  const exported = `tinker://${body.model_id}/external_weights/download`;
  const checkpointPath =
    `/api/v1/training_runs/${body.model_id}/checkpoints/external_weights/download`;
  const deletes = log.filter((r) => r.method === "DELETE" && r.path === checkpointPath);
  const finishes = log.filter((r) => /^\/api\/v1\/sessions\/[^/]+\/finish$/.test(r.path));
  return {
    exported,
    deleted: deletes.length === 1 && deletes[0]!.status === 204,
    finished: finishes.map((r) => [(r.json as { reason: { type: string } }).reason.type, r.status]),
    ttlRenewals: log.filter((r) => r.method === "PUT" && r.path === `${checkpointPath}/ttl`).length,
  };
}

/** `deno run cli/_entry.ts checkpoint download …` in its own process. */
function cliProcess(fake: FakeTinker, args: string[], cwd: string) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "checkpoint", "download", ...args],
    cwd,
    env: { TINKER_API_KEY: fake.apiKey, TINKER_BASE_URL: fake.url, NO_COLOR: "1" },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

Deno.test({
  name:
    "a 1 GiB training checkpoint downloads through the export flow, equal to what the fake exported",
  sanitizeResources: false, // the child's pipes are read to the end by output()
  async fn() {
    await using fake = await spawnFakeTinker({ archiveBytes: 1024 ** 3 });
    const dir = await Deno.makeTempDir({ prefix: "tinker-export-" });
    try {
      const got = await cliProcess(fake, [CKPT, "-o", "out", "-f", "json"], dir).output();
      const err = new TextDecoder().decode(got.stderr);
      assert.equal(got.code, 0, err);
      assert.equal(err, "", "-f json prints no status line");
      const out = JSON.parse(new TextDecoder().decode(got.stdout));
      assert.equal(out.destination, `out/${NAME}`);
      assert.equal(out.file_size_bytes > 1024 ** 3, true);
      const trail = exportTrail(await fake.requests());
      assert.ok(trail.deleted, "the temporary export was deleted");
      assert.deepEqual(trail.finished, [["success", 204]]);
      assert.equal(trail.ttlRenewals, 1);
      const digests = await fake.fileDigests(trail.exported);
      assert.deepEqual(Object.keys(digests).sort(), [
        "adapter_config.json",
        "adapter_model.safetensors",
      ]);
      for (const [file, digest] of Object.entries(digests)) {
        assert.equal(await sha256(`${dir}/out/${NAME}/${file}`), digest, file);
      }
      assert.deepEqual(await listTree(`${dir}/out`), [
        `${NAME}/`,
        `${NAME}/adapter_config.json`,
        `${NAME}/adapter_model.safetensors`,
      ]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("a cut transfer of the export still deletes it and finishes the session errored", async () => {
  await using fake = await startFakeTinker({ archiveBytes: 1 << 20 });
  const dir = await Deno.makeTempDir({ prefix: "tinker-export-" });
  try {
    await fake.inject({ target: "storage", path: /safetensors$/, truncate: 300_000 });
    let stderr = "";
    const code = await main(["checkpoint", "download", CKPT, "-o", "out"], {
      env: { TINKER_API_KEY: fake.apiKey, TINKER_BASE_URL: fake.url },
      stdout: () => {},
      stderr: (t) => void (stderr += t),
      cwd: dir,
    });
    assert.equal(code, 5, stderr);
    assert.match(stderr, /^Exporting tinker:\/\/.* as external weights \(this starts a training/);
    assert.match(stderr, /Error: Failed to download checkpoint: /);
    const trail = exportTrail(fake.log);
    assert.ok(trail.deleted, "the temporary export was deleted");
    assert.deepEqual(trail.finished, [["errored", 204]]);
    assert.deepEqual(await listTree(`${dir}/out`), [], "nothing left, no partial directory");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (
  const [name, signal, code, message] of [
    ["Ctrl-C (SIGINT)", "SIGINT", 130, /Interrupted/],
    ["SIGTERM (timeout, CI cancellation, docker stop)", "SIGTERM", 143, /Terminated/],
  ] as const
) {
  Deno.test({
    name:
      `${name} mid-export deletes the export, finishes the session and exits ${code}, not killed`,
    ignore: Deno.build.os === "windows",
    sanitizeResources: false,
    async fn() {
      await using fake = await spawnFakeTinker({ archiveBytes: 1 << 20 });
      // The big file's answer is held back: the CLI is mid-download when the signal arrives.
      await fake.inject({ target: "storage", path: /safetensors$/, delayMs: 60_000 });
      const dir = await Deno.makeTempDir({ prefix: "tinker-export-" });
      try {
        const child = cliProcess(fake, [CKPT, "-o", "out"], dir);
        const output = child.output();
        for (let i = 0; i < 600; i++) {
          await fake.requests();
          if (fake.storageLog.some((r) => r.path.endsWith("safetensors"))) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        assert.ok(fake.storageLog.some((r) => r.path.endsWith("safetensors")), "never got there");
        const partial = await listTree(`${dir}/out`);
        assert.ok(partial.some((p) => /^\..*\.partial-\d+-/.test(p)), `no partial dir: ${partial}`);
        child.kill(signal);
        const got = await output;
        const err = new TextDecoder().decode(got.stderr);
        assert.equal(got.signal, null, `killed by ${got.signal}: no cleanup ran`);
        assert.equal(got.code, code, err);
        assert.match(err, message);
        const trail = exportTrail(await fake.requests());
        assert.ok(trail.deleted, "the temporary export was deleted");
        assert.deepEqual(trail.finished, [["errored", 204]]);
        assert.deepEqual(await listTree(`${dir}/out`), [], "nothing left, no partial directory");
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

Deno.test("sampler checkpoints are refused as SDK 0.38 refuses them, before any request", async () => {
  await using fake = await startFakeTinker();
  let stderr = "";
  const code = await main(["checkpoint", "download", FAKE_IDS.publicCheckpointPath], {
    env: { TINKER_API_KEY: fake.apiKey, TINKER_BASE_URL: fake.url },
    stdout: () => {},
    stderr: (t) => void (stderr += t),
    cwd: "/nonexistent-dir-never-written",
  });
  assert.equal(code, 6);
  assert.equal(
    stderr,
    `Error: Sampler checkpoints cannot be downloaded: ${FAKE_IDS.publicCheckpointPath}\n` +
      "Only training (tinker://run-id/weights/name) and external weights (tinker://run-id/external_weights/name) checkpoints can be downloaded.\n",
  );
  assert.deepEqual(fake.log, []);
});

Deno.test("a server without session routes gets the archive route, and stderr says so", async () => {
  await using fake = await startFakeTinker({ sessionRoutes: false });
  const dir = await Deno.makeTempDir({ prefix: "tinker-export-" });
  try {
    let stderr = "";
    const code = await main(["checkpoint", "download", CKPT, "-o", "out"], {
      env: { TINKER_API_KEY: fake.apiKey, TINKER_BASE_URL: fake.url },
      stdout: () => {},
      stderr: (t) => void (stderr += t),
      cwd: dir,
    });
    assert.equal(code, 0, stderr);
    assert.match(
      stderr,
      /The server has no checkpoint export \(it answered 404: Not Found to create_session\); downloading the archive of tinker:\/\/\S+ instead/,
    );
    assert.ok(fake.log.some((r) => r.path.endsWith("/archive")));
    assert.deepEqual(await listTree(`${dir}/out`), [
      `${NAME}/`,
      `${NAME}/adapter_config.json`,
      `${NAME}/adapter_model.safetensors`,
      `${NAME}/checkpoint_complete`,
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a server whose load_weights refuses SDK 0.38's form (400) gets the archive route", async () => {
  // What TuFT, a server of the SDK 0.25 dialect, answers: sessions exist, load_weights wants model_id.
  await using fake = await startFakeTinker();
  await fake.inject({
    path: "/api/v1/load_weights",
    status: 400,
    body: { detail: "Missing model_id" },
  });
  const dir = await Deno.makeTempDir({ prefix: "tinker-export-" });
  try {
    let stderr = "";
    const code = await main(["checkpoint", "download", CKPT, "-o", "out"], {
      env: { TINKER_API_KEY: fake.apiKey, TINKER_BASE_URL: fake.url },
      stdout: () => {},
      stderr: (t) => void (stderr += t),
      cwd: dir,
    });
    assert.equal(code, 0, stderr);
    assert.match(
      stderr,
      /The server has no checkpoint export \(it answered 400: Missing model_id to load_weights\); downloading the archive of tinker:\/\/\S+ instead/,
    );
    assert.ok(fake.log.some((r) => r.path.endsWith("/archive")));
    assert.ok(fake.log.some((r) => r.path.endsWith("/finish")), "the session it made is finished");
    assert.ok((await listTree(`${dir}/out`)).includes(`${NAME}/adapter_model.safetensors`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("downloadCheckpoint re-signs near expiry, renewing the export's TTL each time", async () => {
  await using fake = await startFakeTinker();
  const dir = await Deno.makeTempDir({ prefix: "tinker-export-" });
  try {
    const events: DownloadProgress[] = [];
    const result = await downloadCheckpoint(
      { baseUrl: fake.url, apiKey: fake.apiKey },
      CKPT,
      `${dir}/model`,
      {
        // 11 minutes ahead: the 15-minute URLs are within 5 minutes of expiry before every file.
        now: () => Date.now() + 11 * 60_000,
        onProgress: (p) => events.push(p),
      },
    );
    assert.equal(result.route, "export");
    assert.deepEqual(result.files, ["adapter_config.json", "adapter_model.safetensors"]);
    assert.equal(result.dir, `${dir}/model`);
    const trail = exportTrail(fake.log);
    const signs = fake.log.filter((r) => r.path.endsWith("/external_weights_urls")).length;
    assert.equal(signs, 3, "signed once, then again before each of the two files");
    assert.equal(trail.ttlRenewals, 3, "each signing resets the export's TTL");
    assert.ok(trail.deleted);
    assert.deepEqual(trail.finished, [["success", 204]]);
    const ends = events.filter((e) => e.event === "end");
    assert.deepEqual(ends.map((e) => [e.file, e.index, e.count]), [
      ["adapter_config.json", 1, 2],
      ["adapter_model.safetensors", 2, 2],
    ]);
    assert.equal(ends[1]!.fileBytes, 65536);
    assert.equal(ends[1]!.bytes, result.bytes);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failed export finishes the session errored and leaves nothing", async () => {
  await using fake = await startFakeTinker({
    futureFailure: {
      error: "out of memory",
      category: "server",
      requestType: "SaveWeightsExternal",
    },
  });
  const dir = await Deno.makeTempDir({ prefix: "tinker-export-" });
  try {
    await assert.rejects(
      downloadCheckpoint({ baseUrl: fake.url, apiKey: fake.apiKey }, CKPT, `${dir}/model`),
      /out of memory/,
    );
    const finishes = fake.log.filter((r) => r.path.endsWith("/finish"));
    assert.deepEqual(finishes.map((r) => (r.json as { reason: { type: string } }).reason.type), [
      "errored",
    ]);
    assert.equal(fake.log.filter((r) => r.method === "DELETE").length, 0, "nothing to delete");
    assert.deepEqual(await listTree(dir), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
