import assert from "node:assert/strict";
import { safetensors } from "./_archive.ts";
import { handleApi } from "./_routes.ts";
import { createState, parseIso } from "./_state.ts";
import type { Context } from "./_storage.ts";
import { tarStream } from "./_tar.ts";
import { DEFAULT_BEHAVIOUR, FAKE_IDS, type RecordedRequest } from "./mod.ts";

const concat = (chunks: Iterable<Uint8Array>) => {
  const parts = [...chunks];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.byteLength), 0);
  return out;
};

Deno.test("the default seed has the documented shape", () => {
  const state = createState();
  const owned = state.listRuns(false);
  assert.equal(owned.length, 24);
  assert.equal(state.listRuns(true).length, 27);
  assert.equal(state.runs.get(FAKE_IDS.bigRun)!.checkpoints.length, 250);
  assert.equal(state.runs.get(FAKE_IDS.corruptedRun)!.corrupted, true);
  assert.equal(state.runs.get(FAKE_IDS.foreignRun)!.model_owner === state.user, false);
  assert.equal(state.userCheckpoints().length, 284);
  const external = state.userCheckpoints().filter((c) => c.checkpoint_type === "external");
  assert.equal(external.length, 4);
  assert.ok(external.some((c) => c.tinker_path === FAKE_IDS.externalCheckpointPath));
  for (const c of external) {
    assert.match(c.tinker_path, /^tinker:\/\/[^/]+\/external_weights\/\d{6}$/);
    assert.deepEqual(c.user_metadata, { format: "peft" });
  }
  const withSamplers = state.listSessions(false).filter((s) => s.sampler_ids.length > 0);
  assert.equal(withSamplers.length, 8);
  assert.ok(state.samplers.has(FAKE_IDS.samplerId));
  assert.ok(owned.some((r) => r.user_metadata !== null));
  assert.deepEqual(
    new Set(owned.map((r) => r.lora_rank).filter((r) => r !== null)),
    new Set([8, 16, 32, 64]),
  );
  const start = Date.UTC(2026, 7, 1), end = Date.UTC(2026, 9, 1);
  for (const run of state.runs.values()) {
    assert.match(run.training_run_id, /^[0-9a-f-]{36}:train:\d$/);
    for (const t of [run.last_request_time, ...run.checkpoints.map((c) => c.time)]) {
      assert.match(t, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      assert.ok(parseIso(t) >= start && parseIso(t) < end, t);
    }
    for (const c of run.checkpoints) {
      assert.ok(c.expires_at === null || c.expires_at.startsWith("2030-"));
    }
  }
  assert.ok(state.audit.length > 0 && state.billing.length > 0);
});

Deno.test("seeds are deterministic and ids do not depend on seed sizes", () => {
  const a = createState(), b = createState();
  assert.deepEqual([...a.runs.values()], [...b.runs.values()]);
  assert.deepEqual(a.audit, b.audit);
  assert.deepEqual(a.billing, b.billing);
  const small = createState({ runs: 4, checkpointsPerRun: 2, bigRunCheckpoints: 10 });
  assert.deepEqual(small.runs.get(FAKE_IDS.run), a.runs.get(FAKE_IDS.run));
  assert.equal(small.runs.get(FAKE_IDS.bigRun)!.checkpoints.length, 10);
  assert.ok(small.checkpoint(FAKE_IDS.run, "weights/000010"));
  const empty = createState(false);
  assert.deepEqual([empty.runs.size, empty.sessions.size, empty.audit.length], [0, 0, 0]);
});

Deno.test("10,000 user checkpoints page in well under a millisecond each", async () => {
  const ctx: Context = {
    state: createState({ userCheckpoints: 10_000 }),
    options: { ...DEFAULT_BEHAVIOUR },
    secret: "s",
    storageUrl: "http://storage.test",
    parked: new Map(),
  };
  assert.equal(ctx.state.userCheckpoints().length, 10_000);
  const req = (offset: number): RecordedRequest => ({
    method: "GET",
    rawPath: "",
    path: "/api/v1/checkpoints",
    query: [["limit", "100"], ["offset", String(offset)]],
    headers: { "x-api-key": DEFAULT_BEHAVIOUR.apiKey },
    body: "",
    bytes: new Uint8Array(),
    json: undefined,
    status: 0,
    time: 0,
  });
  await handleApi(ctx, req(0));
  const start = performance.now();
  for (let page = 0; page < 100; page++) {
    const reply = await handleApi(ctx, req(page * 100));
    assert.equal(reply.status, 200);
  }
  const perPage = (performance.now() - start) / 100;
  assert.ok(perPage < 1, `${perPage} ms per page`);
});

Deno.test("safetensors files have exactly the requested size and a valid header", () => {
  for (const total of [100, 256, 300, 4096, 65536, 1_000_003]) {
    const bytes = concat(safetensors("k", total));
    assert.equal(bytes.byteLength, total);
    if (total < 256) continue;
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal(n % 8, 0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    const [tensor] = Object.entries(header).filter(([k]) => k !== "__metadata__").map(([, v]) =>
      v
    ) as {
      data_offsets: number[];
    }[];
    assert.equal(8 + n + tensor!.data_offsets[1]!, total);
  }
});

Deno.test("tar headers use base-256 sizes from 8 GiB on", async () => {
  const stream = tarStream([{ name: "big", size: 9 * 2 ** 30, mtime: 0, content: () => [] }]);
  const header = (await stream.next()).value!;
  await stream.return(undefined);
  assert.equal(header[124], 0x80);
  const size = header.subarray(125, 136).reduce((n: number, b: number) => n * 256 + b, 0);
  assert.equal(size, 9 * 2 ** 30);
});
