// `.result()`: runs an operation in a worker (the same Engine code, bundled
// into WORKER_SOURCE) while the calling thread blocks in `Atomics.wait` on
// shared memory. Replies arrive as JSON in a growable SharedArrayBuffer, in
// acknowledged parts when larger than one part, so there is no size limit.
// Exit: Bun's worker is unref'd; Deno's Web Worker keeps the process alive,
// so there it is terminated after IDLE_STOP_MS without calls (an unref'd timer).

import type { Engine, Operation } from "./_engine.ts";
import { ApiTimeoutError, TinkerError } from "./errors.ts";
import { SyncUnavailableError } from "./_future.ts";
import type { CallSettings } from "./_request.ts";
import {
  BEAT_MS,
  Ctrl,
  CTRL_WORDS,
  fromWire,
  type Reply,
  type ToWorker,
} from "./_sync_protocol.ts";
import { WORKER_SOURCE } from "./_worker_source.ts";

const READY_TIMEOUT_MS = 5_000;
/** Without a heartbeat for this long while waiting, the worker is taken for dead. */
const SILENT_LIMIT_MS = 15_000;
/** Where workers cannot be unref'd (Deno), idle workers stop after this. */
const IDLE_STOP_MS = 500;
const FIRST_BYTES = 64 * 1024;
const PART_BYTES = 16 * 1024 * 1024;
const USE_AWAIT = "; use await instead";

interface WorkerLike {
  postMessage(message: ToWorker): void;
  terminate(): void;
  unref?: () => void;
}

interface SyncOptions {
  /** The largest part of a reply in shared memory (tests use small ones). */
  partBytes?: number;
  /** How long a worker may stay idle where it cannot be unref'd. */
  idleStopMs?: number;
  /** How long without a heartbeat before the worker is taken for dead. */
  silentLimitMs?: number;
}

/** The worker of one client and the blocking calls through it. */
export class SyncExecutor {
  readonly engine: Engine;
  #partBytes: number;
  #idleStopMs: number;
  #silentLimitMs: number;
  #worker: WorkerLike | undefined;
  #ctrl!: Int32Array;
  #data!: SharedArrayBuffer;
  #nextId = 1;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(engine: Engine, options: SyncOptions = {}) {
    this.engine = engine;
    this.#partBytes = options.partBytes ?? PART_BYTES;
    this.#idleStopMs = options.idleStopMs ?? IDLE_STOP_MS;
    this.#silentLimitMs = options.silentLimitMs ?? SILENT_LIMIT_MS;
  }

  /** Runs `op` in the worker and blocks until its value (or error) is back. */
  run(op: Operation, call: CallSettings, timeoutMs: number | undefined): unknown {
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    this.#clearIdleTimer();
    this.#ensureWorker();
    try {
      return this.#call(op, call, timeoutMs, deadline);
    } finally {
      this.#armIdleTimer();
    }
  }

  /** Stops the worker; a later `run` starts a new one. */
  close(): void {
    this.#clearIdleTimer();
    this.#worker?.terminate();
    this.#worker = undefined;
  }

  #call(
    op: Operation,
    call: CallSettings,
    timeoutMs: number | undefined,
    deadline: number,
  ): unknown {
    const ctrl = this.#ctrl;
    const id = this.#nextId;
    this.#nextId = id >= 0x7fffffff ? 1 : id + 1;
    Atomics.store(ctrl, Ctrl.WANT, id);
    this.#worker!.postMessage({
      type: "call",
      id,
      op,
      call: { timeoutMs: call.timeoutMs, aborted: call.signal?.aborted },
      config: this.engine.config,
      auth: this.engine.authSnapshot(),
      log: this.engine.logger !== undefined,
    });
    const parts: Uint8Array[] = [];
    let beat = Atomics.load(ctrl, Ctrl.BEAT);
    let silentMs = 0;
    for (let part = 0;;) {
      const note = Atomics.load(ctrl, Ctrl.NOTE);
      if (Atomics.load(ctrl, Ctrl.ID) === id && Atomics.load(ctrl, Ctrl.PART) === part) {
        const length = Atomics.load(ctrl, Ctrl.LEN);
        const more = Atomics.load(ctrl, Ctrl.MORE) === 1;
        parts.push(new Uint8Array(this.#data, 0, length).slice());
        part++;
        if (!more) break;
        Atomics.store(ctrl, Ctrl.ACK, part);
        Atomics.notify(ctrl, Ctrl.ACK);
        continue;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        this.#abandon(id);
        throw new ApiTimeoutError({
          message: `.result() timed out after ${timeoutMs} ms (${describe(op)})`,
        });
      }
      const slice = Math.min(remaining, BEAT_MS * 4, this.#silentLimitMs);
      const started = Date.now();
      Atomics.wait(ctrl, Ctrl.NOTE, note, slice);
      const now = Atomics.load(ctrl, Ctrl.BEAT);
      if (now !== beat) {
        beat = now;
        silentMs = 0;
      } else if ((silentMs += Math.min(Date.now() - started, slice)) > this.#silentLimitMs) {
        this.#abandon(id);
        this.close();
        throw new TinkerError(
          `The .result() worker stopped responding for ${silentMs} ms (${describe(op)})`,
        );
      }
    }
    Atomics.store(ctrl, Ctrl.WANT, 0);
    const reply = JSON.parse(decode(parts)) as Reply;
    if (reply.auth) this.engine.adoptAuth(reply.auth);
    if (reply.logs) { for (const line of reply.logs) this.engine.logger?.(line); }
    if (!reply.ok) throw fromWire(reply.error!);
    return reply.value;
  }

  /** Stops waiting for call `id`: its reply is dropped and its request aborted. */
  #abandon(id: number): void {
    Atomics.store(this.#ctrl, Ctrl.WANT, 0);
    Atomics.notify(this.#ctrl, Ctrl.ACK);
    this.#worker?.postMessage({ type: "cancel", id });
  }

  #ensureWorker(): void {
    if (this.#worker) return;
    const why = unavailable();
    if (why) throw new SyncUnavailableError(`Cannot block with .result(): ${why}${USE_AWAIT}`);
    const ctrl = new Int32Array(new SharedArrayBuffer(CTRL_WORDS * 4));
    const data = growableBuffer(this.#partBytes);
    const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "text/javascript" }));
    let worker: WorkerLike;
    try {
      worker = new Worker(url, { type: "module" }) as unknown as WorkerLike;
    } catch (error) {
      URL.revokeObjectURL(url);
      throw new SyncUnavailableError(
        `Cannot block with .result(): the worker did not start (${message(error)})${USE_AWAIT}`,
        { cause: error },
      );
    }
    worker.postMessage({
      type: "init",
      ctrl: ctrl.buffer as SharedArrayBuffer,
      data,
      partBytes: this.#partBytes,
    });
    const ready = waitFor(ctrl, Ctrl.READY, READY_TIMEOUT_MS);
    URL.revokeObjectURL(url);
    if (!ready) {
      worker.terminate();
      throw new SyncUnavailableError(
        `Cannot block with .result(): the worker did not start within ${READY_TIMEOUT_MS} ms${USE_AWAIT}`,
      );
    }
    worker.unref?.();
    this.#worker = worker;
    this.#ctrl = ctrl;
    this.#data = data;
  }

  /** Where a worker keeps the process alive (Deno), stop it once idle. */
  #armIdleTimer(): void {
    if (!this.#worker || typeof this.#worker.unref === "function") return;
    this.#idleTimer = setTimeout(() => this.close(), this.#idleStopMs);
    unrefTimer(this.#idleTimer);
  }

  #clearIdleTimer(): void {
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }
}

/** Why blocking is impossible here, or undefined when it is possible. */
function unavailable(): string | undefined {
  if (typeof Worker !== "function") return "this runtime has no Worker";
  if (typeof SharedArrayBuffer !== "function") {
    return "SharedArrayBuffer is unavailable (in browsers it needs cross-origin isolation)";
  }
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
  } catch {
    return "Atomics.wait is not allowed on this thread (e.g. a browser's main thread)";
  }
  return undefined;
}

/** Waits up to `ms` for `ctrl[index]` to become non-zero. */
function waitFor(ctrl: Int32Array, index: number, ms: number): boolean {
  const deadline = Date.now() + ms;
  for (;;) {
    if (Atomics.load(ctrl, index) !== 0) return true;
    const remaining = deadline - Date.now();
    if (remaining <= 0) return false;
    Atomics.wait(ctrl, index, 0, remaining);
  }
}

function growableBuffer(max: number): SharedArrayBuffer {
  try {
    return new SharedArrayBuffer(Math.min(FIRST_BYTES, max), { maxByteLength: max });
  } catch {
    return new SharedArrayBuffer(max);
  }
}

function decode(parts: Uint8Array[]): string {
  if (parts.length === 1) return new TextDecoder().decode(parts[0]);
  const decoder = new TextDecoder();
  let text = "";
  for (const part of parts) text += decoder.decode(part, { stream: true });
  return text + decoder.decode();
}

function describe(op: Operation): string {
  return op.kind === "whoami" ? "whoami" : `${op.http.method} ${op.http.path}`;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function unrefTimer(timer: ReturnType<typeof setTimeout>): void {
  const deno = (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno;
  if (typeof timer === "number") deno?.unrefTimer?.(timer);
  else (timer as { unref?: () => void }).unref?.();
}
