/**
 * The session and model routes of the fake (SDK 0.38's `ServiceClient` and
 * `TrainingClient`): sessions with heartbeats and expiry, models created from
 * a checkpoint (`load_weights`), `get_info`, `save_weights_external` (an
 * external-weights checkpoint whose files the storage origin serves), and the
 * futures they answer with.
 *
 * @module
 */
import { checkpointArchive } from "./_archive.ts";
import { detail, empty, invalid, json, type Reply } from "./_http.ts";
import {
  adopt,
  cancelFuture,
  createFuture,
  failedFuture,
  heldFuture,
  retrieveFuture,
  submitted,
} from "./_futures.ts";
import {
  type FakeCheckpoint,
  type FakeModel,
  type FakeSession,
  isoMicros,
  prng,
  uuid,
} from "./_state.ts";
import type { Context } from "./_storage.ts";
import type { RecordedRequest } from "./_types.ts";

type Handler = (ctx: Context, req: RecordedRequest, params: string[]) => Reply | Promise<Reply>;

const ANY = ":";
const KINDS = ["weights", "sampler_weights", "external_weights"];
const MAX_TTL = 315_360_000;

/** The JSON object body, or FastAPI's 422. */
export function body(req: RecordedRequest): Record<string, unknown> | Reply {
  if (req.json !== null && typeof req.json === "object" && !Array.isArray(req.json)) {
    return req.json as Record<string, unknown>;
  }
  return invalid(["body"], "missing", "Field required", null);
}

export const isReply = (x: unknown): x is Reply =>
  typeof x === "object" && x !== null && "status" in x && !Array.isArray(x);

export function required(
  fields: Record<string, unknown>,
  name: string,
  type: string,
): Reply | undefined {
  const value = fields[name];
  if (value === undefined) return invalid(["body", name], "missing", "Field required", fields);
  const kind = typeof value;
  const ok = type === "int" ? Number.isInteger(value) : kind === type;
  return ok
    ? undefined
    : invalid(["body", name], `${type}_type`, `Input should be a valid ${type}`, value);
}

/**
 * Records a new model of `session` (its training run, and the model whose
 * first request, sequence id 0, was `requestId`), loaded from `loadedFrom`.
 */
export function addModel(
  ctx: Context,
  session: FakeSession,
  modelId: string,
  requestId: string,
  loadedFrom: string,
  run: { base_model: string; is_lora: boolean; lora_rank: number | null; user_metadata: unknown },
): void {
  ctx.state.addRun({
    training_run_id: modelId,
    base_model: run.base_model,
    model_owner: ctx.state.user,
    is_lora: run.is_lora,
    corrupted: false,
    lora_rank: run.lora_rank,
    last_request_time: isoMicros(Date.now()),
    user_metadata: (run.user_metadata as Record<string, string> | undefined) ?? null,
    session_id: session.session_id,
    checkpoints: [],
  });
  ctx.state.models.set(modelId, {
    model_id: modelId,
    session_id: session.session_id,
    loaded_from: loadedFrom,
    last_seq_id: 0,
    requests: new Map([[0, requestId]]),
  });
}

/** The caller's session `id` if it can take requests; else the reply that says why not. */
export function liveSession(ctx: Context, id: unknown): FakeSession | Reply {
  const session = typeof id === "string" ? ctx.state.sessions.get(id) : undefined;
  if (!session || session.owner !== ctx.state.user || !session.live) {
    return detail(404, "Session not found");
  }
  if (session.live.finished) return detail(410, "Session has finished");
  if (Date.now() - session.live.last_heartbeat > ctx.options.sessionExpiryMs) {
    return detail(404, "Session expired: no heartbeat");
  }
  return session;
}

/** The caller's model `id` in a live session; else the reply that says why not. */
export function liveModel(ctx: Context, id: unknown): FakeModel | Reply {
  const model = typeof id === "string" ? ctx.state.models.get(id) : undefined;
  if (!model) return detail(404, "Model not found");
  const session = liveSession(ctx, model.session_id);
  return isReply(session) ? session : model;
}

function createSession(ctx: Context, req: RecordedRequest): Reply {
  const fields = body(req);
  if (isReply(fields)) return fields;
  const bad = required(fields, "sdk_version", "string");
  if (bad) return bad;
  if (!Array.isArray(fields.tags)) {
    return invalid(
      ["body", "tags"],
      "list_type",
      "Input should be a valid list",
      fields.tags ?? null,
    );
  }
  const now = Date.now();
  const session: FakeSession = {
    session_id: uuid(prng(`created-session:${ctx.state.sessions.size}`)),
    owner: ctx.state.user,
    project_id: typeof fields.project_id === "string" ? fields.project_id : "proj-default",
    created_at: isoMicros(now),
    training_run_ids: [],
    sampler_ids: [],
    trace_fails: false,
    user_metadata: (fields.user_metadata as Record<string, string> | null) ?? null,
    display_name: typeof fields.display_name === "string" ? fields.display_name : null,
    live: {
      tags: fields.tags as string[],
      sdk_version: fields.sdk_version as string,
      last_heartbeat: now,
      heartbeats: 0,
      finished: null,
    },
  };
  ctx.state.addSession(session);
  return json(200, {
    type: "create_session",
    info_message: null,
    warning_message: null,
    error_message: null,
    session_id: session.session_id,
  });
}

function heartbeat(ctx: Context, req: RecordedRequest): Reply {
  const fields = body(req);
  if (isReply(fields)) return fields;
  const session = liveSession(ctx, fields.session_id);
  if (isReply(session)) return session;
  session.live!.last_heartbeat = Date.now();
  session.live!.heartbeats++;
  return json(200, { type: "session_heartbeat" });
}

function finish(ctx: Context, req: RecordedRequest, [id]: string[]): Reply {
  const fields = body(req);
  if (isReply(fields)) return fields;
  const session = ctx.state.sessions.get(id!);
  if (!session || session.owner !== ctx.state.user || !session.live) {
    return detail(404, "Session not found");
  }
  const reason = (fields.reason as { type?: unknown } | undefined)?.type;
  if (reason !== "success" && reason !== "errored" && reason !== "interrupted") {
    return invalid(
      ["body", "reason", "type"],
      "literal_error",
      "Input should be 'success', 'errored' or 'interrupted'",
      reason ?? null,
    );
  }
  session.live.finished ??= {
    reason,
    detail: typeof fields.detail === "string" ? fields.detail : null,
  };
  return empty();
}

/** `load_weights` naming a session and model sequence id: a new model from a training checkpoint. */
export function loadWeights(ctx: Context, req: RecordedRequest): Reply {
  const fields = body(req);
  if (isReply(fields)) return fields;
  for (const [name, type] of [["path", "string"], ["optimizer", "boolean"]] as const) {
    const bad = required(fields, name, type);
    if (bad) return bad;
  }
  if (fields.session_id === undefined || fields.model_seq_id === undefined) {
    return detail(
      400,
      "load_weights onto an existing model is not supported by the fake: name session_id and model_seq_id",
    );
  }
  const bad = required(fields, "model_seq_id", "int");
  if (bad) return bad;
  const session = liveSession(ctx, fields.session_id);
  if (isReply(session)) return session;
  const modelId = `${session.session_id}:train:${fields.model_seq_id}`;
  const existing = ctx.state.models.get(modelId);
  if (existing) {
    const again = existing.requests.get(0);
    return again ? submitted(ctx.state.futures.get(again)!, modelId) : detail(409, "Model exists");
  }
  const path = fields.path as string;
  const parts = path.startsWith("tinker://") ? path.slice(9).split("/") : [];
  if (parts.length !== 3 || !KINDS.includes(parts[1]!)) {
    return detail(400, `Invalid tinker path: ${path}`);
  }
  const source = ctx.state.runs.get(parts[0]!);
  const checkpoint = ctx.state.checkpoint(parts[0]!, `${parts[1]}/${parts[2]}`);
  const visible = source && checkpoint &&
    (source.model_owner === ctx.state.user || checkpoint.public);
  const future = !visible
    ? failedFuture(ctx, "LoadWeights", `Checkpoint not found: ${path}`)
    : checkpoint.checkpoint_type !== "training"
    ? failedFuture(
      ctx,
      "LoadWeights",
      `Only training checkpoints (weights/) can be loaded: ${path}`,
    )
    : createFuture(ctx, "LoadWeights", { type: "load_weights", path, model_id: modelId });
  if ("result" in future.outcome) {
    addModel(ctx, session, modelId, future.request_id, path, {
      base_model: typeof fields.base_model === "string" ? fields.base_model : source!.base_model,
      is_lora: source!.is_lora,
      lora_rank: source!.lora_rank,
      user_metadata: fields.user_metadata,
    });
  }
  return submitted(future, modelId);
}

function getInfo(ctx: Context, req: RecordedRequest): Reply {
  const fields = body(req);
  if (isReply(fields)) return fields;
  const model = liveModel(ctx, fields.model_id);
  if (isReply(model)) return model;
  const run = ctx.state.runs.get(model.model_id)!;
  return json(200, {
    type: "get_info",
    model_data: {
      arch: run.base_model.startsWith("meta-llama/") ? "llama" : "qwen3",
      model_name: run.base_model,
      tokenizer_id: run.base_model,
    },
    model_id: model.model_id,
    optimizer_config: { type: "adamw" },
    is_lora: run.is_lora,
    lora_rank: run.lora_rank,
    model_name: run.base_model,
  });
}

/** How long a request that arrived ahead of an earlier sequence id waits for it. */
const GAP_MS = 300;

/**
 * Checks a model request's `seq_id` and applies the requests of one model in
 * sequence order: the next one at once (and any held ones it unblocks); a
 * later one is held until the earlier ones arrive (the SDK sends a chunked
 * batch's first chunk last), or until GAP_MS passes (a call that failed before
 * reaching the model leaves a gap, which is then skipped); a resent one gets
 * its first future again; one below what was applied is refused.
 */
export function sequenced(
  ctx: Context,
  model: FakeModel,
  seq: unknown,
  apply: () => Reply,
): Reply {
  if (!Number.isInteger(seq)) {
    return invalid(["body", "seq_id"], "int_type", "Input should be a valid integer", seq ?? null);
  }
  const seen = model.requests.get(seq as number) ??
    model.held?.get(seq as number)?.future;
  if (seen !== undefined) return submitted(ctx.state.futures.get(seen)!);
  if ((seq as number) <= model.last_seq_id) {
    return detail(
      400,
      `seq_id ${seq} is out of order for model ${model.model_id}: ${model.last_seq_id} was applied already`,
    );
  }
  if ((seq as number) === model.last_seq_id + 1) {
    const reply = apply();
    const id = requestIdOf(reply);
    if (id !== undefined) {
      model.last_seq_id = seq as number;
      model.requests.set(seq as number, id);
    }
    release(ctx, model, false);
    return reply;
  }
  const since = Date.now();
  const held = heldFuture(ctx, since + GAP_MS);
  held.release = () => {
    if (Date.now() - since >= GAP_MS) release(ctx, model, true);
  };
  (model.held ??= new Map()).set(seq as number, { future: held.request_id, apply, since });
  return submitted(held);
}

function requestIdOf(reply: Reply): string | undefined {
  try {
    return (JSON.parse(reply.body as string) as { request_id?: string }).request_id;
  } catch {
    return undefined;
  }
}

/** Applies held requests in order: those next in sequence, or (`skipGaps`) every one. */
function release(ctx: Context, model: FakeModel, skipGaps: boolean): void {
  const held = model.held;
  while (held && held.size > 0) {
    const seq = Math.min(...held.keys());
    if (seq !== model.last_seq_id + 1 && !skipGaps) return;
    const entry = held.get(seq)!;
    held.delete(seq);
    const future = ctx.state.futures.get(entry.future)!;
    const reply = entry.apply() as Reply;
    const id = requestIdOf(reply);
    if (id === undefined) {
      future.outcome = { error: String(reply.body ?? "Request refused"), category: "user" };
      future.ready_at = Date.now();
      future.release = undefined;
    } else {
      adopt(ctx, future, ctx.state.futures.get(id)!);
    }
    model.last_seq_id = seq;
    model.requests.set(seq, entry.future);
  }
}

/** `save_weights_external`: an external-weights checkpoint of the model. */
function saveWeightsExternal(ctx: Context, req: RecordedRequest): Reply {
  const fields = body(req);
  if (isReply(fields)) return fields;
  const bad = required(fields, "model_id", "string") ?? required(fields, "path", "string");
  if (bad) return bad;
  const model = liveModel(ctx, fields.model_id);
  if (isReply(model)) return model;
  const ttl = fields.ttl_seconds;
  if (
    ttl != null && (!Number.isInteger(ttl) || (ttl as number) < 3600 || (ttl as number) > MAX_TTL)
  ) {
    return detail(400, `ttl_seconds must be between 3600 and ${MAX_TTL}`);
  }
  return sequenced(ctx, model, fields.seq_id, () => {
    const name = fields.path as string;
    const run = ctx.state.runs.get(model.model_id)!;
    const checkpointId = `external_weights/${name}`;
    if (!/^[\w.-]+$/.test(name)) {
      return submitted(
        failedFuture(ctx, "SaveWeightsExternal", `Invalid checkpoint name: ${name}`),
      );
    }
    if (ctx.state.checkpoint(run.training_run_id, checkpointId)) {
      return submitted(
        failedFuture(ctx, "SaveWeightsExternal", `Checkpoint ${checkpointId} already exists`),
      );
    }
    const now = Date.now();
    const checkpoint: FakeCheckpoint = {
      checkpoint_id: checkpointId,
      checkpoint_type: "external",
      time: isoMicros(now),
      tinker_path: `tinker://${run.training_run_id}/${checkpointId}`,
      size_bytes: null,
      public: false,
      user_metadata: null,
      expires_at: typeof ttl === "number" ? isoMicros(now + ttl * 1000) : null,
    };
    // The files the storage origin serves for it, so the size is theirs exactly.
    checkpoint.size_bytes = checkpointArchive(run, checkpoint, ctx.options.archiveBytes)
      .reduce((sum, file) => sum + file.size, 0);
    const future = createFuture(ctx, "SaveWeightsExternal", {
      type: "save_weights_external",
      path: checkpoint.tinker_path,
      size_bytes: checkpoint.size_bytes,
    });
    if ("result" in future.outcome) ctx.state.addCheckpoint(run.training_run_id, checkpoint);
    return submitted(future);
  });
}

/** A route that exists only while `sessionRoutes` is on (a peer without them answers 404). */
const optional = (handler: Handler): Handler => (ctx, req, params) =>
  ctx.options.sessionRoutes ? handler(ctx, req, params) : detail(404, "Not Found");

/** The routes above, registered by `_routes.ts`. */
export const SESSION_ROUTES: [string[], Partial<Record<string, Handler>>][] = [
  [["api", "v1", "create_session"], { POST: optional(createSession) }],
  [["api", "v1", "session_heartbeat"], { POST: optional(heartbeat) }],
  [["api", "v1", "sessions", ANY, "finish"], { POST: optional(finish) }],
  [["api", "v1", "load_weights"], { POST: optional(loadWeights) }],
  [["api", "v1", "get_info"], { POST: optional(getInfo) }],
  [["api", "v1", "save_weights_external"], { POST: optional(saveWeightsExternal) }],
  [["api", "v1", "retrieve_future"], { POST: optional(retrieveFuture) }],
  [["api", "v1", "cancel_future"], { POST: optional(cancelFuture) }],
];
