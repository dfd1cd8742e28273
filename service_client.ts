/**
 * The service client (SDK 0.38's `ServiceClient`): one session, created on
 * first need, kept alive by heartbeats, ended by `close(status)`; it creates
 * training clients of that session, and a REST client.
 *
 * @module
 */

import { checkInt, checkText } from "./internal/_args.ts";
import { ClientCore } from "./internal/_core.ts";
import { sessionConsoleUrl } from "./internal/_console_url.ts";
import type { Calls, Operation } from "./internal/_engine.ts";
import { checkOptions, KEYS } from "./internal/_options.ts";
import { SyncUnavailableError, type TinkerFuture } from "./internal/_future.ts";
import { pollFuture } from "./internal/_future_poll.ts";
import { withoutRefusedDefaults } from "./internal/_unknown_key_fallback.ts";
import { GET_INFO_RESPONSE, LOAD_WEIGHTS_RESPONSE } from "./internal/_schema_sessions.ts";
import { CREATE_MODEL_RESPONSE } from "./internal/_schema_training.ts";
import type { CreateLoraTrainingClientOptions } from "./training_options.ts";
import type { CallSettings, Steps } from "./internal/_request.ts";
import { Session } from "./internal/_session.ts";
import { RestClient } from "./rest_client.ts";
import {
  type CustomLossInputRank,
  type LossHandle,
  lossInputs,
  newLossHandle,
  type PerDatumLossFn,
} from "./loss_handle.ts";
import { newTrainingClient, type TrainingClient } from "./training_client.ts";
import { openSamplingClient, type SamplingClient } from "./sampling_client.ts";
import type { CreateSamplingClientOptions } from "./sampling_types.ts";
import { parseTinkerPath } from "./tinker_path.ts";
import { InvalidArgumentError } from "./errors.ts";
import type { ClientOptions, CopyWeightsOptions, RequestOptions } from "./types.ts";
import type {
  CreateTrainingClientFromStateOptions,
  ServiceClientOptions,
  SessionStatus,
} from "./session_types.ts";
import type { GetInfoResponse } from "./training_types.ts";
import type { WeightsInfoResponse } from "./types.ts";
import type { GetServerCapabilitiesResponse } from "./types.ts";

const STATUSES: readonly string[] = ["success", "errored", "interrupted"];

/**
 * The entry point of training (SDK 0.38's `ServiceClient`). It owns one
 * session, created lazily by the first call that needs it
 * (`POST /api/v1/create_session`), kept alive by a heartbeat every 10 s on a
 * timer that never keeps the process alive, and ended by
 * {@linkcode ServiceClient.close} (`await using` / `using` close it: status
 * `"errored"` if a call of the session failed, else `"success"`). When the
 * server drops the session (a heartbeat answered 404 or 410), every later
 * call fails with `SessionExpiredError`.
 *
 * @example Restore a checkpoint into a new training run
 * ```ts
 * import { ServiceClient } from "@tinker-ts/tinker";
 * import { FAKE_IDS, startFakeTinker } from "@tinker-ts/tinker/testing";
 * import assert from "node:assert/strict";
 *
 * await using fake = await startFakeTinker();
 * const service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
 * try {
 *   const training = await service.createTrainingClientFromState(FAKE_IDS.checkpointPath, {
 *     userMetadata: { created_by: "example" },
 *   });
 *   assert.equal(training.getInfo().model_id, training.modelId);
 *   await service.close("success");
 * } catch (error) {
 *   await service.close("errored");
 *   throw error;
 * }
 * ```
 */
export class ServiceClient implements Disposable, AsyncDisposable {
  #options: ClientOptions;
  #core: ClientCore;
  #session: Session;
  #rest: RestClient | undefined;
  #projectId: string | undefined;

  /**
   * Creates a service client; nothing is sent until a call needs the session.
   *
   * @param options The client's options, plus the session's `userMetadata`, `projectId`, `displayName`, `tags`, `heartbeatIntervalMs`.
   * @throws {InvalidArgumentError} An unknown option key (named, with the closest known one) or a
   *  bad `maxRetries` / `timeoutMs` / `heartbeatIntervalMs`.
   */
  constructor(options: ServiceClientOptions = {}) {
    checkOptions(options, KEYS.service, "new ServiceClient()");
    const { userMetadata, projectId, displayName, tags, heartbeatIntervalMs, ...client } = options;
    this.#options = client; // The REST client's options: the session's are not its.
    this.#projectId = projectId; // As given: copyWeights() leaves the default to the REST client.
    this.#core = new ClientCore(client);
    const env = this.#core.env;
    this.#session = new Session(
      {
        tags: [...new Set(tags ?? env("TINKER_TAGS")?.split(",") ?? [])],
        userMetadata,
        projectId: projectId ?? env("TINKER_PROJECT_ID"),
        displayName,
        heartbeatIntervalMs: checkInt("heartbeatIntervalMs", heartbeatIntervalMs, 1, 10_000),
      },
      (op) => this.#core.engine.execute(op),
    );
  }

  /** The session's id, once a call created it; else undefined. */
  get sessionId(): string | undefined {
    return this.#session.id;
  }

  /**
   * The Tinker console's page for this client's session, the SDK's
   * `get_console_url()`: `https://tinker.thinkingmachines.ai/sessions/<id>`,
   * or the sessions page while no call has created the session yet.
   *
   * @returns The URL (no request is made).
   * @throws {TinkerError} Never: no request is made.
   *
   * @example
   * ```ts
   * import { ServiceClient } from "@tinker-ts/tinker";
   * import assert from "node:assert/strict";
   *
   * const service = new ServiceClient({ apiKey: "tml-example" });
   * assert.equal(service.getConsoleUrl(), "https://tinker.thinkingmachines.ai/sessions");
   * ```
   */
  getConsoleUrl(): string {
    return sessionConsoleUrl(this.#session.id);
  }

  /**
   * The REST client of this service client (one per service client; it
   * needs no session).
   *
   * @returns The client.
   * @throws {InvalidArgumentError} Never for options the constructor accepted.
   *
   * @example
   * ```ts
   * import { ServiceClient } from "@tinker-ts/tinker";
   * import assert from "node:assert/strict";
   *
   * const service = new ServiceClient({ apiKey: "tml-example" });
   * assert.equal(service.createRestClient(), service.createRestClient());
   * ```
   */
  createRestClient(): RestClient {
    this.#rest ??= new RestClient(this.#options);
    return this.#rest;
  }

  /**
   * A training client of a new model loaded from a checkpoint's weights (not
   * its optimizer state), exactly as SDK 0.38 does it: the session first if
   * needed, then one `POST /api/v1/load_weights` naming the session and the
   * model's sequence id, its future, then `POST /api/v1/get_info`. A server
   * whose client config says `create_model_via_load_weights: false` (SDK
   * 0.25-era servers such as TuFT) gets SDK 0.25's requests instead:
   * `weights_info`, `create_model` of a LoRA model like the checkpoint, then
   * `load_weights` of that model.
   *
   * @param tinkerPath A training checkpoint, `tinker://<run>/weights/<name>`.
   * @param options `userMetadata` of the new run, `baseModel`, `weightsAccessToken`, `deadlineMs`, `signal`, `timeoutMs`.
   * @returns The training client.
   * @throws {TinkerPathError} At once, before sending: `tinkerPath` is not a tinker path.
   * @throws {InvalidArgumentError} At once, before sending: a bad or unknown option.
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
   * assert.equal(training.modelId, `${service.sessionId}:train:0`);
   * ```
   */
  createTrainingClientFromState(
    tinkerPath: string,
    options: CreateTrainingClientFromStateOptions = {},
  ): TinkerFuture<TrainingClient> {
    return this.#loadModel("createTrainingClientFromState()", tinkerPath, options, false);
  }

  #loadModel(
    what: string,
    tinkerPath: string,
    options: CreateTrainingClientFromStateOptions,
    optimizer: boolean,
  ): TinkerFuture<TrainingClient> {
    checkOptions(options, KEYS.fromState, what);
    parseTinkerPath(tinkerPath);
    if (options.deadlineMs !== undefined) checkInt("deadlineMs", options.deadlineMs, 1, 0);
    const baseModel = options.baseModel === undefined
      ? undefined
      : checkText("baseModel", options.baseModel);
    const token = options.weightsAccessToken === undefined
      ? undefined
      : checkText("weightsAccessToken", options.weightsAccessToken);
    const modelSeqId = this.#session.nextModelSeqId();
    const op: Operation = {
      kind: "steps",
      what: `create_training_client_from_state ${tinkerPath}`,
      run: (calls, call) =>
        this.#fromState(calls, call, tinkerPath, modelSeqId, {
          ...options,
          baseModel,
          token,
          optimizer,
        }),
    };
    return this.#core.future<TrainingClient>(op, options);
  }

  /**
   * A training client of a new model loaded from a checkpoint's weights and
   * its optimizer state (Adam's moments), to resume training exactly where
   * it was saved: as {@linkcode ServiceClient.createTrainingClientFromState}
   * with `optimizer: true`.
   *
   * @param tinkerPath A training checkpoint, `tinker://<run>/weights/<name>`.
   * @param options `userMetadata` of the new run, `baseModel`, `weightsAccessToken`, `deadlineMs`, `signal`, `timeoutMs`.
   * @returns The training client.
   * @throws {TinkerPathError} At once, before sending: `tinkerPath` is not a tinker path.
   * @throws {InvalidArgumentError} At once, before sending: a bad or unknown option.
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
   * const first = await service.createLoraTrainingClient("Qwen/Qwen3-8B");
   * const { path } = await first.saveState("checkpoint");
   * const resumed = await service.createTrainingClientFromStateWithOptimizer(path);
   * console.log(resumed.modelId);
   * ```
   */
  createTrainingClientFromStateWithOptimizer(
    tinkerPath: string,
    options: CreateTrainingClientFromStateOptions = {},
  ): TinkerFuture<TrainingClient> {
    return this.#loadModel(
      "createTrainingClientFromStateWithOptimizer()",
      tinkerPath,
      options,
      true,
    );
  }

  /**
   * A training client of a new LoRA model of `baseModel`, as SDK 0.38
   * creates one: the session first if needed, then `POST
   * /api/v1/create_model` (`lora_config` with the rank and the layers to
   * train, `optimizer_config` AdamW), its future, then `POST
   * /api/v1/get_info`.
   *
   * @param baseModel The base model (e.g. `"Qwen/Qwen3-8B"`; see `getServerCapabilities`).
   * @param options `rank` (default 32), `seed`, `trainMlp`, `trainAttn`, `trainUnembed` (default true each; one must be), `userMetadata`, `optimizer`, `deadlineMs`, `signal`, `timeoutMs`.
   * @returns The training client.
   * @throws {InvalidArgumentError} At once, before sending: a bad base model, rank, seed, flags
   *  (all three false), metadata or an unknown option.
   * @throws {ApiError} The future rejects with the subclass of any HTTP or connection failure.
   * @throws {RequestFailedError} The future rejects when the server's future failed (e.g. an
   *  unknown base model).
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
   * const training = await service.createLoraTrainingClient("Qwen/Qwen3-8B", { rank: 16 });
   * assert.equal(training.getInfo().lora_rank, 16);
   * ```
   */
  createLoraTrainingClient(
    baseModel: string,
    options: CreateLoraTrainingClientOptions = {},
  ): TinkerFuture<TrainingClient> {
    checkOptions(options, KEYS.createLora, "createLoraTrainingClient()");
    const base = checkText("baseModel", baseModel);
    const rank = checkInt("rank", options.rank, 1, 32);
    const seed = options.seed === undefined ? undefined : checkInt("seed", options.seed, 0, 0);
    const flags = (["trainMlp", "trainAttn", "trainUnembed"] as const).map((name) => {
      const value = options[name];
      if (value !== undefined && typeof value !== "boolean") {
        throw new InvalidArgumentError(name, `expected a boolean, got ${typeof value}`);
      }
      return value ?? true;
    });
    if (!flags.some(Boolean)) {
      throw new InvalidArgumentError(
        "trainMlp, trainAttn, trainUnembed",
        "at least one must be true",
      );
    }
    if (options.deadlineMs !== undefined) checkInt("deadlineMs", options.deadlineMs, 1, 0);
    const metadata = options.userMetadata;
    if (metadata !== undefined && (metadata === null || typeof metadata !== "object")) {
      throw new InvalidArgumentError("userMetadata", "must be an object of strings");
    }
    const modelSeqId = this.#session.nextModelSeqId();
    const op: Operation = {
      kind: "steps",
      what: `create_lora_training_client ${base}`,
      run: (calls, call) =>
        this.#createLora(
          calls,
          call,
          modelSeqId,
          {
            session_id: "",
            model_seq_id: modelSeqId,
            base_model: base,
            ...(metadata !== undefined && { user_metadata: metadata }),
            lora_config: {
              rank,
              ...(seed !== undefined && { seed }),
              train_unembed: flags[2],
              train_mlp: flags[0],
              train_attn: flags[1],
            },
            optimizer_config: options.optimizer ?? { type: "adamw" },
            type: "create_model",
          },
          options.deadlineMs,
          options.optimizer === undefined,
        ),
    };
    return this.#core.future<TrainingClient>(op, options);
  }

  *#createLora(
    calls: Calls,
    call: CallSettings,
    _modelSeqId: number,
    body: Record<string, unknown>,
    deadlineMs: number | undefined,
    defaultOptimizer: boolean,
  ): Steps<TrainingClient> {
    const session = this.#session;
    try {
      const sessionId = yield* session.ensure(calls);
      const modelId = yield* this.#createModel(
        calls,
        call,
        sessionId,
        body,
        deadlineMs,
        defaultOptimizer,
      );
      return yield* this.#trainingClient(calls, call, modelId);
    } catch (error) {
      session.markFailed();
      throw error;
    }
  }

  /** `create_model` (its future), answering the new model's id. */
  *#createModel(
    calls: Calls,
    call: CallSettings,
    sessionId: string,
    body: Record<string, unknown>,
    deadlineMs: number | undefined,
    defaultOptimizer: boolean,
  ): Steps<string> {
    const session = this.#session;
    const create = (sent: Record<string, unknown>) =>
      pollFuture(calls, {
        method: "POST",
        path: "/api/v1/create_model",
        body: { ...sent, session_id: sessionId },
        retry: "unsent",
      }, {
        requestType: "CreateModel",
        schema: CREATE_MODEL_RESPONSE,
        deadlineMs,
        beforePoll: () => session.beatIfDue(calls),
      }, call);
    try {
      return ((yield* create(body)) as { model_id: string }).model_id;
    } catch (error) {
      // An SDK 0.25-era server (TuFT) refuses the key; it trains with AdamW anyway.
      const defaults = defaultOptimizer ? { optimizer_config: body.optimizer_config } : {};
      const older = withoutRefusedDefaults(error, body, defaults);
      if (older === undefined) throw error;
      return ((yield* create(older)) as { model_id: string }).model_id;
    }
  }

  /** `get_info` of a new model, then its training client. */
  *#trainingClient(
    calls: Calls,
    call: CallSettings,
    modelId: string,
    requestsSent = 0,
  ): Steps<TrainingClient> {
    const info = (yield* calls.json(
      {
        method: "POST",
        path: "/api/v1/get_info",
        body: { model_id: modelId, type: "get_info" },
        retry: "safe",
      },
      GET_INFO_RESPONSE,
      call,
    )) as GetInfoResponse;
    const tokenizer = info.model_data.tokenizer_id;
    if (tokenizer) info.model_data.tokenizer_id = tokenizer.split(":")[0]; // As the SDK does.
    return newTrainingClient({
      core: this.#core,
      session: this.#session,
      modelId,
      info,
      clientConfig: calls.clientConfig(),
      requestsSent,
    });
  }

  *#fromState(
    calls: Calls,
    call: CallSettings,
    path: string,
    modelSeqId: number,
    options: CreateTrainingClientFromStateOptions & {
      token: string | undefined;
      optimizer: boolean;
    },
  ): Steps<TrainingClient> {
    const session = this.#session;
    try {
      const sessionId = yield* session.ensure(calls);
      if (calls.clientConfig().create_model_via_load_weights === false) {
        return yield* this.#fromStateViaCreate(calls, call, path, modelSeqId, sessionId, options);
      }
      const body = {
        session_id: sessionId,
        model_seq_id: modelSeqId,
        ...(options.baseModel !== undefined && { base_model: options.baseModel }),
        ...(options.userMetadata !== undefined && { user_metadata: options.userMetadata }),
        path,
        optimizer: options.optimizer,
        ...(options.token !== undefined && { weights_access_token: options.token }),
        type: "load_weights",
      };
      yield* pollFuture(calls, {
        method: "POST",
        path: "/api/v1/load_weights",
        body,
        retry: "unsent",
      }, {
        requestType: "LoadWeights",
        schema: LOAD_WEIGHTS_RESPONSE,
        deadlineMs: options.deadlineMs,
        beforePoll: () => session.beatIfDue(calls),
      }, call);
      // The id the server derives from (session, model sequence id), as the SDK names it.
      return yield* this.#trainingClient(calls, call, `${sessionId}:train:${modelSeqId}`);
    } catch (error) {
      session.markFailed();
      throw error;
    }
  }

  /**
   * `create_training_client_from_state` as SDK 0.25 does it, for servers whose
   * client config says `create_model_via_load_weights: false` (TuFT):
   * `weights_info` of the checkpoint, `create_model` of a LoRA model like it,
   * then `load_weights` as that model's first request (sequence id 1).
   */
  *#fromStateViaCreate(
    calls: Calls,
    call: CallSettings,
    path: string,
    modelSeqId: number,
    sessionId: string,
    options: CreateTrainingClientFromStateOptions & {
      token: string | undefined;
      optimizer: boolean;
    },
  ): Steps<TrainingClient> {
    const session = this.#session;
    const weights = (yield* calls.json(
      {
        method: "POST",
        path: "/api/v1/weights_info",
        body: { tinker_path: path },
        retry: "safe",
      },
      "WeightsInfoResponse",
      call,
    )) as WeightsInfoResponse;
    const modelId = yield* this.#createModel(
      calls,
      call,
      sessionId,
      {
        session_id: sessionId,
        model_seq_id: modelSeqId,
        base_model: options.baseModel ?? weights.base_model,
        ...(options.userMetadata !== undefined && { user_metadata: options.userMetadata }),
        lora_config: {
          rank: weights.lora_rank ?? 32,
          train_unembed: weights.train_unembed ?? true,
          train_mlp: weights.train_mlp ?? true,
          train_attn: weights.train_attn ?? true,
        },
        optimizer_config: { type: "adamw" },
        type: "create_model",
      },
      options.deadlineMs,
      true,
    );
    yield* pollFuture(calls, {
      method: "POST",
      path: "/api/v1/load_weights",
      body: {
        model_id: modelId,
        seq_id: 1,
        path,
        optimizer: options.optimizer,
        ...(options.token !== undefined && { weights_access_token: options.token }),
        type: "load_weights",
      },
      retry: "unsent",
    }, {
      requestType: "LoadWeights",
      schema: LOAD_WEIGHTS_RESPONSE,
      deadlineMs: options.deadlineMs,
      beforePoll: () => session.beatIfDue(calls),
    }, call);
    return yield* this.#trainingClient(calls, call, modelId, 1);
  }

  /**
   * A sampling client of `modelPath` (a sampler checkpoint) or `baseModel`,
   * as SDK 0.38 makes one: the session first if needed, then `POST
   * /api/v1/create_sampling_session` and, for a path, `GET
   * /api/v1/samplers/{id}` for its base model.
   *
   * @param options Exactly one of `modelPath` and `baseModel`; `onQueueStateChange`, `signal`, `timeoutMs`.
   * @returns The sampling client.
   * @throws {InvalidArgumentError} At once, before sending: neither or both of `modelPath` and
   *  `baseModel`, a bad value, or an unknown option.
   * @throws {TinkerPathError} At once, before sending: `modelPath` is not a tinker path.
   * @throws {ApiError} The future rejects with the subclass of any HTTP or connection failure
   *  (`NotFoundError` for an unknown path or model, …).
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
   * const logprobs = await sampler.computeLogprobs(ModelInput.fromInts([3, 1, 4]));
   * assert.equal(logprobs[0], null);
   * ```
   */
  createSamplingClient(options: CreateSamplingClientOptions): TinkerFuture<SamplingClient> {
    if (options === undefined) {
      throw new InvalidArgumentError("options", "give { modelPath } or { baseModel }");
    }
    return openSamplingClient(this.#core, this.#session, options, "createSamplingClient()");
  }

  /**
   * Copies a checkpoint's weights into this client's project, SDK 0.38's
   * `ServiceClient.copy_weights`: exactly the REST client's
   * {@linkcode RestClient.copyWeights} with `destinationProjectId` set to
   * this client's `projectId` option (when not given, the REST client's
   * default, `TINKER_PROJECT_ID`). It needs no session of this client: the
   * server puts the copy in a new training run of a new session, one that
   * cannot be trained on.
   *
   * @param tinkerPath The source checkpoint.
   * @param options `ttlSeconds`, `weightsAccessToken`, `signal`, `timeoutMs`.
   * @returns The tinker path of the copy.
   * @throws {InvalidArgumentError} At once, before sending: no project (neither the `projectId`
   *  option nor `TINKER_PROJECT_ID`), a bad value or an unknown option key.
   * @throws {TinkerPathError} At once, before sending: a malformed tinker path.
   * @throws {NotFoundError} The future rejects: no such checkpoint, or not one the caller may see.
   * @throws {ApiError} The future rejects with the subclass of any other failure.
   *
   * @example
   * ```ts
   * import { ServiceClient } from "@tinker-ts/tinker";
   * import { FAKE_IDS, startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * await using archive = new ServiceClient({
   *   baseUrl: fake.url,
   *   apiKey: fake.apiKey,
   *   projectId: "proj-archive",
   * });
   * const copy = await archive.copyWeights(FAKE_IDS.checkpointPath, { ttlSeconds: 7200 });
   * assert.ok(copy.startsWith("tinker://"));
   * ```
   */
  copyWeights(
    tinkerPath: string,
    options: Omit<CopyWeightsOptions, "destinationProjectId"> = {},
  ): TinkerFuture<string> {
    checkOptions(options, KEYS.serviceCopyWeights, "copyWeights()");
    return this.createRestClient().copyWeights(tinkerPath, {
      ...options,
      destinationProjectId: this.#projectId,
    });
  }

  /**
   * A custom loss for {@linkcode TrainingClient.forwardBackwardCustom}, SDK
   * 0.38's `create_custom_loss`: checked here, tied to this client's session
   * (created first if needed, as the SDK does), and run client-side once per
   * datum, the losses summed and `custom/<name>:sum|mean` metrics combined
   * by their suffix. SDK 0.38 traces its Python function with torch.fx and
   * uploads it where the server supports that; TypeScript has no torch, so
   * the handle is never uploaded, and `fn` returns its own gradient (see
   * {@linkcode PerDatumLossFn}).
   *
   * @param fn `(logprobs, ...inputs) => { loss, gradient, metrics? }`, per datum; its `name` names the loss.
   * @param inputRanks The rank of each input, `logprobs` first, then the `loss_fn_inputs` keys
   *  `fn` reads in the order it takes them: 0 a scalar, 1 `[T]`, 2 `[T, K]`.
   * @returns The handle.
   * @throws {InvalidArgumentError} At once: `fn` not a function, or bad `inputRanks` (not
   *  starting with `logprobs`, a name not lowercase, a rank not 0/1/2, more than 16 inputs).
   * @throws {ApiError} The future rejects with the subclass of a failure creating the session.
   *
   * @example
   * ```ts
   * import { ServiceClient } from "@tinker-ts/tinker";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * await using service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const handle = await service.createCustomLoss(function neg_ll(logprobs, weights) {
   *   const loss = -logprobs.reduce((sum, lp, i) => sum + lp * weights!.data[i]!, 0);
   *   return { loss, gradient: logprobs.map((_, i) => -weights!.data[i]!) };
   * }, { logprobs: 1, weights: 1 });
   * assert.equal(handle.name, "neg_ll");
   * ```
   */
  createCustomLoss(
    fn: PerDatumLossFn,
    inputRanks: Readonly<Record<string, CustomLossInputRank>>,
  ): TinkerFuture<LossHandle> {
    const inputs = lossInputs(fn, inputRanks);
    const session = this.#session;
    const op: Operation = {
      kind: "steps",
      what: "create_custom_loss",
      run: function* (calls) {
        return newLossHandle(fn, inputs, yield* session.ensure(calls));
      },
    };
    return this.#core.future<LossHandle>(op, {});
  }

  /**
   * The models the server supports, and whether each can be trained and
   * sampled (`GET /api/v1/get_server_capabilities`; needs no session). SDK
   * 0.38 answers this through its REST client, as this does.
   *
   * @param options `signal`, `timeoutMs`.
   * @returns `{ supported_models }`.
   * @throws {InvalidArgumentError} At once: an unknown option.
   * @throws {ApiError} The future rejects with the subclass of any HTTP or connection failure.
   *
   * @example
   * ```ts
   * import { ServiceClient } from "@tinker-ts/tinker";
   * import { startFakeTinker } from "@tinker-ts/tinker/testing";
   * import assert from "node:assert/strict";
   *
   * await using fake = await startFakeTinker();
   * await using service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * const { supported_models } = await service.getServerCapabilities();
   * assert.ok(supported_models.some((m) => m.sampleable));
   * ```
   */
  getServerCapabilities(options: RequestOptions = {}): TinkerFuture<GetServerCapabilitiesResponse> {
    return this.createRestClient().getServerCapabilities(options);
  }

  /**
   * Ends the session with `status` (`POST /api/v1/sessions/{id}/finish`;
   * nothing is sent when no session was created): heartbeats stop and later
   * calls fail. The server keeps the first reason it is given. Closing twice
   * sends nothing more.
   *
   * @param status `"success"` (default), `"errored"` or `"interrupted"`.
   * @param detail A human-readable explanation.
   * @param options `signal`, `timeoutMs`.
   * @returns Resolves once the server has the session's end.
   * @throws {InvalidArgumentError} At once: a status other than the three, or an unknown option.
   * @throws {ApiError} The future rejects with the subclass of any HTTP or connection failure.
   *
   * @example
   * ```ts
   * import { ServiceClient } from "@tinker-ts/tinker";
   * import { FAKE_IDS, startFakeTinker } from "@tinker-ts/tinker/testing";
   *
   * await using fake = await startFakeTinker();
   * const service = new ServiceClient({ baseUrl: fake.url, apiKey: fake.apiKey });
   * await service.createTrainingClientFromState(FAKE_IDS.checkpointPath);
   * await service.close("success", "exported");
   * ```
   */
  close(
    status: SessionStatus = "success",
    detail?: string,
    options: RequestOptions = {},
  ): TinkerFuture<void> {
    checkOptions(options, KEYS.request, "close()");
    if (!STATUSES.includes(status)) {
      throw new InvalidArgumentError(
        "status",
        `must be "success", "errored" or "interrupted", got ${JSON.stringify(status)}`,
      );
    }
    const session = this.#session;
    const op: Operation = {
      kind: "steps",
      what: "close",
      run: (calls, call) => session.finish(calls, status, detail, call),
    };
    return this.#core.future<void>(op, options);
  }

  /**
   * Closes the session (if not closed yet) for `await using`: `"errored"` if
   * a call of the session failed, else `"success"`.
   *
   * @returns Resolves once the session is finished.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      const session = this.#session;
      if (session.closed || session.closeIfUnused()) return;
      await this.close(session.failed ? "errored" : "success");
    } finally {
      this.#core.close();
    }
  }

  /**
   * Closes the session (if not closed yet) for `using`, blocking until the
   * server has it (`.result()`); where blocking is impossible, the finish is
   * sent in the background.
   */
  [Symbol.dispose](): void {
    try {
      const session = this.#session;
      if (session.closed || session.closeIfUnused()) return;
      const closing = this.close(session.failed ? "errored" : "success");
      try {
        closing.result();
      } catch (error) {
        if (!(error instanceof SyncUnavailableError)) throw error;
        closing.then(undefined, () => {}); // Sent with await instead; nothing waits for it.
      }
    } finally {
      this.#core.close();
    }
  }
}
