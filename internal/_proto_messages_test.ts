// Round trips against the bytes the official Python SDK 0.38.0 produces:
// conformance/proto_fixtures.py serialises representative messages with the
// SDK's own code, and here every one is decoded (compared field by field with
// what the SDK put in / decoded) and encoded again (compared byte for byte).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  decodeForwardBackwardOutput,
  decodeForwardBackwardRequest,
  decodeSampleResponse,
  encodeForwardBackwardOutput,
  encodeForwardBackwardRequest,
  encodeSampleResponse,
  type ForwardBackwardRequestMessage,
} from "./_proto_messages.ts";
import { ProtoError } from "./_proto.ts";
import { ModelInput, type ModelInputChunk } from "../model_input.ts";
import { TensorData } from "../tensor_data.ts";
import type {
  Datum,
  ForwardBackwardOutput,
  LossFnOutput,
  SampleResponse,
  TopkLogprobs,
} from "../training_types.ts";

const PYTHON = fileURLToPath(new URL("./.venv/bin/python", import.meta.url));
const SCRIPT = fileURLToPath(new URL("./conformance/proto_fixtures.py", import.meta.url));

const skip = existsSync(PYTHON)
  ? undefined
  : `${PYTHON} is absent (create .venv with tinker==0.38.0 to compare with the SDK)`;
if (skip) console.log(`Skipping the SDK byte comparisons: ${skip}`);

interface TensorJson {
  dtype: string;
  shape: number[] | null;
  f32?: string;
  ints?: number[];
  crow?: number[];
  col?: number[];
}
// deno-lint-ignore no-explicit-any
type Json = any;
interface Case {
  name: string;
  kind: "forward_backward_request" | "sample_response" | "forward_backward_output";
  spec?: Json;
  sdk: string;
  sdk_sorted: string;
  decoded?: Json;
  exact?: boolean;
}

const b64 = (bytes: Uint8Array) => {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
};
const unb64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
const f32 = (values: ArrayLike<number>) => b64(new Uint8Array(Float32Array.from(values).buffer));
const double = (x: number): number | string =>
  Number.isNaN(x) ? "NaN" : x === Infinity ? "Infinity" : x === -Infinity ? "-Infinity" : x;
const undouble = (x: number | string): number =>
  x === "NaN" ? NaN : x === "Infinity" ? Infinity : x === "-Infinity" ? -Infinity : x as number;

function tensorJson(td: TensorData): TensorJson {
  const out: TensorJson = { dtype: td.dtype, shape: td.shape };
  if (td.dtype === "float32") out.f32 = f32(td.data);
  else out.ints = [...td.data];
  if (td.sparse_crow_indices !== null) {
    out.crow = td.sparse_crow_indices;
    out.col = td.sparse_col_indices!;
  }
  return out;
}

function tensorFromJson(json: TensorJson): TensorData {
  const data = json.f32 !== undefined ? new Float32Array(unb64(json.f32).buffer) : json.ints!;
  return new TensorData({
    data,
    dtype: json.dtype as "float32" | "int64",
    shape: json.shape,
    sparse_crow_indices: json.crow ?? null,
    sparse_col_indices: json.col ?? null,
  });
}

function chunkJson(chunk: ModelInputChunk): Json {
  switch (chunk.type) {
    case "encoded_text":
      return { type: chunk.type, tokens: [...chunk.tokens] };
    case "image":
      return {
        type: chunk.type,
        data: b64(chunk.data),
        format: chunk.format,
        expected_tokens: chunk.expected_tokens ?? null,
      };
    case "dmel":
      return { type: chunk.type, dmel: b64(chunk.dmel) };
    default:
      throw new Error(`unexpected ${chunk.type}`);
  }
}

function chunkFromJson(json: Json): ModelInputChunk {
  if (json.type === "image") return { ...json, data: unb64(json.data) };
  if (json.type === "dmel") return { type: "dmel", dmel: unb64(json.dmel) };
  return json;
}

const sortedEntries = <T>(o: Record<string, T>) =>
  Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** The request a spec describes, map keys in sorted order (as `deterministic=True`). */
function requestFromSpec(spec: Json): ForwardBackwardRequestMessage {
  return {
    model_id: spec.model_id,
    seq_id: spec.seq_id,
    loss_fn: spec.loss_fn,
    forward_only: spec.forward_only,
    loss_fn_config: spec.loss_fn_config === null ? null : Object.fromEntries(
      sortedEntries<number | string>(spec.loss_fn_config).map((
        [k, v],
      ) => [
        k,
        typeof v === "string" && !["NaN", "Infinity", "-Infinity"].includes(v) ? v : undouble(v),
      ]),
    ),
    data: spec.data.map((d: Json): Datum => ({
      model_input: new ModelInput(d.chunks.map(chunkFromJson)),
      loss_fn_inputs: Object.fromEntries(
        sortedEntries<TensorJson>(d.inputs).map(([k, t]) => [k, tensorFromJson(t)]),
      ),
      model_input_spans: d.model_input_spans,
      loss_fn_input_spans: d.loss_fn_input_spans,
    })),
  };
}

function requestJson(request: ReturnType<typeof decodeForwardBackwardRequest>): Json {
  return {
    model_id: request.model_id,
    seq_id: request.seq_id,
    loss_fn: request.loss_fn,
    forward_only: request.forward_only,
    loss_fn_config: request.loss_fn_config === null ? null : Object.fromEntries(
      Object.entries(request.loss_fn_config).map((
        [k, v],
      ) => [k, typeof v === "string" ? v : double(v)]),
    ),
    data: request.data.map((d) => ({
      chunks: d.model_input.chunks.map(chunkJson),
      inputs: Object.fromEntries(
        Object.entries(d.loss_fn_inputs).map(([k, t]) => [k, tensorJson(t)]),
      ),
      model_input_spans: d.model_input_spans,
      loss_fn_input_spans: d.loss_fn_input_spans,
    })),
  };
}

function topkJson(topk: TopkLogprobs | null): Json {
  return topk === null ? null : {
    length: topk.length,
    k: topk.k,
    token_ids: [...topk.token_ids],
    logprobs: f32(topk.logprobs),
  };
}

function sampleJson(r: SampleResponse): Json {
  return {
    sequences: r.sequences.map((s) => ({
      stop_reason: s.stop_reason,
      tokens: s.tokens,
      logprobs: s.logprobs === null ? null : f32(s.logprobs),
      topk_logprobs: topkJson(s.topk_logprobs),
    })),
    prompt_logprobs: r.prompt_logprobs?.map((x) => (x === null ? null : double(x))) ?? null,
    topk_prompt_logprobs: topkJson(r.topk_prompt_logprobs),
    target_prompt_logprobs: r.target_prompt_logprobs && tensorJson(r.target_prompt_logprobs),
    prompt_alt_tokens: r.prompt_alt_tokens && {
      tokens: tensorJson(r.prompt_alt_tokens.tokens),
      logprobs: tensorJson(r.prompt_alt_tokens.logprobs),
    },
    prompt_cache_hit_tokens: r.prompt_cache_hit_tokens,
  };
}

function outputJson(o: ForwardBackwardOutput): Json {
  return {
    loss_fn_output_type: o.loss_fn_output_type,
    loss_fn_outputs: o.loss_fn_outputs.map((d) =>
      Object.fromEntries(Object.entries(d).map(([k, t]) => [k, tensorJson(t)]))
    ),
    metrics: Object.fromEntries(Object.entries(o.metrics).map(([k, v]) => [k, double(v)])),
  };
}

function sortedOutput(o: ForwardBackwardOutput): ForwardBackwardOutput {
  return {
    ...o,
    loss_fn_outputs: o.loss_fn_outputs.map((d): LossFnOutput =>
      Object.fromEntries(sortedEntries(d))
    ),
    metrics: Object.fromEntries(sortedEntries(o.metrics)),
  };
}

/** Runs the generator (with node:child_process, so the test also runs under Bun). */
function sdkCases(): Promise<Case[]> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [SCRIPT], { maxBuffer: 1 << 28 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout));
    });
  });
}

Deno.test({
  name: "protobuf messages match the bytes of the Python SDK 0.38",
  ignore: skip !== undefined,
  async fn(t) {
    const cases = await sdkCases();
    assert.ok(cases.length >= 15, "the generator produced its cases");
    for (const c of cases) {
      await t.step(`${c.kind}: ${c.name}`, () => {
        const sdk = unb64(c.sdk);
        const sorted = unb64(c.sdk_sorted);
        if (c.kind === "forward_backward_request") {
          // Decoding the SDK's bytes (as sent, maps in upb's order) gives what it was built from.
          assert.deepEqual(requestJson(decodeForwardBackwardRequest(sdk)), c.spec);
          // Encoding the same request gives the SDK's bytes (map entries sorted on both sides).
          assert.deepEqual(encodeForwardBackwardRequest(requestFromSpec(c.spec)), sorted);
        } else if (c.kind === "sample_response") {
          const ours = decodeSampleResponse(sdk);
          assert.deepEqual(sampleJson(ours), c.decoded);
          const again = encodeSampleResponse(ours);
          assert.deepEqual(sampleJson(decodeSampleResponse(again)), c.decoded);
          if (c.exact) assert.deepEqual(again, sorted);
        } else {
          const ours = decodeForwardBackwardOutput(sdk);
          assert.deepEqual(outputJson(ours), c.decoded);
          const again = encodeForwardBackwardOutput(sortedOutput(ours));
          assert.deepEqual(outputJson(decodeForwardBackwardOutput(again)), c.decoded);
          if (c.exact) assert.deepEqual(again, sorted);
        }
      });
    }
  },
});

Deno.test("a forward_backward request round-trips through our own encoder and decoder", () => {
  const request: ForwardBackwardRequestMessage = {
    model_id: "m",
    seq_id: 3,
    loss_fn: "cross_entropy",
    loss_fn_config: { beta: 0.1, mode: "sum" },
    forward_only: true,
    data: [{
      model_input: ModelInput.fromInts([1, 2, 3]),
      loss_fn_inputs: { target_tokens: [2, 3, 4], weights: new Float32Array([0, 1, 1]) },
      model_input_spans: [{ kind: "prompt", sequence_id: "s", length: 3 }],
      loss_fn_input_spans: [{ kind: "sampled", sequence_id: "s", offset: 1, length: 3 }],
    }],
  };
  const decoded = decodeForwardBackwardRequest(encodeForwardBackwardRequest(request));
  assert.equal(decoded.model_id, "m");
  assert.equal(decoded.seq_id, 3);
  assert.equal(decoded.forward_only, true);
  assert.deepEqual(decoded.loss_fn_config, { beta: 0.1, mode: "sum" });
  const datum = decoded.data[0]!;
  assert.deepEqual(datum.model_input.toInts(), [1, 2, 3]);
  assert.deepEqual(datum.loss_fn_inputs.target_tokens!.data, [2, 3, 4]);
  assert.deepEqual(datum.loss_fn_inputs.target_tokens!.shape, [3]);
  assert.deepEqual([...datum.loss_fn_inputs.weights!.data], [0, 1, 1]);
  assert.deepEqual(datum.model_input_spans, [
    { kind: "prompt", sequence_id: "s", offset: 0, length: 3 },
  ]);
  assert.deepEqual(datum.loss_fn_input_spans, [
    { kind: "sampled", sequence_id: "s", offset: 1, length: 3 },
  ]);
});

Deno.test("a request the protobuf wire cannot carry fails naming the bad value", () => {
  const base = { model_id: "m", seq_id: 1, loss_fn: "cross_entropy" };
  const pointer: ModelInputChunk = {
    type: "image_asset_pointer",
    location: "https://x/y.png",
    format: "png",
  };
  assert.throws(
    () =>
      encodeForwardBackwardRequest({
        ...base,
        data: [{ model_input: new ModelInput([pointer]), loss_fn_inputs: {} }],
      }),
    /data\[0\]\.model_input chunk 0: a image_asset_pointer chunk cannot be sent/,
  );
  assert.throws(
    () =>
      encodeForwardBackwardRequest({
        ...base,
        data: [{ model_input: ModelInput.fromInts([1]), loss_fn_inputs: { mystery: [1, 2] } }],
      }),
    /loss_fn_inputs\.mystery: a plain number list needs a known key/,
  );
  assert.throws(
    () =>
      encodeForwardBackwardRequest({
        ...base,
        data: [{
          model_input: ModelInput.fromInts([1]),
          loss_fn_inputs: { target_tokens: new TensorData({ data: [2 ** 60], dtype: "int64" }) },
        }],
      }),
    /int64 element 0 must be a whole number within ±2\^53/,
  );
  assert.throws(
    () =>
      encodeForwardBackwardRequest({
        ...base,
        data: [{
          model_input: ModelInput.fromInts([1]),
          loss_fn_inputs: {},
          model_input_spans: [{ kind: "prompt", sequence_id: "s", length: 1 }],
        }],
      }),
    /provenance comes as a pair/,
  );
  assert.throws(
    () =>
      encodeForwardBackwardRequest({
        ...base,
        data: [],
        loss_fn_config: { flag: true as unknown as number },
      }),
    /loss_fn_config\.flag: expected a number or string, got true/,
  );
  assert.throws(
    () =>
      encodeForwardBackwardRequest({
        ...base,
        data: [{ model_input: {} as ModelInput, loss_fn_inputs: {} }],
      }),
    /data\[0\]\.model_input: expected a ModelInput/,
  );
});

Deno.test("malformed replies fail with a ProtoError naming the message", () => {
  // A truncated SampleResponse (sequence field claims 5 bytes, has 1).
  assert.throws(
    () => decodeSampleResponse(new Uint8Array([0x0a, 0x05, 0x08])),
    (e) => e instanceof ProtoError && /SampleResponse: field 1 overruns/.test(e.message),
  );
  // An unknown stop reason (the SDK raises too).
  assert.throws(
    () => decodeSampleResponse(new Uint8Array([0x0a, 0x02, 0x08, 0x07])),
    /Unknown stop_reason enum value 7/,
  );
  // Sequence ids must match the sequences.
  const one = encodeSampleResponse({
    sequences: [{
      stop_reason: "stop",
      sequence_id: "",
      tokens: [1],
      logprobs: null,
      topk_logprobs: null,
    }],
    prompt_logprobs: null,
    topk_prompt_logprobs: null,
    target_prompt_logprobs: null,
    prompt_alt_tokens: null,
    prompt_cache_hit_tokens: 0,
  });
  assert.equal(decodeSampleResponse(one, ["seq-9"]).sequences[0]!.sequence_id, "seq-9");
  assert.throws(() => decodeSampleResponse(one, []), /1 sequences for 0 sequence ids/);
  // Top-k matrices whose bytes do not fill length × k.
  assert.throws(
    () =>
      decodeSampleResponse(new Uint8Array([0x1a, 0x0a, 0x0a, 0x04, 1, 0, 0, 0, 0x18, 2, 0x20, 1])),
    /1×2 matrices need 2 cells/,
  );
  // A BatchedTensor whose offsets run past its data.
  const offsets = new Uint8Array(16);
  offsets[8] = 64;
  const bt = [0x0a, 4, 0, 0, 0, 0, 0x12, 16, ...offsets, 0x18, 1];
  const field = [0x0a, 1, 0x78, 0x12, bt.length, ...bt];
  const record = [0x12, field.length, ...field];
  assert.throws(
    () => decodeForwardBackwardOutput(new Uint8Array([0x12, record.length, ...record])),
    /ForwardBackwardOutput\.x: bad byte offsets 0\.\.64/,
  );
  // A tensor of an unknown dtype.
  assert.throws(
    () => decodeSampleResponse(new Uint8Array([0x2a, 0x04, 0x0a, 0x00, 0x18, 0x09])),
    /target_prompt_logprobs: unsupported dtype 9/,
  );
});

Deno.test("forward_backward outputs of mixed shapes split into records that decode back", () => {
  const output: ForwardBackwardOutput = {
    loss_fn_output_type: "ArrayRecord",
    loss_fn_outputs: [
      { logprobs: new TensorData({ data: [-1, -2], dtype: "float32", shape: [2] }) },
      { logprobs: new TensorData({ data: [-3, -4, -5, -6], dtype: "float32", shape: [2, 2] }) },
      {
        logprobs: new TensorData({
          data: [-7],
          dtype: "float32",
          shape: [1, 2],
          sparse_crow_indices: [0, 1],
          sparse_col_indices: [1],
        }),
      },
    ],
    metrics: { "loss:sum": 2 },
  };
  const decoded = decodeForwardBackwardOutput(encodeForwardBackwardOutput(output));
  assert.deepEqual(decoded.loss_fn_outputs.map((d) => d.logprobs!.shape), [[2], [2, 2], [1, 2]]);
  assert.deepEqual(decoded.loss_fn_outputs.map((d) => d.logprobs!.toList()), [
    [-1, -2],
    [[-3, -4], [-5, -6]],
    [[0, -7]],
  ]);
  assert.deepEqual(decoded.metrics, { "loss:sum": 2 });
});
