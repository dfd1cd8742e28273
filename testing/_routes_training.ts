/**
 * The training routes of the fake (SDK 0.38's `TrainingClient`): models
 * created with `create_model`, `forward` / `forward_backward` (protobuf as
 * SDK 0.38 sends it, JSON as SDK 0.25-era servers take it), `optim_step`,
 * `save_weights` / `load_weights` with or without the optimizer state, and
 * `save_weights_for_sampler` (named, or unnamed with a sampling session). The
 * model is `_bigram.ts`'s bigram table; every call is a server-side future
 * with the fake's futures machinery and fault injection.
 *
 * @module
 */
import {
  accumulateGradient,
  type AdamHyper,
  adamStep,
  type BigramModel,
  bigramStore,
  initialTable,
  newModel,
  restoreModel,
  saveModel,
  targetLogprobs,
} from "./_bigram.ts";
import { createFuture, failedFuture, submitted } from "./_futures.ts";
import { detail, invalid, type Reply } from "./_http.ts";
import { BASE_MODELS } from "./_routes.ts";
import {
  addModel,
  body,
  isReply,
  liveModel,
  liveSession,
  loadWeights,
  required,
  sequenced,
} from "./_routes_sessions.ts";
import { type FakeCheckpoint, type FakeModel, isoMicros } from "./_state.ts";
import type { Context } from "./_storage.ts";
import type { RecordedRequest } from "./_types.ts";
import {
  decodeForwardBackwardRequest,
  encodeForwardBackwardOutput,
} from "../internal/_proto_messages.ts";
import { ModelInput } from "../model_input.ts";
import { TensorData, type TensorDataInit } from "../tensor_data.ts";
import type { ForwardBackwardOutput, LossFnOutput } from "../training_types.ts";

type Handler = (ctx: Context, req: RecordedRequest, params: string[]) => Reply | Promise<Reply>;

const MAX_TTL = 315_360_000;
const NAME = /^[\w.-]+$/;

/** The trainable bigram model of `model`, created from its checkpoint on first use. */
function bigramOf(ctx: Context, model: FakeModel): BigramModel {
  const store = bigramStore(ctx.state);
  let bigram = store.models.get(model.model_id);
  if (!bigram) {
    const base = ctx.state.runs.get(model.model_id)!.base_model;
    const saved = store.saved.get(model.loaded_from);
    bigram = saved ? restoreModel(saved, false) : newModel(base);
    store.models.set(model.model_id, bigram);
  }
  return bigram;
}

/** `create_model`: a new LoRA model of a base model in a live session. */
function createModel(ctx: Context, req: RecordedRequest): Reply {
  const fields = body(req);
  if (isReply(fields)) return fields;
  const bad = required(fields, "session_id", "string") ??
    required(fields, "model_seq_id", "int") ??
    required(fields, "base_model", "string");
  if (bad) return bad;
  const lora = fields.lora_config as { rank?: unknown } | undefined;
  if (lora === undefined || !Number.isInteger(lora.rank) || (lora.rank as number) < 1) {
    return invalid(
      ["body", "lora_config", "rank"],
      "int_type",
      "Input should be a valid integer",
      lora?.rank ?? null,
    );
  }
  const session = liveSession(ctx, fields.session_id);
  if (isReply(session)) return session;
  const modelId = `${session.session_id}:train:${fields.model_seq_id}`;
  const existing = ctx.state.models.get(modelId);
  if (existing) {
    const again = existing.requests.get(0);
    return again ? submitted(ctx.state.futures.get(again)!, modelId) : detail(409, "Model exists");
  }
  const base = fields.base_model as string;
  if (!BASE_MODELS.some(([name]) => name === base)) {
    return submitted(failedFuture(ctx, "CreateModel", `Base model ${base} is not supported`));
  }
  const future = createFuture(ctx, "CreateModel", { model_id: modelId, type: "create_model" });
  if ("result" in future.outcome) {
    addModel(ctx, session, modelId, future.request_id, base, {
      base_model: base,
      is_lora: true,
      lora_rank: lora.rank as number,
      user_metadata: fields.user_metadata,
    });
    bigramStore(ctx.state).models.set(modelId, newModel(base));
  }
  return submitted(future, modelId);
}

/** One forward / forward_backward request, whatever its encoding. */
interface FwdBwd {
  model_id: unknown;
  seq_id: unknown;
  loss_fn: string;
  loss_fn_config: Record<string, number | string> | null;
  forward_only: boolean;
  data: { tokens: number[]; inputs: Record<string, TensorData> }[];
}

const PROTOBUF = "application/x-protobuf";

/** `POST /api/v1/forward_backward` (protobuf or JSON) and `POST /api/v1/forward` (JSON). */
function forwardBackward(ctx: Context, req: RecordedRequest): Reply {
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim();
  let request: FwdBwd;
  if (type === PROTOBUF) {
    if (!ctx.options.protobufForwardBackward) {
      // As a FastAPI server that reads the body as JSON answers.
      return detail(422, [{
        type: "json_invalid",
        loc: ["body", 0],
        msg: "JSON decode error",
        input: {},
        ctx: { error: "Expecting value" },
      }]);
    }
    try {
      const decoded = decodeForwardBackwardRequest(req.bytes);
      request = {
        ...decoded,
        data: decoded.data.map((d) => ({
          tokens: tokensOf(d.model_input),
          inputs: d.loss_fn_inputs,
        })),
      };
    } catch (e) {
      return detail(400, `Malformed ForwardBackwardRequest: ${(e as Error).message}`);
    }
  } else {
    const fields = body(req);
    if (isReply(fields)) return fields;
    const forwardOnly = req.path.endsWith("/forward");
    const key = forwardOnly ? "forward_input" : "forward_backward_input";
    const input = fields[key] as
      | { data?: unknown; loss_fn?: unknown; loss_fn_config?: unknown }
      | undefined;
    if (!input || !Array.isArray(input.data) || typeof input.loss_fn !== "string") {
      return invalid(["body", key], "missing", "Field required", input ?? null);
    }
    try {
      request = {
        model_id: fields.model_id,
        seq_id: fields.seq_id,
        loss_fn: input.loss_fn,
        loss_fn_config: (input.loss_fn_config as FwdBwd["loss_fn_config"]) ?? null,
        forward_only: forwardOnly,
        data: (input.data as { model_input: unknown; loss_fn_inputs: Record<string, unknown> }[])
          .map((d) => ({
            tokens: tokensOf(ModelInput.fromJSON(d.model_input)),
            inputs: Object.fromEntries(
              Object.entries(d.loss_fn_inputs ?? {}).map((
                [k, v],
              ) => [k, new TensorData(v as TensorDataInit)]),
            ),
          })),
      };
    } catch (e) {
      return invalid(["body", key, "data"], "value_error", (e as Error).message, null);
    }
  }
  if (typeof request.model_id !== "string") {
    return invalid(["body", "model_id"], "missing", "Field required", null);
  }
  const model = liveModel(ctx, request.model_id);
  if (isReply(model)) return model;
  const requestType = request.forward_only ? "Forward" : "ForwardBackward";
  return sequenced(ctx, model, request.seq_id, () => {
    let output: ForwardBackwardOutput;
    try {
      output = compute(bigramOf(ctx, model), request);
    } catch (e) {
      return submitted(failedFuture(ctx, requestType, (e as Error).message));
    }
    return submitted(
      createFuture(ctx, requestType, output, () => encodeForwardBackwardOutput(output)),
    );
  });
}

/** The token ids of an input (text chunks; the bigram model reads nothing else). */
function tokensOf(input: ModelInput): number[] {
  return input.chunks.flatMap((c) => c.type === "encoded_text" ? [...c.tokens] : []);
}

const f32 = (values: number[]) =>
  new TensorData({ data: Float32Array.from(values), dtype: "float32" });

/**
 * Runs the loss on every datum: per-token logprobs of the targets, the
 * loss's value per token, and (unless forward only) its gradient into the model.
 */
function compute(model: BigramModel, request: FwdBwd): ForwardBackwardOutput {
  const config = request.loss_fn_config ?? {};
  const num = (key: string, fallback: number) =>
    typeof config[key] === "number" ? config[key] as number : fallback;
  let total = 0;
  const outputs: LossFnOutput[] = request.data.map((datum, i) => {
    const targets = datum.inputs.target_tokens;
    if (!targets) throw new Error(`data[${i}]: loss_fn_inputs has no target_tokens`);
    const target = Array.from(targets.data as ArrayLike<number>);
    if (target.length !== datum.tokens.length) {
      throw new Error(
        `data[${i}]: ${target.length} target tokens for ${datum.tokens.length} input tokens`,
      );
    }
    const column = (key: string, fallback: number | undefined) => {
      const t = datum.inputs[key];
      if (!t) {
        if (fallback === undefined) {
          throw new Error(`data[${i}]: loss ${request.loss_fn} needs loss_fn_inputs.${key}`);
        }
        return target.map(() => fallback);
      }
      return Array.from(t.data as ArrayLike<number>);
    };
    const lp = targetLogprobs(model.table, datum.tokens, target);
    const losses: number[] = [], grads: number[] = [];
    switch (request.loss_fn) {
      case "cross_entropy": {
        const w = column("weights", 1);
        lp.forEach((l, j) => {
          losses.push(-w[j]! * l);
          grads.push(-w[j]!);
        });
        break;
      }
      case "importance_sampling": {
        const q = column("logprobs", undefined), a = column("advantages", undefined);
        lp.forEach((l, j) => {
          const ratio = Math.exp(l - q[j]!);
          losses.push(-ratio * a[j]!);
          grads.push(-ratio * a[j]!);
        });
        break;
      }
      case "ppo": {
        const q = column("logprobs", undefined), a = column("advantages", undefined);
        const low = num("clip_low_threshold", 0.8), high = num("clip_high_threshold", 1.2);
        lp.forEach((l, j) => {
          const ratio = Math.exp(l - q[j]!);
          const clipped = Math.min(Math.max(ratio, low), high);
          const unclippedWins = ratio * a[j]! <= clipped * a[j]!;
          losses.push(-Math.min(ratio * a[j]!, clipped * a[j]!));
          grads.push(unclippedWins ? -ratio * a[j]! : 0);
        });
        break;
      }
      case "cispo": {
        const q = column("logprobs", undefined), a = column("advantages", undefined);
        const low = num("clip_low_threshold", 0.8), high = num("clip_high_threshold", 1.2);
        lp.forEach((l, j) => {
          const clipped = Math.min(Math.max(Math.exp(l - q[j]!), low), high);
          losses.push(-clipped * a[j]! * l);
          grads.push(-clipped * a[j]!);
        });
        break;
      }
      case "dro": {
        const q = column("logprobs", undefined), a = column("advantages", undefined);
        const beta = num("beta", 0.05);
        lp.forEach((l, j) => {
          losses.push(-(l * a[j]! - (beta / 2) * (l - q[j]!) ** 2));
          grads.push(-(a[j]! - beta * (l - q[j]!)));
        });
        break;
      }
      default:
        throw new Error(`Loss function ${request.loss_fn} is not implemented by the fake server`);
    }
    if (!request.forward_only) accumulateGradient(model, datum.tokens, target, grads);
    total += losses.reduce((s, x) => s + x, 0);
    return { elementwise_loss: f32(losses), logprobs: f32(lp) };
  });
  return {
    loss_fn_output_type: "ArrayRecord",
    loss_fn_outputs: outputs,
    metrics: { "loss:sum": total },
  };
}

const ADAM: (keyof AdamHyper)[] = [
  "learning_rate",
  "beta1",
  "beta2",
  "eps",
  "weight_decay",
  "grad_clip_norm",
];

/** `optim_step`: one AdamW step on the accumulated gradient. */
function optimStep(ctx: Context, req: RecordedRequest): Reply {
  const fields = body(req);
  if (isReply(fields)) return fields;
  const model = liveModel(ctx, fields.model_id);
  if (isReply(model)) return model;
  const adam = fields.adam_params as Record<string, unknown> | undefined;
  if (adam === undefined) {
    return fields.optimizer_params === undefined
      ? invalid(["body", "adam_params"], "missing", "Field required", null)
      : detail(400, "This model was created with the AdamW optimizer: send adam_params");
  }
  for (const key of ADAM) {
    if (typeof adam[key] !== "number") {
      return invalid(
        ["body", "adam_params", key],
        "float_type",
        "Input should be a valid number",
        adam[key] ?? null,
      );
    }
  }
  return sequenced(ctx, model, fields.seq_id, () => {
    const norm = adamStep(bigramOf(ctx, model), adam as unknown as AdamHyper);
    return submitted(
      createFuture(ctx, "OptimStep", { metrics: { "grad_norm:mean": norm }, type: "optim_step" }),
    );
  });
}

function checkTtl(ttl: unknown): Reply | undefined {
  if (
    ttl != null && (!Number.isInteger(ttl) || (ttl as number) < 3600 || (ttl as number) > MAX_TTL)
  ) {
    return detail(400, `ttl_seconds must be between 3600 and ${MAX_TTL}`);
  }
  return undefined;
}

function newCheckpoint(
  runId: string,
  checkpointId: string,
  type: FakeCheckpoint["checkpoint_type"],
  fields: Record<string, unknown>,
): FakeCheckpoint {
  const now = Date.now();
  const ttl = fields.ttl_seconds;
  return {
    checkpoint_id: checkpointId,
    checkpoint_type: type,
    time: isoMicros(now),
    tinker_path: `tinker://${runId}/${checkpointId}`,
    size_bytes: 64 * 64 * 8,
    public: false,
    user_metadata: (fields.user_metadata as Record<string, string> | undefined) ?? null,
    expires_at: typeof ttl === "number" ? isoMicros(now + ttl * 1000) : null,
  };
}

/** `save_weights`: a training checkpoint with the optimizer state. */
function saveWeights(ctx: Context, req: RecordedRequest): Reply {
  const fields = body(req);
  if (isReply(fields)) return fields;
  const bad = required(fields, "model_id", "string") ?? required(fields, "path", "string") ??
    checkTtl(fields.ttl_seconds);
  if (bad) return bad;
  const model = liveModel(ctx, fields.model_id);
  if (isReply(model)) return model;
  return sequenced(ctx, model, fields.seq_id, () => {
    const name = fields.path as string;
    if (!NAME.test(name)) {
      return submitted(failedFuture(ctx, "SaveWeights", `Invalid checkpoint name: ${name}`));
    }
    const runId = model.model_id;
    const id = `weights/${name}`;
    const exists = ctx.state.checkpoint(runId, id);
    if (exists && fields.overwrite !== true) {
      return submitted(failedFuture(ctx, "SaveWeights", `Checkpoint ${id} already exists`));
    }
    const checkpoint = newCheckpoint(runId, id, "training", fields);
    const future = createFuture(ctx, "SaveWeights", {
      path: checkpoint.tinker_path,
      type: "save_weights",
    });
    if ("result" in future.outcome) {
      if (exists) ctx.state.deleteCheckpoint(runId, id);
      ctx.state.addCheckpoint(runId, checkpoint);
      bigramStore(ctx.state).saved.set(checkpoint.tinker_path, saveModel(bigramOf(ctx, model)));
    }
    return submitted(future);
  });
}

/**
 * `load_weights`: onto this model (`model_id`, `seq_id`), or a new model
 * of a session (`session_id`, `model_seq_id`: `_routes_sessions.ts`), whose
 * bigram table then comes from the checkpoint too.
 */
function loadWeightsRoute(ctx: Context, req: RecordedRequest): Reply {
  const fields = body(req);
  if (isReply(fields)) return fields;
  if (fields.session_id !== undefined || fields.model_seq_id !== undefined) {
    const reply = loadWeights(ctx, req);
    const { model_id } = JSON.parse((reply.body as string | undefined) ?? "{}");
    const model = typeof model_id === "string" ? ctx.state.models.get(model_id) : undefined;
    const store = bigramStore(ctx.state);
    if (model && !store.models.has(model.model_id)) {
      store.models.set(
        model.model_id,
        loadedModel(
          ctx,
          model.loaded_from,
          fields.optimizer === true,
          ctx.state.runs.get(model.model_id)!.base_model,
        ),
      );
    }
    return reply;
  }
  const bad = required(fields, "model_id", "string") ?? required(fields, "path", "string") ??
    required(fields, "optimizer", "boolean");
  if (bad) return bad;
  const model = liveModel(ctx, fields.model_id);
  if (isReply(model)) return model;
  return sequenced(ctx, model, fields.seq_id, () => {
    const path = fields.path as string;
    const parts = path.startsWith("tinker://") ? path.slice(9).split("/") : [];
    const source = ctx.state.runs.get(parts[0] ?? "");
    const checkpoint = parts.length === 3 && parts[1] === "weights"
      ? ctx.state.checkpoint(parts[0]!, `weights/${parts[2]}`)
      : undefined;
    if (!source || !checkpoint || (source.model_owner !== ctx.state.user && !checkpoint.public)) {
      return submitted(failedFuture(ctx, "LoadWeights", `Checkpoint not found: ${path}`));
    }
    const future = createFuture(ctx, "LoadWeights", {
      path,
      model_id: model.model_id,
      type: "load_weights",
    });
    if ("result" in future.outcome) {
      const base = ctx.state.runs.get(model.model_id)!.base_model;
      bigramStore(ctx.state).models.set(
        model.model_id,
        loadedModel(ctx, path, fields.optimizer as boolean, base),
      );
    }
    return submitted(future);
  });
}

/** A model from a checkpoint's saved table (its base model's table when the fake saved none). */
function loadedModel(ctx: Context, path: string, optimizer: boolean, base: string): BigramModel {
  const saved = bigramStore(ctx.state).saved.get(path);
  if (saved) return restoreModel(saved, optimizer);
  const model = newModel(base);
  model.table.set(initialTable(base));
  return model;
}

/** `save_weights_for_sampler`: a named sampler checkpoint, or (unnamed) a sampling session. */
function saveWeightsForSampler(ctx: Context, req: RecordedRequest): Reply {
  const fields = body(req);
  if (isReply(fields)) return fields;
  const bad = required(fields, "model_id", "string") ?? checkTtl(fields.ttl_seconds);
  if (bad) return bad;
  const named = fields.path !== undefined && fields.path !== null;
  if (named ? typeof fields.path !== "string" : !Number.isInteger(fields.sampling_session_seq_id)) {
    return detail(400, "Either path or sampling_session_seq_id must be provided");
  }
  const model = liveModel(ctx, fields.model_id);
  if (isReply(model)) return model;
  return sequenced(ctx, model, fields.seq_id, () => {
    const bigram = bigramOf(ctx, model);
    const snapshot = { base_model: bigram.base_model, table: bigram.table.slice() };
    const store = bigramStore(ctx.state);
    if (!named) {
      const id = `${model.session_id}:sample:${fields.sampling_session_seq_id}`;
      const future = createFuture(ctx, "SaveWeightsForSampler", {
        path: null,
        sampling_session_id: id,
        type: "save_weights_for_sampler",
      });
      if ("result" in future.outcome) {
        store.samplingSessions.set(id, snapshot);
        ctx.state.samplers.set(id, {
          sampler_id: id,
          base_model: bigram.base_model,
          model_path: null,
        });
      }
      return submitted(future);
    }
    const name = fields.path as string;
    if (!NAME.test(name)) {
      return submitted(
        failedFuture(ctx, "SaveWeightsForSampler", `Invalid checkpoint name: ${name}`),
      );
    }
    const id = `sampler_weights/${name}`;
    if (ctx.state.checkpoint(model.model_id, id)) {
      return submitted(
        failedFuture(ctx, "SaveWeightsForSampler", `Checkpoint ${id} already exists`),
      );
    }
    const checkpoint = newCheckpoint(model.model_id, id, "sampler", fields);
    const future = createFuture(ctx, "SaveWeightsForSampler", {
      path: checkpoint.tinker_path,
      type: "save_weights_for_sampler",
    });
    if ("result" in future.outcome) {
      ctx.state.addCheckpoint(model.model_id, checkpoint);
      store.samplers.set(checkpoint.tinker_path, snapshot);
    }
    return submitted(future);
  });
}

/** The routes above, registered by `_routes.ts` (before the session routes: `load_weights`). */
export const TRAINING_ROUTES: [string[], Partial<Record<string, Handler>>][] = [
  [["api", "v1", "create_model"], { POST: createModel }],
  [["api", "v1", "forward_backward"], { POST: forwardBackward }],
  [["api", "v1", "forward"], { POST: forwardBackward }],
  [["api", "v1", "optim_step"], { POST: optimStep }],
  [["api", "v1", "save_weights"], { POST: saveWeights }],
  [["api", "v1", "load_weights"], { POST: loadWeightsRoute }],
  [["api", "v1", "save_weights_for_sampler"], { POST: saveWeightsForSampler }],
];
