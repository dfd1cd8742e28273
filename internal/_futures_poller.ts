// The long-poll of a sampling session's futures (SDK 0.38's
// `SessionFuturesPoller`): one `POST /api/v1/retrieve_futures` at a time
// reports which requests of the session are complete, for every sample
// waiting on it; each sample then fetches its own payload with
// `retrieve_future`. Results read are acknowledged on the next poll (an
// ack-only poll, `timeout: 0`, when no sample waits), so the server may drop
// them. Steps over the engine's `Calls`: `await` shares one poll among every
// waiting sample; `.result()` polls itself.

import type { Calls } from "./_engine.ts";
import { Deadline } from "./_future_poll.ts";
import type { Shared, Steps } from "./_request.ts";
import { int, list, nullable, obj, once, opt, req, type Schema, str } from "./_schema.ts";
import { TinkerError } from "../errors.ts";

/** One completion the poll reported. */
interface Completion {
  state: "finished" | "failed";
  request_id: string;
  response_payload_uncompressed_size?: number | null;
}

const RETRIEVE_FUTURES_RESPONSE: Schema = {
  name: "FuturesRetrieveResponse",
  check: /* @__PURE__ */ once(() =>
    obj({
      completions: req(list(obj({
        state: req(str),
        request_id: req(str),
        response_payload_uncompressed_size: opt(nullable(int)),
      }))),
      cursor: req(int),
    })
  ),
};

/** The SDK's time limit of a held poll (the server holds it up to ~30 s). */
const POLL_TIMEOUT_MS = 45_000;
/** The SDK's time limit of an ack-only poll (answered at once). */
const ACK_TIMEOUT_MS = 5_000;

/** The poller of one sampling session (clone). */
export class FuturesPoller {
  #target: { type: "sampling_session"; sampling_session_id: string; cloned_sampler_id: number };
  #cursor = 0;
  #acked = 0;
  #completions = new Map<string, Completion>();
  #waiting = new Set<string>();
  #retrieved = new Set<string>();
  #polling: Shared = {};
  #acking = false;

  constructor(samplingSessionId: string, clonedSamplerId: number) {
    this.#target = {
      type: "sampling_session",
      sampling_session_id: samplingSessionId,
      cloned_sampler_id: clonedSamplerId,
    };
  }

  /**
   * Waits until the poll reports `requestId` complete: true when the full
   * payload can be asked for at once (the poll gave its size).
   */
  *waitFor(
    calls: Calls,
    requestId: string,
    signal: AbortSignal | undefined,
    deadline = Infinity,
  ): Steps<boolean> {
    this.#waiting.add(requestId);
    try {
      for (;;) {
        const done = this.#completions.get(requestId);
        if (done) {
          this.#completions.delete(requestId);
          return done.state === "finished" && !!done.response_payload_uncompressed_size;
        }
        const left = deadline - performance.now();
        if (left <= 0) {
          throw new Deadline(
            `request ${requestId} did not complete before its deadline (deadlineMs)`,
          );
        }
        // The shared poll goes on for the others; this sample stops waiting at its deadline.
        const timer = left === Infinity ? undefined : AbortSignal.timeout(Math.ceil(left));
        const wait = timer && signal ? AbortSignal.any([signal, timer]) : timer ?? signal;
        try {
          yield { t: "share", slot: this.#polling, run: () => this.#poll(calls), signal: wait };
        } catch (error) {
          if (timer?.aborted && !signal?.aborted) {
            throw new Deadline(
              `request ${requestId} did not complete before its deadline (deadlineMs)`,
            );
          }
          throw error;
        }
      }
    } finally {
      this.#waiting.delete(requestId);
    }
  }

  /** Records that `requestId`'s result was read (reported on the next poll). */
  retrieved(requestId: string): void {
    this.#retrieved.add(requestId);
  }

  /** Whether an ack-only poll is due: nobody waits, and results or events are not yet reported. */
  get ackDue(): boolean {
    return !this.#acking && this.#due();
  }

  #due(): boolean {
    return this.#waiting.size === 0 && (this.#retrieved.size > 0 || this.#cursor > this.#acked);
  }

  /**
   * Ack-only polls (`timeout: 0`) until everything read is reported; each
   * shares the poll slot, so it never runs beside a held poll.
   */
  *ack(calls: Calls): Steps<void> {
    this.#acking = true;
    try {
      while (this.#due()) {
        yield { t: "share", slot: this.#polling, run: () => this.#poll(calls) };
      }
    } finally {
      this.#acking = false;
    }
  }

  /** One poll: held while a sample waits, answered at once (ack-only) otherwise. */
  *#poll(calls: Calls): Steps<void> {
    const retrieved = [...this.#retrieved].sort();
    const ackOnly = this.#waiting.size === 0;
    const prevCursor = this.#cursor;
    const body = {
      target: this.#target,
      prev_cursor: prevCursor,
      ...(ackOnly && { timeout: 0 }),
      retrieved_request_ids: retrieved,
    };
    const reply = (yield* calls.json(
      { method: "POST", path: "/api/v1/retrieve_futures", body, retry: "safe" },
      RETRIEVE_FUTURES_RESPONSE,
      { timeoutMs: ackOnly ? ACK_TIMEOUT_MS : POLL_TIMEOUT_MS },
    )) as { completions: Completion[]; cursor: number };
    for (const id of retrieved) this.#retrieved.delete(id);
    this.#acked = Math.max(this.#acked, prevCursor);
    this.#cursor = Math.max(this.#cursor, reply.cursor);
    for (const completion of reply.completions) {
      if (completion.state !== "finished" && completion.state !== "failed") {
        throw new TinkerError(
          `retrieve_futures reported request ${completion.request_id} in an unknown state ${
            JSON.stringify(completion.state)
          }`,
        );
      }
      // Kept until its sample takes it (it may come before the sample waits).
      this.#completions.set(completion.request_id, completion);
    }
  }
}
