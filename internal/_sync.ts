// `.result()`: performs an operation's steps (`_request.ts`) on the calling
// thread, blocking: fetches go to a worker that only fetches (WORKER_SOURCE,
// ~2 KB) while this thread waits in `Atomics.wait` on shared memory; pauses
// are `Atomics.wait` with a timeout. Replies arrive in a growable
// SharedArrayBuffer, in acknowledged parts when larger than one part, so
// there is no size limit. Exit: Bun's worker is unref'd; Deno's Web Worker
// keeps the process alive, so there it is terminated after IDLE_STOP_MS
// without calls (an unref'd timer).

import type { Engine, Operation } from "./_engine.ts";
import { ApiTimeoutError, ApiUserAbortError, TinkerError } from "../errors.ts";
import { SyncUnavailableError } from "./_future.ts";
import {
  abortError,
  type CallSettings,
  type FetchStep,
  type RawResponse,
  type Step,
  type Steps,
  timeoutError,
  tooLargeError,
  unrefTimeout,
} from "./_request.ts";
import {
  BEAT_MS,
  Ctrl,
  CTRL_WORDS,
  type FetchFailure,
  type ReplyHead,
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

/**
 * Ends a blocking call without going through its steps (they would take it
 * for a failed attempt and retry): the `.result()` timeout, a dead worker.
 */
class Abandon {
  constructor(readonly error: Error) {}
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
  #pause: Int32Array | undefined;
  #nextId = 1;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(engine: Engine, options: SyncOptions = {}) {
    this.engine = engine;
    this.#partBytes = options.partBytes ?? PART_BYTES;
    this.#idleStopMs = options.idleStopMs ?? IDLE_STOP_MS;
    this.#silentLimitMs = options.silentLimitMs ?? SILENT_LIMIT_MS;
  }

  /** Runs `op`'s steps, blocking, until its value (or error). */
  run(op: Operation, call: CallSettings, timeoutMs: number | undefined): unknown {
    const deadline = timeoutMs === undefined ? Infinity : performance.now() + timeoutMs;
    const what = describe(op);
    const late = () =>
      new Abandon(
        new ApiTimeoutError({ message: `.result() timed out after ${timeoutMs} ms (${what})` }),
      );
    this.#clearIdleTimer();
    try {
      this.#ensureWorker();
      if (deadline <= performance.now()) throw late();
      return this.#drive(this.engine.steps(op, call), deadline, late);
    } catch (error) {
      const thrown = error instanceof Abandon ? error.error : error;
      // Its stack is the library's steps, deeper than the stack trace limit:
      // show the caller of `.result()` instead.
      if (thrown instanceof Error) captureStack?.(thrown);
      throw thrown;
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

  /** `drive` of `_request.ts`, blocking. */
  #drive<T>(steps: Steps<T>, deadline: number, late: () => Abandon): T {
    let next = steps.next();
    while (!next.done) {
      let value: unknown;
      try {
        value = this.#perform(next.value, deadline, late);
      } catch (error) {
        if (error instanceof Abandon) {
          steps.return(undefined as T);
          throw error;
        }
        next = steps.throw(error);
        continue;
      }
      next = steps.next(value);
    }
    return next.value;
  }

  #perform(step: Step, deadline: number, late: () => Abandon): unknown {
    if (step.t === "fetch") return this.#fetch(step, deadline, late);
    if (step.t === "share") return this.#drive(step.run(), deadline, late); // Nothing runs concurrently here.
    if (step.t === "run") {
      const value = step.runSync();
      if (performance.now() > deadline) throw late();
      return value;
    }
    if (step.t === "turn") return step.queue.waitSync(step.turn);
    if (step.signal?.aborted) {
      throw new ApiUserAbortError({ message: "Request was aborted", cause: step.signal.reason });
    }
    const wake = performance.now() + step.ms;
    this.#pause ??= new Int32Array(new SharedArrayBuffer(4));
    Atomics.wait(this.#pause, 0, 0, Math.max(0, Math.min(wake, deadline) - performance.now()));
    if (wake > deadline) throw late();
    return undefined;
  }

  /** One fetch through the worker. */
  #fetch(step: FetchStep, deadline: number, late: () => Abandon): RawResponse {
    if (step.signal?.aborted) throw abortError(step);
    const ctrl = this.#ctrl;
    const id = this.#nextId;
    this.#nextId = id >= 0x7fffffff ? 1 : id + 1;
    Atomics.store(ctrl, Ctrl.WANT, id);
    const { url, method, headers, body, fresh, follow, maxBytes } = step;
    this.#worker!.postMessage({
      type: "fetch",
      id,
      order: { url, method, headers, body, fresh, follow, maxBytes },
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
      const now = performance.now();
      if (now >= step.deadline || now >= deadline) {
        this.#abandon(id);
        throw step.deadline <= deadline ? timeoutError(step) : late();
      }
      const slice = Math.min(
        Math.min(step.deadline, deadline) - now,
        BEAT_MS * 4,
        this.#silentLimitMs,
      );
      Atomics.wait(ctrl, Ctrl.NOTE, note, slice);
      const beatNow = Atomics.load(ctrl, Ctrl.BEAT);
      if (beatNow !== beat) {
        beat = beatNow;
        silentMs = 0;
      } else if ((silentMs += Math.min(performance.now() - now, slice)) > this.#silentLimitMs) {
        this.#abandon(id);
        this.close();
        throw new Abandon(
          new TinkerError(
            `The .result() worker stopped responding for ${Math.round(silentMs)} ms (${step.what})`,
          ),
        );
      }
    }
    Atomics.store(ctrl, Ctrl.WANT, 0);
    const reply = join(parts);
    const newline = reply.indexOf(0x0a); // The head is JSON: no raw newline inside.
    const head = JSON.parse(new TextDecoder().decode(reply.subarray(0, newline))) as ReplyHead;
    if (head.error) throw rebuild(head.error);
    if (head.tooLarge) {
      const { bytes, announced } = head.tooLarge;
      const headers = new Headers(head.headers);
      throw tooLargeError(step, { status: head.status!, headers, bytes, announced });
    }
    return {
      status: head.status!,
      headers: new Headers(head.headers),
      text: head.binary ? "" : new TextDecoder().decode(reply.subarray(newline + 1)),
      url: step.url,
      ...(head.binary && { bytes: reply.slice(newline + 1) }),
    };
  }

  /** Stops waiting for fetch `id`: its reply is dropped and its request aborted. */
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
    unrefTimeout(this.#idleTimer);
  }

  #clearIdleTimer(): void {
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }
}

const captureStack = (Error as { captureStackTrace?: (target: object) => void })
  .captureStackTrace;

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

function join(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

/** A failed fetch's error, as the runtime's fetch threw it (name, message, code, causes). */
function rebuild(failure: FetchFailure): Error {
  const error = new Error(failure.message, failure.cause && { cause: rebuild(failure.cause) });
  error.name = failure.name;
  if (failure.code !== undefined) (error as Error & { code?: string }).code = failure.code;
  return error;
}

function describe(op: Operation): string {
  if (op.kind === "whoami") return "whoami";
  return op.kind === "steps" ? op.what : `${op.http.method} ${op.http.path}`;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
