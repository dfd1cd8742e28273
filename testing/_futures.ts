/**
 * Server-side futures of the fake: a request answered with a request id whose
 * result `POST /api/v1/retrieve_future` gives once ready. A poll of a future
 * that is not ready is held up to a second, then answered as the hosted
 * service does: 408 `{"type":"try_again","queue_state":"active"}`. Injected
 * behaviour (`futureTryAgainCount`, `futureQueueState`, `futureFailure`,
 * `futureDelayMs`) applies to futures created while it is set.
 *
 * @module
 */
import { detail, json, type Reply } from "./_http.ts";
import { prng, uuid } from "./_state.ts";
import type { FakeFuture } from "./_state.ts";
import type { Context } from "./_storage.ts";
import type { RecordedRequest } from "./_types.ts";

const PROTOBUF = "application/x-protobuf";

/** Whether the request's `Accept` header names `type`. */
function accepts(req: RecordedRequest, type: string): boolean {
  return (req.headers["accept"] ?? "").split(",").some((t) => t.split(";")[0]!.trim() === type);
}

/** How long one poll of a future that is not ready is held. */
const HOLD_MS = 1000;

/**
 * Creates a future of `requestType` whose result is `result` (unless a
 * failure is injected); `proto`, when given, is the result in protobuf for a
 * poll that accepts it.
 */
export function createFuture(
  ctx: Context,
  requestType: string,
  result: unknown,
  proto?: () => Uint8Array,
): FakeFuture {
  const { options, state } = ctx;
  const failure = options.futureFailure;
  const fails = failure !== null &&
    (failure.requestType === undefined || failure.requestType === requestType);
  const future: FakeFuture = {
    request_id: uuid(prng(`future:${state.futures.size}`)),
    request_type: requestType,
    ready_at: Date.now() + options.futureDelayMs,
    try_again_left: options.futureTryAgainCount,
    outcome: fails
      ? { error: failure!.error, category: failure!.category ?? "server" }
      : { result },
    proto: fails || proto === undefined ? undefined : proto(),
    cancelled: false,
    polls: 0,
  };
  state.futures.set(future.request_id, future);
  return future;
}

/**
 * A future whose request waits for an earlier one: not ready until `adopt`
 * gives it the outcome of the request once applied.
 */
export function heldFuture(ctx: Context, readyAt: number): FakeFuture {
  const future: FakeFuture = {
    request_id: uuid(prng(`future:${ctx.state.futures.size}`)),
    request_type: "Held",
    ready_at: readyAt,
    try_again_left: 0,
    outcome: { result: null },
    cancelled: false,
    polls: 0,
  };
  ctx.state.futures.set(future.request_id, future);
  return future;
}

/** Gives `held` the outcome of `real` (the applied request's future), which is then forgotten. */
export function adopt(ctx: Context, held: FakeFuture, real: FakeFuture): void {
  held.request_type = real.request_type;
  held.ready_at = real.ready_at;
  held.try_again_left = real.try_again_left;
  held.outcome = real.outcome;
  held.proto = real.proto;
  held.release = undefined;
  ctx.state.futures.delete(real.request_id);
}

/** A future of `requestType` that fails at once with a user error (e.g. a duplicate name). */
export function failedFuture(ctx: Context, requestType: string, error: string): FakeFuture {
  const future = createFuture(ctx, requestType, null);
  future.outcome = { error, category: "user" };
  return future;
}

/** The submit's answer: the future's request id (and model). */
export function submitted(future: FakeFuture, modelId?: string): Reply {
  return json(200, { request_id: future.request_id, ...(modelId && { model_id: modelId }) });
}

/** `POST /api/v1/retrieve_future` `{request_id, allow_metadata_only}`. */
export async function retrieveFuture(ctx: Context, req: RecordedRequest): Promise<Reply> {
  const body = req.json as { request_id?: unknown } | undefined;
  if (typeof body?.request_id !== "string") {
    return detail(422, [{ type: "missing", loc: ["body", "request_id"], msg: "Field required" }]);
  }
  const future = ctx.state.futures.get(body.request_id);
  if (!future) return detail(404, `Request ${body.request_id} not found`);
  future.polls++;
  future.release?.();
  if (future.cancelled) return json(200, { error: "Request was cancelled", category: "user" });
  if (future.try_again_left > 0) {
    future.try_again_left--;
    return json(200, {
      type: "try_again",
      request_id: future.request_id,
      queue_state: ctx.options.futureQueueState,
      queue_state_reason: ctx.options.futureQueueState === "active" ? null : "Waiting for capacity",
    });
  }
  const wait = future.ready_at - Date.now();
  if (wait > 0 && ctx.wait) await ctx.wait(Math.min(wait, HOLD_MS));
  future.release?.();
  if (Date.now() < future.ready_at) {
    return json(408, {
      type: "try_again",
      request_id: future.request_id,
      queue_state: "active",
    });
  }
  if (future.proto && "result" in future.outcome && accepts(req, PROTOBUF)) {
    return { status: 200, headers: { "content-type": PROTOBUF }, body: future.proto };
  }
  return json(200, "result" in future.outcome ? future.outcome.result : future.outcome);
}

/** `POST /api/v1/cancel_future` `{request_id}` (the hosted service answers 404; peers cancel). */
export function cancelFuture(ctx: Context, req: RecordedRequest): Reply {
  const id = (req.json as { request_id?: unknown } | undefined)?.request_id;
  const future = typeof id === "string" ? ctx.state.futures.get(id) : undefined;
  if (!future) return detail(404, "Request not found");
  future.cancelled = true;
  return json(200, {});
}
