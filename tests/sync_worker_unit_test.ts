// `_worker.ts` in-process (so coverage sees it): init, calls, cancel and
// logs, driven with synthetic message events instead of a real worker.

import assert from "node:assert/strict";
import { Ctrl, CTRL_WORDS, fromWire, type Reply, type ToWorker } from "../_sync_protocol.ts";
import type { EngineConfig, Operation } from "../_engine.ts";
import { NotFoundError } from "../errors.ts";
import { FAKE_IDS, spawnFakeTinker } from "../testing/mod.ts";

Deno.test("sync worker: runs calls and publishes replies into shared memory", async (t) => {
  await using fake = await spawnFakeTinker();
  const ctrl = new Int32Array(new SharedArrayBuffer(CTRL_WORDS * 4));
  const data = new SharedArrayBuffer(16, { maxByteLength: 1 << 20 });
  const send = (msg: ToWorker) => dispatchEvent(new MessageEvent("message", { data: msg }));
  await import("../_worker.ts");
  send({ type: "init", ctrl: ctrl.buffer as SharedArrayBuffer, data, partBytes: 1 << 20 });
  assert.equal(Atomics.load(ctrl, Ctrl.READY), 1);

  const config: EngineConfig = {
    transport: {
      baseUrl: fake.url,
      maxRetries: 0,
      timeoutMs: 5000,
      initialRetryDelayMs: 1,
      maxRetryDelayMs: 1,
      defaultHeaders: {},
      userAgent: "worker-unit",
    },
    apiKey: fake.apiKey,
    archivePollIntervalMs: 1,
    tracePollIntervalMs: 1,
  };
  const op = (id: string): Operation => ({
    kind: "json",
    http: { method: "GET", path: `/api/v1/training_runs/${id}`, retry: "safe" },
    schema: "TrainingRun",
  });
  /** Posts a call and waits (asynchronously) for its reply. */
  const call = async (id: number, operation: Operation, log = false): Promise<Reply> => {
    Atomics.store(ctrl, Ctrl.WANT, id);
    const note = Atomics.load(ctrl, Ctrl.NOTE);
    send({ type: "call", id, op: operation, call: {}, config, auth: undefined, log });
    const deadline = Date.now() + 5000;
    while (Atomics.load(ctrl, Ctrl.NOTE) === note && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 2));
    }
    assert.equal(Atomics.load(ctrl, Ctrl.ID), id);
    assert.equal(Atomics.load(ctrl, Ctrl.MORE), 0);
    const bytes = new Uint8Array(data, 0, Atomics.load(ctrl, Ctrl.LEN)).slice();
    return JSON.parse(new TextDecoder().decode(bytes));
  };

  await t.step("a value, with the bootstrap's auth snapshot and the log lines", async () => {
    const reply = await call(1, op(FAKE_IDS.run), true);
    assert.equal(reply.ok, true);
    assert.equal((reply.value as { training_run_id: string }).training_run_id, FAKE_IDS.run);
    assert.deepEqual(reply.auth, { jwtEnabled: false });
    assert.ok(reply.logs?.some((l) => l.includes("/api/v1/training_runs/")));
  });

  await t.step("an error, rebuilt as its class", async () => {
    const reply = await call(2, op("no-such-run"));
    assert.equal(reply.ok, false);
    const error = fromWire(reply.error!);
    assert.ok(error instanceof NotFoundError);
    assert.equal(error.status, 404);
  });

  await t.step("a cancelled call publishes nothing", async () => {
    await fake.inject({ path: `/api/v1/training_runs/${FAKE_IDS.run}`, delayMs: 300 });
    const note = Atomics.load(ctrl, Ctrl.NOTE);
    Atomics.store(ctrl, Ctrl.WANT, 3);
    send({
      type: "call",
      id: 3,
      op: op(FAKE_IDS.run),
      call: {},
      config,
      auth: undefined,
      log: false,
    });
    send({ type: "cancel", id: 3 });
    Atomics.store(ctrl, Ctrl.WANT, 0);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(Atomics.load(ctrl, Ctrl.NOTE), note);
    // The next call still gets its own reply.
    const reply = await call(4, op(FAKE_IDS.bigRun));
    assert.equal((reply.value as { training_run_id: string }).training_run_id, FAKE_IDS.bigRun);
  });

  await t.step("a reply nobody waits for any more is dropped", async () => {
    const note = Atomics.load(ctrl, Ctrl.NOTE);
    Atomics.store(ctrl, Ctrl.WANT, 99);
    send({
      type: "call",
      id: 5,
      op: op(FAKE_IDS.run),
      call: {},
      config,
      auth: undefined,
      log: false,
    });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(Atomics.load(ctrl, Ctrl.NOTE), note);
  });
});
