/**
 * The training client of one model (training run) of a session: its calls
 * are server-side futures, sent in call order with the model's sequence ids.
 *
 * @module
 */

import { checkInt, checkText } from "./internal/_args.ts";
import type { ClientCore } from "./internal/_core.ts";
import type { Calls, Operation } from "./internal/_engine.ts";
import { type FutureSpec, pollFuture } from "./internal/_future_poll.ts";
import { SyncUnavailableError, type TinkerFuture } from "./internal/_future.ts";
import type { CallSettings, HttpSpec, Steps } from "./internal/_request.ts";
import type { Schema } from "./internal/_schema.ts";
import { SAVE_WEIGHTS_EXTERNAL_RESPONSE } from "./internal/_schema_sessions.ts";
import type { Session } from "./internal/_session.ts";
import { Turns } from "./internal/_turns.ts";
import { checkOptions, KEYS } from "./internal/_options.ts";
import { InvalidArgumentError, TinkerError } from "./errors.ts";
import type { FutureOptions, SaveWeightsExternalOptions } from "./session_types.ts";
import type { GetInfoResponse, SaveWeightsExternalResponse } from "./training_types.ts";

/** What a training client is made of (built by `ServiceClient`). */
export interface TrainingClientInit {
  core: ClientCore;
  session: Session;
  modelId: string;
  info: GetInfoResponse;
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

  /**
   * Not for direct use: training clients come from a {@linkcode ServiceClient}
   * (`createTrainingClientFromState`); calling this throws.
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
  }

  /**
   * The model's information, fetched when the client was created (no request).
   *
   * @returns Base model, LoRA rank, optimizer.
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
        }),
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
    try {
      return yield* pollFuture(calls, http, {
        ...spec,
        submitted: () => turns.end(turn),
        beforePoll: () => this.#session.beatIfDue(calls),
      }, call);
    } catch (error) {
      this.#session.markFailed();
      throw error;
    } finally {
      turns.end(turn);
    }
  }
}
