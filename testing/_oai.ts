/**
 * The fake's OpenAI-compatible endpoint (`/oai/api/v1`): `/models`,
 * `/chat/completions` and `/completions`, streamed as server-sent events or
 * not. `Authorization: Bearer <key>` as the hosted endpoint wants it. The
 * answers are deterministic per model and prompt: a short sentence naming
 * the model, then words drawn from a PRNG seeded by both. Faults apply as to
 * every route (`status` 429/503, `truncate` to cut a stream mid-way, or a
 * `status: 200` text/event-stream `body` for a stream that ends early).
 *
 * @module
 */
import type { Reply } from "./_http.ts";
import { BASE_MODELS, readable } from "./_routes.ts";
import { prng } from "./_state.ts";
import type { Context } from "./_storage.ts";
import type { RecordedRequest } from "./_types.ts";

const encoder = new TextEncoder();
const WORDS = [
  "adapter",
  "gradient",
  "tokens",
  "loss",
  "sampler",
  "weights",
  "rank",
  "learning",
  "rate",
  "batch",
  "checkpoint",
  "tinker",
  "steps",
  "reward",
  "policy",
  "prompt",
  "lora",
  "optimizer",
  "entropy",
  "context",
];
const DEFAULT_MAX_TOKENS = 256;

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
  const model = resolveModel(ctx, body.model);
  if (typeof model !== "string") return model;
  const chat = route === "/chat/completions";
  const prompt = chat ? lastUserText(body.messages) : promptText(body.prompt);
  if (typeof prompt !== "string") return prompt;
  const max = body.max_tokens ?? DEFAULT_MAX_TOKENS;
  if (typeof max !== "number" || !Number.isInteger(max) || max < 1) {
    return oaiError(
      400,
      `max_tokens must be a positive integer, got ${max}`,
      "invalid_request_error",
    );
  }
  const all = answerTokens(model, prompt);
  const tokens = all.slice(0, max);
  const finish = tokens.length < all.length ? "length" : "stop";
  const id = `${chat ? "chatcmpl" : "cmpl"}-${hex(prng(`${model}\n${prompt}`))}`;
  const created = Math.floor(Date.now() / 1000);
  const usage = {
    prompt_tokens: countWords(chat ? JSON.stringify(body.messages) : prompt),
    completion_tokens: tokens.length,
    total_tokens: 0,
  };
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  const head = { id, object: chat ? "chat.completion" : "text_completion", created, model };
  if (body.stream !== true) {
    const text = tokens.join("");
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
  for (const token of tokens) events.push({ ...chunkHead, choices: [piece(token, null)] });
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

/** The model as the answer names it, or an error reply. */
function resolveModel(ctx: Context, model: unknown): string | Reply {
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
  if (path === "") return model;
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
  return model;
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

/** The deterministic answer to `prompt` from `model`, as tokens (words with their leading space). */
export function answerTokens(model: string, prompt: string): string[] {
  const rand = prng(`${model}\n${prompt}`);
  const name = model.includes(";") ? model.slice(model.indexOf(";") + 1) : model;
  const said = prompt.trim().replace(/\s+/g, " ").slice(0, 60);
  let text = `Hello from ${name}!${said ? ` You said: ${said}.` : ""}`;
  const count = 12 + Math.floor(rand() * 12);
  for (let i = 0; i < count; i++) {
    const word = WORDS[Math.floor(rand() * WORDS.length)]!;
    text += i === 0 ? ` ${word[0]!.toUpperCase()}${word.slice(1)}` : ` ${word}`;
  }
  return `${text}.`.match(/\s*\S+/g) ?? [];
}

function countWords(text: string): number {
  return (text.match(/\S+/g) ?? []).length;
}

function hex(rand: () => number): string {
  let out = "";
  for (let i = 0; i < 3; i++) out += Math.floor(rand() * 2 ** 32).toString(16).padStart(8, "0");
  return out;
}
