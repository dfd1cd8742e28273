// The sync worker: runs operations with the same Engine as the async path and
// writes each reply (JSON) into shared memory for the blocked caller. Bundled
// into `_worker_source.ts` by `scripts/gen_worker.ts`; never imported directly.

import { Engine } from "./_engine.ts";
import { BEAT_MS, Ctrl, type Reply, toWire, type ToWorker } from "./_sync_protocol.ts";

interface WorkerScope {
  addEventListener(type: "message", listener: (event: MessageEvent<ToWorker>) => void): void;
}

let ctrl: Int32Array;
let data: SharedArrayBuffer;
let partBytes: number;
const engines = new Map<string, Engine>();
const running = new Map<number, AbortController>();
const logs: string[] = [];
let beat: ReturnType<typeof setInterval> | undefined;
const encoder = new TextEncoder();

(globalThis as unknown as WorkerScope).addEventListener("message", (event) => {
  const msg = event.data;
  if (msg.type === "init") {
    ctrl = new Int32Array(msg.ctrl);
    data = msg.data;
    partBytes = msg.partBytes;
    Atomics.store(ctrl, Ctrl.READY, 1);
    Atomics.notify(ctrl, Ctrl.READY);
  } else if (msg.type === "call") {
    void run(msg);
  } else if (msg.type === "cancel") {
    running.get(msg.id)?.abort("cancelled");
  }
});

async function run(msg: Extract<ToWorker, { type: "call" }>): Promise<void> {
  const controller = new AbortController();
  if (msg.call.aborted) controller.abort("user");
  running.set(msg.id, controller);
  beat ??= setInterval(() => Atomics.add(ctrl, Ctrl.BEAT, 1), BEAT_MS);
  const engine = engineFor(msg);
  let reply: Reply;
  try {
    const value = await engine.execute(msg.op, {
      signal: controller.signal,
      timeoutMs: msg.call.timeoutMs,
    });
    reply = { ok: true, value };
  } catch (error) {
    reply = { ok: false, error: toWire(error) };
  }
  running.delete(msg.id);
  if (running.size === 0) {
    clearInterval(beat);
    beat = undefined;
  }
  if (controller.signal.aborted && !msg.call.aborted) return; // Cancelled: nobody waits.
  reply.auth = engine.authSnapshot();
  if (logs.length) reply.logs = logs.splice(0);
  publish(msg.id, encoder.encode(JSON.stringify(reply)));
}

/** One engine per client config, reusing the main thread's bootstrap. */
function engineFor(msg: Extract<ToWorker, { type: "call" }>): Engine {
  const key = JSON.stringify([msg.config, msg.log]);
  let engine = engines.get(key);
  if (!engine) {
    const log = msg.log ? (line: string) => void logs.push(line) : undefined;
    engine = new Engine(msg.config, globalThis.fetch, log);
    engines.set(key, engine);
  }
  if (msg.auth) engine.adoptAuth(msg.auth);
  return engine;
}

/** Writes `bytes` in parts of at most `partBytes`, each acknowledged by the main thread. */
function publish(id: number, bytes: Uint8Array): void {
  Atomics.store(ctrl, Ctrl.ACK, 0);
  for (let part = 0, offset = 0;; part++) {
    if (Atomics.load(ctrl, Ctrl.WANT) !== id) return; // The caller gave up.
    const length = Math.min(bytes.length - offset, partBytes);
    if (data.byteLength < length) {
      data.grow(Math.min(Math.max(length, data.byteLength * 2), partBytes));
    }
    new Uint8Array(data, 0, length).set(bytes.subarray(offset, offset + length));
    offset += length;
    const more = offset < bytes.length;
    Atomics.store(ctrl, Ctrl.LEN, length);
    Atomics.store(ctrl, Ctrl.MORE, more ? 1 : 0);
    Atomics.store(ctrl, Ctrl.PART, part);
    Atomics.store(ctrl, Ctrl.ID, id);
    Atomics.add(ctrl, Ctrl.NOTE, 1);
    Atomics.notify(ctrl, Ctrl.NOTE);
    if (!more) return;
    for (;;) {
      const ack = Atomics.load(ctrl, Ctrl.ACK);
      if (ack === part + 1) break;
      if (Atomics.load(ctrl, Ctrl.WANT) !== id) return;
      Atomics.wait(ctrl, Ctrl.ACK, ack, 1000);
    }
  }
}
