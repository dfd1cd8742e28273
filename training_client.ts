/**
 * The training client of one model (training run) of a session: its calls
 * are server-side futures, sent in call order with the model's sequence ids.
 *
 * @module
 */

import { checkInt, checkText } from "./internal/_args.ts";
import type { ClientCore } from "./internal/_core.ts";
import { trainingRunConsoleUrl } from "./internal/_console_url.ts";
import { lossFnOf, LossHandle } from "./loss_handle.ts";
import type { Calls, Operation } from "./internal/_engine.ts";
import { type FutureSpec, pollFuture } from "./internal/_future_poll.ts";
import { SyncUnavailableError, type TinkerFuture } from "./internal/_future.ts";
import {
  chunkForwardBackward,
  type ChunkLimits,
  combineForwardBackwardOutputs,
  DEFAULT_CHUNK_LIMITS,
} from "./internal/_fwdbwd_chunks.ts";
import { forwardBackwardJson, outputFromJson } from "./internal/_fwdbwd_json.ts";
import {
  decodeForwardBackwardOutput,
  encodeForwardBackwardRequest,
  type ForwardBackwardRequestMessage,
  PROTO_CONTENT_TYPE,
} from "./internal/_proto_messages.ts";
import type { CallSettings, HttpSpec, RawResponse, Steps } from "./internal/_request.ts";
import type { Schema } from "./internal/_schema.ts";
import { SAVE_WEIGHTS_EXTERNAL_RESPONSE } from "./internal/_schema_sessions.ts";
import {
  FORWARD_BACKWARD_OUTPUT,
  OPTIM_STEP_RESPONSE,
  SAVE_WEIGHTS_FOR_SAMPLER_RESPONSE,
  SAVE_WEIGHTS_RESPONSE,
} from "./internal/_schema_training.ts";
import { LOAD_WEIGHTS_RESPONSE } from "./internal/_schema_sessions.ts";
import type { Session } from "./internal/_session.ts";
import { Turns } from "./internal/_turns.ts";
import {
  newSamplingClient,
  openSamplingClient,
  type SamplingClient,
  tokenizerIdFor,
} from "./sampling_client.ts";
import type { CreateSamplingClientOptions } from "./sampling_types.ts";
import { parseTinkerPath } from "./tinker_path.ts";
import { checkOptions, KEYS } from "./internal/_options.ts";
import {
  ApiError,
  ApiResponseValidationError,
  InvalidArgumentError,
  TinkerError,
} from "./errors.ts";
import type { FutureOptions, SaveWeightsExternalOptions } from "./session_types.ts";
import { TensorData } from "./tensor_data.ts";
import { withoutRefusedDefaults } from "./internal/_unknown_key_fallback.ts";
import type {
  CustomLossFn,
  LoadStateOptions,
  SaveStateOptions,
  SaveWeightsAndGetSamplingClientOptions,
  SaveWeightsForSamplerOptions,
} from "./training_options.ts";
import {
  type AdamParams,
  type Datum,
  DEFAULT_ADAM_PARAMS,
  type ForwardBackwardOutput,
  type GetInfoResponse,
  type LoadWeightsResponse,
  type LossFnConfig,
  type LossFnType,
  type OptimParams,
  type OptimStepResponse,
  type SaveWeightsExternalResponse,
  type SaveWeightsForSamplerResponse,
  type SaveWeightsResponse,
} from "./training_types.ts";

/** What a training client is made of (built by `ServiceClient`). */
export interface TrainingClientInit {
  core: ClientCore;
  session: Session;
  modelId: string;
  info: GetInfoResponse;
  /** The server's `/client/config` answer (chunk limits, parallel chunks). */
  clientConfig?: Readonly<Record<string, unknown>> | undefined;
  /** Requests of the model already sent (their sequence ids 1…n are taken). */
  requestsSent?: number | undefined;
}

let pending: TrainingClientInit | undefined;

/** A `TrainingClient` of `init` (the only way to make one). */
export function newTrainingClient(init: TrainingClientInit): TrainingClient {
  pending = init;
  try {
    return new TrainingClient();
  } finally {
    pending = undefined;
  }
}

const MAX_TTL_SECONDS = 315_360_000;
/** Statuses that say a server does not take protobuf forward_backward bodies. */
const REFUSES_PROTOBUF = [415, 422];
/** The loss the SDK turns a custom loss into: cross-entropy with weights = −dLoss/dLogprob. */
const SURROGATE_LOSS = "cross_entropy";

/** One forward / forward_backward chunk, ready to send. */
interface Chunk {
  request: ForwardBackwardRequestMessage;
  /** Its protobuf body, encoded when the call is made (bad data fails then). */
  bytes: Uint8Array;
}

/**
 * The client of one model of a session (SDK 0.38's `TrainingClient`). Made
 * by {@linkcode ServiceClient.createTrainingClientFromState}. Its calls carry
 * the model's sequence ids and are sent in call order, whether or not the
 * caller awaits between them; each resolves when the server's future does.
 *
 * @example Export a checkpoint's weights as temporary external weights
 * ```ts
 * import { ServiceClient } from "@tinker-ts/tinker";
 * import { FAKE_IDS, startFakeTinker } from "@tinker-ts/tinker/testing";
 * import assert from "node:assert/strict";
 *
 * await using fake = await startFakeTinker();
 * await using service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
 * const training = await service.createTrainingClientFromState(FAKE_IDS.checkpointPath);
 * const { path } = await training.saveWeightsExternal("export", { ttlSeconds: 3600 });
 * assert.ok(path.startsWith(`tinker://${training.modelId}/external_weights/`));
 * ```
 */
export class TrainingClient {
  /** The model (training run) id, `<session>:train:<n>`. */
  readonly modelId: string;
  #core: ClientCore;
  #session: Session;
  #info: GetInfoResponse;
  #turns = new Turns();
  #limits: ChunkLimits;
  #clientConfig: Readonly<Record<string, unknown>>;
  #parallel: boolean;
  /** Set once the server refused a protobuf forward_backward (415/422): JSON from then on. */
  #json = false;

  /**
   * Not for direct use: training clients come from a {@linkcode ServiceClient}
   * (`createTrainingClientFromState`); calling this throws.
   *
   * @throws {TinkerError} Always, when called directly.
   */
  constructor() {
    const init = pending;
    if (init === undefined) {
      throw new TinkerError(
        "TrainingClient cannot be constructed directly: use ServiceClient.createTrainingClientFromState",
      );
    }
    this.modelId = init.modelId;
    this.#core = init.core;
    this.#session = init.session;
    this.#info = init.info;
    for (let i = 0; i < (init.requestsSent ?? 0); i++) this.#turns.end(this.#turns.take());
    const config = init.clientConfig ?? {};
    this.#clientConfig = config;
    const positive = (v: unknown, d: number) =>
      typeof v === "number" && Number.isSafeInteger(v) && v > 0 ? v : d;
    this.#limits = {
      maxChunkLen: positive(config.fwdbwd_max_chunk_len, DEFAULT_CHUNK_LIMITS.maxChunkLen),
      maxChunkBytes: positive(
        config.fwdbwd_max_chunk_bytes_count,
        DEFAULT_CHUNK_LIMITS.maxChunkBytes,
      ),
    };
    this.#parallel = config.parallel_fwdbwd_chunks !== false;
  }

  /**
   * The model's information, fetched when the client was created (no request).
   *
   * @returns Base model, LoRA rank, optimizer.
   * @throws {TinkerError} Never: no request is made.
   *
   * @example
   * ```ts
   * import { ServiceClient } from "@tinker-ts/tinker";
   * import { FAKE_IDS, startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * await using service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const training = await service.createTrainingClientFromState(FAKE_IDS.checkpointPath);
   * assert.equal(training.getInfo().model_id, training.modelId);
   * ```
   */
  getInfo(): GetInfoResponse {
    return this.#info;
  }

  /**
   * The Tinker console's page for this training run, the SDK's
   * `get_console_url()`: `https://tinker.thinkingmachines.ai/training_runs/<model id>`.
   *
   * @returns The URL (no request is made).
   * @throws {TinkerError} Never: no request is made.
   *
   * @example
   * ```ts
   * import { ServiceClient } from "@tinker-ts/tinker";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * await using service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const training = await service.createLoraTrainingClient("Qwen/Qwen3-8B");
   * assert.equal(
   *   training.getConsoleUrl(),
   *   `https://tinker.thinkingmachines.ai/training_runs/${training.modelId}`,
   * );
   * ```
   */
  getConsoleUrl(): string {
    return trainingRunConsoleUrl(this.modelId);
  }

  /**
   * The tokenizer to pair this model with (`get_info`'s `tokenizer_id`, a
   * Hugging Face repository id): no tokenizer is bundled, load it with a
   * tokenizer library from npm (e.g. `@huggingface/transformers`'
   * `AutoTokenizer.from_pretrained(id)`), the SDK's `get_tokenizer()`.
   *
   * @returns The tokenizer id: the server's, else derived from the base model's name as the SDK does.
   * @throws {TinkerError} Never: no request is made.
   *
   * @example
   * ```ts
   * import { ServiceClient } from "@tinker-ts/tinker";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * await using service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const training = await service.createLoraTrainingClient("Qwen/Qwen3-8B");
   * assert.equal(training.getTokenizerId(), "Qwen/Qwen3-8B");
   * ```
   */
  getTokenizerId(): string {
    const data = this.#info.model_data;
    return tokenizerIdFor(data.model_name ?? this.#info.model_name ?? "", data.tokenizer_id);
  }

  /**
   * The forward pass only (no gradients): per-datum loss outputs (e.g.
   * `logprobs` of the target tokens) and metrics. Large batches are split as
   * the SDK splits them (see {@linkcode TrainingClient.forwardBackward}).
   *
   * @param data The examples.
   * @param lossFn The loss function (e.g. `"cross_entropy"`).
   * @param lossFnConfig Its parameters, if any.
   * @param options `deadlineMs`, `signal`, `timeoutMs`.
   * @returns The combined output of every chunk, in data order.
   * @throws {InvalidArgumentError} At once, before sending: empty or malformed `data`, a bad
   *  `lossFn` or an unknown option.
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
   * const training = await service.createLoraTrainingClient("Qwen/Qwen3-8B");
   * const out = await training.forward([{
   *   model_input: ModelInput.fromInts([1, 2, 3]),
   *   loss_fn_inputs: { target_tokens: [2, 3, 4], weights: [1, 1, 1] },
   * }], "cross_entropy");
   * assert.equal(out.loss_fn_outputs[0]!.logprobs!.data.length, 3);
   * ```
   */
  forward(
    data: readonly Datum[],
    lossFn: LossFnType,
    lossFnConfig?: LossFnConfig | null,
    options: FutureOptions = {},
  ): TinkerFuture<ForwardBackwardOutput> {
    return this.#forwardBackward("forward()", data, lossFn, lossFnConfig, options, true);
  }

  /**
   * The forward and backward pass: gradients accumulate on the server until
   * the next {@linkcode TrainingClient.optimStep}. Sent as SDK 0.38 sends it:
   * a protobuf body (`POST /api/v1/forward_backward`), the result asked for
   * in protobuf. A batch over the server's limits (1024 datums or ~5 MB per
   * request by default, from its client config) is split into chunks, each
   * its own request and sequence id, the chunks after the first sent before
   * it; their results are combined into one. A server that refuses protobuf
   * bodies (415 or 422: SDK 0.25-era servers such as TuFT) gets the same
   * request as JSON, and every later one of this client.
   *
   * @param data The examples.
   * @param lossFn The loss function (e.g. `"cross_entropy"`, `"importance_sampling"`, `"ppo"`).
   * @param lossFnConfig Its parameters, if any (e.g. PPO clip thresholds).
   * @param options `deadlineMs`, `signal`, `timeoutMs`.
   * @returns The combined output: per-datum records in data order, metrics such as `loss:sum`.
   * @throws {InvalidArgumentError} At once, before sending: empty or malformed `data`, a bad
   *  `lossFn` or an unknown option.
   * @throws {ApiError} The future rejects with the subclass of any HTTP or connection failure.
   * @throws {RequestFailedError} The future rejects when the server's future failed.
   * @throws {SessionExpiredError} The future rejects once the server dropped the session.
   *
   * @example One step of supervised fine-tuning
   * ```ts
   * import { ModelInput, ServiceClient } from "@tinker-ts/tinker";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   *
   * await using fake = await startFakeTinker();
   * await using service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const training = await service.createLoraTrainingClient("Qwen/Qwen3-8B", { rank: 16 });
   * const batch = [{
   *   model_input: ModelInput.fromInts([5, 9, 2]),
   *   loss_fn_inputs: { target_tokens: [9, 2, 7], weights: [0, 1, 1] },
   * }];
   * const fwdbwd = training.forwardBackward(batch, "cross_entropy");
   * const optim = training.optimStep({ learning_rate: 0.05 }); // sent after it, without waiting
   * console.log((await fwdbwd).metrics["loss:sum"], await optim);
   * ```
   */
  forwardBackward(
    data: readonly Datum[],
    lossFn: LossFnType,
    lossFnConfig?: LossFnConfig | null,
    options: FutureOptions = {},
  ): TinkerFuture<ForwardBackwardOutput> {
    return this.#forwardBackward("forwardBackward()", data, lossFn, lossFnConfig, options, false);
  }

  /**
   * A forward_backward with a loss computed here, as the SDK's
   * `forward_backward_custom` does it: a forward pass (`cross_entropy`,
   * forward only) gives each datum's target-token logprobs; `lossFn` returns
   * the loss and its gradient with respect to those logprobs (TypeScript has
   * no autograd: see {@linkcode CustomLossFn}); then a forward_backward with
   * `cross_entropy` and `weights = −gradient` back-propagates exactly that
   * gradient (the server's loss is `−Σ weights · logprobs`). Both passes
   * keep this call's place in the model's order. The result is the backward
   * pass's, with `loss:sum` the custom loss, the server's as
   * `surrogate_loss:sum`, and `lossFn`'s metrics merged in.
   *
   * @param data The examples; each needs `target_tokens` (and may have `weights`, default 0).
   * @param lossFn The loss: `(data, logprobs) => { loss, gradients, metrics? }`, synchronous; or a
   *  {@linkcode LossHandle} of this session from `ServiceClient.createCustomLoss` (run per datum).
   * @param options `deadlineMs`, `signal`, `timeoutMs`.
   * @returns The backward pass's output, metrics as above.
   * @throws {InvalidArgumentError} At once: empty or malformed `data`, a datum without
   *  `target_tokens`, `lossFn` not a function, a handle of another session or a datum without
   *  an input of the handle at its rank; the future rejects with it when `lossFn`'s
   *  gradients do not match the logprobs.
   * @throws {ApiError} The future rejects with the subclass of any HTTP or connection failure.
   * @throws {RequestFailedError} The future rejects when the server's future failed.
   * @throws {SessionExpiredError} The future rejects once the server dropped the session.
   *
   * @example A hand-written mean negative log-likelihood
   * ```ts
   * import { ModelInput, ServiceClient } from "@tinker-ts/tinker";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * await using service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const training = await service.createLoraTrainingClient("Qwen/Qwen3-8B");
   * const data = [{
   *   model_input: ModelInput.fromInts([1, 2, 3]),
   *   loss_fn_inputs: { target_tokens: [2, 3, 4] },
   * }];
   * const out = await training.forwardBackwardCustom(data, (_data, logprobs) => {
   *   const n = logprobs[0]!.length;
   *   return {
   *     loss: -logprobs[0]!.reduce((a, b) => a + b, 0) / n,
   *     gradients: [logprobs[0]!.map(() => -1 / n)],
   *     metrics: { "tokens:sum": n },
   *   };
   * });
   * assert.ok(out.metrics["loss:sum"]! > 0 && out.metrics["tokens:sum"] === 3);
   * ```
   */
  forwardBackwardCustom(
    data: readonly Datum[],
    lossFn: CustomLossFn | LossHandle,
    options: FutureOptions = {},
  ): TinkerFuture<ForwardBackwardOutput> {
    checkOptions(options, KEYS.future, "forwardBackwardCustom()");
    if (lossFn instanceof LossHandle) {
      if (lossFn.sessionId !== this.#session.id) {
        throw new InvalidArgumentError(
          "lossFn",
          `LossHandle ${JSON.stringify(lossFn.name)} was created in session ${lossFn.sessionId}; ` +
            "it can only be used by clients of that session",
        );
      }
      lossFn = lossFnOf(lossFn, checkData(data));
    }
    if (typeof lossFn !== "function") {
      throw new InvalidArgumentError("lossFn", `expected a function, got ${typeof lossFn}`);
    }
    const forwardData = checkData(data).map((datum, i) => {
      const targets = datum.loss_fn_inputs.target_tokens;
      if (targets === undefined) {
        throw new InvalidArgumentError(
          `data[${i}].loss_fn_inputs`,
          "a custom loss needs target_tokens",
        );
      }
      const target = tensor(`data[${i}]`, "target_tokens", targets);
      const weights = datum.loss_fn_inputs.weights === undefined
        ? new TensorData({
          data: new Float32Array(target.data.length),
          dtype: "float32",
          shape: target.shape,
        })
        : datum.loss_fn_inputs.weights;
      return { ...datum, loss_fn_inputs: { target_tokens: target, weights } };
    });
    const plan = chunkForwardBackward(forwardData, this.#limits);
    return this.#submitMany(
      "forwardBackwardCustom()",
      "ForwardBackward",
      2 * plan.length,
      options,
      (calls, call, turns) =>
        this.#custom(calls, call, turns, data, forwardData, plan.map((c) => c.data.length), lossFn),
    );
  }

  /**
   * One optimizer step on the gradients accumulated since the last one
   * (`POST /api/v1/optim_step`). Adam parameters as the SDK's `AdamParams`,
   * unset ones from {@linkcode DEFAULT_ADAM_PARAMS} (learning rate 1e-4,
   * betas 0.9 / 0.95, eps 1e-12, no weight decay, no clipping); Dimuon
   * parameters (`{ type: "dimuon", … }`) for a model created with that optimizer.
   *
   * @param params Adam (default) or Dimuon parameters.
   * @param options `deadlineMs`, `signal`, `timeoutMs`.
   * @returns The step's metrics, if the server reports any.
   * @throws {InvalidArgumentError} At once, before sending: a parameter that is not a finite
   *  number, a negative learning rate, an unknown parameter or option.
   * @throws {ApiError} The future rejects with the subclass of any HTTP or connection failure.
   * @throws {RequestFailedError} The future rejects when the server's future failed.
   * @throws {SessionExpiredError} The future rejects once the server dropped the session.
   *
   * @example
   * ```ts
   * import { ServiceClient } from "@tinker-ts/tinker";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   *
   * await using fake = await startFakeTinker();
   * await using service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const training = await service.createLoraTrainingClient("Qwen/Qwen3-8B");
   * console.log(await training.optimStep({ learning_rate: 1e-4, weight_decay: 0.01 }));
   * ```
   */
  optimStep(
    params: OptimParams = {},
    options: FutureOptions = {},
  ): TinkerFuture<OptimStepResponse> {
    checkOptions(options, KEYS.future, "optimStep()");
    const body = optimBody(params);
    return this.#submit("/optim_step", "OptimStep", options, (seqId) => ({
      model_id: this.modelId,
      seq_id: seqId,
      type: "optim_step",
      ...body,
    }), OPTIM_STEP_RESPONSE);
  }

  /**
   * Saves the weights and the optimizer state as a training checkpoint
   * `tinker://<model>/weights/<name>` (`POST /api/v1/save_weights`), to
   * resume from with {@linkcode TrainingClient.loadStateWithOptimizer} or
   * `ServiceClient.createTrainingClientFromState`.
   *
   * @param name The checkpoint's name.
   * @param options `ttlSeconds` (3600 to 10 years), `overwrite`, `userMetadata`, `deadlineMs`, `signal`, `timeoutMs`.
   * @returns `{ path }`: the checkpoint's tinker path.
   * @throws {InvalidArgumentError} At once, before sending: a bad name, TTL, metadata or option.
   * @throws {ApiError} The future rejects with the subclass of any HTTP or connection failure.
   * @throws {RequestFailedError} The future rejects when the server's future failed (e.g. the
   *  name exists and `overwrite` is false).
   * @throws {SessionExpiredError} The future rejects once the server dropped the session.
   *
   * @example
   * ```ts
   * import { ServiceClient } from "@tinker-ts/tinker";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * await using service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const training = await service.createLoraTrainingClient("Qwen/Qwen3-8B");
   * const { path } = await training.saveState("step-0", { userMetadata: { step: "0" } });
   * assert.equal(path, `tinker://${training.modelId}/weights/step-0`);
   * ```
   */
  saveState(name: string, options: SaveStateOptions = {}): TinkerFuture<SaveWeightsResponse> {
    checkOptions(options, KEYS.saveState, "saveState()");
    const path = checkText("name", name);
    const ttl = checkTtlSeconds(options.ttlSeconds);
    const metadata = checkMetadata(options.userMetadata);
    if (options.overwrite !== undefined && typeof options.overwrite !== "boolean") {
      throw new InvalidArgumentError(
        "overwrite",
        `expected a boolean, got ${typeof options.overwrite}`,
      );
    }
    return this.#submit("/save_weights", "SaveWeights", options, (seqId) => ({
      model_id: this.modelId,
      path,
      seq_id: seqId,
      ...(ttl !== undefined && { ttl_seconds: ttl }),
      overwrite: options.overwrite ?? false,
      ...(metadata !== undefined && { user_metadata: metadata }),
      type: "save_weights",
    }), SAVE_WEIGHTS_RESPONSE);
  }

  /**
   * Loads a training checkpoint's weights into this model, without its
   * optimizer state (`POST /api/v1/load_weights`, `optimizer: false`); the
   * SDK 0.38 deprecates this in favour of a new training client
   * (`ServiceClient.createTrainingClientFromState`), which it also offers.
   *
   * @param path A training checkpoint, `tinker://<run>/weights/<name>`.
   * @param options `weightsAccessToken`, `deadlineMs`, `signal`, `timeoutMs`.
   * @returns The load's result.
   * @throws {InvalidArgumentError} At once, before sending: a bad path or option.
   * @throws {ApiError} The future rejects with the subclass of any HTTP or connection failure.
   * @throws {RequestFailedError} The future rejects when the server's future failed (e.g. no
   *  such checkpoint).
   * @throws {SessionExpiredError} The future rejects once the server dropped the session.
   *
   * @example
   * ```ts
   * import { ServiceClient } from "@tinker-ts/tinker";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   *
   * await using fake = await startFakeTinker();
   * await using service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const training = await service.createLoraTrainingClient("Qwen/Qwen3-8B");
   * const { path } = await training.saveState("start");
   * await training.loadState(path);
   * ```
   */
  loadState(path: string, options: LoadStateOptions = {}): TinkerFuture<LoadWeightsResponse> {
    return this.#load("loadState()", path, false, options);
  }

  /**
   * Loads a training checkpoint's weights and its optimizer state (Adam's
   * moments) into this model, to resume training where it was saved.
   *
   * @param path A training checkpoint, `tinker://<run>/weights/<name>`.
   * @param options `weightsAccessToken`, `deadlineMs`, `signal`, `timeoutMs`.
   * @returns The load's result.
   * @throws {InvalidArgumentError} At once, before sending: a bad path or option.
   * @throws {ApiError} The future rejects with the subclass of any HTTP or connection failure.
   * @throws {RequestFailedError} The future rejects when the server's future failed.
   * @throws {SessionExpiredError} The future rejects once the server dropped the session.
   *
   * @example
   * ```ts
   * import { ServiceClient } from "@tinker-ts/tinker";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   *
   * await using fake = await startFakeTinker();
   * await using service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const training = await service.createLoraTrainingClient("Qwen/Qwen3-8B");
   * const { path } = await training.saveState("resume-here");
   * await training.loadStateWithOptimizer(path);
   * ```
   */
  loadStateWithOptimizer(
    path: string,
    options: LoadStateOptions = {},
  ): TinkerFuture<LoadWeightsResponse> {
    return this.#load("loadStateWithOptimizer()", path, true, options);
  }

  /**
   * Saves the weights for sampling as `tinker://<model>/sampler_weights/<name>`
   * (`POST /api/v1/save_weights_for_sampler`); sample from it with a
   * sampling client of that path.
   *
   * @param name The sampler checkpoint's name.
   * @param options `ttlSeconds` (3600 to 10 years), `userMetadata`, `deadlineMs`, `signal`, `timeoutMs`.
   * @returns `{ path }`: the sampler checkpoint's tinker path.
   * @throws {InvalidArgumentError} At once, before sending: a bad name, TTL, metadata or option.
   * @throws {ApiError} The future rejects with the subclass of any HTTP or connection failure.
   * @throws {RequestFailedError} The future rejects when the server's future failed.
   * @throws {SessionExpiredError} The future rejects once the server dropped the session.
   *
   * @example
   * ```ts
   * import { ServiceClient } from "@tinker-ts/tinker";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * await using service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const training = await service.createLoraTrainingClient("Qwen/Qwen3-8B");
   * const { path } = await training.saveWeightsForSampler("sampler-0");
   * assert.equal(path, `tinker://${training.modelId}/sampler_weights/sampler-0`);
   * ```
   */
  saveWeightsForSampler(
    name: string,
    options: SaveWeightsForSamplerOptions = {},
  ): TinkerFuture<SaveWeightsForSamplerResponse> {
    checkOptions(options, KEYS.saveWeightsForSampler, "saveWeightsForSampler()");
    const path = checkText("name", name);
    const ttl = checkTtlSeconds(options.ttlSeconds);
    const metadata = checkMetadata(options.userMetadata);
    return this.#submit(
      "/save_weights_for_sampler",
      "SaveWeightsForSampler",
      options,
      (seqId) => ({
        model_id: this.modelId,
        path,
        kind: "snapshot",
        seq_id: seqId,
        ...(ttl !== undefined && { ttl_seconds: ttl }),
        ...(metadata !== undefined && { user_metadata: metadata }),
        type: "save_weights_for_sampler",
      }),
      SAVE_WEIGHTS_FOR_SAMPLER_RESPONSE,
      undefined,
      { kind: "snapshot" },
    );
  }

  /**
   * Saves the current weights for sampling, without a name, and returns a
   * sampling client of them (the SDK's `save_weights_and_get_sampling_client`):
   * one `POST /api/v1/save_weights_for_sampler` with a sampling session
   * sequence id instead of a path; the server answers with a sampling session
   * of those weights, which the client samples from. The weights are
   * ephemeral: for a checkpoint that stays, use
   * {@linkcode TrainingClient.saveWeightsForSampler} and
   * {@linkcode TrainingClient.createSamplingClient}.
   *
   * @param options `kind` (`"snapshot"`, default: these weights; `"inflight"`: weights the model
   *  keeps updating), `onQueueStateChange`, `deadlineMs`, `signal`, `timeoutMs`.
   * @returns The sampling client.
   * @throws {InvalidArgumentError} At once, before sending: a bad `kind` or an unknown option.
   * @throws {ApiError} The future rejects with the subclass of any HTTP or connection failure.
   * @throws {RequestFailedError} The future rejects when the server's future failed.
   * @throws {SessionExpiredError} The future rejects once the server dropped the session.
   *
   * @example Sample from the weights after a training step
   * ```ts
   * import { ModelInput, ServiceClient } from "@tinker-ts/tinker";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   *
   * await using fake = await startFakeTinker();
   * await using service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const training = await service.createLoraTrainingClient("Qwen/Qwen3-8B");
   * const sampler = await training.saveWeightsAndGetSamplingClient();
   * const { sequences } = await sampler.sample(ModelInput.fromInts([1, 2]), 2, { max_tokens: 8 });
   * console.log(sequences.map((s) => s.tokens));
   * ```
   */
  saveWeightsAndGetSamplingClient(
    options: SaveWeightsAndGetSamplingClientOptions = {},
  ): TinkerFuture<SamplingClient> {
    checkOptions(options, SAVE_AND_SAMPLE_KEYS, "saveWeightsAndGetSamplingClient()");
    const kind = options.kind ?? "snapshot";
    if (kind !== "snapshot" && kind !== "inflight") {
      throw new InvalidArgumentError(
        "kind",
        `must be "snapshot" or "inflight", got ${String(kind)}`,
      );
    }
    const listener = options.onQueueStateChange;
    if (listener !== undefined && typeof listener !== "function") {
      throw new InvalidArgumentError("onQueueStateChange", "must be a function");
    }
    const samplingSeq = this.#session.nextSamplingSessionSeqId();
    return this.#submit(
      "/save_weights_for_sampler",
      "SaveWeightsForSampler",
      options,
      (seqId) => ({
        model_id: this.modelId,
        sampling_session_seq_id: samplingSeq,
        kind,
        seq_id: seqId,
        type: "save_weights_for_sampler",
      }),
      SAVE_WEIGHTS_FOR_SAMPLER_RESPONSE,
      (value) => {
        const id = (value as { sampling_session_id?: string | null }).sampling_session_id;
        if (typeof id !== "string" || id === "") {
          throw new ApiResponseValidationError({
            message:
              "save_weights_for_sampler without a name answered without a sampling_session_id",
          });
        }
        return newSamplingClient({
          core: this.#core,
          session: this.#session,
          samplingSessionId: id,
          baseModel: this.#info.model_data.model_name ?? this.#info.model_name ?? "",
          onQueueStateChange: listener,
          clientConfig: this.#clientConfig,
        });
      },
    );
  }

  /**
   * A sampling client of saved weights (`tinker://…/sampler_weights/…`), in
   * this client's session: as `ServiceClient.createSamplingClient({ modelPath })`.
   *
   * @param modelPath The weights to sample from.
   * @param options `onQueueStateChange`, `deadlineMs`, `signal`, `timeoutMs`.
   * @returns The sampling client.
   * @throws {TinkerPathError} At once, before sending: `modelPath` is not a tinker path.
   * @throws {InvalidArgumentError} At once, before sending: an unknown option.
   * @throws {ApiError} The future rejects with the subclass of any HTTP or connection failure.
   * @throws {SessionExpiredError} The future rejects once the server dropped the session.
   *
   * @example
   * ```ts
   * import { ModelInput, ServiceClient } from "@tinker-ts/tinker";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   *
   * await using fake = await startFakeTinker();
   * await using service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const training = await service.createLoraTrainingClient("Qwen/Qwen3-8B");
   * const { path } = await training.saveWeightsForSampler("step-0");
   * const sampler = await training.createSamplingClient(path);
   * console.log(await sampler.computeLogprobs(ModelInput.fromInts([1, 2, 3])));
   * ```
   */
  createSamplingClient(
    modelPath: string,
    options: Omit<CreateSamplingClientOptions, "modelPath" | "baseModel"> = {},
  ): TinkerFuture<SamplingClient> {
    checkOptions(options, CREATE_SAMPLING_KEYS, "createSamplingClient()");
    return openSamplingClient(
      this.#core,
      this.#session,
      { ...options, modelPath },
      "createSamplingClient()",
    );
  }

  #load(
    what: string,
    path: string,
    optimizer: boolean,
    options: LoadStateOptions,
  ): TinkerFuture<LoadWeightsResponse> {
    checkOptions(options, KEYS.loadState, what);
    parseTinkerPath(path);
    const token = options.weightsAccessToken === undefined
      ? undefined
      : checkText("weightsAccessToken", options.weightsAccessToken);
    return this.#submit("/load_weights", "LoadWeights", options, (seqId) => ({
      model_id: this.modelId,
      seq_id: seqId,
      path,
      optimizer,
      ...(token !== undefined && { weights_access_token: token }),
      type: "load_weights",
    }), LOAD_WEIGHTS_RESPONSE);
  }

  /** `forward` / `forwardBackward`: checks, chunks, encodes, then one call of several turns. */
  #forwardBackward(
    what: string,
    data: readonly Datum[],
    lossFn: LossFnType,
    lossFnConfig: LossFnConfig | null | undefined,
    options: FutureOptions,
    forwardOnly: boolean,
  ): TinkerFuture<ForwardBackwardOutput> {
    checkOptions(options, KEYS.future, what);
    checkLossFn(lossFn, lossFnConfig);
    const plan = chunkForwardBackward(checkData(data), this.#limits);
    return this.#submitMany(
      what,
      forwardOnly ? "Forward" : "ForwardBackward",
      plan.length,
      options,
      (calls, call, turns) => {
        const chunks = plan.map((c, i) =>
          this.#chunk(c.data, turns[i]! + 1, lossFn, lossFnConfig, forwardOnly)
        );
        return this.#sendAndCombine(calls, call, turns, chunks, forwardOnly, options);
      },
    );
  }

  /** One chunk's request, its protobuf body encoded (a malformed datum fails here). */
  #chunk(
    data: readonly Datum[],
    seqId: number,
    lossFn: string,
    lossFnConfig: LossFnConfig | null | undefined,
    forwardOnly: boolean,
  ): Chunk {
    const request: ForwardBackwardRequestMessage = {
      model_id: this.modelId,
      seq_id: seqId,
      data,
      loss_fn: lossFn,
      loss_fn_config: lossFnConfig ?? null,
      forward_only: forwardOnly,
    };
    try {
      return { request, bytes: encodeForwardBackwardRequest(request) };
    } catch (error) {
      if (error instanceof InvalidArgumentError) throw error;
      throw new InvalidArgumentError(
        "data",
        error instanceof Error ? error.message : String(error),
      );
    }
  }

  /**
   * A call that takes `count` consecutive turns (sequence ids) when it is
   * made: a chunked forward_backward, or the two passes of a custom loss.
   */
  #submitMany(
    what: string,
    requestType: string,
    count: number,
    options: FutureOptions,
    run: (calls: Calls, call: CallSettings, turns: number[]) => Steps<unknown>,
  ): TinkerFuture<ForwardBackwardOutput> {
    this.#session.check();
    if (options.deadlineMs !== undefined) checkInt("deadlineMs", options.deadlineMs, 1, 0);
    const turns = Array.from({ length: count }, () => this.#turns.take());
    const op: Operation = {
      kind: "steps",
      what: `${requestType} of ${this.modelId} (${what})`,
      run: (calls, call) => this.#runMany(call, turns, () => run(calls, call, turns)),
    };
    const future = this.#core.future<ForwardBackwardOutput>(op, options);
    for (const turn of turns) this.#turns.own(turn, future);
    return future;
  }

  *#runMany(
    call: CallSettings,
    turns: number[],
    run: () => Steps<unknown>,
  ): Steps<unknown> {
    try {
      this.#session.check();
      yield { t: "turn", queue: this.#turns, turn: turns[0]!, signal: call.signal };
    } catch (error) {
      if (!(error instanceof SyncUnavailableError)) { for (const t of turns) this.#turns.end(t); }
      throw error;
    }
    try {
      return yield* run();
    } catch (error) {
      this.#session.markFailed();
      throw error;
    } finally {
      for (const t of turns) this.#turns.end(t);
    }
  }

  /**
   * Sends every chunk (in parallel mode the chunks after the first go
   * before it, as the SDK sends them: the server then has the whole batch
   * when the first arrives), ends their turns, then reads each future and
   * combines the results.
   */
  *#sendAndCombine(
    calls: Calls,
    call: CallSettings,
    turns: number[],
    chunks: Chunk[],
    forwardOnly: boolean,
    options: FutureOptions,
  ): Steps<ForwardBackwardOutput> {
    const order = chunks.map((_, i) => i);
    if (this.#parallel && order.length > 1) order.push(order.shift()!);
    const sent: { http: HttpSpec; res: RawResponse; json: boolean }[] = [];
    try {
      for (const i of order) sent[i] = yield* this.#sendChunk(calls, call, chunks[i]!);
    } finally {
      for (const t of turns.slice(0, chunks.length)) this.#turns.end(t);
    }
    const results: ForwardBackwardOutput[] = [];
    for (const { http, res, json } of sent) {
      // pollFuture over calls whose first send answers with the reply already received.
      const replay: Calls = {
        ...calls,
        send: (h, c) => h === http ? replayed(res) : calls.send(h, c),
      };
      const value = yield* pollFuture(replay, http, {
        requestType: forwardOnly ? "Forward" : "ForwardBackward",
        schema: FORWARD_BACKWARD_OUTPUT,
        deadlineMs: options.deadlineMs,
        beforePoll: () => this.#session.beatIfDue(calls),
        ...(!json && {
          binary: { accept: PROTO_CONTENT_TYPE, decode: decodeForwardBackwardOutput },
        }),
      }, call);
      results.push(toOutput(value));
    }
    return results.length === 1 ? results[0]! : combineForwardBackwardOutputs(results);
  }

  /** Sends one chunk: protobuf, or JSON once the server refused protobuf. */
  *#sendChunk(
    calls: Calls,
    call: CallSettings,
    chunk: Chunk,
  ): Steps<{ http: HttpSpec; res: RawResponse; json: boolean }> {
    if (!this.#json) {
      const http: HttpSpec = {
        method: "POST",
        path: "/api/v1/forward_backward",
        binaryBody: { bytes: chunk.bytes, contentType: PROTO_CONTENT_TYPE },
        retry: "unsent",
      };
      try {
        return { http, res: yield* calls.send(http, call), json: false };
      } catch (error) {
        if (!(error instanceof ApiError && REFUSES_PROTOBUF.includes(error.status ?? 0))) {
          throw error;
        }
        // Refused, so not applied: the same sequence id goes again, as JSON.
        this.#json = true;
        calls.log(
          `forward_backward: the server refused a protobuf body (${error.status}); sending JSON from now on`,
        );
      }
    }
    const { path, body } = forwardBackwardJson(chunk.request);
    const http: HttpSpec = { method: "POST", path, body, retry: "unsent" };
    return { http, res: yield* calls.send(http, call), json: true };
  }

  /** The two passes of `forwardBackwardCustom`, in its reserved turns. */
  *#custom(
    calls: Calls,
    call: CallSettings,
    turns: number[],
    data: readonly Datum[],
    forwardData: Datum[],
    sizes: number[],
    lossFn: CustomLossFn,
  ): Steps<ForwardBackwardOutput> {
    const n = sizes.length;
    const slices = (list: readonly Datum[]) => {
      let at = 0;
      return sizes.map((size) => list.slice(at, at += size));
    };
    const forwardChunks = slices(forwardData).map((chunk, i) =>
      this.#chunk(chunk, turns[i]! + 1, SURROGATE_LOSS, null, true)
    );
    const forward = yield* this.#sendAndCombine(
      calls,
      call,
      turns,
      forwardChunks,
      true,
      {},
    );
    const logprobs = forward.loss_fn_outputs.map((out, i) => {
      const lp = out.logprobs;
      if (lp === undefined) {
        throw new ApiResponseValidationError({
          message: `The forward pass of a custom loss returned no logprobs for datum ${i}`,
        });
      }
      return Float32Array.from(lp.data as ArrayLike<number>);
    });
    // A throwing loss ends the backward turns unsent: a gap of sequence ids the server skips.
    const result = lossFn(data, logprobs);
    const gradients = checkGradients(result, logprobs);
    const backwardData = forwardData.map((datum, i): Datum => ({
      ...datum,
      loss_fn_inputs: {
        target_tokens: datum.loss_fn_inputs.target_tokens!,
        weights: new TensorData({
          data: Float32Array.from(gradients[i]!, (g) => -g),
          dtype: "float32",
          shape: (datum.loss_fn_inputs.target_tokens as TensorData).shape,
        }),
      },
    }));
    const backwardChunks = slices(backwardData).map((chunk, i) =>
      this.#chunk(chunk, turns[n + i]! + 1, SURROGATE_LOSS, null, false)
    );
    const backward = yield* this.#sendAndCombine(
      calls,
      call,
      turns.slice(n),
      backwardChunks,
      false,
      {},
    );
    const metrics = { ...backward.metrics };
    const surrogate = metrics["loss:sum"];
    delete metrics["loss:sum"];
    Object.assign(metrics, result.metrics ?? {});
    metrics["loss:sum"] = result.loss;
    if (surrogate !== undefined) metrics["surrogate_loss:sum"] = surrogate;
    return { ...backward, metrics };
  }

  /**
   * Saves the model's weights in an external (Hugging Face PEFT) format as a
   * checkpoint `tinker://<model>/external_weights/<name>`: list its files'
   * signed URLs with `RestClient.getExternalWeightsUrls`, delete it with
   * `RestClient.deleteCheckpointFromTinkerPath`.
   *
   * @param name The checkpoint's name.
   * @param options `ttlSeconds` (3600 to 10 years; default never), `ageEncryptionRecipients`, `deadlineMs`, `signal`, `timeoutMs`.
   * @returns `{ path }`: the new checkpoint's tinker path.
   * @throws {InvalidArgumentError} At once, before sending: a bad `name`, TTL, recipients or an
   *  unknown option.
   * @throws {ApiError} The future rejects with the subclass of any HTTP or connection failure
   *  (`NotFoundError`, `AuthenticationError`, `ApiTimeoutError`, …).
   * @throws {RequestFailedError} The future rejects when the server's future failed.
   * @throws {SessionExpiredError} The future rejects once the server dropped the session.
   *
   * @example
   * ```ts
   * import { ServiceClient } from "@tinker-ts/tinker";
   * import { FAKE_IDS, startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * await using service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const training = await service.createTrainingClientFromState(FAKE_IDS.checkpointPath);
   * const saved = await training.saveWeightsExternal("adapter");
   * assert.equal(saved.path, `tinker://${training.modelId}/external_weights/adapter`);
   * ```
   */
  saveWeightsExternal(
    name: string,
    options: SaveWeightsExternalOptions = {},
  ): TinkerFuture<SaveWeightsExternalResponse> {
    checkOptions(options, KEYS.saveWeightsExternal, "saveWeightsExternal()");
    const ttl = options.ttlSeconds;
    if (ttl !== undefined) checkInt("ttlSeconds", ttl, 3600, 0);
    if (ttl !== undefined && ttl > MAX_TTL_SECONDS) {
      throw new InvalidArgumentError("ttlSeconds", `must be at most ${MAX_TTL_SECONDS} (10 years)`);
    }
    const recipients = options.ageEncryptionRecipients;
    if (recipients !== undefined && recipients.length > 10) {
      throw new InvalidArgumentError("ageEncryptionRecipients", "must name at most 10 recipients");
    }
    const path = checkText("name", name);
    return this.#submit("/save_weights_external", "SaveWeightsExternal", options, (seqId) => ({
      model_id: this.modelId,
      path,
      seq_id: seqId,
      ...(ttl !== undefined && { ttl_seconds: ttl }),
      ...(recipients !== undefined && { age_encryption_recipients: recipients }),
      type: "save_weights_external",
    }), SAVE_WEIGHTS_EXTERNAL_RESPONSE);
  }

  /**
   * One call of this model: takes the next turn (sequence id = turn + 1; the
   * model's creation was 0), sends `POST /api/v1{path}` once every earlier
   * call is sent, and resolves with the future's result checked against
   * `schema`.
   */
  #submit<T>(
    path: string,
    requestType: string,
    options: FutureOptions,
    body: (seqId: number) => Record<string, unknown>,
    schema: Schema,
    finish?: (value: unknown) => unknown,
    droppable?: Readonly<Record<string, unknown>>,
  ): TinkerFuture<T> {
    this.#session.check();
    if (options.deadlineMs !== undefined) checkInt("deadlineMs", options.deadlineMs, 1, 0);
    const turn = this.#turns.take();
    const http: HttpSpec = {
      method: "POST",
      path: `/api/v1${path}`,
      body: body(turn + 1),
      retry: "unsent",
    };
    const op: Operation = {
      kind: "steps",
      what: `${requestType} of ${this.modelId}`,
      run: (calls, call) =>
        this.#run(calls, call, turn, http, {
          requestType,
          schema,
          deadlineMs: options.deadlineMs,
          finish,
        }, droppable),
    };
    const future = this.#core.future<T>(op, options);
    this.#turns.own(turn, future);
    return future;
  }

  *#run(
    calls: Calls,
    call: CallSettings,
    turn: number,
    http: HttpSpec,
    spec: FutureSpec,
    droppable: Readonly<Record<string, unknown>> = {},
  ): Steps<unknown> {
    const turns = this.#turns;
    try {
      this.#session.check();
      yield { t: "turn", queue: turns, turn, signal: call.signal };
    } catch (error) {
      // Refused blocking leaves the call usable with await: it keeps its turn.
      if (!(error instanceof SyncUnavailableError)) turns.end(turn);
      throw error;
    }
    const poll = (sent: HttpSpec) =>
      pollFuture(calls, sent, {
        ...spec,
        submitted: () => turns.end(turn),
        beforePoll: () => this.#session.beatIfDue(calls),
      }, call);
    try {
      try {
        return yield* poll(http);
      } catch (error) {
        // An SDK 0.25-era server (TuFT) refuses a key holding its own default: once without it.
        const older = withoutRefusedDefaults(error, http.body, droppable);
        if (older === undefined) throw error;
        return yield* poll({ ...http, body: older });
      }
    } catch (error) {
      this.#session.markFailed();
      throw error;
    } finally {
      turns.end(turn);
    }
  }
}

const SAVE_AND_SAMPLE_KEYS: readonly string[] = /* @__PURE__ */ (() => [
  ...KEYS.future,
  "kind",
  "onQueueStateChange",
])();
const CREATE_SAMPLING_KEYS: readonly string[] = /* @__PURE__ */ (() => [
  ...KEYS.future,
  "onQueueStateChange",
])();

const LOSS_FNS: readonly string[] = [
  "cross_entropy",
  "importance_sampling",
  "ppo",
  "cispo",
  "dro",
  "gspo",
  "stable_reinforce",
  "custom",
];

/** The batch, checked: a non-empty array of datums with a `ModelInput` and loss inputs. */
function checkData(data: readonly Datum[]): Datum[] {
  if (!Array.isArray(data) || data.length === 0) {
    throw new InvalidArgumentError("data", "must be a non-empty array of datums");
  }
  return data.map((datum, i) => {
    const input = (datum as Partial<Datum> | null)?.model_input;
    if (input === null || typeof input !== "object" || !Array.isArray(input.chunks)) {
      throw new InvalidArgumentError(
        `data[${i}].model_input`,
        "must be a ModelInput (e.g. ModelInput.fromInts(tokens))",
      );
    }
    const inputs = datum.loss_fn_inputs;
    if (inputs === null || typeof inputs !== "object") {
      throw new InvalidArgumentError(`data[${i}].loss_fn_inputs`, "must be an object of tensors");
    }
    const tensors: Record<string, TensorData> = {};
    for (const [key, value] of Object.entries(inputs)) {
      tensors[key] = tensor(`data[${i}]`, key, value as Datum["loss_fn_inputs"][string]);
    }
    return { ...datum, loss_fn_inputs: tensors };
  });
}

/** A loss input as a `TensorData`, or InvalidArgumentError naming the datum and key. */
function tensor(where: string, key: string, value: Datum["loss_fn_inputs"][string]): TensorData {
  try {
    return TensorData.fromLossFnInput(key, value);
  } catch (error) {
    throw new InvalidArgumentError(
      `${where}.loss_fn_inputs.${key}`,
      error instanceof Error ? error.message : String(error),
    );
  }
}

function checkLossFn(lossFn: unknown, config: unknown): void {
  if (typeof lossFn !== "string" || !LOSS_FNS.includes(lossFn)) {
    throw new InvalidArgumentError(
      "lossFn",
      `must be one of ${LOSS_FNS.map((l) => `"${l}"`).join(", ")}, got ${
        typeof lossFn === "string" ? JSON.stringify(lossFn) : typeof lossFn
      }`,
    );
  }
  if (config === undefined || config === null) return;
  if (typeof config !== "object" || Array.isArray(config)) {
    throw new InvalidArgumentError("lossFnConfig", "must be an object of numbers and strings");
  }
  for (const [key, value] of Object.entries(config)) {
    if (!(typeof value === "string" || (typeof value === "number" && Number.isFinite(value)))) {
      throw new InvalidArgumentError(
        `lossFnConfig.${key}`,
        `must be a finite number or a string, got ${String(value)}`,
      );
    }
  }
}

const DIMUON_KEYS = ["type", "learning_rate", "grad_clip_norm", "beta1"];

/** `adam_params` (defaults filled in, as the SDK sends them) or `optimizer_params` (Dimuon). */
function optimBody(params: OptimParams): Record<string, unknown> {
  if (params === null || typeof params !== "object" || Array.isArray(params)) {
    throw new InvalidArgumentError("params", "must be an object of Adam (or Dimuon) parameters");
  }
  const dimuon = (params as { type?: unknown }).type === "dimuon";
  const known = dimuon ? DIMUON_KEYS : Object.keys(DEFAULT_ADAM_PARAMS);
  for (const [key, value] of Object.entries(params)) {
    if (!known.includes(key)) {
      throw new InvalidArgumentError(
        `params.${key}`,
        `is not a${dimuon ? " Dimuon" : "n Adam"} parameter (known: ${known.join(", ")})`,
      );
    }
    if (key !== "type" && (typeof value !== "number" || !Number.isFinite(value))) {
      throw new InvalidArgumentError(
        `params.${key}`,
        `must be a finite number, got ${String(value)}`,
      );
    }
  }
  if (((params as AdamParams).learning_rate ?? 0) < 0) {
    throw new InvalidArgumentError("params.learning_rate", "must be at least 0");
  }
  if (dimuon) {
    const { learning_rate, grad_clip_norm = 0, beta1 = 0.9 } = params as {
      learning_rate?: number;
      grad_clip_norm?: number;
      beta1?: number;
    };
    if (learning_rate === undefined) {
      throw new InvalidArgumentError("params.learning_rate", "is required for Dimuon");
    }
    return { optimizer_params: { type: "dimuon", learning_rate, grad_clip_norm, beta1 } };
  }
  const adam = { ...DEFAULT_ADAM_PARAMS, ...params as AdamParams };
  return {
    adam_params: {
      learning_rate: adam.learning_rate,
      beta1: adam.beta1,
      beta2: adam.beta2,
      eps: adam.eps,
      weight_decay: adam.weight_decay,
      grad_clip_norm: adam.grad_clip_norm,
    },
  };
}

function checkTtlSeconds(ttl: unknown): number | undefined {
  if (ttl === undefined) return undefined;
  checkInt("ttlSeconds", ttl, 3600, 0);
  if ((ttl as number) > MAX_TTL_SECONDS) {
    throw new InvalidArgumentError("ttlSeconds", `must be at most ${MAX_TTL_SECONDS} (10 years)`);
  }
  return ttl as number;
}

function checkMetadata(metadata: unknown): Record<string, string> | undefined {
  if (metadata === undefined) return undefined;
  if (metadata === null || typeof metadata !== "object" || Array.isArray(metadata)) {
    throw new InvalidArgumentError("userMetadata", "must be an object of strings");
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== "string") {
      throw new InvalidArgumentError(
        `userMetadata.${key}`,
        `must be a string, got ${typeof value}`,
      );
    }
  }
  return metadata as Record<string, string>;
}

/** The custom loss's gradients, checked against the logprobs they belong to. */
function checkGradients(
  result: unknown,
  logprobs: readonly Float32Array[],
): ArrayLike<number>[] {
  const r = result as { loss?: unknown; gradients?: unknown } | null;
  if (
    r === null || typeof r !== "object" || typeof r.loss !== "number" || !Number.isFinite(r.loss)
  ) {
    throw new InvalidArgumentError(
      "lossFn",
      "must return { loss: <finite number>, gradients: [...] }",
    );
  }
  const gradients = r.gradients as ArrayLike<number>[] | undefined;
  if (!Array.isArray(gradients) || gradients.length !== logprobs.length) {
    throw new InvalidArgumentError(
      "lossFn",
      `must return one gradient array per datum (${logprobs.length}), got ${
        Array.isArray(gradients) ? gradients.length : typeof gradients
      }`,
    );
  }
  gradients.forEach((g, i) => {
    if (g?.length !== logprobs[i]!.length) {
      throw new InvalidArgumentError(
        `gradients[${i}]`,
        `must have ${logprobs[i]!.length} values (one per logprob), got ${g?.length}`,
      );
    }
    for (let j = 0; j < g.length; j++) {
      if (!Number.isFinite(g[j])) {
        throw new InvalidArgumentError(`gradients[${i}][${j}]`, `is not finite: ${g[j]}`);
      }
    }
  });
  return gradients;
}

/** A result decoded from protobuf is ready; one read from JSON gets its tensors built. */
function toOutput(value: unknown): ForwardBackwardOutput {
  const records = (value as ForwardBackwardOutput).loss_fn_outputs;
  if (records.every((r) => Object.values(r).every((t) => t instanceof TensorData))) {
    return value as ForwardBackwardOutput;
  }
  try {
    return outputFromJson(value);
  } catch (error) {
    throw new ApiResponseValidationError({
      message: `The forward_backward result is malformed: ${
        error instanceof Error ? error.message : String(error)
      }`,
    });
  }
}

/** Steps that give `res` at once: a reply already received. */
// deno-lint-ignore require-yield
function* replayed(res: RawResponse): Steps<RawResponse> {
  return res;
}
