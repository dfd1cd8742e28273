// The sync worker: fetches for the blocked calling thread and writes each
// reply into shared memory. It knows nothing of Tinker: retries, timeouts,
// auth and errors run on the calling thread (`_sync.ts`). Bundled into
// `_worker_source.ts` by `scripts/gen_worker.ts`; never imported directly.

import {
  BodyTooLarge,
  fetchInit,
  type FetchOrder,
  isBinaryBody,
  isFollowed,
  readBody,
  readBytes,
} from "./_request.ts";
import {
  BEAT_MS,
  Ctrl,
  type FetchFailure,
  type ReplyHead,
  type ToWorker,
} from "./_sync_protocol.ts";

interface WorkerScope {
  addEventListener(type: "message", listener: (event: MessageEvent<ToWorker>) => void): void;
}

let ctrl: Int32Array;
let data: SharedArrayBuffer;
let partBytes: number;
const running = new Map<number, AbortController>();
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
  } else if (msg.type === "fetch") {
    void run(msg.id, msg.order);
  } else if (msg.type === "cancel") {
    running.get(msg.id)?.abort();
  }
});

async function run(id: number, order: FetchOrder): Promise<void> {
  const controller = new AbortController();
  running.set(id, controller);
  beat ??= setInterval(() => Atomics.add(ctrl, Ctrl.BEAT, 1), BEAT_MS);
  let head: ReplyHead;
  let text = "";
  let bytes: Uint8Array | undefined;
  try {
    const res = await fetch(order.url, fetchInit(order, controller.signal));
    const { status, headers } = res;
    if (isFollowed(order, status, headers)) await res.body?.cancel();
    else if (isBinaryBody(headers)) bytes = await readBytes(res, order.maxBytes);
    else text = await readBody(res, order.maxBytes);
    head = { status, headers: [...headers], ...(bytes && { binary: true }) };
  } catch (error) {
    head = error instanceof BodyTooLarge
      ? {
        status: error.status,
        headers: [...error.headers],
        tooLarge: { bytes: error.bytes, announced: error.announced },
      }
      : { error: failure(error) };
  }
  running.delete(id);
  if (running.size === 0) {
    clearInterval(beat);
    beat = undefined;
  }
  if (controller.signal.aborted) return; // Cancelled: nobody waits.
  const encoded = encoder.encode(`${JSON.stringify(head)}\n${text}`);
  if (bytes === undefined) return publish(id, encoded);
  const joined = new Uint8Array(encoded.byteLength + bytes.byteLength);
  joined.set(encoded);
  joined.set(bytes, encoded.byteLength);
  publish(id, joined);
}

function failure(error: unknown, depth = 0): FetchFailure {
  const { name, message, code, cause } = (error ?? {}) as {
    name?: unknown;
    message?: unknown;
    code?: unknown;
    cause?: unknown;
  };
  return {
    name: typeof name === "string" ? name : "Error",
    message: typeof message === "string" ? message : String(error),
    code: code === undefined ? undefined : String(code),
    cause: cause !== undefined && depth < 4 ? failure(cause, depth + 1) : undefined,
  };
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
