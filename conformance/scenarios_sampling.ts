/**
 * Conformance scenarios of sampling (SDK 0.38's `SamplingClient` and
 * `ServiceClient.create_sampling_client` / `get_server_capabilities`):
 * sampling sessions from a base model and from a sampler checkpoint,
 * `sample` (prompt logprobs, top-k), `compute_logprobs`, the
 * `retrieve_futures` long-poll and the protobuf result, paused queues and
 * failed samples.
 *
 * @module
 */
import {
  ModelInput,
  type SampleResponse,
  type SamplingClient,
  TensorData,
  type TensorDataInit,
  topkToLists,
} from "../mod.ts";
import { FAKE_IDS } from "../testing/mod.ts";
import type { Clients, PyStep, Scenario, Step } from "./scenarios.ts";

const BASE = "Qwen/Qwen3-8B";
const TOKENS = [3, 1, 4, 1, 5, 9];
const step = (py: PyStep, ts: (c: Clients) => unknown): Step => ({ py, ts });
const sampler = (c: Clients) => c.saved.get("sampler") as SamplingClient;

/** A sample result as `driver.py`'s `encode_sample` reports it. */
export function report(result: SampleResponse): unknown {
  return {
    sequences: result.sequences.map((s) => ({
      stop_reason: s.stop_reason,
      sequence_id: s.sequence_id,
      tokens: s.tokens,
      logprobs: s.logprobs,
      topk_logprobs: s.topk_logprobs && topkToLists(s.topk_logprobs),
    })),
    prompt_logprobs: result.prompt_logprobs,
    topk_prompt_logprobs: result.topk_prompt_logprobs && topkToLists(result.topk_prompt_logprobs),
    prompt_cache_hit_tokens: result.prompt_cache_hit_tokens,
    target_prompt_logprobs: tensor(result.target_prompt_logprobs),
    prompt_alt_tokens: result.prompt_alt_tokens && {
      tokens: tensor(result.prompt_alt_tokens.tokens),
      logprobs: tensor(result.prompt_alt_tokens.logprobs),
    },
  };
}

/** A tensor as `driver.py`'s `encode_tensor` reports it. */
function tensor(td: TensorData | null): unknown {
  if (td === null) return null;
  return {
    data: Array.from(td.data),
    dtype: td.dtype,
    shape: td.shape,
    ...(td.sparse_crow_indices !== null && {
      sparse_crow_indices: td.sparse_crow_indices,
      sparse_col_indices: td.sparse_col_indices,
    }),
  };
}

const create = (source: { baseModel: string } | { modelPath: string }) =>
  step(
    {
      call: "service.create_sampling_client",
      kwargs: "baseModel" in source
        ? { base_model: source.baseModel }
        : { model_path: source.modelPath },
      save: "sampler",
    },
    async (c) => {
      const client = await c.service.createSamplingClient(source);
      c.saved.set("sampler", client);
      return { base_model: client.getBaseModel() };
    },
  );

const sample = (
  numSamples: number,
  params: Record<string, unknown>,
  options: {
    include?: boolean;
    topkPrompt?: number;
    topkSample?: number;
    target?: TensorDataInit;
    altK?: number;
  } = {},
) =>
  step(
    {
      call: "sampler.sample",
      args: [{ $ints: TOKENS }, numSamples, { $model: "SamplingParams", fields: params }],
      kwargs: {
        ...(options.include !== undefined && { include_prompt_logprobs: options.include }),
        ...(options.topkPrompt !== undefined && { topk_prompt_logprobs: options.topkPrompt }),
        ...(options.topkSample !== undefined && { topk_sample_logprobs: options.topkSample }),
        ...(options.target !== undefined &&
          { target_prompt_logprobs: { $tensor: options.target } }),
        ...(options.altK !== undefined && { prompt_alt_tokens_k: options.altK }),
      },
    },
    async (c) =>
      report(
        await sampler(c).sample(ModelInput.fromInts(TOKENS), numSamples, params, {
          includePromptLogprobs: options.include,
          topkPromptLogprobs: options.topkPrompt,
          topkSampleLogprobs: options.topkSample,
          targetPromptLogprobs: options.target && new TensorData(options.target),
          promptAltTokensK: options.altK,
        }),
      ),
  );

const computeLogprobs = step(
  { call: "sampler.compute_logprobs", args: [{ $ints: TOKENS }] },
  (c) => sampler(c).computeLogprobs(ModelInput.fromInts(TOKENS)),
);
const close = (status: "success" | "errored") =>
  step({ call: "service.close", args: [status] }, (c) => c.service.close(status));

/** The sampling scenarios, run after the session ones. */
export const SAMPLING_SCENARIOS: readonly Scenario[] = ([
  {
    name: "sampling: create_sampling_client(base_model) + sample + compute_logprobs + close",
    steps: [
      create({ baseModel: BASE }),
      sample(2, { max_tokens: 5, seed: 42, temperature: 0.7 }),
      computeLogprobs,
      close("success"),
    ],
  },
  {
    name: "sampling: from a sampler checkpoint; prompt logprobs and top-k",
    steps: [
      create({ modelPath: FAKE_IDS.publicCheckpointPath }),
      sample(1, { max_tokens: 3, seed: 1, stop: [7] }, {
        include: true,
        topkPrompt: 3,
        topkSample: 2,
      }),
      close("success"),
    ],
  },
  {
    name: "sampling: target_prompt_logprobs (dense, then sparse) and prompt_alt_tokens_k",
    steps: [
      create({ baseModel: BASE }),
      sample(1, { max_tokens: 1, seed: 2 }, {
        target: { data: [7, -1, 8, 9, -1, -1, 2, 3, 1, 1], dtype: "int64", shape: [5, 2] },
        altK: 2,
      }),
      sample(1, { max_tokens: 1, seed: 2 }, {
        target: {
          data: [6, 2],
          dtype: "int64",
          shape: [5, 1],
          sparse_crow_indices: [0, 0, 1, 1, 2, 2],
          sparse_col_indices: [0, 0],
        },
      }),
      close("success"),
    ],
  },
  {
    name: "sampling: without the retrieve_futures long-poll (client config off)",
    fake: { clientConfig: { sample_use_retrieve_futures: false } },
    steps: [create({ baseModel: BASE }), sample(1, { max_tokens: 2, seed: 3 }), close("success")],
  },
  {
    name: "sampling: a sample answered try_again twice (paused_capacity)",
    fake: { futureTryAgainCount: 2, futureQueueState: "paused_capacity" },
    steps: [create({ baseModel: BASE }), sample(1, { max_tokens: 2, seed: 3 }), close("success")],
  },
  {
    name: "sampling: a failed sample",
    fake: {
      futureFailure: { error: "sampler crashed", category: "server", requestType: "Sample" },
    },
    steps: [create({ baseModel: BASE }), sample(1, { max_tokens: 2 }), close("errored")],
  },
  {
    name: "sampling: a sampler checkpoint that does not exist",
    steps: [
      create({ modelPath: `tinker://${FAKE_IDS.run}/sampler_weights/999999` }),
      close("errored"),
    ],
  },
  {
    name: "service: get_server_capabilities",
    steps: [
      step(
        { call: "service.get_server_capabilities" },
        (c) => c.service.getServerCapabilities(),
      ),
    ],
  },
] as Scenario[]).map((s) => ({ ...s, tags: [...(s.tags ?? []), "json-floats"] }));
