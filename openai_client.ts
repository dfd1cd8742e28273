/**
 * Talk to a checkpoint: Tinker's OpenAI-compatible endpoint
 * (`{base URL}/oai/api/v1`), which serves every base model and every sampler
 * checkpoint — chat and text completions, streamed or not, and `/models`.
 *
 * A separate entry point (`@tinker-ts/tinker/openai`), so code that only
 * imports the REST client loads none of it. The calls go through the same
 * request function as every other call: the same key resolution
 * (`apiKey`, else `TINKER_API_KEY`), retries, timeouts, `signal` and error
 * classes; the key goes as `Authorization: Bearer`. A streamed answer is
 * never retried once its response has started.
 *
 * @example Stream a checkpoint's answer from a local fake server
 * ```ts
 * import { OpenAIClient } from "@tinker-ts/tinker/openai";
 * import { FAKE_IDS, startFakeTinker } from "@tinker-ts/tinker/testing";
 * import assert from "node:assert/strict";
 *
 * await using fake = await startFakeTinker();
 * const oai = new OpenAIClient({ baseUrl: fake.url, apiKey: fake.apiKey });
 * let answer = "";
 * const stream = oai.streamChatCompletion({
 *   model: FAKE_IDS.publicCheckpointPath,
 *   messages: [{ role: "user", content: "hello" }],
 * });
 * for await (const text of stream.textDeltas()) answer += text;
 * assert.ok(answer.length > 0);
 * ```
 *
 * @module
 */

import { type Operation, scrub } from "./internal/_engine.ts";
import { callSettings, ClientCore } from "./internal/_core.ts";
import { checkOptions, KEYS } from "./internal/_options.ts";
import { checkInt, describeValue } from "./internal/_args.ts";
import type { TinkerFuture } from "./internal/_future.ts";
import { drive, type HttpSpec, type RawResponse } from "./internal/_request.ts";
import {
  int,
  list,
  nullable,
  obj,
  once,
  opt,
  req,
  type Schema,
  SchemaIssue,
  str,
  validate,
} from "./internal/_schema.ts";
import { type SseEvent, sseEvents } from "./internal/_sse.ts";
import { streamBody } from "./internal/_stream_body.ts";
import {
  ApiConnectionError,
  ApiError,
  ApiResponseValidationError,
  InvalidArgumentError,
  TinkerError,
} from "./errors.ts";
import { parseTinkerPath } from "./tinker_path.ts";
import type { ClientOptions, RequestOptions } from "./types.ts";

export type { TinkerFuture };

/** The path of the OpenAI-compatible API under the Tinker base URL. */
export const OAI_PATH = "/oai/api/v1";

/**
 * One message of a chat.
 *
 * @example
 * ```ts
 * import type { ChatMessage } from "@tinker-ts/tinker/openai";
 * const message: ChatMessage = { role: "user", content: "What is LoRA?" };
 * ```
 */
export interface ChatMessage {
  /** `"system"`, `"user"`, `"assistant"` (or another role the model knows). */
  role: string;
  /** The text (or the OpenAI content parts, passed through as they are). */
  content: string | unknown[] | null;
  /** Other OpenAI message fields, passed through. */
  [field: string]: unknown;
}

/**
 * The body of a chat completion request (OpenAI's field names). Fields not
 * named here are sent as they are.
 *
 * @example
 * ```ts
 * import type { ChatCompletionRequest } from "@tinker-ts/tinker/openai";
 * const request: ChatCompletionRequest = {
 *   model: "tinker://run-1/sampler_weights/000080",
 *   messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "Hi" }],
 *   max_tokens: 64,
 *   temperature: 0.7,
 * };
 * ```
 */
export interface ChatCompletionRequest {
  /**
   * A base model id (`Qwen/Qwen3-8B`), a sampler checkpoint
   * (`tinker://<run>/sampler_weights/<name>`), or `<base id>;<checkpoint>`
   * for the checkpoint at another context length.
   */
  model: string;
  /** The conversation so far (at least one message). */
  messages: ChatMessage[];
  /** Most tokens to generate. */
  max_tokens?: number;
  /** Sampling temperature (0 and up). */
  temperature?: number;
  /** Nucleus sampling mass. */
  top_p?: number;
  /** Stop sequences. */
  stop?: string | string[];
  /** Other OpenAI request fields, passed through. */
  [field: string]: unknown;
}

/**
 * The body of a text completion request (OpenAI's field names).
 *
 * @example
 * ```ts
 * import type { CompletionRequest } from "@tinker-ts/tinker/openai";
 * const request: CompletionRequest = { model: "Qwen/Qwen3-8B", prompt: "Once upon", max_tokens: 16 };
 * ```
 */
export interface CompletionRequest {
  /** As for {@linkcode ChatCompletionRequest.model}. */
  model: string;
  /** The prompt text (or texts, or token ids, passed through). */
  prompt: string | unknown[];
  /** Most tokens to generate. */
  max_tokens?: number;
  /** Sampling temperature (0 and up). */
  temperature?: number;
  /** Other OpenAI request fields, passed through. */
  [field: string]: unknown;
}

/**
 * Token counts of an answer.
 *
 * @example
 * ```ts
 * import type { Usage } from "@tinker-ts/tinker/openai";
 * const usage: Usage = { prompt_tokens: 9, completion_tokens: 12, total_tokens: 21 };
 * ```
 */
export interface Usage {
  /** Tokens of the prompt. */
  prompt_tokens: number;
  /** Tokens generated. */
  completion_tokens: number;
  /** Both. */
  total_tokens: number;
}

/**
 * A chat completion (non-streamed), as the server sent it.
 *
 * @example
 * ```ts
 * import type { ChatCompletion } from "@tinker-ts/tinker/openai";
 * const answer = (c: ChatCompletion) => c.choices[0]?.message.content ?? "";
 * ```
 */
export interface ChatCompletion {
  /** The completion's id. */
  id: string;
  /** `"chat.completion"`. */
  object: string;
  /** Unix seconds. */
  created: number;
  /** The model that answered. */
  model: string;
  /** One choice per requested sample. */
  choices: {
    index: number;
    message: { role: string; content: string | null; [field: string]: unknown };
    finish_reason: string | null;
    [field: string]: unknown;
  }[];
  /** Token counts. */
  usage?: Usage;
  /** Other fields the server sent. */
  [field: string]: unknown;
}

/**
 * One chunk of a streamed chat completion.
 *
 * @example
 * ```ts
 * import type { ChatCompletionChunk } from "@tinker-ts/tinker/openai";
 * const delta = (c: ChatCompletionChunk) => c.choices[0]?.delta?.content ?? "";
 * ```
 */
export interface ChatCompletionChunk {
  /** The completion's id (the same in every chunk). */
  id: string;
  /** `"chat.completion.chunk"`. */
  object: string;
  /** Unix seconds. */
  created: number;
  /** The model that answers. */
  model: string;
  /** The new text of each choice (empty in a final usage chunk). */
  choices: {
    index: number;
    delta: { role?: string; content?: string | null; [field: string]: unknown };
    finish_reason: string | null;
    [field: string]: unknown;
  }[];
  /** Token counts, in the last chunk when `stream_options.include_usage` is set. */
  usage?: Usage | null;
  /** Other fields the server sent. */
  [field: string]: unknown;
}

/**
 * A text completion, or one chunk of a streamed one (the same shape).
 *
 * @example
 * ```ts
 * import type { Completion } from "@tinker-ts/tinker/openai";
 * const text = (c: Completion) => c.choices[0]?.text ?? "";
 * ```
 */
export interface Completion {
  /** The completion's id. */
  id: string;
  /** `"text_completion"`. */
  object: string;
  /** Unix seconds. */
  created: number;
  /** The model that answered. */
  model: string;
  /** One choice per requested sample. */
  choices: {
    index: number;
    text: string;
    finish_reason: string | null;
    [field: string]: unknown;
  }[];
  /** Token counts. */
  usage?: Usage | null;
  /** Other fields the server sent. */
  [field: string]: unknown;
}

/**
 * The answer of `GET /models`.
 *
 * @example
 * ```ts
 * import type { ModelList } from "@tinker-ts/tinker/openai";
 * const ids = (list: ModelList) => list.data.map((m) => m.id);
 * ```
 */
export interface ModelList {
  /** `"list"`. */
  object: string;
  /** The models. */
  data: {
    id: string;
    object: string;
    created?: number;
    owned_by?: string;
    [field: string]: unknown;
  }[];
  /** Other fields the server sent. */
  [field: string]: unknown;
}

/**
 * A streamed completion: an async iterable of its chunks, read once. The
 * request is sent when iteration starts; leaving the loop early (or the
 * call's `signal`) closes the connection. A stream that ends before the
 * server's `[DONE]` throws `ApiConnectionError`: the answer is incomplete.
 *
 * @typeParam Chunk `ChatCompletionChunk` or `Completion`.
 *
 * @example
 * ```ts
 * import { type CompletionStream, OpenAIClient } from "@tinker-ts/tinker/openai";
 * import { startFakeTinker } from "@tinker-ts/tinker/testing";
 * import assert from "node:assert/strict";
 *
 * await using fake = await startFakeTinker();
 * const oai = new OpenAIClient({ baseUrl: fake.url, apiKey: fake.apiKey });
 * const stream: CompletionStream<unknown> = oai.streamCompletion({
 *   model: "Qwen/Qwen3-8B",
 *   prompt: "Once upon a time",
 * });
 * assert.ok((await stream.text()).length > 0);
 * ```
 */
export interface CompletionStream<Chunk> extends AsyncIterable<Chunk> {
  /** Only the new text of each chunk (of the first choice), skipping empty pieces. */
  textDeltas(): AsyncIterable<string>;
  /** The whole text of the first choice, once the stream has ended. */
  text(): Promise<string>;
}

// ---- response checks ---------------------------------------------------------

const usage = () => opt(nullable(obj({ prompt_tokens: opt(int), completion_tokens: opt(int) })));
const CHAT: Schema = {
  name: "ChatCompletion",
  check: once(() =>
    obj({
      choices: req(list(obj({
        index: opt(int),
        message: req(obj({ role: opt(str), content: opt(nullable(str)) })),
        finish_reason: opt(nullable(str)),
      }))),
      usage: usage(),
    })
  ),
};
const CHAT_CHUNK: Schema = {
  name: "ChatCompletionChunk",
  check: once(() =>
    obj({
      choices: req(list(obj({
        index: opt(int),
        delta: opt(obj({ role: opt(str), content: opt(nullable(str)) })),
        finish_reason: opt(nullable(str)),
      }))),
      usage: usage(),
    })
  ),
};
const COMPLETION: Schema = {
  name: "Completion",
  check: once(() =>
    obj({
      choices: req(list(obj({
        index: opt(int),
        text: req(str),
        finish_reason: opt(nullable(str)),
      }))),
      usage: usage(),
    })
  ),
};
const MODELS: Schema = {
  name: "ModelList",
  check: once(() => obj({ data: req(list(obj({ id: req(str) }))) })),
};

/**
 * The client of Tinker's OpenAI-compatible endpoint. Construct it with the
 * same options as `RestClient` (`apiKey`, `baseUrl` — the Tinker base URL,
 * not the `/oai/api/v1` one — retries, timeouts, `fetch`, `logger`).
 *
 * `timeoutMs` bounds each attempt until the response head arrives and, while
 * a stream is read, each wait for the next chunk (an idle limit, as httpx's
 * read timeout): a silent stream ends with `ApiTimeoutError`, never retried.
 *
 * @example A non-streamed chat completion
 * ```ts
 * import { OpenAIClient } from "@tinker-ts/tinker/openai";
 * import { startFakeTinker } from "@tinker-ts/tinker/testing";
 * import assert from "node:assert/strict";
 *
 * await using fake = await startFakeTinker();
 * const oai = new OpenAIClient({ baseUrl: fake.url, apiKey: fake.apiKey });
 * const answer = await oai.chatCompletion({
 *   model: "Qwen/Qwen3-8B",
 *   messages: [{ role: "user", content: "hello" }],
 *   max_tokens: 32,
 * });
 * assert.equal(answer.choices[0]!.message.role, "assistant");
 * ```
 */
export class OpenAIClient implements Disposable {
  #core: ClientCore;

  /**
   * Creates a client. Nothing is sent until the first call.
   *
   * @param options As for `RestClient`: key, Tinker base URL, retries, timeouts, fetch.
   * @throws {InvalidArgumentError} An unknown option key (named, with the closest known one) or a
   *  bad `maxRetries` / `timeoutMs`.
   */
  constructor(options: ClientOptions = {}) {
    checkOptions(options, KEYS.client, "new OpenAIClient()");
    this.#core = new ClientCore(options);
  }

  /**
   * The OpenAI-compatible base URL: the Tinker base URL + `/oai/api/v1`
   * (what an OpenAI SDK's `baseURL` would be).
   *
   * @example
   * ```ts
   * import { OpenAIClient } from "@tinker-ts/tinker/openai";
   * import assert from "node:assert/strict";
   *
   * const oai = new OpenAIClient({ baseUrl: "https://example.com/services/tinker-prod", apiKey: "tml-x" });
   * assert.equal(oai.baseUrl, "https://example.com/services/tinker-prod/oai/api/v1");
   * ```
   */
  get baseUrl(): string {
    return this.#core.engine.config.transport.baseUrl.replace(/\/+$/, "") + OAI_PATH;
  }

  /**
   * A chat completion, answered in one piece.
   *
   * @param request The model, the messages and OpenAI's sampling fields.
   * @param options `signal`, `timeoutMs`.
   * @returns The completion.
   *
   * @example
   * ```ts
   * import { OpenAIClient } from "@tinker-ts/tinker/openai";
   * import { FAKE_IDS, startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * const oai = new OpenAIClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const done = await oai.chatCompletion({
   *   model: FAKE_IDS.publicCheckpointPath,
   *   messages: [{ role: "user", content: "hello" }],
   * });
   * assert.ok(done.choices[0]!.message.content);
   * ```
   */
  chatCompletion(
    request: ChatCompletionRequest,
    options: RequestOptions = {},
  ): TinkerFuture<ChatCompletion> {
    const body = checkChatRequest(request);
    return this.#json("/chat/completions", body, CHAT, options);
  }

  /**
   * A chat completion, streamed as the tokens are generated.
   *
   * @param request The model, the messages and OpenAI's sampling fields (`stream` is set).
   * @param options `signal` (also stops the stream), `timeoutMs` (also each wait for the next chunk).
   * @returns The stream of chunks (the request is sent when iteration starts).
   *
   * @example
   * ```ts
   * import { OpenAIClient } from "@tinker-ts/tinker/openai";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * const oai = new OpenAIClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const chunks = [];
   * for await (const chunk of oai.streamChatCompletion({
   *   model: "Qwen/Qwen3-8B",
   *   messages: [{ role: "user", content: "hello" }],
   * })) chunks.push(chunk);
   * assert.ok(chunks.length > 1);
   * ```
   */
  streamChatCompletion(
    request: ChatCompletionRequest,
    options: RequestOptions = {},
  ): CompletionStream<ChatCompletionChunk> {
    const body = checkChatRequest(request);
    return this.#stream("/chat/completions", body, CHAT_CHUNK, options, chatDelta);
  }

  /**
   * A text completion, answered in one piece.
   *
   * @param request The model, the prompt and OpenAI's sampling fields.
   * @param options `signal`, `timeoutMs`.
   * @returns The completion.
   *
   * @example
   * ```ts
   * import { OpenAIClient } from "@tinker-ts/tinker/openai";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * const oai = new OpenAIClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const done = await oai.completion({ model: "Qwen/Qwen3-8B", prompt: "Once upon a time" });
   * assert.equal(typeof done.choices[0]!.text, "string");
   * ```
   */
  completion(request: CompletionRequest, options: RequestOptions = {}): TinkerFuture<Completion> {
    const body = checkCompletionRequest(request);
    return this.#json("/completions", body, COMPLETION, options);
  }

  /**
   * A text completion, streamed as the tokens are generated.
   *
   * @param request The model, the prompt and OpenAI's sampling fields (`stream` is set).
   * @param options `signal` (also stops the stream), `timeoutMs` (also each wait for the next chunk).
   * @returns The stream of chunks (the request is sent when iteration starts).
   *
   * @example
   * ```ts
   * import { OpenAIClient } from "@tinker-ts/tinker/openai";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * const oai = new OpenAIClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * let text = "";
   * for await (const piece of oai.streamCompletion({ model: "Qwen/Qwen3-8B", prompt: "Hi" }).textDeltas()) {
   *   text += piece;
   * }
   * assert.ok(text.length > 0);
   * ```
   */
  streamCompletion(
    request: CompletionRequest,
    options: RequestOptions = {},
  ): CompletionStream<Completion> {
    const body = checkCompletionRequest(request);
    return this.#stream("/completions", body, COMPLETION, options, completionDelta);
  }

  /**
   * The models the endpoint serves (`GET /models`).
   *
   * @param options `signal`, `timeoutMs`.
   * @returns The list.
   *
   * @example
   * ```ts
   * import { OpenAIClient } from "@tinker-ts/tinker/openai";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * const oai = new OpenAIClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const { data } = await oai.listModels();
   * assert.ok(data.some((m) => m.id === "Qwen/Qwen3-8B"));
   * ```
   */
  listModels(options: RequestOptions = {}): TinkerFuture<ModelList> {
    checkOptions(options, KEYS.request, "listModels()");
    const http: HttpSpec = {
      method: "GET",
      path: `${OAI_PATH}/models`,
      retry: "safe",
      auth: "bearer",
    };
    return this.#core.future<ModelList>({ kind: "oai", http, schema: MODELS }, options);
  }

  /**
   * Stops the `.result()` worker, if one was started.
   *
   * @example
   * ```ts
   * import { OpenAIClient } from "@tinker-ts/tinker/openai";
   * new OpenAIClient({ apiKey: "tml-example" }).close();
   * ```
   */
  close(): void {
    this.#core.close();
  }

  /** Same as {@linkcode OpenAIClient.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #json<T>(
    path: string,
    body: Record<string, unknown>,
    schema: Schema,
    options: RequestOptions,
  ): TinkerFuture<T> {
    checkOptions(options, KEYS.request, `POST ${path}`);
    const http = post(path, body);
    return this.#core.future<T>({ kind: "oai", http, schema }, options);
  }

  #stream<Chunk>(
    path: string,
    body: Record<string, unknown>,
    schema: Schema,
    options: RequestOptions,
    delta: (chunk: Chunk) => string,
  ): CompletionStream<Chunk> {
    checkOptions(options, KEYS.request, `POST ${path}`);
    const http: HttpSpec = {
      ...post(path, { ...body, stream: true }),
      stream: streamBody,
      accept: "text/event-stream",
    };
    const op: Operation = { kind: "oai", http };
    const settings = callSettings(options);
    const engine = this.#core.engine;
    const open = () => drive(engine.steps(op, settings)) as Promise<RawResponse>;
    const secrets = () => engine.secrets();
    return new Stream<Chunk>(open, schema, `POST ${http.path}`, delta, secrets);
  }
}

function post(path: string, body: Record<string, unknown>): HttpSpec {
  // A completion changes nothing on the server: any transient failure before
  // the answer starts is retried (a started stream never is).
  return { method: "POST", path: `${OAI_PATH}${path}`, body, retry: "safe", auth: "bearer" };
}

function chatDelta(chunk: ChatCompletionChunk): string {
  const choice = chunk.choices.find((c) => (c.index ?? 0) === 0);
  return choice?.delta?.content ?? "";
}

function completionDelta(chunk: Completion): string {
  return chunk.choices.find((c) => (c.index ?? 0) === 0)?.text ?? "";
}

/** The one stream implementation. */
class Stream<Chunk> implements CompletionStream<Chunk> {
  #open: () => Promise<RawResponse>;
  #schema: Schema;
  #what: string;
  #delta: (chunk: Chunk) => string;
  #secrets: () => string[];
  #used = false;

  constructor(
    open: () => Promise<RawResponse>,
    schema: Schema,
    what: string,
    delta: (chunk: Chunk) => string,
    secrets: () => string[],
  ) {
    this.#secrets = secrets;
    this.#open = open;
    this.#schema = schema;
    this.#what = what;
    this.#delta = delta;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Chunk> {
    if (this.#used) {
      throw new TinkerError(`This stream was read already (${this.#what}); start a new one`);
    }
    this.#used = true;
    const res = await this.#open();
    if (res.body === undefined) {
      throw new ApiResponseValidationError({
        status: res.status,
        headers: res.headers,
        message: `Expected a streamed body (text/event-stream), got none (${this.#what})`,
      });
    }
    const type = res.headers.get("content-type") ?? "none";
    if (!/^text\/event-stream\b/i.test(type)) {
      await res.body.return();
      throw new ApiResponseValidationError({
        status: res.status,
        headers: res.headers,
        message:
          `Expected a stream of server-sent events (content-type text/event-stream), got content-type ${type} (${this.#what})`,
      });
    }
    const events = sseEvents(res.body);
    let count = 0;
    try {
      for (;;) {
        const next = await events.next();
        if (next.done) {
          const where = next.value.cut ? ", inside an event" : "";
          throw new ApiConnectionError({
            message:
              `The stream ended before [DONE]${where}, after ${count} chunks (${this.#what}): the answer is incomplete`,
          });
        }
        if (next.value.data === "[DONE]") return;
        let chunk: Chunk;
        try {
          chunk = this.#parse(next.value, res, count);
        } catch (error) {
          // Server text in the error (an error event, a bad chunk) may echo the key.
          throw scrub(error, { secrets: this.#secrets });
        }
        count++;
        yield chunk;
      }
    } finally {
      await events.return({ cut: false }); // Closes the connection when the loop left early.
      await res.body.return();
    }
  }

  async *textDeltas(): AsyncIterable<string> {
    for await (const chunk of this) {
      const text = this.#delta(chunk);
      if (text !== "") yield text;
    }
  }

  async text(): Promise<string> {
    let text = "";
    for await (const piece of this.textDeltas()) text += piece;
    return text;
  }

  #parse(event: SseEvent, res: RawResponse, count: number): Chunk {
    let value: unknown;
    try {
      value = JSON.parse(event.data);
    } catch {
      throw new ApiResponseValidationError({
        status: res.status,
        headers: res.headers,
        body: event.data.slice(0, 2000),
        message: `Stream event ${count + 1} is not JSON (${this.#what})`,
      });
    }
    const record = value as Record<string, unknown> | null;
    if (record !== null && typeof record === "object" && record.error !== undefined) {
      const error = record.error as { message?: unknown } | null;
      const text = typeof error?.message === "string" ? error.message : JSON.stringify(error);
      throw new ApiError({
        status: res.status,
        headers: res.headers,
        body: value,
        message:
          `The server reported an error in the stream after ${count} chunks (${this.#what}): ${text}`,
      });
    }
    try {
      validate(this.#schema, value);
    } catch (error) {
      if (!(error instanceof SchemaIssue)) throw error;
      throw new ApiResponseValidationError({
        status: res.status,
        headers: res.headers,
        body: value,
        message: `${error.message} (${this.#schema.name}, stream event ${count + 1})`,
      });
    }
    return value as Chunk;
  }
}

// ---- argument checks -----------------------------------------------------------

/**
 * Checks a `model` argument: a base model id, a sampler checkpoint's tinker
 * path, or `<base id>;<tinker path>`.
 *
 * @param model The argument.
 * @returns It, unchanged.
 * @throws {InvalidArgumentError} When it is none of these.
 * @throws {TinkerPathError} When its tinker path is malformed.
 *
 * @example
 * ```ts
 * import { checkModel } from "@tinker-ts/tinker/openai";
 * import assert from "node:assert/strict";
 *
 * checkModel("Qwen/Qwen3-8B;tinker://run-1/sampler_weights/000080");
 * assert.throws(() => checkModel("tinker://run-1/weights/000080"), /sampler checkpoint/);
 * ```
 */
export function checkModel(model: unknown): string {
  if (typeof model !== "string") {
    throw new InvalidArgumentError("model", `expected a string, got ${typeName(model)}`);
  }
  if (model === "") throw new InvalidArgumentError("model", "it is empty");
  if (model.length > 4096) {
    throw new InvalidArgumentError("model", `it is ${model.length} characters long (at most 4096)`);
  }
  // deno-lint-ignore no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(model)) {
    throw new InvalidArgumentError(
      "model",
      `${JSON.stringify(model)} contains whitespace or control characters`,
    );
  }
  const semi = model.indexOf(";");
  if (semi >= 0) {
    const base = model.slice(0, semi);
    const path = model.slice(semi + 1);
    if (base === "" || base.startsWith("tinker://")) {
      throw new InvalidArgumentError(
        "model",
        `${
          JSON.stringify(model)
        } must be "<base model id>;<tinker path>" with a base model id before the ";"`,
      );
    }
    if (!path.startsWith("tinker://")) {
      throw new InvalidArgumentError(
        "model",
        `${
          JSON.stringify(model)
        } must be "<base model id>;<tinker path>": after the ";" comes a tinker:// path`,
      );
    }
    checkSamplerPath(path);
    return model;
  }
  if (model.startsWith("tinker://")) checkSamplerPath(model);
  else if (model.includes("://")) {
    throw new InvalidArgumentError(
      "model",
      `${JSON.stringify(model)} is a URL; expected a base model id or a tinker:// path`,
    );
  }
  return model;
}

function checkSamplerPath(path: string): void {
  const parsed = parseTinkerPath(path);
  if (parsed.checkpoint_type !== "sampler") {
    throw new InvalidArgumentError(
      "model",
      `${path} is not a sampler checkpoint: the OpenAI-compatible endpoint samples from tinker://<run>/sampler_weights/<name> paths (save one with save_weights_for_sampler)`,
    );
  }
}

function checkCommon(request: unknown, what: string): Record<string, unknown> {
  if (request === null || typeof request !== "object" || Array.isArray(request)) {
    throw new InvalidArgumentError("request", `expected an object, got ${typeName(request)}`);
  }
  const body = { ...(request as Record<string, unknown>) };
  checkModel(body.model);
  if (body.stream !== undefined) {
    throw new InvalidArgumentError(
      "request.stream",
      `leave it out: the client sets it (${what} answers in one piece, stream${
        what[0]!.toUpperCase()
      }${what.slice(1)} streams)`,
    );
  }
  const { max_tokens, temperature } = body;
  if (max_tokens !== undefined && max_tokens !== null) checkInt("max_tokens", max_tokens, 1, 1);
  if (
    temperature !== undefined && temperature !== null &&
    (typeof temperature !== "number" || !Number.isFinite(temperature) || temperature < 0)
  ) {
    throw new InvalidArgumentError(
      "temperature",
      `expected a number of at least 0, got ${describeValue(temperature)}`,
    );
  }
  return body;
}

function checkChatRequest(request: ChatCompletionRequest): Record<string, unknown> {
  const body = checkCommon(request, "chatCompletion");
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new InvalidArgumentError(
      "messages",
      `expected a non-empty array of { role, content }, got ${
        Array.isArray(messages) ? "an empty array" : typeName(messages)
      }`,
    );
  }
  messages.forEach((message: unknown, i) => {
    const m = message as Record<string, unknown> | null;
    if (m === null || typeof m !== "object" || typeof m.role !== "string" || m.role === "") {
      throw new InvalidArgumentError(`messages[${i}]`, "expected an object with a role string");
    }
    const c = m.content;
    if (typeof c !== "string" && !Array.isArray(c) && c !== null) {
      throw new InvalidArgumentError(
        `messages[${i}].content`,
        `expected a string (or content parts), got ${typeName(c)}`,
      );
    }
  });
  return body;
}

function checkCompletionRequest(request: CompletionRequest): Record<string, unknown> {
  const body = checkCommon(request, "completion");
  const prompt = body.prompt;
  if (typeof prompt !== "string" && !(Array.isArray(prompt) && prompt.length > 0)) {
    throw new InvalidArgumentError(
      "prompt",
      `expected a string or a non-empty array, got ${typeName(prompt)}`,
    );
  }
  return body;
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value;
}
