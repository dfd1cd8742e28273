/**
 * Custom losses made once per session with `ServiceClient.createCustomLoss`
 * (SDK 0.38's `create_custom_loss` and `LossHandle`), for
 * `TrainingClient.forwardBackwardCustom`.
 *
 * SDK 0.38 traces the Python function with `torch.fx` and uploads it where
 * the server supports that. TypeScript has neither torch nor autograd, so a
 * handle made here always runs client-side, exactly as the SDK runs a loss
 * the server does not take: once per datum, between the forward and the
 * backward pass, the losses summed and each metric combined by its suffix.
 * It is never uploaded, and the function returns its own gradient.
 *
 * @module
 */
import { InvalidArgumentError } from "./errors.ts";
import { TensorData } from "./tensor_data.ts";
import type { Datum } from "./training_types.ts";
import type { CustomLossFn, CustomLossResult } from "./training_options.ts";

/**
 * What a per-datum loss returns: its loss, `dLoss/dLogprob` for each of the
 * datum's logprobs, and metrics named `custom/<name>:sum` or
 * `custom/<name>:mean` (the suffix says how they combine across datums).
 *
 * @example
 * ```ts
 * import type { PerDatumLossResult } from "@tinker-ts/tinker";
 * const result: PerDatumLossResult = {
 *   loss: 1.5,
 *   gradient: [-1, -1],
 *   metrics: { "custom/tokens:sum": 2 },
 * };
 * ```
 */
export interface PerDatumLossResult {
  /** The datum's loss (the batch's is their sum). */
  loss: number;
  /** `dLoss/dLogprob`, as long as the datum's logprobs. */
  gradient: ArrayLike<number>;
  /** `custom/<name>:sum` or `custom/<name>:mean` metrics, lowercase. */
  metrics?: Record<string, number> | undefined;
}

/**
 * A per-datum loss for {@linkcode LossHandle}: it receives the datum's
 * target-token logprobs (flat, row-major), then one `TensorData` per
 * `loss_fn_inputs` key it reads, in the order of `inputRanks`.
 *
 * @example Weighted negative log-likelihood
 * ```ts
 * import type { PerDatumLossFn } from "@tinker-ts/tinker";
 *
 * const negLl: PerDatumLossFn = (logprobs, weights) => {
 *   const w = weights!.data;
 *   const loss = -logprobs.reduce((sum, lp, i) => sum + lp * w[i]!, 0);
 *   return { loss, gradient: logprobs.map((_, i) => -w[i]!), metrics: { "custom/neg_ll:sum": loss } };
 * };
 * ```
 */
export type PerDatumLossFn = (
  logprobs: Float32Array,
  ...inputs: TensorData[]
) => PerDatumLossResult;

/** The rank of a loss input: 0 a scalar, 1 `[T]`, 2 `[T, K]`. */
export type CustomLossInputRank = 0 | 1 | 2;

/**
 * One input of a custom loss: `logprobs` or a `loss_fn_inputs` key, with its rank.
 *
 * @example
 * ```ts
 * import type { CustomLossInput } from "@tinker-ts/tinker";
 * const input: CustomLossInput = { name: "advantages", rank: 1 };
 * ```
 */
export interface CustomLossInput {
  /** `logprobs`, or the `loss_fn_inputs` key. */
  readonly name: string;
  /** Its rank. */
  readonly rank: CustomLossInputRank;
}

const INPUT_NAME = /^[a-z_][a-z0-9_]{0,63}$/;
const METRIC_KEY = /^custom\/[a-z0-9_./-]{1,64}:(sum|mean)$/;
const MAX_INPUTS = 16;

/** Each handle's function, kept out of the class so nothing outside this module reads it. */
const FUNCTIONS = /* @__PURE__ */ new WeakMap<LossHandle, PerDatumLossFn>();

/**
 * A custom loss made by `ServiceClient.createCustomLoss`; pass it to
 * `TrainingClient.forwardBackwardCustom` of a client of the same session in
 * place of a function. It runs client-side (never uploaded): see the module
 * documentation.
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
 * const negLl = await service.createCustomLoss(
 *   (logprobs, weights) => {
 *     const loss = -logprobs.reduce((sum, lp, i) => sum + lp * weights!.data[i]!, 0);
 *     return { loss, gradient: logprobs.map((_, i) => -weights!.data[i]!) };
 *   },
 *   { logprobs: 1, weights: 1 },
 * );
 * assert.equal(negLl.sessionId, service.sessionId);
 * const out = await training.forwardBackwardCustom([{
 *   model_input: ModelInput.fromInts([1, 2, 3]),
 *   loss_fn_inputs: { target_tokens: [2, 3, 4], weights: [1, 1, 1] },
 * }], negLl);
 * assert.ok(out.metrics["loss:sum"]! > 0);
 * ```
 */
export class LossHandle {
  /** The loss's name: the function's `name` (wrap it in a named function to change it). */
  readonly name: string;
  /** `logprobs`, then the `loss_fn_inputs` keys it reads, in order, with their ranks. */
  readonly inputs: readonly CustomLossInput[];
  /** The session that made it; only that session's training clients can use it. */
  readonly sessionId: string;

  private constructor(name: string, inputs: CustomLossInput[], sessionId: string) {
    this.name = name;
    this.inputs = Object.freeze(inputs.map((i) => Object.freeze({ ...i })));
    this.sessionId = sessionId;
  }
}

/**
 * Checks `fn` and `inputRanks` as SDK 0.38's `create_custom_loss` does
 * (what can be checked without tracing) and returns the loss's inputs.
 */
export function lossInputs(fn: unknown, inputRanks: unknown): CustomLossInput[] {
  if (typeof fn !== "function") {
    throw new InvalidArgumentError("fn", `expected a function, got ${typeof fn}`);
  }
  if (inputRanks === null || typeof inputRanks !== "object" || Array.isArray(inputRanks)) {
    throw new InvalidArgumentError(
      "inputRanks",
      "must be an object of ranks, logprobs first, e.g. { logprobs: 1, weights: 1 }",
    );
  }
  const entries = Object.entries(inputRanks as Record<string, unknown>);
  if (entries[0]?.[0] !== "logprobs") {
    throw new InvalidArgumentError(
      "inputRanks",
      `must start with logprobs, then the loss_fn_inputs keys the loss reads, got ${
        JSON.stringify(entries.map(([k]) => k))
      }`,
    );
  }
  if (entries.length > MAX_INPUTS) {
    throw new InvalidArgumentError(
      "inputRanks",
      `has ${entries.length} inputs; a custom loss takes at most ${MAX_INPUTS}, logprobs included`,
    );
  }
  return entries.map(([name, rank]) => {
    if (!INPUT_NAME.test(name)) {
      throw new InvalidArgumentError(
        `inputRanks.${name}`,
        "must be a lowercase name of letters, digits and underscores",
      );
    }
    if (rank !== 0 && rank !== 1 && rank !== 2) {
      throw new InvalidArgumentError(`inputRanks.${name}`, `must be 0, 1 or 2, got ${rank}`);
    }
    if (name === "logprobs" && rank === 0) {
      throw new InvalidArgumentError("inputRanks.logprobs", "has rank 1 ([T]) or 2 ([T, K])");
    }
    return { name, rank };
  });
}

/** A new handle (only `ServiceClient.createCustomLoss` makes them). */
export function newLossHandle(
  fn: PerDatumLossFn,
  inputs: CustomLossInput[],
  sessionId: string,
): LossHandle {
  // The constructor is private to keep handles to this module; no static
  // block reaches it, so a bundle that never makes a handle drops the class.
  const handle: LossHandle = Reflect.construct(LossHandle, [fn.name || "loss", inputs, sessionId]);
  FUNCTIONS.set(handle, fn);
  return handle;
}

/**
 * The batch loss of `handle` for `data`, after checking, at once, that each
 * datum has every input at its declared rank (SDK 0.38's
 * `check_loss_inputs`): `logprobs` has the rank of `target_tokens`.
 */
export function lossFnOf(handle: LossHandle, data: readonly Datum[]): CustomLossFn {
  const [logprobs, ...rest] = handle.inputs;
  const columns = data.map((datum, i) =>
    [{ input: logprobs!, key: "target_tokens" }, ...rest.map((x) => ({ input: x, key: x.name }))]
      .map(({ input, key }) => {
        const value = datum.loss_fn_inputs[key];
        if (value === undefined) {
          throw new InvalidArgumentError(
            `data[${i}].loss_fn_inputs`,
            `has no ${JSON.stringify(key)}, which loss ${JSON.stringify(handle.name)} takes`,
          );
        }
        const tensor = TensorData.fromLossFnInput(key, value);
        const rank = tensor.shape?.length ?? 1;
        if (rank !== input.rank) {
          throw new InvalidArgumentError(
            `data[${i}].loss_fn_inputs.${key}`,
            `has rank ${rank}, but loss ${
              JSON.stringify(handle.name)
            } declared ${input.name} with rank ${input.rank}`,
          );
        }
        return tensor;
      }).slice(1)
  );
  const fn = FUNCTIONS.get(handle);
  if (fn === undefined) {
    throw new InvalidArgumentError("lossFn", "is a LossHandle not made by createCustomLoss()");
  }
  return (_data, logprobs): CustomLossResult => {
    let loss = 0;
    const gradients: ArrayLike<number>[] = [];
    const sums: Record<string, number> = {};
    logprobs.forEach((lp, i) => {
      const out = fn(lp, ...columns[i]!) as PerDatumLossResult | null;
      if (out === null || typeof out !== "object" || typeof out.loss !== "number") {
        throw new InvalidArgumentError(
          `loss ${JSON.stringify(handle.name)}`,
          `must return { loss: <number>, gradient, metrics? } for datum ${i}`,
        );
      }
      loss += out.loss;
      gradients.push(out.gradient);
      for (const [key, value] of Object.entries(out.metrics ?? {})) {
        if (!METRIC_KEY.test(key)) {
          throw new InvalidArgumentError(
            `loss ${JSON.stringify(handle.name)} metric ${JSON.stringify(key)}`,
            "must be named custom/<name>:sum or custom/<name>:mean in lowercase",
          );
        }
        if (typeof value !== "number" || !Number.isFinite(value)) {
          throw new InvalidArgumentError(
            `loss ${JSON.stringify(handle.name)} metric ${JSON.stringify(key)}`,
            `must be a finite number, got ${value}`,
          );
        }
        sums[key] = (sums[key] ?? 0) + value;
      }
    });
    const metrics = Object.fromEntries(
      Object.entries(sums).map(([k, v]) => [k, k.endsWith(":mean") ? v / logprobs.length : v]),
    );
    return { loss, gradients, metrics };
  };
}
