// `_worker.ts` in-process (so coverage sees it): init, fetches, redirects,
// failures and cancel, driven with synthetic message events instead of a
// real worker.

import assert from "node:assert/strict";
import type { FetchOrder } from "../internal/_request.ts";
import { Ctrl, CTRL_WORDS, type ReplyHead, type ToWorker } from "../internal/_sync_protocol.ts";
import { FAKE_IDS, spawnFakeTinker } from "../testing/mod.ts";

Deno.test("sync worker: fetches and publishes replies into shared memory", async (t) => {
  await using fake = await spawnFakeTinker();
  const ctrl = new Int32Array(new SharedArrayBuffer(CTRL_WORDS * 4));
  const data = new SharedArrayBuffer(16, { maxByteLength: 1 << 20 });
  const send = (msg: ToWorker) => dispatchEvent(new MessageEvent("message", { data: msg }));
  await import("../internal/_worker.ts");
  send({ type: "init", ctrl: ctrl.buffer as SharedArrayBuffer, data, partBytes: 1 << 20 });
  assert.equal(Atomics.load(ctrl, Ctrl.READY), 1);

  const order = (path: string, extra: Partial<FetchOrder> = {}): FetchOrder => ({
    url: `${fake.url}${path}`,
    method: "GET",
    headers: { "x-api-key": fake.apiKey },
    body: undefined,
    fresh: false,
    follow: undefined,
    maxBytes: 1 << 20,
    ...extra,
  });
  /** Posts a fetch and waits (asynchronously) for its reply: head and body. */
  const fetchVia = async (id: number, o: FetchOrder): Promise<[ReplyHead, string]> => {
    Atomics.store(ctrl, Ctrl.WANT, id);
    const note = Atomics.load(ctrl, Ctrl.NOTE);
    send({ type: "fetch", id, order: o });
    const deadline = Date.now() + 5000;
    while (Atomics.load(ctrl, Ctrl.NOTE) === note && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 2));
    }
    assert.equal(Atomics.load(ctrl, Ctrl.ID), id);
    assert.equal(Atomics.load(ctrl, Ctrl.MORE), 0);
    const bytes = new Uint8Array(data, 0, Atomics.load(ctrl, Ctrl.LEN)).slice();
    const text = new TextDecoder().decode(bytes);
    const newline = text.indexOf("\n");
    return [JSON.parse(text.slice(0, newline)), text.slice(newline + 1)];
  };
  const runPath = `/api/v1/training_runs/${FAKE_IDS.run}`;

  await t.step("a response: status, headers and the body as sent", async () => {
    const [head, body] = await fetchVia(1, order(runPath));
    assert.equal(head.status, 200);
    assert.ok(head.headers?.some(([k, v]) => k === "content-type" && v.includes("json")));
    assert.equal(JSON.parse(body).training_run_id, FAKE_IDS.run);
  });

  await t.step("an error status is a reply like any other (the caller maps it)", async () => {
    const [head, body] = await fetchVia(2, order("/api/v1/training_runs/no-such-run"));
    assert.equal(head.status, 404);
    assert.match(body, /detail/);
  });

  await t.step("a redirect the caller follows comes back unread; others are read", async () => {
    await fake.inject({
      path: runPath,
      status: 302,
      headers: { location: "/elsewhere" },
      body: { note: "unread" },
      times: 2,
    });
    const [followed, empty] = await fetchVia(3, order(runPath, { follow: [] }));
    assert.equal(followed.status, 302);
    assert.equal(empty, "");
    const [passed, text] = await fetchVia(4, order(runPath, { follow: [302] }));
    assert.equal(passed.status, 302);
    assert.match(text, /unread/);
  });

  await t.step("a fetch on a connection of its own (unpooled in Deno) is sent once", async () => {
    await fake.clearLog();
    const [head] = await fetchVia(
      5,
      order(`/api/v1/training_runs/${FAKE_IDS.run}/checkpoints`, { fresh: true }),
    );
    assert.equal(head.status, 200);
    assert.equal((await fake.requests()).length, 1);
  });

  await t.step("a connection failure: the runtime's error with its causes", async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = listener.addr.port;
    listener.close(); // Nothing listens there now.
    const [head] = await fetchVia(6, { ...order(""), url: `http://127.0.0.1:${port}/` });
    assert.equal(head.status, undefined);
    assert.ok(head.error);
    const text = JSON.stringify(head.error);
    assert.match(text, /refused|Connection|connect/i);
  });

  await t.step("a cancelled fetch publishes nothing; the next gets its own reply", async () => {
    await fake.inject({ path: runPath, delayMs: 300 });
    const note = Atomics.load(ctrl, Ctrl.NOTE);
    Atomics.store(ctrl, Ctrl.WANT, 7);
    send({ type: "fetch", id: 7, order: order(runPath) });
    send({ type: "cancel", id: 7 });
    Atomics.store(ctrl, Ctrl.WANT, 0);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(Atomics.load(ctrl, Ctrl.NOTE), note);
    const [, body] = await fetchVia(8, order(`/api/v1/training_runs/${FAKE_IDS.bigRun}`));
    assert.equal(JSON.parse(body).training_run_id, FAKE_IDS.bigRun);
  });

  await t.step("a reply nobody waits for any more is dropped", async () => {
    const note = Atomics.load(ctrl, Ctrl.NOTE);
    Atomics.store(ctrl, Ctrl.WANT, 99);
    send({ type: "fetch", id: 9, order: order(runPath) });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(Atomics.load(ctrl, Ctrl.NOTE), note);
  });
});
