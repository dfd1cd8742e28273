// Chunking and combining against the Python SDK 0.38's own functions
// (conformance/fwdbwd_chunks.py), plus the cases it cannot be asked about.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  chunkForwardBackward,
  type ChunkLimits,
  combineForwardBackwardOutputs,
  DEFAULT_CHUNK_LIMITS,
  estimateDatumBytes,
} from "./_fwdbwd_chunks.ts";
import { ModelInput, type ModelInputChunk } from "../model_input.ts";
import { TensorData } from "../tensor_data.ts";
import type { Datum, ForwardBackwardOutput } from "../training_types.ts";

const PYTHON = fileURLToPath(new URL("./.venv/bin/python", import.meta.url));
const SCRIPT = fileURLToPath(new URL("./conformance/fwdbwd_chunks.py", import.meta.url));
const skip = existsSync(PYTHON) ? undefined : `${PYTHON} is absent`;
if (skip) console.log(`Skipping the SDK chunking comparison: ${skip}`);

interface InputSpec {
  dtype: "float32" | "int64";
  size: number;
  sparse_rows?: number;
}
interface DatumSpec {
  tokens: number;
  images?: number[];
  inputs: Record<string, InputSpec>;
}
interface ChunkCase {
  limits: ChunkLimits;
  datums: DatumSpec[];
}
type ResultSpec = { outputs: number; metrics: Record<string, number> };

function tensor(spec: InputSpec): TensorData {
  const data = new Array<number>(spec.size).fill(1);
  if (spec.sparse_rows === undefined) {
    return new TensorData({ data, dtype: spec.dtype, shape: [spec.size] });
  }
  const rows = spec.sparse_rows;
  const perRow = Array.from(
    { length: rows },
    (_, r) => Math.floor(spec.size / rows) + (r < spec.size % rows ? 1 : 0),
  );
  const crow = [0];
  for (const n of perRow) crow.push(crow[crow.length - 1]! + n);
  return new TensorData({
    data,
    dtype: spec.dtype,
    shape: [rows, Math.max(0, ...perRow)],
    sparse_crow_indices: crow,
    sparse_col_indices: perRow.flatMap((n) => Array.from({ length: n }, (_, c) => c)),
  });
}

function datum(spec: DatumSpec): Datum {
  const chunks: ModelInputChunk[] = [{
    type: "encoded_text",
    tokens: Array.from({ length: spec.tokens }, (_, i) => i),
  }];
  for (const n of spec.images ?? []) {
    chunks.push({ type: "image", data: new Uint8Array(n), format: "png", expected_tokens: 1 });
  }
  return {
    model_input: new ModelInput(chunks),
    loss_fn_inputs: Object.fromEntries(Object.entries(spec.inputs).map(([k, v]) => [k, tensor(v)])),
  };
}

const sft = (tokens: number): DatumSpec => ({
  tokens,
  inputs: {
    target_tokens: { dtype: "int64", size: tokens },
    weights: { dtype: "float32", size: tokens },
  },
});

const CHUNKING: ChunkCase[] = [
  { limits: DEFAULT_CHUNK_LIMITS, datums: Array.from({ length: 2100 }, () => sft(10)) },
  {
    limits: { maxChunkLen: 1024, maxChunkBytes: 1000 },
    datums: [50, 10, 2000, 10, 10, 300].map(sft),
  },
  { limits: { maxChunkLen: 2, maxChunkBytes: 5_000_000 }, datums: [1, 2, 3, 4, 5].map(sft) },
  {
    limits: { maxChunkLen: 1024, maxChunkBytes: 3000 },
    datums: [
      { tokens: 5, images: [1000, 700], inputs: { weights: { dtype: "float32", size: 5 } } },
      {
        tokens: 8,
        inputs: { target_tokens: { dtype: "int64", size: 6, sparse_rows: 3 } },
      },
      { tokens: 0, images: [2500], inputs: {} },
      sft(100),
    ],
  },
  { limits: DEFAULT_CHUNK_LIMITS, datums: [] },
];

const COMBINING: ResultSpec[][] = [
  [
    {
      outputs: 2,
      metrics: {
        "loss:sum": 1.5,
        "lr:mean": 0.1,
        "n:min": 3,
        "m:max": 4,
        "s:slack": 1,
        "h:hash2": 5.7,
        "u:unique": 1,
        "x:weird": 2,
      },
    },
    {
      outputs: 6,
      metrics: {
        "loss:sum": 2.5,
        "lr:mean": 0.3,
        "n:min": 1,
        "m:max": 9,
        "s:slack": 2,
        "h:hash2": -3,
        "u:unique": 7,
        "x:weird": 3,
      },
    },
    {
      outputs: 1,
      metrics: {
        "loss:sum": -1,
        "lr:mean": 0.7,
        "n:min": 2,
        "m:max": 0,
        "s:slack": 5,
        "h:hash2": 9.2e18,
        "u:unique": 8,
        "x:weird": 4,
      },
    },
  ],
  [{ outputs: 3, metrics: { "a:sum": 1, "b:mean": 2 } }, { outputs: 1, metrics: { "a:sum": 4 } }],
  [1, 2, 3].map(() => ({ outputs: 1, metrics: { "h:hash2": 9.2e18 } })), // wraps past 2^64
  [{ outputs: 4, metrics: { "only:mean": 0.25 } }],
];

function output(spec: ResultSpec): ForwardBackwardOutput {
  return {
    loss_fn_output_type: "ArrayRecord",
    loss_fn_outputs: Array.from({ length: spec.outputs }, () => ({})),
    metrics: spec.metrics,
  };
}

function sdk(): Promise<{ chunking: [number, number][][]; combining: Record<string, number>[] }> {
  const arg = JSON.stringify({ chunking: CHUNKING, combining: COMBINING });
  return new Promise((resolve, reject) => {
    const child = execFile(PYTHON, [SCRIPT], { maxBuffer: 1 << 26 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout));
    });
    child.stdin!.end(arg);
  });
}

Deno.test({
  name: "a batch is chunked and the chunks' results combined exactly as the SDK does",
  ignore: skip !== undefined,
  async fn() {
    const theirs = await sdk();
    const ours = CHUNKING.map((c) =>
      chunkForwardBackward(c.datums.map(datum), c.limits).map((
        chunk,
      ) => [chunk.data.length, chunk.estimatedBytes])
    );
    assert.deepEqual(ours, theirs.chunking);
    COMBINING.forEach((results, i) => {
      const combined = combineForwardBackwardOutputs(results.map(output));
      const expected = theirs.combining[i]!;
      assert.deepEqual(Object.keys(combined.metrics), Object.keys(expected), `case ${i}`);
      for (const [key, value] of Object.entries(expected)) {
        const got = combined.metrics[key]!;
        assert.ok(
          Math.abs(got - value) <= 1e-12 * Math.max(1, Math.abs(value)),
          `case ${i} ${key}: ${got} vs ${value}`,
        );
      }
      assert.equal(
        combined.loss_fn_outputs.length,
        results.reduce((n, r) => n + r.outputs, 0),
      );
    });
  },
});

Deno.test("chunks keep datum order, and a lone datum over the byte limit still goes alone", () => {
  const data = [10, 500, 10].map((n) => datum(sft(n)));
  const chunks = chunkForwardBackward(data, { maxChunkLen: 10, maxChunkBytes: 1000 });
  assert.deepEqual(chunks.map((c) => c.data), [[data[0]], [data[1]], [data[2]]]);
  assert.equal(estimateDatumBytes(data[1]!), 500 * (4 + 8 + 4));
  assert.deepEqual(chunkForwardBackward([]), []);
  const pointer = {
    model_input: new ModelInput([{
      type: "image_asset_pointer",
      location: "s3://a/b",
      format: "png",
    }]),
    loss_fn_inputs: {},
  };
  assert.equal(estimateDatumBytes(pointer), "s3://a/b".length);
  const dmel = {
    model_input: new ModelInput([{ type: "dmel", dmel: new Uint8Array([0, 1, 3]) }]),
    loss_fn_inputs: {},
  };
  assert.equal(estimateDatumBytes(dmel), 3);
});

Deno.test("combining keeps outputs in chunk order and refuses malformed metric names", () => {
  const a = new TensorData({ data: [1], dtype: "float32" });
  const b = new TensorData({ data: [2], dtype: "float32" });
  const combined = combineForwardBackwardOutputs([
    { loss_fn_output_type: "ArrayRecord", loss_fn_outputs: [{ logprobs: a }], metrics: {} },
    { loss_fn_output_type: "ArrayRecord", loss_fn_outputs: [{ logprobs: b }], metrics: {} },
  ]);
  assert.deepEqual(combined.loss_fn_outputs, [{ logprobs: a }, { logprobs: b }]);
  assert.deepEqual(combineForwardBackwardOutputs([]), {
    loss_fn_output_type: "",
    loss_fn_outputs: [],
    metrics: {},
  });
  assert.throws(
    () =>
      combineForwardBackwardOutputs([{
        loss_fn_output_type: "",
        loss_fn_outputs: [],
        metrics: { "a:b:c": 1 },
      }]),
    /Invalid metric name "a:b:c": expected "name:reduction"/,
  );
});
