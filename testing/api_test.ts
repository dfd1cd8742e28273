import assert from "node:assert/strict";
import { call } from "./_test_helpers.ts";
import { FAKE_IDS, type FakeCheckpoint, startFakeTinker } from "./mod.ts";

const RUN = FAKE_IDS.run;
const CKPT = `/api/v1/training_runs/${RUN}/checkpoints/weights/000010`;

Deno.test("auth: every API route but healthz needs the key", async (t) => {
  await using fake = await startFakeTinker();
  await t.step("healthz answers without a key", async () => {
    const res = await call(fake, "GET", "/api/v1/healthz", { headers: { "x-api-key": "" } });
    assert.deepEqual([res.status, res.body], [200, { status: "ok" }]);
  });
  await t.step("a missing key is a 401 with FastAPI's detail", async () => {
    const res = await fetch(`${fake.url}/api/v1/training_runs`);
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { detail: "Unable to validate credential" });
  });
  await t.step("a wrong key is a 401", async () => {
    const res = await call(fake, "GET", "/api/v1/training_runs", {
      headers: { "x-api-key": "tml-wrong" },
    });
    assert.equal(res.status, 401);
  });
  await t.step("an unknown route is a 404 and a wrong method a 405", async () => {
    const unknown = await call(fake, "GET", "/api/v1/nope");
    assert.deepEqual([unknown.status, unknown.body], [404, { detail: "Not Found" }]);
    const res = await call(fake, "POST", `/api/v1/training_runs/${RUN}`);
    assert.deepEqual([res.status, res.body], [405, { detail: "Method Not Allowed" }]);
  });
  await t.step("the API key can be changed at runtime", async () => {
    await fake.setOptions({ apiKey: "tml-rotated" });
    assert.equal(fake.apiKey, "tml-rotated");
    assert.equal((await call(fake, "GET", "/api/v1/training_runs")).status, 200);
    assert.equal(
      (await call(fake, "GET", "/api/v1/training_runs", {
        headers: { "x-api-key": "tml-fake-key-0123456789abcdef" },
      }))
        .status,
      401,
    );
  });
});

Deno.test("bootstrap: config, JWT exchange and dynamic config behave like the hosted service", async (t) => {
  await using fake = await startFakeTinker();
  await t.step(
    "client config disables JWT and pyqwest, enables the sampling long poll",
    async () => {
      const res = await call(fake, "POST", "/api/v1/client/config", {
        body: { sdk_version: "0.38.0" },
      });
      assert.deepEqual(res.body, {
        pjwt_auth_enabled: false,
        credential_default_source: "api_key",
        use_pyqwest_transport: false,
        sample_use_retrieve_futures: true,
      });
      const dyn = await call(fake, "POST", "/api/v1/client/dynamic_config", {
        body: { sdk_version: "0.38.0" },
      });
      assert.deepEqual(dyn.body, { refresh_interval_sec: 300 });
    },
  );
  await t.step("without jwtAuth the token endpoint is a 404", async () => {
    assert.equal((await call(fake, "POST", "/api/v1/auth/token", { body: {} })).status, 404);
  });
  await t.step("with jwtAuth a JWT is issued, decodes and authenticates", async () => {
    await fake.setOptions({ jwtAuth: true, jwtTtlSeconds: 600 });
    const config = await call(fake, "POST", "/api/v1/client/config", { body: {} });
    assert.equal((config.body as { pjwt_auth_enabled: boolean }).pjwt_auth_enabled, true);
    const { jwt } = (await call(fake, "POST", "/api/v1/auth/token", { body: {} })).body as {
      jwt: string;
    };
    const claims = JSON.parse(atob(jwt.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/")));
    assert.equal(claims.sub, FAKE_IDS.user);
    assert.equal(claims.email, "ada@example.com");
    assert.equal(claims.iss, "passport-fake");
    assert.ok(Math.abs(claims.exp - Date.now() / 1000 - 600) < 5);
    const res = await call(fake, "GET", `/api/v1/training_runs/${RUN}`, {
      headers: { "x-api-key": jwt },
    });
    assert.equal(res.status, 200);
  });
  await t.step("a forged or expired JWT is a 401", async () => {
    const { jwt } = (await call(fake, "POST", "/api/v1/auth/token", { body: {} })).body as {
      jwt: string;
    };
    const forged = `${jwt.slice(0, -2)}xx`;
    assert.equal(
      (await call(fake, "GET", "/api/v1/training_runs", { headers: { "x-api-key": forged } }))
        .status,
      401,
    );
    await fake.setOptions({ jwtTtlSeconds: -1 });
    const expired =
      ((await call(fake, "POST", "/api/v1/auth/token", { body: {} })).body as { jwt: string }).jwt;
    assert.equal(
      (await call(fake, "GET", "/api/v1/training_runs", { headers: { "x-api-key": expired } }))
        .status,
      401,
    );
  });
});

Deno.test("training runs: get, list, page and filter", async (t) => {
  await using fake = await startFakeTinker();
  await t.step("get returns the wire shape with last checkpoints", async () => {
    const res = await call(fake, "GET", `/api/v1/training_runs/${RUN}?access_scope=owned`);
    const run = res.body as Record<string, unknown>;
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(run).sort(), [
      "base_model",
      "corrupted",
      "is_lora",
      "last_checkpoint",
      "last_request_time",
      "last_sampler_checkpoint",
      "lora_rank",
      "model_owner",
      "training_run_id",
      "user_metadata",
    ]);
    assert.equal((run.last_checkpoint as FakeCheckpoint).tinker_path, FAKE_IDS.checkpointPath);
    assert.equal(
      (run.last_sampler_checkpoint as FakeCheckpoint).tinker_path,
      FAKE_IDS.publicCheckpointPath,
    );
    assert.match(run.last_request_time as string, /^2026-0[89]-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });
  await t.step("a foreign run is hidden unless access_scope=accessible", async () => {
    const hidden = await call(fake, "GET", `/api/v1/training_runs/${FAKE_IDS.foreignRun}`);
    assert.deepEqual([hidden.status, hidden.body], [404, { detail: "Training run not found" }]);
    const shown = await call(
      fake,
      "GET",
      `/api/v1/training_runs/${FAKE_IDS.foreignRun}?access_scope=accessible`,
    );
    assert.equal(shown.status, 200);
    assert.notEqual((shown.body as { model_owner: string }).model_owner, FAKE_IDS.user);
  });
  await t.step("the corrupted run says so", async () => {
    const res = await call(fake, "GET", `/api/v1/training_runs/${FAKE_IDS.corruptedRun}`);
    assert.equal((res.body as { corrupted: boolean }).corrupted, true);
  });
  await t.step("list defaults to 20 of 24 owned runs, newest first", async () => {
    const res = await call(fake, "GET", "/api/v1/training_runs");
    const body = res.body as { training_runs: { last_request_time: string }[]; cursor: unknown };
    assert.equal(body.training_runs.length, 20);
    assert.deepEqual(body.cursor, { offset: 0, limit: 20, total_count: 24 });
    const times = body.training_runs.map((r) => r.last_request_time);
    assert.deepEqual(times, [...times].sort().reverse());
  });
  await t.step("pages of an exact multiple end with a full page, then an empty one", async () => {
    const third = await call(fake, "GET", "/api/v1/training_runs?limit=8&offset=16");
    assert.equal((third.body as { training_runs: unknown[] }).training_runs.length, 8);
    const after = await call(fake, "GET", "/api/v1/training_runs?limit=8&offset=24");
    assert.deepEqual(after.body, {
      training_runs: [],
      cursor: { offset: 24, limit: 8, total_count: 24 },
    });
    const last = await call(fake, "GET", "/api/v1/training_runs?limit=5&offset=20");
    assert.equal((last.body as { training_runs: unknown[] }).training_runs.length, 4);
  });
  await t.step("accessible adds the three foreign runs", async () => {
    const res = await call(fake, "GET", "/api/v1/training_runs?access_scope=accessible");
    assert.equal((res.body as { cursor: { total_count: number } }).cursor.total_count, 27);
  });
  await t.step("project_id filters by the creating session's project", async () => {
    const res = await call(fake, "GET", "/api/v1/training_runs?limit=100&project_id=proj-alpha");
    const { training_runs, cursor } = res.body as {
      training_runs: { training_run_id: string }[];
      cursor: { total_count: number };
    };
    assert.ok(cursor.total_count > 0 && cursor.total_count < 24);
    assert.ok(training_runs.some((r) => r.training_run_id === RUN));
  });
  await t.step("bad limit, offset and access_scope are FastAPI 422s", async () => {
    const bad = await call(fake, "GET", "/api/v1/training_runs?limit=abc");
    assert.equal(bad.status, 422);
    assert.deepEqual(bad.body, {
      detail: [{
        type: "int_parsing",
        loc: ["query", "limit"],
        msg: "Input should be a valid integer, unable to parse string as an integer",
        input: "abc",
      }],
    });
    const negative = await call(fake, "GET", "/api/v1/training_runs?offset=-1");
    assert.equal(negative.status, 422);
    assert.equal(
      (negative.body as { detail: { type: string }[] }).detail[0]!.type,
      "greater_than_equal",
    );
    const scope = await call(fake, "GET", "/api/v1/training_runs?access_scope=all");
    assert.equal(scope.status, 422);
    assert.equal(
      (scope.body as { detail: { msg: string }[] }).detail[0]!.msg,
      "Input should be 'owned' or 'accessible'",
    );
  });
});

Deno.test("checkpoints: per run, per user, and the raw path rules", async (t) => {
  await using fake = await startFakeTinker();
  await t.step("the big run lists 250 checkpoints with a null cursor", async () => {
    const res = await call(fake, "GET", `/api/v1/training_runs/${FAKE_IDS.bigRun}/checkpoints`);
    const body = res.body as { checkpoints: FakeCheckpoint[]; cursor: null };
    assert.equal(body.checkpoints.length, 250);
    assert.equal(body.cursor, null);
    assert.ok(body.checkpoints.some((c) => c.checkpoint_id.startsWith("weights/")));
    assert.ok(
      body.checkpoints.some((c) => c.checkpoint_id.startsWith("sampler_weights/") && c.public),
    );
    assert.ok(body.checkpoints.some((c) => c.expires_at?.startsWith("2030-")));
    for (const c of body.checkpoints) {
      assert.equal(
        c.checkpoint_type,
        c.checkpoint_id.startsWith("weights/") ? "training" : "sampler",
      );
      assert.equal(c.tinker_path, `tinker://${FAKE_IDS.bigRun}/${c.checkpoint_id}`);
      assert.ok(c.size_bytes! > 1_000_000 && c.size_bytes! < 2_000_000_000);
    }
  });
  await t.step("an unknown run is a 404", async () => {
    assert.equal(
      (await call(fake, "GET", "/api/v1/training_runs/nope:train:0/checkpoints")).status,
      404,
    );
  });
  await t.step("user checkpoints page 100 at a time, newest first, to the last page", async () => {
    const first = (await call(fake, "GET", "/api/v1/checkpoints")).body as {
      checkpoints: FakeCheckpoint[];
      cursor: { offset: number; limit: number; total_count: number };
    };
    assert.equal(first.checkpoints.length, 100);
    assert.equal(first.cursor.limit, 100);
    const total = first.cursor.total_count;
    assert.equal(total, fake.state!.userCheckpoints().length);
    const times = first.checkpoints.map((c) => c.time);
    assert.deepEqual(times, [...times].sort().reverse());
    const last =
      (await call(fake, "GET", `/api/v1/checkpoints?limit=100&offset=${total - total % 100}`))
        .body as {
          checkpoints: unknown[];
        };
    assert.equal(last.checkpoints.length, total % 100);
  });
  await t.step("a colon may be sent raw or as %3A and is recorded as sent", async () => {
    const encoded = `/api/v1/training_runs/${RUN.replaceAll(":", "%3A")}/checkpoints`;
    assert.equal((await call(fake, "GET", encoded)).status, 200);
    assert.equal(fake.log.at(-1)!.path, encoded);
    assert.equal(fake.log.at(-1)!.rawPath, encoded);
  });
  await t.step("an encoded slash inside the checkpoint id does not match", async () => {
    const res = await call(
      fake,
      "DELETE",
      `/api/v1/training_runs/${RUN}/checkpoints/weights%2F000010`,
    );
    assert.equal(res.status, 404);
    assert.ok(fake.state!.checkpoint(RUN, "weights/000010"));
  });
  await t.step("the query is recorded decoded and in order", async () => {
    await call(fake, "GET", "/api/v1/checkpoints?offset=5&limit=2&x=a%20b");
    assert.deepEqual(fake.log.at(-1)!.query, [["offset", "5"], ["limit", "2"], ["x", "a b"]]);
  });
});

Deno.test("checkpoint mutations: delete, publish, unpublish and TTL", async (t) => {
  await using fake = await startFakeTinker();
  await t.step("delete answers 204, then the checkpoint is gone everywhere", async () => {
    const before = fake.state!.userCheckpoints().length;
    assert.equal((await call(fake, "DELETE", CKPT)).status, 204);
    assert.deepEqual((await call(fake, "DELETE", CKPT)).body, { detail: "Checkpoint not found" });
    assert.equal(fake.state!.userCheckpoints().length, before - 1);
    const run = (await call(fake, "GET", `/api/v1/training_runs/${RUN}`)).body as {
      last_checkpoint: unknown;
    };
    assert.equal(run.last_checkpoint, null);
    assert.equal((await call(fake, "GET", `${CKPT}/archive`)).status, 404);
  });
  const sampler = `/api/v1/training_runs/${FAKE_IDS.bigRun}/checkpoints/sampler_weights/000020`;
  await t.step("publish answers 204, then 409 already public", async () => {
    assert.equal((await call(fake, "POST", `${sampler}/publish`)).status, 204);
    const again = await call(fake, "POST", `${sampler}/publish`);
    assert.deepEqual([again.status, again.body], [409, { detail: "Checkpoint is already public" }]);
  });
  await t.step("unpublish answers 204, then 409 already private", async () => {
    assert.equal((await call(fake, "DELETE", `${sampler}/publish`)).status, 204);
    const again = await call(fake, "DELETE", `${sampler}/publish`);
    assert.deepEqual([again.status, again.body], [409, {
      detail: "Checkpoint is already private",
    }]);
  });
  await t.step("someone else's checkpoint cannot be changed", async () => {
    const foreign = `/api/v1/training_runs/${FAKE_IDS.foreignRun}/checkpoints/weights/000010`;
    assert.equal((await call(fake, "POST", `${foreign}/publish`)).status, 404);
    assert.equal((await call(fake, "DELETE", foreign)).status, 404);
  });
  await t.step("TTL sets expires_at from now, null clears it", async () => {
    assert.equal(
      (await call(fake, "PUT", `${sampler}/ttl`, { body: { ttl_seconds: 3600 } })).status,
      204,
    );
    const expires = Date.parse(
      fake.state!.checkpoint(FAKE_IDS.bigRun, "sampler_weights/000020")!.expires_at!,
    );
    assert.ok(Math.abs(expires - Date.now() - 3_600_000) < 5000);
    assert.equal(
      (await call(fake, "PUT", `${sampler}/ttl`, { body: { ttl_seconds: null } })).status,
      204,
    );
    assert.equal(
      fake.state!.checkpoint(FAKE_IDS.bigRun, "sampler_weights/000020")!.expires_at,
      null,
    );
  });
  await t.step("TTL rejects zero with 400 and non-integers with 422", async () => {
    assert.equal(
      (await call(fake, "PUT", `${sampler}/ttl`, { body: { ttl_seconds: 0 } })).status,
      400,
    );
    assert.equal(
      (await call(fake, "PUT", `${sampler}/ttl`, { body: { ttl_seconds: "soon" } })).status,
      422,
    );
    assert.equal((await call(fake, "PUT", `${sampler}/ttl`, { body: {} })).status, 422);
  });
});

Deno.test("weights info answers for readable checkpoints only", async () => {
  await using fake = await startFakeTinker();
  const info = await call(fake, "POST", "/api/v1/weights_info", {
    body: { tinker_path: FAKE_IDS.checkpointPath },
  });
  assert.equal(info.status, 200);
  assert.deepEqual(Object.keys(info.body as object), [
    "base_model",
    "optimizer_config",
    "is_lora",
    "lora_rank",
    "train_unembed",
    "train_mlp",
    "train_attn",
  ]);
  assert.deepEqual((info.body as { optimizer_config: unknown }).optimizer_config, {
    type: "adamw",
  });
  const bad = await call(fake, "POST", "/api/v1/weights_info", {
    body: { tinker_path: "tinker://x/foo/1" },
  });
  assert.deepEqual([bad.status, bad.body], [400, {
    detail: "Invalid tinker path: tinker://x/foo/1",
  }]);
  const unknown = await call(fake, "POST", "/api/v1/weights_info", {
    body: { tinker_path: "tinker://x/weights/1" },
  });
  assert.equal(unknown.status, 404);
  const foreignPrivate = `tinker://${FAKE_IDS.foreignRun}/weights/000010`;
  assert.equal(
    (await call(fake, "POST", "/api/v1/weights_info", { body: { tinker_path: foreignPrivate } }))
      .status,
    404,
  );
});

Deno.test("sessions: list without cursor, get, assign project, export trace", async (t) => {
  await using fake = await startFakeTinker({ tracePendingCount: 2 });
  await t.step("list returns only ids, 20 by default", async () => {
    const res = await call(fake, "GET", "/api/v1/sessions");
    assert.deepEqual(Object.keys(res.body as object), ["sessions"]);
    assert.equal((res.body as { sessions: string[] }).sessions.length, 12);
    const two = await call(fake, "GET", "/api/v1/sessions?limit=2&offset=11");
    assert.equal((two.body as { sessions: string[] }).sessions.length, 1);
    const all = await call(fake, "GET", "/api/v1/sessions?access_scope=accessible");
    assert.ok((all.body as { sessions: string[] }).sessions.includes(FAKE_IDS.foreignSessionId));
  });
  await t.step("get lists the session's runs and samplers", async () => {
    const res = await call(fake, "GET", `/api/v1/sessions/${FAKE_IDS.sessionId}`);
    const session = fake.state!.sessions.get(FAKE_IDS.sessionId)!;
    assert.deepEqual(res.body, {
      training_run_ids: [FAKE_IDS.bigRun, RUN],
      sampler_ids: [FAKE_IDS.samplerId, `${FAKE_IDS.sessionId}:sample:1`],
      user_metadata: session.user_metadata,
      display_name: session.display_name,
    });
    assert.ok(session.user_metadata !== null && session.display_name !== null);
    assert.equal(
      (await call(fake, "GET", `/api/v1/sessions/${FAKE_IDS.foreignSessionId}`)).status,
      404,
    );
  });
  await t.step(
    "assigning a project answers 204, 400 without a project, 404 for an unknown session",
    async () => {
      const path = `/api/v1/sessions/${FAKE_IDS.sessionId}/project`;
      assert.equal(
        (await call(fake, "PUT", path, { body: { project_id: "proj-new" } })).status,
        204,
      );
      assert.equal(fake.state!.sessions.get(FAKE_IDS.sessionId)!.project_id, "proj-new");
      assert.equal((await call(fake, "PUT", path, { body: { project_id: "" } })).status, 400);
      assert.equal((await call(fake, "PUT", path, { body: {} })).status, 400);
      assert.equal(
        (await call(fake, "PUT", "/api/v1/sessions/nope/project", { body: { project_id: "p" } }))
          .status,
        404,
      );
    },
  );
  await t.step("trace export is pending twice, then ready with a downloadable URL", async () => {
    const path = `/api/v1/sessions/${FAKE_IDS.sessionId}/trace_export`;
    assert.equal(((await call(fake, "GET", path)).body as { status: string }).status, "pending");
    assert.equal(((await call(fake, "GET", path)).body as { status: string }).status, "pending");
    const ready = (await call(fake, "GET", path)).body as { status: string; url: string };
    assert.equal(ready.status, "ready");
    assert.ok(ready.url.startsWith(`${fake.storageUrl}/signed/traces/`));
    const file = await fetch(ready.url);
    assert.equal(file.status, 200);
    assert.ok((await file.bytes()).byteLength > 10);
  });
  await t.step("a session without events fails its export", async () => {
    const res = await call(
      fake,
      "GET",
      `/api/v1/sessions/${FAKE_IDS.failingTraceSessionId}/trace_export`,
    );
    assert.deepEqual(res.body, { status: "failed", url: null, error: "no events found" });
  });
});

Deno.test("samplers are found by their raw colon ids", async () => {
  await using fake = await startFakeTinker();
  const res = await call(fake, "GET", `/api/v1/samplers/${FAKE_IDS.samplerId}`);
  assert.deepEqual(Object.keys(res.body as object), ["sampler_id", "base_model", "model_path"]);
  assert.equal((res.body as { sampler_id: string }).sampler_id, FAKE_IDS.samplerId);
  assert.deepEqual((await call(fake, "GET", "/api/v1/samplers/nope:sample:0")).body, {
    detail: "Sampler not found",
  });
});

Deno.test("audit log filters by day and event type and validates the day", async () => {
  await using fake = await startFakeTinker();
  const today = (await call(fake, "GET", "/api/v1/audit?event_type=all")).body as {
    entries: { timestamp: string }[];
  };
  assert.ok(
    today.entries.length > 0 && today.entries.every((e) => e.timestamp.startsWith("2026-09-14")),
  );
  const day = (await call(fake, "GET", "/api/v1/audit?event_type=checkpoints&day=2026-09-13"))
    .body as {
      entries: { event: string; timestamp: string }[];
    };
  assert.ok(
    day.entries.every((e) =>
      e.event.startsWith("checkpoint_") && e.timestamp.startsWith("2026-09-13")
    ),
  );
  const bad = await call(fake, "GET", "/api/v1/audit?event_type=all&day=2026-13-01");
  assert.deepEqual([bad.status, bad.body], [422, {
    detail: [{
      type: "date_from_datetime_parsing",
      loc: ["query", "day"],
      msg: "Input should be a valid date",
      input: "2026-13-01",
    }],
  }]);
});

Deno.test("billing usage checks its window and returns every event kind", async () => {
  await using fake = await startFakeTinker();
  const q = (start: string, end: string) =>
    call(
      fake,
      "GET",
      `/api/v1/billing/usage/events?starting_on=${encodeURIComponent(start)}&ending_before=${
        encodeURIComponent(end)
      }`,
    );
  const ok = (await q("2026-07-13T00:00:00Z", "2026-07-14T00:00:00Z")).body as {
    data: { event_info: { type: string }; session_id: string | null }[];
    sessions: Record<string, unknown>;
  };
  assert.deepEqual(
    new Set(ok.data.map((e) => e.event_info.type)),
    new Set(["training", "sampling_prefill", "sampling_sample", "checkpoint", "storage"]),
  );
  for (const e of ok.data) if (e.session_id) assert.ok(e.session_id in ok.sessions);
  assert.equal((await q("2026-07-13T06:00:00+01:00", "2026-07-13T06:00:00Z")).status, 200);
  assert.equal((await q("yesterday", "2026-07-14T00:00:00Z")).status, 422);
  assert.equal((await q("2026-07-13T00:30:00Z", "2026-07-14T00:00:00Z")).status, 400);
  assert.equal((await q("2026-07-13T00:00:00Z", "2026-07-28T00:00:00Z")).status, 400);
  assert.equal((await q("2026-07-13T00:00:00Z", "2026-07-13T00:00:00Z")).status, 400);
  assert.equal((await call(fake, "GET", "/api/v1/billing/usage/events")).status, 422);
});

Deno.test("latencyMs delays every API answer", async () => {
  await using fake = await startFakeTinker({ latencyMs: 150 });
  const start = performance.now();
  await call(fake, "GET", "/api/v1/healthz");
  assert.ok(performance.now() - start >= 140);
});
