/**
 * The sampling routes of the fake (SDK 0.38's `SamplingClient`):
 * `create_sampling_session` (from a sampler checkpoint's snapshot or a base
 * model), `join_sampling_session`, `asample` (a future whose result is the
 * bigram model's samples, deterministic per seed, with prompt logprobs and
 * top-k; protobuf when asked for, else JSON) and the `retrieve_futures` long
 * poll that reports a sampling session's completed requests. Injected future
 * behaviour (`futureDelayMs`, `futureTryAgainCount`, `futureFailure`,
 * `futureQueueState`) applies to samples as to every future.
 *
 * @module
 */
import { encodeSampleResponse } from "../internal/_proto_messages.ts";
import { TensorData, type TensorDataInit } from "../tensor_data.ts";
import type { SampleResponse, TopkLogprobs } from "../training_types.ts";
import {
  type BigramSamplingParams,
  bigramStore,
  type BigramTable,
  initialTable,
  promptLogprobs,
  rowLogprobs,
  sampleSequence,
  topLogprobs,
  vocabIndex,
} from "./_bigram.ts";
import { createFuture } from "./_futures.ts";
import { isReply, liveSession } from "./_routes_sessions.ts";
import { detail, invalid, json, type Reply } from "./_http.ts";
import { type FakeState, prng } from "./_state.ts";
import type { Context } from "./_storage.ts";
import type { RecordedRequest } from "./_types.ts";

type Handler = (ctx: Context, req: RecordedRequest, params: string[]) => Reply | Promise<Reply>;

/** How long a `retrieve_futures` poll is held while nothing completes (the service: ~30 s). */
const HOLD_MS = 1000;
/** How often a held poll looks for completions. */
const TICK_MS = 10;
const CLONE_BLOCK = 1_000_000_000;
const MASK_LOGPROB = -99999;

/** One sampling session of the fake. */
export interface FakeSamplingSession {
  /** `<session>:sample:<n>`. */
  sampling_session_id: string;
  session_id: string;
  base_model: string;
  model_path: string | null;
  /** The weights it samples from (a snapshot: later saves do not change it). */
  table: BigramTable;
  /** Clients that joined (`join_sampling_session`); the original is 0. */
  clients: number;
  /** Request ids by `seq_id` (a resent sequence id gets the same future). */
  requests: Map<number, string>;
  /** Sequence ids handed out so far. */
  sequences: number;
  /** Per clone: submitted requests not yet reported complete. */
  pending: Map<number, string[]>;
  /** Per clone: completions reported, with their cursors (trimmed by `prev_cursor`). */
  events: Map<number, { cursor: number; completion: Record<string, unknown> }[]>;
  /** The last cursor handed out. */
  cursor: number;
  /** Request ids the client said it has read (`retrieved_request_ids`). */
  retrieved: Set<string>;
}

const sessionsOf = new WeakMap<FakeState, Map<string, FakeSamplingSession>>();

/** The sampling sessions kept beside `state`, by id (for tests). */
export function samplingSessions(state: FakeState): Map<string, FakeSamplingSession> {
  let map = sessionsOf.get(state);
  if (!map) sessionsOf.set(state, map = new Map());
  return map;
}

function object(req: RecordedRequest): Record<string, unknown> | Reply {
  if (req.json !== null && typeof req.json === "object" && !Array.isArray(req.json)) {
    return req.json as Record<string, unknown>;
  }
  return invalid(["body"], "missing", "Field required", null);
}

/** The sampling session `id` whose session is live; else the reply that says why not. */
function liveSampler(ctx: Context, id: unknown): FakeSamplingSession | Reply {
  if (typeof id !== "string") return detail(404, "Sampling session not found");
  let sampler = samplingSessions(ctx.state).get(id);
  // One made by a training client's unnamed save_weights_for_sampler (`<session>:sample:<n>`).
  const saved = sampler ? undefined : bigramStore(ctx.state).samplingSessions.get(id);
  if (saved) sampler = register(ctx, id, id.slice(0, id.lastIndexOf(":sample:")), saved, null);
  if (!sampler) return detail(404, "Sampling session not found");
  const session = liveSession(ctx, sampler.session_id);
  return isReply(session) ? session : sampler;
}

function isInt(value: unknown, min: number): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= min;
}

/** The weights of `modelPath`: its snapshot, else (a seeded sampler checkpoint) its base model's. */
function weightsOf(
  ctx: Context,
  modelPath: string,
): { base_model: string; table: BigramTable } | Reply {
  const snapshot = bigramStore(ctx.state).samplers.get(modelPath);
  if (snapshot) return { base_model: snapshot.base_model, table: snapshot.table.slice() };
  const match = /^tinker:\/\/([^/]+)\/sampler_weights\/(.+)$/.exec(modelPath);
  if (!match) {
    return detail(400, `Invalid model_path ${JSON.stringify(modelPath)}: not a sampler checkpoint`);
  }
  const run = ctx.state.runs.get(match[1]!);
  const checkpoint = run &&
    ctx.state.checkpoint(run.training_run_id, `sampler_weights/${match[2]}`);
  if (!run || !checkpoint) return detail(404, `Sampler checkpoint not found: ${modelPath}`);
  return { base_model: run.base_model, table: initialTable(run.base_model) };
}

function createSamplingSession(ctx: Context, req: RecordedRequest): Reply {
  const fields = object(req);
  if (isReply(fields)) return fields;
  const session = liveSession(ctx, fields.session_id);
  if (isReply(session)) return session;
  const seq = fields.sampling_session_seq_id;
  if (!isInt(seq, 0)) {
    return invalid(
      ["body", "sampling_session_seq_id"],
      "int_type",
      "Input should be a valid integer",
      seq ?? null,
    );
  }
  const { model_path: modelPath, base_model: baseModel } = fields;
  if ((typeof modelPath === "string") === (typeof baseModel === "string")) {
    return detail(400, "Exactly one of model_path and base_model is required");
  }
  const id = `${session.session_id}:sample:${seq}`;
  const sessions = samplingSessions(ctx.state);
  if (!sessions.has(id)) { // A resent creation gets the same sampling session.
    const weights = typeof modelPath === "string"
      ? weightsOf(ctx, modelPath)
      : { base_model: baseModel as string, table: initialTable(baseModel as string) };
    if (isReply(weights)) return weights;
    register(
      ctx,
      id,
      session.session_id,
      weights,
      typeof modelPath === "string" ? modelPath : null,
    );
    ctx.state.samplers.set(id, {
      sampler_id: id,
      base_model: weights.base_model,
      model_path: typeof modelPath === "string" ? modelPath : null,
    });
    session.sampler_ids.push(id);
  }
  return json(200, { type: "create_sampling_session", sampling_session_id: id });
}

/** Registers a sampling session of `weights` (created here, or by an unnamed `save_weights_for_sampler`). */
function register(
  ctx: Context,
  id: string,
  sessionId: string,
  weights: { base_model: string; table: BigramTable },
  modelPath: string | null,
): FakeSamplingSession {
  const sampler: FakeSamplingSession = {
    sampling_session_id: id,
    session_id: sessionId,
    base_model: weights.base_model,
    model_path: modelPath,
    table: weights.table.slice(),
    clients: 0,
    requests: new Map(),
    sequences: 0,
    pending: new Map(),
    events: new Map(),
    cursor: 0,
    retrieved: new Set(),
  };
  samplingSessions(ctx.state).set(id, sampler);
  return sampler;
}

function joinSamplingSession(ctx: Context, req: RecordedRequest): Reply {
  const fields = object(req);
  if (isReply(fields)) return fields;
  const sampler = liveSampler(ctx, fields.sampling_session_id);
  if (isReply(sampler)) return sampler;
  sampler.clients++;
  return json(200, { type: "join_sampling_session", client_counter: sampler.clients });
}

/** The prompt's token ids; only text chunks can be sampled by the fake. */
function promptTokens(prompt: unknown): number[] | Reply {
  const chunks = (prompt as { chunks?: unknown } | null)?.chunks;
  if (!Array.isArray(chunks)) {
    return invalid(["body", "prompt", "chunks"], "missing", "Field required", prompt ?? null);
  }
  const tokens: number[] = [];
  for (const [i, chunk] of chunks.entries()) {
    const c = chunk as { type?: unknown; tokens?: unknown };
    if (
      c?.type !== "encoded_text" || !Array.isArray(c.tokens) || !c.tokens.every((t) => isInt(t, 0))
    ) {
      return detail(
        400,
        `prompt.chunks[${i}]: the fake samples only encoded_text chunks of token ids`,
      );
    }
    tokens.push(...(c.tokens as number[]));
  }
  if (tokens.length === 0) return detail(400, "The prompt is empty");
  return tokens;
}

/** Top-k rows as matrices: for each `prev` (or null: an empty row), the `k` likeliest next tokens. */
function topk(table: BigramTable, prevs: (number | null)[], k: number): TopkLogprobs {
  const token_ids = new Int32Array(prevs.length * k);
  const logprobs = new Float32Array(prevs.length * k).fill(MASK_LOGPROB);
  prevs.forEach((prev, row) => {
    if (prev === null) return;
    topLogprobs(table, prev, k).forEach(([id, lp], j) => {
      token_ids[row * k + j] = id;
      logprobs[row * k + j] = lp;
    });
  });
  return { length: prevs.length, k, token_ids, logprobs };
}

function topkLists(topk: TopkLogprobs | null): ([number, number][] | null)[] | null {
  if (!topk) return null;
  return Array.from({ length: topk.length }, (_, row) => {
    const pairs: [number, number][] = [];
    for (let j = 0; j < topk.k; j++) {
      const lp = topk.logprobs[row * topk.k + j]!;
      if (lp !== Math.fround(MASK_LOGPROB)) pairs.push([topk.token_ids[row * topk.k + j]!, lp]);
    }
    return pairs.length ? pairs : null;
  });
}

function asample(ctx: Context, req: RecordedRequest): Reply {
  const fields = object(req);
  if (isReply(fields)) return fields;
  const sampler = liveSampler(ctx, fields.sampling_session_id);
  if (isReply(sampler)) return sampler;
  const seq = fields.seq_id; // The SDK's clone blocks reach 1e18: any integer JSON number.
  if (typeof seq !== "number" || !Number.isInteger(seq) || seq < 0) {
    return invalid(["body", "seq_id"], "int_type", "Input should be a valid integer", seq ?? null);
  }
  const numSamples = fields.num_samples ?? 1;
  if (!isInt(numSamples, 1)) {
    return invalid(
      ["body", "num_samples"],
      "greater_than_equal",
      "Input should be greater than or equal to 1",
      numSamples,
    );
  }
  const params = fields.sampling_params as Record<string, unknown> | undefined;
  if (params === null || typeof params !== "object" || Array.isArray(params)) {
    return invalid(["body", "sampling_params"], "missing", "Field required", params ?? null);
  }
  const prompt = promptTokens(fields.prompt);
  if (isReply(prompt)) return prompt;
  const topkPrompt = fields.topk_prompt_logprobs ?? 0;
  const topkSample = fields.topk_sample_logprobs ?? 0;
  if (!isInt(topkPrompt, 0) || !isInt(topkSample, 0)) {
    return detail(400, "topk_prompt_logprobs and topk_sample_logprobs must be integers >= 0");
  }
  const lastN = fields.prompt_logprobs_last_n;
  if (lastN !== undefined && lastN !== null && (!isInt(lastN, 1) || lastN > prompt.length - 1)) {
    return detail(
      400,
      `prompt_logprobs_last_n must be between 1 and ${prompt.length - 1}, got ${lastN}`,
    );
  }
  const existing = sampler.requests.get(seq);
  if (existing !== undefined) return json(200, { request_id: existing }); // A resend.

  const table = sampler.table;
  const seed = isInt(params.seed, 0)
    ? `seed:${params.seed}`
    : `${sampler.sampling_session_id}:${seq}`;
  const sequences = Array.from({ length: numSamples }, (_, i) => {
    const drawn = sampleSequence(
      table,
      prompt,
      params as BigramSamplingParams,
      prng(`${seed}:${i}`),
    );
    return {
      stop_reason: drawn.stop_reason,
      sequence_id: "",
      tokens: drawn.tokens,
      logprobs: drawn.logprobs,
      topk_logprobs: topkSample > 0
        ? topk(
          table,
          drawn.tokens.map((_, j) => j === 0 ? prompt.at(-1)! : drawn.tokens[j - 1]!),
          topkSample,
        )
        : null,
    };
  });
  const cut = (i: number) => typeof lastN === "number" && i < prompt.length - lastN;
  const promptLps = fields.prompt_logprobs === true || topkPrompt > 0
    ? promptLogprobs(table, prompt).map((lp, i) => cut(i) ? null : lp)
    : null;
  const result: SampleResponse = {
    sequences,
    prompt_logprobs: fields.prompt_logprobs === true ? promptLps : null,
    topk_prompt_logprobs: topkPrompt > 0
      ? topk(table, prompt.map((_, i) => i === 0 || cut(i) ? null : prompt[i - 1]!), topkPrompt)
      : null,
    target_prompt_logprobs: null,
    prompt_alt_tokens: null,
    prompt_cache_hit_tokens: 0,
  };
  if (fields.target_prompt_logprobs !== undefined && fields.target_prompt_logprobs !== null) {
    const scored = targetLogprobs(table, prompt, fields.target_prompt_logprobs);
    if (isReply(scored)) return scored;
    result.target_prompt_logprobs = scored;
  }
  const altK = fields.prompt_alt_tokens_k ?? 0;
  if (!isInt(altK, 0)) return detail(400, "prompt_alt_tokens_k must be an integer >= 0");
  if (altK > 0) {
    result.prompt_alt_tokens = altTokens(table, prompt, altK, params, prng(`${seed}:alt`));
  }
  const future = createFuture(ctx, "Sample", {
    sequences: sequences.map((s) => ({
      tokens: s.tokens,
      logprobs: s.logprobs,
      stop_reason: s.stop_reason,
    })),
    prompt_logprobs: result.prompt_logprobs,
    topk_prompt_logprobs: topkLists(result.topk_prompt_logprobs),
    prompt_cache_hit_tokens: 0,
    type: "sample",
  }, () => encodeSampleResponse(result));
  sampler.requests.set(seq, future.request_id);
  const clone = Math.floor(seq / CLONE_BLOCK);
  sampler.pending.set(clone, [...(sampler.pending.get(clone) ?? []), future.request_id]);
  const ids = sequences.map(() => `${sampler.sampling_session_id}:seq:${sampler.sequences++}`);
  return json(200, { request_id: future.request_id, sample_sequence_ids: ids });
}

/**
 * `target_prompt_logprobs`: the logprob of each named id at prompt position
 * `row + 1` (given the token before it), in the request's shape and layout
 * (dense or sparse CSR); 0 where the id is -1.
 */
function targetLogprobs(table: BigramTable, prompt: number[], json: unknown): TensorData | Reply {
  let ids: TensorData;
  try {
    ids = new TensorData(json as TensorDataInit);
  } catch (error) {
    return detail(400, `target_prompt_logprobs: ${(error as Error).message}`);
  }
  const shape = ids.shape;
  if (ids.dtype !== "int64" || shape === null || shape.length !== 2) {
    return detail(400, "target_prompt_logprobs must be a 2-D int64 tensor");
  }
  if (shape[0] !== prompt.length - 1) {
    return detail(
      400,
      `target_prompt_logprobs must have len(prompt) - 1 = ${prompt.length - 1} rows, got ${
        shape[0]
      }`,
    );
  }
  const score = (row: number, id: number) =>
    id < 0 ? 0 : rowLogprobs(table, prompt[row]!)[vocabIndex(id)]!;
  const values = Array.from(ids.data);
  const crow = ids.sparse_crow_indices;
  const rows = values.map((_, i) => {
    if (crow === null) return Math.floor(i / shape[1]!);
    let row = 0;
    while (crow[row + 1]! <= i) row++;
    return row;
  });
  return new TensorData({
    data: values.map((id, i) => score(rows[i]!, id)),
    dtype: "float32",
    shape,
    sparse_crow_indices: crow,
    sparse_col_indices: ids.sparse_col_indices,
  });
}

/** `prompt_alt_tokens_k`: `k` draws at each prompt position after the first, at the request's temperature. */
function altTokens(
  table: BigramTable,
  prompt: number[],
  k: number,
  params: Record<string, unknown>,
  rand: () => number,
): { tokens: TensorData; logprobs: TensorData } {
  const tokens: number[] = [], logprobs: number[] = [];
  const draw = { max_tokens: 1, temperature: params.temperature as number | undefined };
  for (let row = 0; row < prompt.length - 1; row++) {
    for (let j = 0; j < k; j++) {
      const one = sampleSequence(table, [prompt[row]!], draw, rand);
      tokens.push(one.tokens[0]!);
      logprobs.push(one.logprobs[0]!);
    }
  }
  const shape = [prompt.length - 1, k];
  return {
    tokens: new TensorData({ data: tokens, dtype: "int64", shape }),
    logprobs: new TensorData({ data: logprobs, dtype: "float32", shape }),
  };
}

/** Moves the clone's finished (or failed, or cancelled) requests to its events. */
function collect(ctx: Context, sampler: FakeSamplingSession, clone: number): void {
  const pending = sampler.pending.get(clone) ?? [];
  const events = sampler.events.get(clone) ?? [];
  const now = Date.now();
  const left = pending.filter((id) => {
    const future = ctx.state.futures.get(id);
    if (future && !future.cancelled && now < future.ready_at) return true;
    const failed = !future || future.cancelled || !("result" in future.outcome);
    events.push({
      cursor: ++sampler.cursor,
      completion: failed ? { state: "failed", request_id: id } : {
        state: "finished",
        request_id: id,
        response_payload_uncompressed_size: future.proto?.byteLength ?? null,
      },
    });
    return false;
  });
  sampler.pending.set(clone, left);
  sampler.events.set(clone, events);
}

async function retrieveFutures(ctx: Context, req: RecordedRequest): Promise<Reply> {
  const fields = object(req);
  if (isReply(fields)) return fields;
  const target = fields.target as Record<string, unknown> | undefined;
  if (target?.type !== "sampling_session") {
    return invalid(["body", "target"], "missing", "Field required", target ?? null);
  }
  const sampler = liveSampler(ctx, target.sampling_session_id);
  if (isReply(sampler)) return sampler;
  const clone = target.cloned_sampler_id ?? 0;
  const prev = fields.prev_cursor ?? 0;
  if (!isInt(clone, 0) || !isInt(prev, 0)) {
    return detail(400, "cloned_sampler_id and prev_cursor must be integers >= 0");
  }
  const retrieved = fields.retrieved_request_ids ?? [];
  if (!Array.isArray(retrieved)) return detail(400, "retrieved_request_ids must be a list");
  for (const id of retrieved) sampler.retrieved.add(String(id));
  // Events at or before the cursor the client has seen are trimmed.
  sampler.events.set(clone, (sampler.events.get(clone) ?? []).filter((e) => e.cursor > prev));
  const held = fields.timeout !== 0;
  const until = Date.now() +
    (typeof fields.timeout === "number" ? Math.min(fields.timeout * 1000, HOLD_MS) : HOLD_MS);
  let closing = false;
  for (;;) {
    collect(ctx, sampler, clone);
    const events = sampler.events.get(clone)!;
    if (events.length > 0 || !held || !ctx.wait || closing || Date.now() >= until) {
      return json(200, {
        completions: events.map((e) => e.completion),
        cursor: events.at(-1)?.cursor ?? prev,
      });
    }
    const tick = Math.min(TICK_MS, until - Date.now());
    const asked = Date.now();
    await ctx.wait(tick);
    if (Date.now() - asked < tick / 2) closing = true; // The server is closing: answer now.
  }
}

/** The routes: `[path segments, handlers by method]`. */
export const SAMPLING_ROUTES: [string[], Partial<Record<string, Handler>>][] = [
  [["api", "v1", "create_sampling_session"], { POST: createSamplingSession }],
  [["api", "v1", "join_sampling_session"], { POST: joinSamplingSession }],
  [["api", "v1", "asample"], { POST: asample }],
  [["api", "v1", "retrieve_futures"], { POST: retrieveFutures }],
];
