/**
 * The fake's OpenAI-compatible endpoint (`/oai/api/v1`): `/models`,
 * `/chat/completions` and `/completions`, streamed as server-sent events or
 * not. `Authorization: Bearer <key>` as the hosted endpoint wants it. The
 * answers come from the fake's own bigram model ({@linkcode initialTable} of
 * a base model, or the snapshot a `save_weights_for_sampler` took for a
 * `tinker://…/sampler_weights/…` path), through the one-character-per-token
 * tokenizer of `_tokenizer.ts`: the prompt's last character starts the
 * sampling, which stops at a full stop, a `stop` string (left out of the
 * text, as OpenAI does) or `max_tokens`. `temperature` 0 is greedy; the draws
 * are seeded by `seed`, else by the model and the prompt, so an answer is
 * deterministic and changes after training. Faults apply as to
 * every route (`status` 429/503, `truncate` to cut a stream mid-way, or a
 * `status: 200` text/event-stream `body` for a stream that ends early).
 *
 * @module
 */
import type { Reply } from "./_http.ts";
import { BASE_MODELS, readable } from "./_routes.ts";
import { bigramStore, type BigramTable, initialTable, sampleSequence } from "./_bigram.ts";
import { type FakeState, prng } from "./_state.ts";
import type { Context } from "./_storage.ts";
import type { RecordedRequest } from "./_types.ts";
import { decode, encode } from "./_tokenizer.ts";

const encoder = new TextEncoder();
const DEFAULT_MAX_TOKENS = 256;
/** The character that ends an answer by itself (a sentence's full stop), kept in the text. */
const END = ".";
/** A JSON error in the OpenAI shape: `{"error": {"message", "type", "code"}}`. */
function oaiError(status: number, message: string, type: string): Reply {
  return {
    status,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ error: { message, type, code: status } }),
  };
}

/** Answers a request under `/oai/`; `pause` waits between streamed tokens. */
export function handleOai(
  ctx: Context,
  req: RecordedRequest,
  pause: (ms: number) => Promise<void>,
): Reply {
  const route = req.path.replace(/^\/oai\/api\/v1/, "");
  const known = ["/models", "/chat/completions", "/completions"];
  if (route === req.path || !known.includes(route)) {
    return oaiError(404, `Not found: ${req.path}`, "not_found_error");
  }
  const want = route === "/models" ? "GET" : "POST";
  if (req.method !== want) return oaiError(405, "Method Not Allowed", "invalid_request_error");
  if (req.headers["authorization"] !== `Bearer ${ctx.options.apiKey}`) {
    return oaiError(
      401,
      "Invalid or missing API key: send Authorization: Bearer <your Tinker API key>",
      "authentication_error",
    );
  }
  if (route === "/models") return models();
  const body = req.json as Record<string, unknown> | undefined;
  if (body === undefined || typeof body !== "object" || body === null || Array.isArray(body)) {
    return oaiError(400, "The body must be a JSON object", "invalid_request_error");
  }
  const resolved = resolveModel(ctx, body.model);
  if (!("table" in resolved)) return resolved;
  const { model, table } = resolved;
  const chat = route === "/chat/completions";
  const prompt = chat ? lastUserText(body.messages) : promptText(body.prompt);
  if (typeof prompt !== "string") return prompt;
  const params = samplingParams(body);
  if (!("max_tokens" in params)) return params;
  const { pieces, finish } = answerTokens(table, model, prompt, params);
  const id = `${chat ? "chatcmpl" : "cmpl"}-${hex(prng(`${model}\n${prompt}`))}`;
  const created = Math.floor(Date.now() / 1000);
  const usage = {
    prompt_tokens: encode(chat ? conversationText(body.messages) : prompt).length,
    completion_tokens: pieces.length,
    total_tokens: 0,
  };
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  const head = { id, object: chat ? "chat.completion" : "text_completion", created, model };
  if (body.stream !== true) {
    const text = pieces.join("");
    const choice = chat
      ? { index: 0, message: { role: "assistant", content: text }, finish_reason: finish }
      : { index: 0, text, logprobs: null, finish_reason: finish };
    return {
      status: 200,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...head, choices: [choice], usage }),
    };
  }
  const options = body.stream_options as { include_usage?: unknown } | undefined;
  const chunkHead = { ...head, object: chat ? "chat.completion.chunk" : "text_completion" };
  const piece = (text: string | undefined, reason: string | null, role?: string) =>
    chat
      ? {
        index: 0,
        delta: text === undefined ? {} : role ? { role, content: text } : { content: text },
        finish_reason: reason,
      }
      : { index: 0, text: text ?? "", logprobs: null, finish_reason: reason };
  const events: unknown[] = [];
  if (chat) events.push({ ...chunkHead, choices: [piece("", null, "assistant")] });
  for (const token of pieces) events.push({ ...chunkHead, choices: [piece(token, null)] });
  events.push({ ...chunkHead, choices: [piece(undefined, finish)] });
  if (options?.include_usage === true) events.push({ ...chunkHead, choices: [], usage });
  const delay = ctx.options.tokenDelayMs;
  async function* stream(): AsyncGenerator<Uint8Array> {
    yield encoder.encode(": tinker fake OpenAI-compatible stream\n\n");
    for (let i = 0; i < events.length; i++) {
      if (delay > 0 && i > 0) await pause(delay);
      yield encoder.encode(`data: ${JSON.stringify(events[i])}\n\n`);
    }
    yield encoder.encode("data: [DONE]\n\n");
  }
  return {
    status: 200,
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
    body: stream(),
  };
}

function models(): Reply {
  const data = BASE_MODELS.map(([id]) => ({
    id,
    object: "model",
    created: 1767225600,
    owned_by: "thinkingmachines",
  }));
  return {
    status: 200,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ object: "list", data }),
  };
}

/** The model as the answer names it and the bigram table it answers from, or an error reply. */
function resolveModel(ctx: Context, model: unknown): { model: string; table: BigramTable } | Reply {
  if (typeof model !== "string" || model === "") {
    return oaiError(400, "model must be a non-empty string", "invalid_request_error");
  }
  const bases = BASE_MODELS.map(([id]) => id);
  const semi = model.indexOf(";");
  const base = semi >= 0 ? model.slice(0, semi) : model.startsWith("tinker://") ? "" : model;
  const path = semi >= 0 ? model.slice(semi + 1) : model.startsWith("tinker://") ? model : "";
  if (base !== "" && !bases.includes(base)) {
    return oaiError(404, `The model ${base} does not exist`, "not_found_error");
  }
  if (path === "") return { model, table: initialTable(base) };
  const parts = path.slice("tinker://".length).split("/");
  if (!path.startsWith("tinker://") || parts.length !== 3 || parts[1] !== "sampler_weights") {
    return oaiError(
      400,
      `${path} is not a sampler checkpoint path (tinker://<run>/sampler_weights/<name>)`,
      "invalid_request_error",
    );
  }
  const found = readable(ctx, parts[0]!, `${parts[1]}/${parts[2]}`);
  if (!found) return oaiError(404, `The checkpoint ${path} does not exist`, "not_found_error");
  if (base !== "" && base !== found.run.base_model) {
    return oaiError(
      400,
      `${path} was trained on ${found.run.base_model}, not ${base}`,
      "invalid_request_error",
    );
  }
  return { model, table: checkpointTable(ctx.state, path, found.run.base_model) };
}

/**
 * The table a sampler checkpoint answers from: the snapshot its
 * `save_weights_for_sampler` took, or (a seeded checkpoint, never trained
 * here) its base model's initial table.
 */
function checkpointTable(state: FakeState, path: string, baseModel: string): BigramTable {
  return bigramStore(state).samplers.get(path)?.table ?? initialTable(baseModel);
}

/**
 * The table `model` (a base model id, a sampler checkpoint path, or
 * `<base>;<path>`) answers from in `state`, as the endpoint resolves it;
 * undefined for a checkpoint `state` does not hold. For tests.
 */
export function modelTable(state: FakeState, model: string): BigramTable | undefined {
  const semi = model.indexOf(";");
  const path = semi >= 0 ? model.slice(semi + 1) : model.startsWith("tinker://") ? model : "";
  if (path === "") return initialTable(model);
  const run = state.runs.get(path.slice("tinker://".length).split("/")[0]!);
  return run && checkpointTable(state, path, run.base_model);
}

/** The sampling settings of an OpenAI request, or an error reply naming the bad value. */
function samplingParams(body: Record<string, unknown>): Required<OaiSampling> | Reply {
  const bad = (message: string) => oaiError(400, message, "invalid_request_error");
  const max = body.max_tokens ?? DEFAULT_MAX_TOKENS;
  if (typeof max !== "number" || !Number.isInteger(max) || max < 1) {
    return bad(`max_tokens must be a positive integer, got ${JSON.stringify(max)}`);
  }
  const temperature = body.temperature ?? 1;
  if (typeof temperature !== "number" || !(temperature >= 0 && temperature <= 2)) {
    return bad(`temperature must be a number from 0 to 2, got ${JSON.stringify(temperature)}`);
  }
  const seed = body.seed ?? null;
  if (seed !== null && (typeof seed !== "number" || !Number.isSafeInteger(seed))) {
    return bad(`seed must be an integer, got ${JSON.stringify(seed)}`);
  }
  const stop = body.stop ?? null;
  const stops = stop === null ? [] : typeof stop === "string" ? [stop] : stop;
  if (
    !Array.isArray(stops) || stops.length > 4 ||
    stops.some((s) => typeof s !== "string" || s === "")
  ) {
    return bad(
      `stop must be a non-empty string or an array of up to 4 of them, got ${JSON.stringify(stop)}`,
    );
  }
  return { max_tokens: max, temperature, seed, stop: stops as string[] };
}

function lastUserText(messages: unknown): string | Reply {
  if (!Array.isArray(messages) || messages.length === 0) {
    return oaiError(400, "messages must be a non-empty array", "invalid_request_error");
  }
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as { role?: unknown; content?: unknown } | null;
    if (m?.role === "user") {
      return typeof m.content === "string" ? m.content : JSON.stringify(m.content);
    }
  }
  return "";
}

function promptText(prompt: unknown): string | Reply {
  if (typeof prompt === "string") return prompt;
  if (Array.isArray(prompt) && prompt.length > 0) return JSON.stringify(prompt);
  return oaiError(400, "prompt must be a string or a non-empty array", "invalid_request_error");
}

/** The sampling settings the fake honours, as an OpenAI request names them. */
export interface OaiSampling {
  /** Tokens (characters) to generate at most; default 256. */
  max_tokens?: number;
  /** Softmax temperature; 0 picks the likeliest token; default 1. */
  temperature?: number;
  /** Seeds the draws; without it they are seeded by the model and the prompt. */
  seed?: number | null;
  /** Strings that end the answer, left out of its text. */
  stop?: readonly string[];
}

/** An answer: its pieces (one per token, streamed one per event) and why it ended. */
export interface OaiAnswer {
  /** The text of each generated token, in order. */
  pieces: string[];
  /** `"stop"`: a full stop or a `stop` string ended it; `"length"`: `max_tokens` did. */
  finish: "stop" | "length";
}

/**
 * The fake's answer to `prompt` from `table` (the model named `model`):
 * sampled by the bigram model from the prompt's last token, deterministic
 * for a given table, model name, prompt and settings.
 */
export function answerTokens(
  table: BigramTable,
  model: string,
  prompt: string,
  params: OaiSampling = {},
): OaiAnswer {
  const stops = params.stop ?? [];
  const promptTokens = encode(prompt);
  const drawn = sampleSequence(
    table,
    promptTokens.length > 0 ? promptTokens : encode(" "),
    {
      max_tokens: params.max_tokens ?? DEFAULT_MAX_TOKENS,
      temperature: params.temperature ?? 1,
      stop: [...stops, END],
    },
    prng(params.seed == null ? `${model}\n${prompt}` : `seed:${params.seed}`),
  );
  let text = decode(drawn.tokens);
  const hit = stops.find((s) => text.endsWith(s));
  if (drawn.stop_reason === "stop" && hit !== undefined) text = text.slice(0, -hit.length);
  return { pieces: [...text], finish: drawn.stop_reason };
}

/** The conversation's text, the contents of its messages one per line (for `usage`). */
function conversationText(messages: unknown): string {
  return (messages as { content?: unknown }[]).map((m) =>
    typeof m?.content === "string" ? m.content : JSON.stringify(m?.content ?? "")
  ).join("\n");
}

function hex(rand: () => number): string {
  let out = "";
  for (let i = 0; i < 3; i++) out += Math.floor(rand() * 2 ** 32).toString(16).padStart(8, "0");
  return out;
}
