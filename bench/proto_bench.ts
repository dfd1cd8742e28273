/**
 * Protobuf throughput against the Python SDK 0.38: encoding a realistic
 * forward_backward batch (the request body) and decoding its reply (one
 * float32 logprob per token), in MB/s of protobuf bytes (1 MB = 10^6 bytes).
 * Both sides build the same batch shape: `--datums` supervised examples of
 * `--tokens` tokens (int32 token chunk, int64 `target_tokens`, float32
 * `weights`); the SDK's side is `bench/proto_bench.py`. The two encodings
 * must have the same size (same layout), or the bench fails.
 *
 * ```sh
 * deno run -A bench/proto_bench.ts [--datums 64] [--tokens 2048] [--seconds 2]
 * npx -y bun@1.4.5 run bench/proto_bench.ts   # the same under Bun (SDK side skipped)
 * ```
 *
 * Not a test: nothing here asserts a time.
 *
 * @module
 */
import {
  decodeForwardBackwardOutput,
  encodeForwardBackwardOutput,
  encodeForwardBackwardRequest,
  type ForwardBackwardRequestMessage,
} from "../internal/_proto_messages.ts";
import { ModelInput } from "../model_input.ts";
import { TensorData } from "../tensor_data.ts";
import type { Datum, ForwardBackwardOutput } from "../training_types.ts";

const argv = typeof Deno !== "undefined" ? Deno.args : (globalThis as unknown as {
  process: { argv: string[] };
}).process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const datums = option("datums", 64);
const tokens = option("tokens", 2048);
const seconds = option("seconds", 2);

// A small deterministic generator (the batch's values do not matter, its shape does).
let seed = 1;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);

function batch(): ForwardBackwardRequestMessage {
  const data: Datum[] = [];
  for (let d = 0; d < datums; d++) {
    const ids = Array.from({ length: tokens + 1 }, () => Math.floor(random() * 151_000));
    const weights = new Float32Array(tokens);
    for (let i = 0; i < tokens; i++) weights[i] = random() > 0.25 ? 1 : 0;
    data.push({
      model_input: ModelInput.fromInts(ids.slice(0, -1)),
      loss_fn_inputs: {
        target_tokens: new TensorData({ data: ids.slice(1), dtype: "int64", shape: [tokens] }),
        weights: new TensorData({ data: weights, dtype: "float32", shape: [tokens] }),
      },
    });
  }
  return { model_id: "bench-model", seq_id: 1, loss_fn: "cross_entropy", data };
}

function reply(): Uint8Array {
  const output: ForwardBackwardOutput = {
    loss_fn_output_type: "ArrayRecord",
    loss_fn_outputs: Array.from({ length: datums }, () => ({
      logprobs: new TensorData({
        data: Float32Array.from({ length: tokens }, () => -random()),
        dtype: "float32",
        shape: [tokens],
      }),
    })),
    metrics: { "loss:sum": 1 },
  };
  return encodeForwardBackwardOutput(output);
}

function rate(fn: () => Uint8Array): { size: number; mbps: number } {
  const size = fn().byteLength; // warm-up
  for (let i = 0; i < 3; i++) fn();
  let runs = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    fn();
    runs++;
  }
  const elapsed = (performance.now() - start) / 1000;
  return { size, mbps: (size * runs) / elapsed / 1e6 };
}

const request = batch();
const encode = rate(() => encodeForwardBackwardRequest(request));
const raw = reply();
const decode = rate(() => (decodeForwardBackwardOutput(raw), raw));
const runtime = typeof Deno !== "undefined"
  ? `Deno ${Deno.version.deno}`
  : `Bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}`;

const rows: [string, string, string][] = [
  [`ours (${runtime})`, `${encode.mbps.toFixed(0)}`, `${decode.mbps.toFixed(0)}`],
];
let failed = false;
if (typeof Deno !== "undefined") {
  const python = new URL("../.venv/bin/python", import.meta.url).pathname;
  const script = new URL("./proto_bench.py", import.meta.url).pathname;
  const out = await new Deno.Command(python, {
    args: [script, JSON.stringify({ datums, tokens, seconds })],
    stdout: "piped",
    stderr: "inherit",
  }).output().catch(() => undefined);
  if (out?.success) {
    const sdk = JSON.parse(new TextDecoder().decode(out.stdout));
    rows.push([`SDK (${sdk.runtime})`, sdk.encodeMBps.toFixed(0), sdk.decodeMBps.toFixed(0)]);
    if (sdk.encodeBytes !== encode.size || sdk.decodeBytes !== raw.byteLength) {
      console.error(
        `Sizes differ: ours ${encode.size}/${raw.byteLength}, SDK ${sdk.encodeBytes}/${sdk.decodeBytes}`,
      );
      failed = true;
    }
  } else {
    console.log("(SDK side skipped: .venv/bin/python with tinker==0.38.0 is not available)");
  }
}

console.log(
  `forward_backward batch: ${datums} datums × ${tokens} tokens; request ${
    (encode.size / 1e6).toFixed(2)
  } MB, reply ${(raw.byteLength / 1e6).toFixed(2)} MB`,
);
console.log(`${"".padEnd(40)} encode MB/s  decode MB/s`);
for (const [who, enc, dec] of rows) {
  console.log(`${who.padEnd(40)} ${enc.padStart(11)}  ${dec.padStart(11)}`);
}
if (failed && typeof Deno !== "undefined") Deno.exit(1);
