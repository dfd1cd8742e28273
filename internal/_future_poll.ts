// Server-side futures: a request answered with a request id, whose result is
// polled through `POST /api/v1/retrieve_future` as SDK 0.38 does it. Steps
// over the engine's `Calls` (so `await` and `.result()` both run them, with
// the engine's bootstrap, credential, retries and scrubbing); kept out of the
// engine so that a client using only `RestClient` does not carry it.

import type { Calls } from "./_engine.ts";
import type { CallSettings, HttpSpec, RawResponse, Steps } from "./_request.ts";
import type { Schema } from "./_schema.ts";
import { FUTURE_REPLY, UNTYPED_API_FUTURE } from "./_schema_sessions.ts";
import {
  ApiResponseValidationError,
  ApiTimeoutError,
  ApiUserAbortError,
  errorForStatus,
  RequestFailedError,
} from "../errors.ts";

/** How one future is read. */
export interface FutureSpec {
  /** The SDK's request type, sent as `X-Tinker-Request-Type` (e.g. `"LoadWeights"`). */
  requestType: string;
  /** The result's schema. */
  schema: Schema;
  /** Runs before each poll (e.g. a session heartbeat that is due). */
  beforePoll?: (() => Steps<void>) | undefined;
  /** Overall time limit from the first request, in milliseconds (none by default). */
  deadlineMs?: number | undefined;
  /** Called once the first request is over (sent, or failed): the model's next call may go. */
  submitted?: (() => void) | undefined;
  /**
   * The poll's `Accept` header (e.g. `application/x-protobuf, application/json`)
   * and the decoder of a binary result; `try_again` and failures stay JSON.
   */
  binary?: { accept: string; decode: (bytes: Uint8Array) => unknown } | undefined;
  /** Makes the call's value of the result (binary or JSON), given the submit's reply. */
  finish?: ((value: unknown, submit: Record<string, unknown>) => unknown) | undefined;
  /**
   * Runs between the submit and the first poll (a session's long-poll that
   * says when the result is there): true asks for the full payload at once.
   */
  ready?: ((requestId: string, deadline: number) => Steps<boolean>) | undefined;
  /** Called once the result (or the failure) is read: the server may drop it. */
  retrieved?: ((requestId: string) => void) | undefined;
  /** Called on each change of the future's queue state, and with `"active"` once it is over. */
  onQueueState?: ((state: string, reason: string | undefined) => void) | undefined;
}

/** The SDK's time limit of one poll (the server holds a poll while it waits). */
const POLL_TIMEOUT_MS = 45_000;
/** Time limit of the best-effort `cancel_future` after a fired signal or the deadline. */
const CANCEL_TIMEOUT_MS = 10_000;

/**
 * A `try_again` that comes back this fast was not held by the server (a peer
 * that does not long-poll): the next poll waits a little, doubling up to
 * PACE_MAX_MS, instead of asking again at once.
 */
const QUICK_MS = 50;
const PACE_MAX_MS = 1000;

/**
 * The overall deadline: thrown inside the poll loop (or by a `ready` that
 * waits), reported as ApiTimeoutError after the future is cancelled.
 */
export class Deadline extends Error {}

/**
 * Sends `http`, whose answer is a request id, then polls `retrieve_future`:
 * `X-Tinker-Request-Iteration` and `-Type` on every poll, the submit's round
 * trip in seconds (`X-Tinker-Create-Promise-Roundtrip-Time`) on the first;
 * `try_again` (200, or 408 with its body) polls again at once, the server
 * holding each poll while it waits (one answered at once is paced, see
 * QUICK_MS), and a change of queue state is logged; a
 * `complete_metadata` reply asks again for the full payload; `{error,
 * category}` is a RequestFailedError; 410 means the promise is gone. Transient
 * failures of a poll are retried by the request function like any read. A
 * signal that fires, or the deadline, sends `cancel_future`.
 */
export function* pollFuture(
  calls: Calls,
  http: HttpSpec,
  spec: FutureSpec,
  call: CallSettings,
): Steps<unknown> {
  const started = performance.now();
  const deadline = spec.deadlineMs === undefined ? Infinity : started + spec.deadlineMs;
  let sent: RawResponse;
  try {
    sent = yield* calls.send(http, call);
  } finally {
    spec.submitted?.();
  }
  const submit = calls.parse(sent, UNTYPED_API_FUTURE) as Record<string, unknown>;
  const requestId = submit.request_id as string;
  const what = `request ${requestId} (${spec.requestType})`;
  const roundTrip = (performance.now() - started) / 1000;
  let allowMetadataOnly = true;
  let queue = "active";
  let quick = 0; // try_again answers in a row that were not held
  const over = () => {
    spec.retrieved?.(requestId);
    if (queue !== "active") spec.onQueueState?.("active", undefined);
  };
  const done = (value: unknown) => {
    over();
    return spec.finish ? spec.finish(value, submit) : value;
  };
  try {
    if (spec.ready && (yield* spec.ready(requestId, deadline))) allowMetadataOnly = false;
    for (let iteration = 0;; iteration++) {
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new Deadline(`The result of ${what} did not arrive within ${spec.deadlineMs} ms`);
      }
      if (spec.beforePoll) yield* spec.beforePoll();
      const headers: Record<string, string> = {
        "X-Tinker-Request-Iteration": String(iteration),
        "X-Tinker-Request-Type": spec.requestType,
      };
      if (iteration === 0) headers["X-Tinker-Create-Promise-Roundtrip-Time"] = String(roundTrip);
      const last = left <= POLL_TIMEOUT_MS; // This poll ends at the deadline.
      const asked = performance.now();
      let res: RawResponse;
      try {
        res = yield* calls.send({
          method: "POST",
          path: "/api/v1/retrieve_future",
          body: { request_id: requestId, allow_metadata_only: allowMetadataOnly },
          retry: "safe",
          passStatuses: [408, 410],
          headers,
          ...(spec.binary && { accept: spec.binary.accept }),
          ...(last && { maxRetries: 0 }),
        }, { signal: call.signal, timeoutMs: Math.min(POLL_TIMEOUT_MS, left) });
      } catch (error) {
        if (last && error instanceof ApiTimeoutError) continue; // The check above throws.
        throw error;
      }
      if (res.status === 410) {
        throw errorForStatus({
          status: 410,
          headers: res.headers,
          body: objectOrEmpty(res.text),
          message:
            `The server no longer holds the result of ${what} (410 Gone): its promise expired`,
        });
      }
      if (res.bytes !== undefined && res.status === 200 && spec.binary) {
        return done(decodeResult(spec.binary.decode, res.bytes, what));
      }
      const reply = res.status === 408
        ? objectOrEmpty(res.text)
        : calls.parse(res, FUTURE_REPLY) as Record<string, unknown>;
      if (res.status === 408 || reply.type === "try_again") {
        const state = typeof reply.queue_state === "string" ? reply.queue_state : "active";
        if (state !== queue) {
          queue = state;
          const reason = typeof reply.queue_state_reason === "string"
            ? `: ${reply.queue_state_reason}`
            : "";
          calls.log(`${what}: queue ${state}${reason}`);
          spec.onQueueState?.(state, reason ? String(reply.queue_state_reason) : undefined);
        }
        quick = performance.now() - asked < QUICK_MS ? quick + 1 : 0;
        if (quick > 0) {
          const ms = Math.min(
            QUICK_MS * 2 ** (quick - 1),
            PACE_MAX_MS,
            deadline - performance.now(),
          );
          if (ms > 0) yield { t: "sleep", ms, signal: call.signal };
        }
        continue;
      }
      if (reply.status === "complete_metadata" && allowMetadataOnly) {
        allowMetadataOnly = false; // The payload is large: ask for it in full.
        continue;
      }
      if ("error" in reply) {
        over();
        throw new RequestFailedError(
          requestId,
          typeof reply.category === "string" ? reply.category : "unknown",
          `${what} failed: ${String(reply.error)}`,
        );
      }
      return done(calls.parse(res, spec.schema));
    }
  } catch (error) {
    if (error instanceof ApiUserAbortError || error instanceof Deadline) {
      yield* cancelFuture(calls, requestId);
    }
    if (error instanceof Deadline) throw new ApiTimeoutError({ message: error.message });
    throw error;
  }
}

/** Best effort: tells the server to stop working on `requestId` (the hosted service answers 404). */
function* cancelFuture(calls: Calls, requestId: string): Steps<void> {
  try {
    yield* calls.send({
      method: "POST",
      path: "/api/v1/cancel_future",
      body: { request_id: requestId },
      retry: "unsent",
      maxRetries: 0,
    }, { timeoutMs: CANCEL_TIMEOUT_MS });
  } catch {
    // Without an explicit cancel, the work stops on its own server-side.
  }
}

/** A binary result decoded; a malformed one is an ApiResponseValidationError naming the request. */
function decodeResult(
  decode: (bytes: Uint8Array) => unknown,
  bytes: Uint8Array,
  what: string,
): unknown {
  try {
    return decode(bytes);
  } catch (error) {
    throw new ApiResponseValidationError({
      status: 200,
      message: `The binary result of ${what} (${bytes.byteLength} bytes) is malformed: ${
        error instanceof Error ? error.message : String(error)
      }`,
    });
  }
}

/** A JSON object body, or `{}` (a 408's body is read only for its queue state). */
function objectOrEmpty(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}
