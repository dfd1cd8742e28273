/**
 * The sampling client (SDK 0.38's `SamplingClient`): samples and prompt
 * logprobs from a sampler checkpoint or a base model, through one sampling
 * session of a `ServiceClient`'s session.
 *
 * @module
 */

import { checkInt, checkText } from "./internal/_args.ts";
import { ClientCore } from "./internal/_core.ts";
import type { Calls, Operation } from "./internal/_engine.ts";
import type { TinkerFuture } from "./internal/_future.ts";
import { pollFuture } from "./internal/_future_poll.ts";
import { FuturesPoller } from "./internal/_futures_poller.ts";
import { checkOptions, KEYS } from "./internal/_options.ts";
import { decodeSampleResponse, PROTO_CONTENT_TYPE } from "./internal/_proto_messages.ts";
import {
  type CallSettings,
  encodeSegment,
  type HttpSpec,
  type Shared,
  type Steps,
} from "./internal/_request.ts";
import { int, list, nullable, obj, once, opt, req, type Schema, str } from "./internal/_schema.ts";
import { Session } from "./internal/_session.ts";
import { ApiResponseValidationError, InvalidArgumentError, TinkerError } from "./errors.ts";
import { ModelInput } from "./model_input.ts";
import { TensorData } from "./tensor_data.ts";
import type { ClientOptions } from "./types.ts";
import { parseTinkerPath } from "./tinker_path.ts";
import type {
  ComputeLogprobsOptions,
  CreateSamplingClientOptions,
  QueueStateListener,
  SampleOptions,
} from "./sampling_types.ts";
import type {
  SampledSequence,
  SampleResponse,
  SamplingParams,
  TopkLogprobs,
} from "./training_types.ts";
import { TOPK_MASK_LOGPROB } from "./training_types.ts";
import { withoutRefusedDefaults } from "./internal/_unknown_key_fallback.ts";

/** What a sampling client is made of (built by `ServiceClient` or `TrainingClient`). */
export interface SamplingClientInit {
  core: ClientCore;
  session: Session;
  /** The sampling session's id (`create_sampling_session`, or `save_weights_for_sampler`'s). */
  samplingSessionId: string;
  /** The base model's name. */
  baseModel: string;
  /** Hears the queue state of this client's samples. */
  onQueueStateChange?: QueueStateListener | undefined;
  /** The server's client config when the client was made (kept in its sampler handle). */
  clientConfig?: Readonly<Record<string, unknown>> | undefined;
  /**
   * A client of a sampler handle (another process's sampling session): it
   * takes its clone id from the server (`join_sampling_session`) or picks one,
   * as the handle's client config says, and reads that config, not its own.
   */
  shadow?: boolean | undefined;
}

let pending: SamplingClientInit | undefined;

/** A `SamplingClient` of `init` (the only way to make one). */
export function newSamplingClient(init: SamplingClientInit): SamplingClient {
  pending = init;
  try {
    return new SamplingClient();
  } finally {
    pending = undefined;
  }
}

// Module constants are marked pure: a program that uses only RestClient bundles none of this.
const CREATE_KEYS: readonly string[] = /* @__PURE__ */ (() => [
  ...KEYS.future,
  "modelPath",
  "baseModel",
  "onQueueStateChange",
])();
const SAMPLE_KEYS: readonly string[] = /* @__PURE__ */ (() => [
  ...KEYS.future,
  "includePromptLogprobs",
  "topkPromptLogprobs",
  "topkSampleLogprobs",
  "promptLogprobsLastN",
  "targetPromptLogprobs",
  "promptAltTokensK",
])();
const LOGPROBS_KEYS: readonly string[] = /* @__PURE__ */ (() => [
  ...KEYS.future,
  "promptLogprobsLastN",
])();
const PARAM_KEYS: readonly string[] = [
  "max_tokens",
  "seed",
  "stop",
  "temperature",
  "top_k",
  "top_p",
];

const CREATE_SAMPLING_SESSION_RESPONSE: Schema = {
  name: "CreateSamplingSessionResponse",
  check: /* @__PURE__ */ once(() => obj({ sampling_session_id: req(str), type: opt(str) })),
};
const JOIN_SAMPLING_SESSION_RESPONSE: Schema = {
  name: "JoinSamplingSessionResponse",
  check: /* @__PURE__ */ once(() => obj({ client_counter: req(int), type: opt(str) })),
};
const GET_SAMPLER_RESPONSE: Schema = {
  name: "GetSamplerResponse",
  check: /* @__PURE__ */ once(() => obj({ sampler_id: opt(str), base_model: req(str) })),
};
/** A sample result as JSON (accepted besides protobuf; see `fromJson`). */
const SAMPLE_RESPONSE_JSON: Schema = {
  name: "SampleResponse",
  check: /* @__PURE__ */ once(() =>
    obj({
      sequences: req(list(obj({ tokens: req(list(int)), stop_reason: req(str) }))),
      prompt_cache_hit_tokens: opt(nullable(int)),
    })
  ),
};

/**
 * A sampling session for `options.modelPath` or `options.baseModel`, as SDK
 * 0.38 makes one: the session first if needed, `POST
 * /api/v1/create_sampling_session`, then (for a path) `GET
 * /api/v1/samplers/{id}` for its base model. For `ServiceClient` and
 * `TrainingClient` (`createSamplingClient`).
 */
export function openSamplingClient(
  core: ClientCore,
  session: Session,
  options: CreateSamplingClientOptions,
  what: string,
): TinkerFuture<SamplingClient> {
  checkOptions(options, CREATE_KEYS, what);
  const { modelPath, baseModel, onQueueStateChange } = options;
  if ((modelPath === undefined) === (baseModel === undefined)) {
    throw new InvalidArgumentError(
      "modelPath",
      "give exactly one of modelPath (a tinker:// path) and baseModel",
    );
  }
  if (modelPath !== undefined) parseTinkerPath(modelPath);
  if (baseModel !== undefined) checkText("baseModel", baseModel);
  if (onQueueStateChange !== undefined && typeof onQueueStateChange !== "function") {
    throw new InvalidArgumentError("onQueueStateChange", "must be a function");
  }
  const seqId = session.nextSamplingSessionSeqId();
  const op: Operation = {
    kind: "steps",
    what: `create_sampling_session ${modelPath ?? baseModel}`,
    run: (calls, call) => create(calls, call, core, session, seqId, options),
  };
  return core.future<SamplingClient>(op, options);
}

function* create(
  calls: Calls,
  call: CallSettings,
  core: ClientCore,
  session: Session,
  seqId: number,
  options: CreateSamplingClientOptions,
): Steps<SamplingClient> {
  try {
    const sessionId = yield* session.ensure(calls);
    const created = (yield* calls.json(
      {
        method: "POST",
        path: "/api/v1/create_sampling_session",
        body: {
          session_id: sessionId,
          sampling_session_seq_id: seqId,
          ...(options.baseModel !== undefined && { base_model: options.baseModel }),
          ...(options.modelPath !== undefined && { model_path: options.modelPath }),
          type: "create_sampling_session",
        },
        retry: "unsent",
      },
      CREATE_SAMPLING_SESSION_RESPONSE,
      call,
    )) as { sampling_session_id: string };
    const samplingSessionId = created.sampling_session_id;
    let baseModel = options.baseModel;
    if (baseModel === undefined) {
      const sampler = (yield* calls.json(
        {
          method: "GET",
          path: `/api/v1/samplers/${encodeSegment(samplingSessionId)}`,
          retry: "safe",
        },
        GET_SAMPLER_RESPONSE,
        call,
      )) as { base_model: string };
      baseModel = sampler.base_model;
    }
    return newSamplingClient({
      core,
      session,
      samplingSessionId,
      baseModel,
      onQueueStateChange: options.onQueueStateChange,
      clientConfig: calls.clientConfig(),
    });
  } catch (error) {
    session.markFailed();
    throw error;
  }
}

/**
 * The Hugging Face tokenizer id of a model, as SDK 0.38's `get_tokenizer`
 * picks it: the server's `tokenizerId` when given, else the model name
 * (without a `:variant` suffix; `org/model/variant` names use `org/model`;
 * Llama 3 models use an ungated copy). No tokenizer is bundled: load this id
 * with a tokenizer library from npm.
 *
 * @param modelName The base model's name.
 * @param tokenizerId The server's tokenizer id (`getInfo().model_data.tokenizer_id`), if any.
 * @returns The tokenizer id.
 *
 * @example
 * ```ts
 * import { tokenizerIdFor } from "@tinker-ts/tinker";
 * import assert from "node:assert/strict";
 *
 * assert.equal(tokenizerIdFor("Qwen/Qwen3-8B"), "Qwen/Qwen3-8B");
 * assert.equal(tokenizerIdFor("Qwen/Qwen3-8B/fp8"), "Qwen/Qwen3-8B");
 * ```
 */
export function tokenizerIdFor(modelName: string, tokenizerId?: string | null): string {
  if (tokenizerId) return tokenizerId;
  const name = modelName.split(":")[0]!;
  if (name.startsWith("meta-llama/Llama-3")) {
    return "thinkingmachineslabinc/meta-llama-3-instruct-tokenizer";
  }
  const parts = name.split("/");
  return parts.length === 3 ? `${parts[0]}/${parts[1]}` : name;
}

/**
 * Samples and prompt logprobs of one sampler (SDK 0.38's `SamplingClient`):
 * made by {@linkcode ServiceClient.createSamplingClient} (or a training
 * client's `saveWeightsAndGetSamplingClient`). Every call is a future
 * (`await` it, or `.result()`); with `await` it needs nothing but `fetch`,
 * so it runs in edge functions too. Samples of one client share one
 * long-poll of the server's completions when the server asks for it
 * (`sample_use_retrieve_futures`); each result is then fetched as protobuf.
 *
 * Pair it with a tokenizer of your choice from npm: {@linkcode SamplingClient.getTokenizerId}
 * names the one the model uses.
 *
 * @example Sample from a base model
 * ```ts
 * import { ModelInput, ServiceClient } from "@tinker-ts/tinker";
 * import { startFakeTinker } from "@tinker-ts/tinker/testing";
 * import assert from "node:assert/strict";
 *
 * await using fake = await startFakeTinker();
 * await using service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
 * const sampler = await service.createSamplingClient({ baseModel: "Qwen/Qwen3-8B" });
 * const { sequences } = await sampler.sample(ModelInput.fromInts([1, 2, 3]), 2, {
 *   max_tokens: 5,
 *   seed: 7,
 * });
 * assert.equal(sequences.length, 2);
 * assert.equal(sequences[0]!.tokens.length, 5);
 * ```
 */
export class SamplingClient {
  /** The sampling session's id. */
  readonly samplingSessionId: string;
  /**
   * Hears the queue state of this client's samples (the SDK's
   * `on_queue_state_change`); set it any time.
   */
  onQueueStateChange: QueueStateListener | undefined;
  #core: ClientCore;
  #session: Session;
  #baseModel: string;
  /** The server's client config: the handle's for a shadow client, else the latest seen. */
  #config: Readonly<Record<string, unknown>>;
  #shadow: boolean;
  /** Which clone of the sampling session this client is (its sequence ids' block); undefined until known. */
  #cloneId: number | undefined;
  #joining: Shared = {};
  #requests = 0;
  #poller: FuturesPoller | undefined;
  #lastPausedWarning = -Infinity;

  /**
   * Not for direct use: sampling clients come from a {@linkcode ServiceClient}
   * (`createSamplingClient`) or a training client; calling this throws.
   *
   * @throws {TinkerError} Always, when called directly.
   */
  constructor() {
    const init = pending;
    if (init === undefined) {
      throw new TinkerError(
        "SamplingClient cannot be constructed directly: use ServiceClient.createSamplingClient",
      );
    }
    this.samplingSessionId = init.samplingSessionId;
    this.onQueueStateChange = init.onQueueStateChange;
    this.#core = init.core;
    this.#session = init.session;
    this.#baseModel = init.baseModel;
    this.#config = init.clientConfig ?? {};
    this.#shadow = init.shadow ?? false;
    this.#cloneId = this.#shadow ? undefined : 0;
  }

  /**
   * A client of the sampler behind `handle` (from {@linkcode SamplingClient.getSamplerHandle},
   * here or in the Python SDK's `get_sampler_handle`), in this process, with
   * this process's credentials: the session stays its owner's (no heartbeats
   * or close from here). The handle carries no credentials.
   *
   * @param handle The handle.
   * @param options Client options (`apiKey`, …); `baseUrl` defaults to the handle's.
   * @returns The sampling client.
   * @throws {InvalidArgumentError} `handle` is not a sampler handle, or a bad option.
   *
   * @example
   * ```ts
   * import { ModelInput, SamplingClient, ServiceClient } from "@tinker-ts/tinker";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * await using service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const sampler = await service.createSamplingClient({ baseModel: "Qwen/Qwen3-8B" });
   * const handle = sampler.getSamplerHandle(); // e.g. sent to a worker
   * const worker = SamplingClient.fromSamplerHandle(handle, { apiKey: fake.apiKey });
   * const { sequences } = await worker.sample(ModelInput.fromInts([1, 2]), 1, { max_tokens: 2 });
   * assert.equal(sequences.length, 1);
   * ```
   */
  static fromSamplerHandle(handle: string, options: ClientOptions = {}): SamplingClient {
    const state = parseHandle(handle);
    checkOptions(options, KEYS.client, "SamplingClient.fromSamplerHandle()");
    const core = new ClientCore({
      ...options,
      baseUrl: options.baseUrl ?? state.holder.base_url,
      defaultHeaders: { ...state.holder.default_headers_overrides, ...options.defaultHeaders },
    });
    const session = new Session({
      tags: [],
      userMetadata: undefined,
      projectId: undefined,
      displayName: undefined,
      heartbeatIntervalMs: 10_000,
    }, (op) => core.engine.execute(op));
    session.attach(state.session_id);
    return newSamplingClient({
      core,
      session,
      samplingSessionId: state.sampling_session_id,
      baseModel: state.base_model,
      clientConfig: state.holder.client_config,
      shadow: true,
    });
  }

  /**
   * A string that names this client's sampler, for another process (or
   * worker) to sample from it with {@linkcode SamplingClient.fromSamplerHandle}
   * (SDK 0.38's `get_sampler_handle`; the same format, so the Python SDK
   * reads it too). It carries no credentials.
   *
   * @returns The handle (URL-safe base64 of JSON).
   * @throws {SessionExpiredError} This client's session is not known (never for a client of a ServiceClient).
   *
   * @example
   * ```ts
   * import { ServiceClient } from "@tinker-ts/tinker";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * await using service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const sampler = await service.createSamplingClient({ baseModel: "Qwen/Qwen3-8B" });
   * assert.ok(!atob(sampler.getSamplerHandle().replaceAll("-", "+").replaceAll("_", "/"))
   *   .includes(fake.apiKey));
   * ```
   */
  getSamplerHandle(): string {
    const sessionId = this.#session.id;
    if (sessionId === undefined) throw new TinkerError("This sampling client has no session");
    const transport = this.#core.engine.config.transport;
    const state = {
      session_id: sessionId,
      sampling_session_id: this.samplingSessionId,
      holder: {
        base_url: transport.baseUrl,
        default_headers_overrides: transport.defaultHeaders,
        client_config: this.#config,
        client_dynamic_config: {},
        api_key: null,
      },
      base_model: this.#baseModel,
      record_stability_info: false,
    };
    return base64Url(JSON.stringify(state));
  }

  /**
   * The base model of this sampler, known since the client was made (no request).
   *
   * @returns Its name, e.g. `"Qwen/Qwen3-8B"`.
   * @throws {TinkerError} Never: the name is known since the client was made.
   *
   * @example
   * ```ts
   * import { ServiceClient } from "@tinker-ts/tinker";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * await using service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const sampler = await service.createSamplingClient({ baseModel: "Qwen/Qwen3-8B" });
   * assert.equal(sampler.getBaseModel(), "Qwen/Qwen3-8B");
   * ```
   */
  getBaseModel(): string {
    return this.#baseModel;
  }

  /**
   * The Hugging Face id of this model's tokenizer (what SDK 0.38's
   * `get_tokenizer` loads; see {@linkcode tokenizerIdFor}). Load it with a
   * tokenizer library of your choice: none is bundled.
   *
   * @returns The tokenizer id.
   * @throws {TinkerError} Never: it follows from the base model's name.
   *
   * @example
   * ```ts
   * import { ServiceClient } from "@tinker-ts/tinker";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * await using service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const sampler = await service.createSamplingClient({ baseModel: "Qwen/Qwen3-8B" });
   * assert.equal(sampler.getTokenizerId(), "Qwen/Qwen3-8B");
   * ```
   */
  getTokenizerId(): string {
    return tokenizerIdFor(this.#baseModel);
  }

  /**
   * Generates `numSamples` completions of `prompt` (`POST /api/v1/asample`,
   * then its future; the result is asked for as protobuf, JSON accepted).
   * Each sequence carries the `sequence_id` the server gave it.
   *
   * @param prompt The prompt's tokens.
   * @param numSamples How many independent samples (at least 1).
   * @param samplingParams `max_tokens`, `seed`, `stop`, `temperature`, `top_k`, `top_p`.
   * @param options `includePromptLogprobs`, `topkPromptLogprobs`, `topkSampleLogprobs`,
   *  `promptLogprobsLastN`, `targetPromptLogprobs`, `promptAltTokensK`, `deadlineMs`,
   *  `signal` (cancels the server's work), `timeoutMs`.
   * @returns The sequences, and the prompt logprobs when asked for.
   * @throws {InvalidArgumentError} At once, before sending: a bad prompt, count, parameter or option.
   * @throws {ApiError} The future rejects with the subclass of any HTTP or connection failure
   *  (`ApiUserAbortError` when `signal` fires, `ApiTimeoutError` past `deadlineMs`, …).
   * @throws {RequestFailedError} The future rejects when the server's future failed.
   * @throws {SessionExpiredError} The future rejects once the server dropped the session.
   * @throws {TinkerError} The future rejects when the server ignored `promptAltTokensK` or
   *  `promptLogprobsLastN` (a server that predates them), as the SDK does.
   *
   * @example
   * ```ts
   * import { ModelInput, ServiceClient } from "@tinker-ts/tinker";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * await using service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const sampler = await service.createSamplingClient({ baseModel: "Qwen/Qwen3-8B" });
   * const result = await sampler.sample(ModelInput.fromInts([5, 6, 7]), 1, { max_tokens: 3 }, {
   *   includePromptLogprobs: true,
   * });
   * assert.equal(result.prompt_logprobs?.length, 3);
   * assert.equal(result.prompt_logprobs?.[0], null);
   * ```
   */
  sample(
    prompt: ModelInput,
    numSamples: number,
    samplingParams: SamplingParams,
    options: SampleOptions = {},
  ): TinkerFuture<SampleResponse> {
    checkOptions(options, SAMPLE_KEYS, "sample()");
    checkPrompt(prompt);
    checkInt("numSamples", numSamples, 1, 1);
    const params = samplingParamsBody(samplingParams);
    const include = options.includePromptLogprobs ?? false;
    if (typeof include !== "boolean") {
      throw new InvalidArgumentError("includePromptLogprobs", "must be a boolean");
    }
    const topkPrompt = checkInt("topkPromptLogprobs", options.topkPromptLogprobs, 0, 0);
    const topkSample = checkInt("topkSampleLogprobs", options.topkSampleLogprobs, 0, 0);
    const lastN = checkLastN(options.promptLogprobsLastN, include);
    const target = checkTarget(options.targetPromptLogprobs);
    const altK = checkInt("promptAltTokensK", options.promptAltTokensK, 0, 0);
    return this.#submit(options, (seqId) => ({
      num_samples: numSamples,
      prompt: prompt.toJSON(),
      sampling_params: params,
      sampling_session_id: this.samplingSessionId,
      seq_id: seqId,
      prompt_logprobs: include,
      topk_prompt_logprobs: topkPrompt,
      topk_sample_logprobs: topkSample,
      ...(target !== undefined && { target_prompt_logprobs: target.toJSON() }),
      prompt_alt_tokens_k: altK,
      ...(lastN !== undefined && { prompt_logprobs_last_n: lastN }),
      record_stability_info: false,
      type: "sample",
    }), (result) => checkHonored(result, altK, lastN));
  }

  /**
   * The logprob of every prompt token under the model (one `asample` of one
   * token with prompt logprobs, as the SDK does it): `null` for the first
   * token, which has no context, and for tokens before `promptLogprobsLastN`.
   *
   * @param prompt The tokens to score.
   * @param options `promptLogprobsLastN`, `deadlineMs`, `signal`, `timeoutMs`.
   * @returns One entry per prompt token.
   * @throws {InvalidArgumentError} At once, before sending: a bad prompt or option.
   * @throws {ApiError} The future rejects with the subclass of any HTTP or connection failure.
   * @throws {RequestFailedError} The future rejects when the server's future failed.
   * @throws {SessionExpiredError} The future rejects once the server dropped the session.
   *
   * @example
   * ```ts
   * import { ModelInput, ServiceClient } from "@tinker-ts/tinker";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * await using service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const sampler = await service.createSamplingClient({ baseModel: "Qwen/Qwen3-8B" });
   * const logprobs = await sampler.computeLogprobs(ModelInput.fromInts([1, 2, 3, 4]));
   * assert.equal(logprobs.length, 4);
   * assert.ok(logprobs.slice(1).every((x) => x !== null && x < 0));
   * ```
   */
  computeLogprobs(
    prompt: ModelInput,
    options: ComputeLogprobsOptions = {},
  ): TinkerFuture<(number | null)[]> {
    checkOptions(options, LOGPROBS_KEYS, "computeLogprobs()");
    checkPrompt(prompt);
    const lastN = checkLastN(options.promptLogprobsLastN, true);
    return this.#submit(options, (seqId) => ({
      num_samples: 1,
      prompt: prompt.toJSON(),
      sampling_params: samplingParamsBody({ max_tokens: 1 }),
      sampling_session_id: this.samplingSessionId,
      seq_id: seqId,
      prompt_logprobs: true,
      topk_prompt_logprobs: 0,
      topk_sample_logprobs: 0,
      prompt_alt_tokens_k: 0,
      ...(lastN !== undefined && { prompt_logprobs_last_n: lastN }),
      record_stability_info: false,
      type: "sample",
    }), (result) => checkHonored(result, 0, lastN).prompt_logprobs ?? []);
  }

  /** One `asample` with the next sequence id; `pick` makes the call's value of its result. */
  #submit<T>(
    options: SampleOptions,
    body: (seqId: number) => Record<string, unknown>,
    pick: (result: SampleResponse) => T,
  ): TinkerFuture<T> {
    this.#session.check();
    if (options.deadlineMs !== undefined) checkInt("deadlineMs", options.deadlineMs, 1, 0);
    const op: Operation = {
      kind: "steps",
      what: `sample of ${this.samplingSessionId}`,
      run: (calls, call) => this.#run(calls, call, body, options.deadlineMs, pick),
    };
    return this.#core.future<T>(op, options);
  }

  *#run<T>(
    calls: Calls,
    call: CallSettings,
    body: (seqId: number) => Record<string, unknown>,
    deadlineMs: number | undefined,
    pick: (result: SampleResponse) => T,
  ): Steps<T> {
    const session = this.#session;
    session.check();
    let poller: FuturesPoller | undefined;
    try {
      const cloneId = yield* this.#clone(calls);
      // The clone's block of sequence ids, as the SDK numbers them.
      const http: HttpSpec = {
        method: "POST",
        path: "/api/v1/asample",
        body: body(CLONE_BLOCK * cloneId + this.#requests++),
        retry: "unsent",
        headers: { "X-Tinker-Sampling-Backpressure": "1" },
      };
      // The session's long-poll only when the server asks for it (as the SDK: no poller, no acks).
      const useFutures = this.#serverConfig(calls).sample_use_retrieve_futures === true;
      if (useFutures) poller = this.#poller ??= new FuturesPoller(this.samplingSessionId, cloneId);
      const sample = (sent: HttpSpec) =>
        pollFuture(calls, sent, {
          requestType: "Sample",
          schema: SAMPLE_RESPONSE_JSON,
          deadlineMs,
          binary: { accept: PROTO_CONTENT_TYPE, decode: (bytes) => new Decoded(bytes) },
          finish: (value, submit) =>
            value instanceof Decoded
              ? withSequenceIds(value.response, sequenceIds(submit))
              : fromJson(value as Record<string, unknown>, sequenceIds(submit)),
          // The session's long-poll says when the result is there (when the server wants it).
          ready: (requestId, deadline) =>
            poller !== undefined
              ? poller.waitFor(calls, requestId, call.signal, deadline)
              : noWait(),
          retrieved: (requestId) => poller?.retrieved(requestId),
          onQueueState: (state, reason) => this.#queueState(state, reason),
          beforePoll: () => session.beatIfDue(calls),
        }, call);
      let result: SampleResponse;
      try {
        result = (yield* sample(http)) as SampleResponse;
      } catch (error) {
        // An SDK 0.25-era server (TuFT) refuses 0.38's keys; sent once without their defaults.
        const older = withoutRefusedDefaults(error, http.body, ASAMPLE_DEFAULTS);
        if (older === undefined) throw error;
        result = (yield* sample({ ...http, body: older })) as SampleResponse;
      }
      return pick(result);
    } catch (error) {
      session.markFailed();
      throw error;
    } finally {
      if (poller?.ackDue) {
        // Tells the server the results were read, in the background (as the SDK's poller).
        this.#core.engine.execute({
          kind: "steps",
          what: "retrieve_futures acknowledgement",
          run: (ackCalls) => poller!.ack(ackCalls),
        }).catch(() => {}); // Best effort: the next poll reports them again.
      }
    }
  }

  /** The client config this client follows: its handle's (as the SDK's shadow clients), else the server's. */
  #serverConfig(calls: Calls): Readonly<Record<string, unknown>> {
    if (!this.#shadow) this.#config = calls.clientConfig();
    return this.#config;
  }

  /**
   * This client's clone id: 0 for the sampling session's creator; for a
   * client of a handle, the server's (`join_sampling_session`, once, shared)
   * when the config says so, else a random one (the SDK's two ways).
   */
  *#clone(calls: Calls): Steps<number> {
    if (this.#cloneId !== undefined) return this.#cloneId;
    if (this.#config.sample_join_sampling_session !== true) {
      // The SDK picks up to 1e9; below MAX_RANDOM_CLONE the sequence ids stay exact in JavaScript.
      return this.#cloneId = Math.floor(Math.random() * MAX_RANDOM_CLONE) + 1;
    }
    const run = () => this.#join(calls);
    return (yield { t: "share", slot: this.#joining, run }) as number;
  }

  *#join(calls: Calls): Steps<number> {
    if (this.#cloneId !== undefined) return this.#cloneId;
    const joined = (yield* calls.json({
      method: "POST",
      path: "/api/v1/join_sampling_session",
      body: { sampling_session_id: this.samplingSessionId, type: "join_sampling_session" },
      retry: "unsent",
    }, JOIN_SAMPLING_SESSION_RESPONSE)) as { client_counter: number };
    return this.#cloneId = joined.client_counter;
  }

  /** A queue state for the listener; without one, a paused sampler is logged as the SDK does. */
  #queueState(state: string, reason: string | undefined): void {
    const listener = this.onQueueStateChange;
    if (listener) return listener(state, reason);
    if (state === "active" || Date.now() - this.#lastPausedWarning < PAUSED_WARNING_EVERY_MS) {
      return;
    }
    this.#lastPausedWarning = Date.now();
    const why = reason ?? PAUSED_REASONS[state] ?? "unknown";
    console.warn(
      `Tinker: Sampling is paused for sampler ${this.samplingSessionId}. Reason: ${why}`,
    );
  }
}

/** Sequence ids of one clone of a sampling session: `clone * CLONE_BLOCK + n`. */
const CLONE_BLOCK = 1_000_000_000;
/** `asample` keys SDK 0.25-era servers refuse, with the values they assume without them. */
const ASAMPLE_DEFAULTS = {
  topk_sample_logprobs: 0,
  prompt_alt_tokens_k: 0,
  record_stability_info: false,
} as const;
/** Random clone ids stay below this: `clone * CLONE_BLOCK + n` is then below 2^53. */
const MAX_RANDOM_CLONE = 9_000_000;
/** The SDK logs a paused sampler at most once a minute. */
const PAUSED_WARNING_EVERY_MS = 60_000;
const PAUSED_REASONS: Record<string, string> = {
  paused_rate_limit: "concurrent sampler weights limit hit",
  paused_capacity: "Tinker backend is running short on capacity, please wait",
};

/** A sampler handle's fields (the SDK's `_SamplingClientPickleState`). */
interface HandleState {
  session_id: string;
  sampling_session_id: string;
  base_model: string;
  holder: {
    base_url: string;
    default_headers_overrides: Record<string, string>;
    client_config: Record<string, unknown>;
  };
}

function parseHandle(handle: unknown): HandleState {
  const bad = (why: string) =>
    new InvalidArgumentError("handle", `is not a sampler handle (from getSamplerHandle): ${why}`);
  if (typeof handle !== "string" || handle === "") throw bad("not a non-empty string");
  let state: Record<string, unknown>;
  try {
    state = JSON.parse(fromBase64Url(handle));
  } catch {
    throw bad("not URL-safe base64 of JSON");
  }
  const holder = state?.holder as Record<string, unknown> | undefined;
  for (const key of ["session_id", "sampling_session_id", "base_model"]) {
    if (typeof state?.[key] !== "string" || state[key] === "") throw bad(`no ${key}`);
  }
  if (typeof holder?.base_url !== "string") throw bad("no holder.base_url");
  const record = (value: unknown) =>
    value !== null && typeof value === "object" && !Array.isArray(value) ? value : {};
  return {
    session_id: state.session_id as string,
    sampling_session_id: state.sampling_session_id as string,
    base_model: state.base_model as string,
    holder: {
      base_url: holder.base_url,
      default_headers_overrides: record(holder.default_headers_overrides) as Record<string, string>,
      client_config: record(holder.client_config) as Record<string, unknown>,
    },
  };
}

/** Python's `base64.urlsafe_b64encode` of the UTF-8 of `text` (padding kept). */
function base64Url(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_");
}

function fromBase64Url(text: string): string {
  const b64 = text.replaceAll("-", "+").replaceAll("_", "/");
  const binary = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return new TextDecoder("utf-8", { fatal: true }).decode(
    Uint8Array.from(binary, (c) => c.charCodeAt(0)),
  );
}
// deno-lint-ignore require-yield
function* noWait(): Steps<boolean> {
  return false;
}

function checkPrompt(prompt: unknown): asserts prompt is ModelInput {
  if (!(prompt instanceof ModelInput)) {
    throw new InvalidArgumentError(
      "prompt",
      `must be a ModelInput (e.g. ModelInput.fromInts(tokens)), got ${
        prompt === null ? "null" : typeof prompt
      }`,
    );
  }
}

/** The SDK's check of `targetPromptLogprobs`: an int64 tensor of 2 dimensions. */
function checkTarget(target: unknown): TensorData | undefined {
  if (target === undefined) return undefined;
  if (!(target instanceof TensorData)) {
    throw new InvalidArgumentError("targetPromptLogprobs", "must be a TensorData of token ids");
  }
  if (target.dtype !== "int64") {
    throw new InvalidArgumentError(
      "targetPromptLogprobs",
      `must be an int64 tensor of token ids, got ${target.dtype}`,
    );
  }
  if (target.shape === null || target.shape.length !== 2) {
    throw new InvalidArgumentError(
      "targetPromptLogprobs",
      `must be 2-D, [len(prompt) - 1, K], got shape ${JSON.stringify(target.shape)}`,
    );
  }
  return target;
}

/**
 * The SDK's checks that the server honoured what was asked: the alternative
 * tokens when `altK` > 0, and no prompt logprob before the last `lastN`
 * (a server that predates a field ignores it).
 */
function checkHonored(result: SampleResponse, altK: number, lastN: number | undefined) {
  if (altK > 0 && result.prompt_alt_tokens === null) {
    throw new TinkerError(
      `promptAltTokensK=${altK} was requested but the server returned no prompt_alt_tokens; it may predate this feature`,
    );
  }
  const lps = result.prompt_logprobs;
  if (lastN !== undefined && lps && lps.slice(0, lps.length - lastN).some((x) => x !== null)) {
    throw new TinkerError(
      `promptLogprobsLastN=${lastN} was requested but the server returned prompt logprobs before that suffix; it may predate this feature`,
    );
  }
  return result;
}

function checkLastN(lastN: number | undefined, include: boolean): number | undefined {
  if (lastN === undefined) return undefined;
  checkInt("promptLogprobsLastN", lastN, 1, 1);
  if (!include) {
    throw new InvalidArgumentError(
      "promptLogprobsLastN",
      "applies to prompt logprobs; set includePromptLogprobs",
    );
  }
  return lastN;
}

/** The wire form of `params` (the SDK's `SamplingParams`, unset fields left out). */
function samplingParamsBody(params: SamplingParams): Record<string, unknown> {
  checkOptions(params, PARAM_KEYS, "samplingParams");
  const { max_tokens, seed, stop, temperature = 1, top_k = -1, top_p = 1 } = params;
  if (max_tokens !== undefined && max_tokens !== null) checkInt("max_tokens", max_tokens, 1, 1);
  if (seed !== undefined && seed !== null && !Number.isSafeInteger(seed)) {
    throw new InvalidArgumentError("seed", `must be an integer, got ${seed}`);
  }
  if (typeof temperature !== "number" || !(temperature >= 0)) {
    throw new InvalidArgumentError("temperature", `must be a number >= 0, got ${temperature}`);
  }
  if (!Number.isInteger(top_k) || top_k < -1) {
    throw new InvalidArgumentError(
      "top_k",
      `must be -1 (no limit) or an integer >= 0, got ${top_k}`,
    );
  }
  if (typeof top_p !== "number" || !(top_p > 0 && top_p <= 1)) {
    throw new InvalidArgumentError("top_p", `must be a number in (0, 1], got ${top_p}`);
  }
  if (stop !== undefined && stop !== null && typeof stop !== "string") {
    const ok = Array.isArray(stop) &&
      (stop.every((s) => typeof s === "string") || stop.every((s) => Number.isInteger(s)));
    if (!ok) {
      throw new InvalidArgumentError(
        "stop",
        "must be a string, a list of strings or a list of token ids",
      );
    }
  }
  return {
    ...(max_tokens !== undefined && max_tokens !== null && { max_tokens }),
    ...(seed !== undefined && seed !== null && { seed }),
    ...(stop !== undefined && stop !== null && { stop }),
    temperature,
    top_k,
    top_p,
  };
}

function sequenceIds(submit: Record<string, unknown>): string[] | undefined {
  const ids = submit.sample_sequence_ids;
  return Array.isArray(ids) && ids.every((id) => typeof id === "string") ? ids : undefined;
}

/** A protobuf sample result (told apart from a JSON one). */
class Decoded {
  readonly response: SampleResponse;
  constructor(bytes: Uint8Array) {
    this.response = decodeSampleResponse(bytes);
  }
}

function withSequenceIds(response: SampleResponse, ids: string[] | undefined): SampleResponse {
  if (ids === undefined) return response;
  if (ids.length !== response.sequences.length) {
    throw new ApiResponseValidationError({
      message:
        `The sample result has ${response.sequences.length} sequences for ${ids.length} sample_sequence_ids`,
    });
  }
  response.sequences.forEach((seq, i) => (seq.sequence_id = ids[i]!));
  return response;
}

/** A JSON sample result (a peer that does not answer protobuf) in the protobuf's shape. */
function fromJson(value: Record<string, unknown>, ids: string[] | undefined): SampleResponse {
  const sequences = (value.sequences as Record<string, unknown>[]).map((seq): SampledSequence => ({
    stop_reason: seq.stop_reason as SampledSequence["stop_reason"],
    sequence_id: typeof seq.sequence_id === "string" ? seq.sequence_id : "",
    tokens: seq.tokens as number[],
    logprobs: Array.isArray(seq.logprobs) && seq.logprobs.length ? seq.logprobs as number[] : null,
    topk_logprobs: topkFromLists(seq.topk_logprobs),
  }));
  const prompt = value.prompt_logprobs;
  return withSequenceIds({
    sequences,
    prompt_logprobs: Array.isArray(prompt) && prompt.length
      ? prompt.map((x) => (typeof x === "number" ? x : null))
      : null,
    topk_prompt_logprobs: topkFromLists(value.topk_prompt_logprobs),
    target_prompt_logprobs: null,
    prompt_alt_tokens: null,
    prompt_cache_hit_tokens: typeof value.prompt_cache_hit_tokens === "number"
      ? value.prompt_cache_hit_tokens
      : 0,
  }, ids);
}

/** The SDK's list form of top-k logprobs (per position, `[id, logprob]` pairs or null) as matrices. */
function topkFromLists(lists: unknown): TopkLogprobs | null {
  if (!Array.isArray(lists) || lists.length === 0) return null;
  const k = Math.max(0, ...lists.map((row) => (Array.isArray(row) ? row.length : 0)));
  if (k === 0) return null;
  const token_ids = new Int32Array(lists.length * k);
  const logprobs = new Float32Array(lists.length * k).fill(TOPK_MASK_LOGPROB);
  lists.forEach((row, i) => {
    if (!Array.isArray(row)) return;
    row.forEach((pair, j) => {
      if (Array.isArray(pair)) {
        token_ids[i * k + j] = Number(pair[0]);
        logprobs[i * k + j] = Number(pair[1]);
      }
    });
  });
  return { length: lists.length, k, token_ids, logprobs };
}
