/**
 * Conformance scenarios of training (SDK 0.38's `ServiceClient.create_lora_training_client`
 * and `TrainingClient`): LoRA creation, forward / forward_backward (protobuf
 * bodies compared after decoding, a chunked batch included), optim_step,
 * save_state / load_state[_with_optimizer], save_weights_for_sampler and
 * create_training_client_from_state_with_optimizer, against the fake's
 * bigram model.
 *
 * @module
 */
import {
  type Datum,
  type ForwardBackwardOutput,
  ModelInput,
  type SamplingClient,
  type TrainingClient,
} from "../mod.ts";
import type { Clients, PyStep, Scenario, Step } from "./scenarios.ts";
import { report } from "./scenarios_sampling.ts";

const BASE = "Qwen/Qwen3-8B";
const step = (py: PyStep, ts: (c: Clients) => unknown): Step => ({ py, ts });
const training = (c: Clients, name = "training") => c.saved.get(name) as TrainingClient;

/** A next-token datum both ways: `$datum` for the driver, a `Datum` here. */
function datum(tokens: number[]): { py: unknown; ts: Datum } {
  const inputs = { target_tokens: tokens.slice(1), weights: tokens.slice(1).map(() => 1) };
  return {
    py: { $datum: { tokens: tokens.slice(0, -1), inputs } },
    ts: { model_input: ModelInput.fromInts(tokens.slice(0, -1)), loss_fn_inputs: inputs },
  };
}

const BATCH = [datum([5, 9, 2, 7, 5, 9]), datum([9, 2, 7, 5, 9, 2])];
const BIG = [1, 2, 3, 4, 5].map((i) => datum([i, i + 1, i + 2, i + 3]));

/** A forward_backward output as plain JSON, as the driver reports the SDK's. */
function plain(out: ForwardBackwardOutput): unknown {
  return {
    loss_fn_output_type: out.loss_fn_output_type,
    loss_fn_outputs: out.loss_fn_outputs.map((record) =>
      Object.fromEntries(
        Object.entries(record).map(([k, t]) => [k, {
          data: Array.from(t.data as ArrayLike<number>),
          dtype: t.dtype,
          shape: t.shape,
        }]),
      )
    ),
    metrics: out.metrics,
  };
}

const createLora = (name = "training") =>
  step(
    {
      call: "service.create_lora_training_client",
      args: [BASE],
      kwargs: { rank: 16, train_unembed: false, user_metadata: { by: "conformance" } },
      save: name,
    },
    async (c) => {
      const client = await c.service.createLoraTrainingClient(BASE, {
        rank: 16,
        trainUnembed: false,
        userMetadata: { by: "conformance" },
      });
      c.saved.set(name, client);
      return client.getInfo();
    },
  );

const fwdbwd = (data: typeof BATCH, forwardOnly = false) =>
  step(
    {
      call: forwardOnly ? "training.forward" : "training.forward_backward",
      args: [data.map((d) => d.py), "cross_entropy"],
    },
    async (c) => {
      const t = training(c);
      const ts = data.map((d) => d.ts);
      return plain(
        await (forwardOnly
          ? t.forward(ts, "cross_entropy")
          : t.forwardBackward(ts, "cross_entropy")),
      );
    },
  );

const optim = step(
  { call: "training.optim_step", args: [{ $model: "AdamParams", fields: { learning_rate: 0.1 } }] },
  (c) => training(c).optimStep({ learning_rate: 0.1 }),
);

const saveState = step(
  { call: "training.save_state", args: ["step-1"], kwargs: { ttl_seconds: 3600 } },
  (c) => training(c).saveState("step-1", { ttlSeconds: 3600 }),
);

const close = step({ call: "service.close", args: ["success"] }, (c) => c.service.close("success"));

/** The training scenarios, run after the session ones. */
export const TRAINING_SCENARIOS: readonly Scenario[] = [
  {
    name: "training: create_lora_training_client + close",
    steps: [createLora(), close],
  },
  {
    name: "training: forward_backward + optim_step + forward (one SFT step)",
    tags: ["json-floats", "full-response"],
    steps: [createLora(), fwdbwd(BATCH), optim, fwdbwd(BATCH, true), close],
  },
  {
    name: "training: forward_backward of a batch over the chunk limit (3 chunks)",
    fake: { clientConfig: { fwdbwd_max_chunk_len: 2 } },
    tags: ["json-floats", "full-response", "fwdbwd-chunks"],
    steps: [createLora(), fwdbwd(BIG), optim, close],
  },
  {
    name: "training: save_state, load_state_with_optimizer, load_state",
    tags: ["json-floats", "full-response"],
    steps: [
      createLora(),
      fwdbwd(BATCH),
      optim,
      saveState,
      step(
        { call: "training.load_state_with_optimizer", args: ["tinker://{model}/weights/step-1"] },
        (c) => training(c).loadStateWithOptimizer(`tinker://${training(c).modelId}/weights/step-1`),
      ),
      step(
        { call: "training.load_state", args: ["tinker://{model}/weights/step-1"] },
        (c) => training(c).loadState(`tinker://${training(c).modelId}/weights/step-1`),
      ),
      close,
    ],
  },
  {
    name: "training: save_weights_for_sampler (named)",
    tags: ["full-response"],
    steps: [
      createLora(),
      step(
        { call: "training.save_weights_for_sampler", args: ["sampler-1"] },
        (c) => training(c).saveWeightsForSampler("sampler-1"),
      ),
      close,
    ],
  },
  {
    name: "training: save_weights_and_get_sampling_client, then sample",
    tags: ["json-floats", "full-response"],
    steps: [
      createLora(),
      fwdbwd(BATCH),
      optim,
      step(
        { call: "training.save_weights_and_get_sampling_client", save: "sampler" },
        async (c) => {
          const sampler = await training(c).saveWeightsAndGetSamplingClient();
          c.saved.set("sampler", sampler);
          return { base_model: sampler.getBaseModel() };
        },
      ),
      step(
        {
          call: "sampler.sample",
          args: [{ $ints: [5, 9] }, 2, {
            $model: "SamplingParams",
            fields: { max_tokens: 6, seed: 7 },
          }],
        },
        async (c) =>
          report(
            await (c.saved.get("sampler") as SamplingClient).sample(
              ModelInput.fromInts([5, 9]),
              2,
              { max_tokens: 6, seed: 7 },
            ),
          ),
      ),
      close,
    ],
  },
  {
    name: "training: create_training_client_from_state_with_optimizer",
    steps: [
      createLora(),
      saveState,
      step(
        {
          call: "service.create_training_client_from_state_with_optimizer",
          args: ["tinker://{model}/weights/step-1"],
          save: "resumed",
        },
        async (c) => {
          const resumed = await c.service.createTrainingClientFromStateWithOptimizer(
            `tinker://${training(c).modelId}/weights/step-1`,
          );
          c.saved.set("resumed", resumed);
          return resumed.getInfo();
        },
      ),
      close,
    ],
  },
];
