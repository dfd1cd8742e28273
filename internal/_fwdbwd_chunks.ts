// How SDK 0.38 splits a large forward/forward_backward batch into several
// requests, and how it combines their results into one
// (`lib/public_interfaces/training_client.py` `_chunked_requests_generator`,
// `lib/chunked_fwdbwd_helpers.py`). Pure functions: the training client
// gives each chunk its own seq_id and sends them; the results come back here.

import { chunkLength } from "../model_input.ts";
import { TensorData } from "../tensor_data.ts";
import type { Datum, ForwardBackwardOutput } from "../training_types.ts";

/** The client-config limits on one forward_backward request (SDK defaults). */
export interface ChunkLimits {
  /** At most this many datums per request (`fwdbwd_max_chunk_len`, default 1024). */
  maxChunkLen: number;
  /**
   * At most this many estimated protobuf bytes per request, unless a single
   * datum is larger (`fwdbwd_max_chunk_bytes_count`, default 5,000,000).
   */
  maxChunkBytes: number;
}

/** The SDK's defaults, used when the server's client config does not say. */
export const DEFAULT_CHUNK_LIMITS: ChunkLimits = { maxChunkLen: 1024, maxChunkBytes: 5_000_000 };

/** One request's share of a batch. */
export interface DatumChunk {
  /** The datums, in batch order. */
  data: Datum[];
  /** Their estimated protobuf bytes (also what the dispatch semaphore counts). */
  estimatedBytes: number;
}

/**
 * The SDK's estimate of a datum's protobuf bytes: 4 per token, an image's or
 * DMel chunk's byte length (an image pointer's location length), and each
 * tensor's values (4 bytes float32, 8 int64) plus 8 per CSR index.
 */
export function estimateDatumBytes(datum: Datum): number {
  let bytes = 0;
  for (const chunk of datum.model_input.chunks) {
    switch (chunk.type) {
      case "dmel":
        bytes += chunk.dmel.byteLength;
        break;
      case "image":
        bytes += chunk.data.byteLength;
        break;
      case "image_asset_pointer":
        bytes += chunk.location.length;
        break;
      default:
        bytes += chunkLength(chunk) * 4;
    }
  }
  for (const [key, value] of Object.entries(datum.loss_fn_inputs)) {
    const td = TensorData.fromLossFnInput(key, value);
    bytes += td.data.length * (td.dtype === "float32" ? 4 : 8);
    bytes += 8 * ((td.sparse_crow_indices?.length ?? 0) + (td.sparse_col_indices?.length ?? 0));
  }
  return bytes;
}

/**
 * Splits a batch as the SDK does: a new chunk starts when adding the next
 * datum would pass `maxChunkBytes` (a lone datum over the limit still gets a
 * chunk of its own) or the chunk already holds `maxChunkLen` datums.
 */
export function chunkForwardBackward(
  data: readonly Datum[],
  limits: ChunkLimits = DEFAULT_CHUNK_LIMITS,
): DatumChunk[] {
  const chunks: DatumChunk[] = [];
  let current: Datum[] = [];
  let currentBytes = 0;
  for (const datum of data) {
    const bytes = estimateDatumBytes(datum);
    if (
      (current.length > 0 && currentBytes + bytes > limits.maxChunkBytes) ||
      current.length === limits.maxChunkLen
    ) {
      chunks.push({ data: current, estimatedBytes: currentBytes });
      current = [];
      currentBytes = 0;
    }
    current.push(datum);
    currentBytes += bytes;
  }
  if (current.length > 0) chunks.push({ data: current, estimatedBytes: currentBytes });
  return chunks;
}

const MASK64 = 0xffff_ffff_ffff_ffffn; // 2^64 − 1, a literal: tree-shakes

function weightedMean(values: number[], weights: number[]): number {
  let sum = 0;
  let total = 0;
  values.forEach((v, i) => {
    sum += v * weights[i]!;
    total += weights[i]!;
  });
  return sum / total;
}

/**
 * Combines the results of a chunked batch into one, as the SDK's
 * `combine_fwd_bwd_output_results`: outputs concatenated in chunk order, and
 * each metric reduced by the suffix of its name (`loss:sum`, `x:mean`
 * weighted by each chunk's datum count, `:min`, `:max`, `:slack` = max −
 * weighted mean, `:hash2` = 64-bit wrapping sum of the integer parts,
 * `:unique` = the first value, the others as `key_1`, `key_2`…). A metric
 * with an unknown reduction, or missing from a chunk, is dropped.
 *
 * @throws {RangeError} For a metric name without exactly one `:` (the SDK fails too).
 */
export function combineForwardBackwardOutputs(
  results: readonly ForwardBackwardOutput[],
): ForwardBackwardOutput {
  if (results.length === 0) {
    return { loss_fn_output_type: "", loss_fn_outputs: [], metrics: {} };
  }
  const weights = results.map((r) => r.loss_fn_outputs.length);
  const metrics: Record<string, number> = {};
  for (const key of Object.keys(results[0]!.metrics)) {
    const parts = key.split(":");
    if (parts.length !== 2) {
      throw new RangeError(`Invalid metric name ${JSON.stringify(key)}: expected "name:reduction"`);
    }
    if (!results.every((r) => Object.hasOwn(r.metrics, key))) continue;
    const values = results.map((r) => r.metrics[key]!);
    switch (parts[1]) {
      case "mean":
        metrics[key] = weightedMean(values, weights);
        break;
      case "slack":
        metrics[key] = Math.max(...values) - weightedMean(values, weights);
        break;
      case "sum":
        metrics[key] = values.reduce((a, b) => a + b, 0);
        break;
      case "min":
        metrics[key] = Math.min(...values);
        break;
      case "max":
        metrics[key] = Math.max(...values);
        break;
      case "hash2":
        metrics[key] = Number(
          values.reduce((a, v) => a + (BigInt(Math.trunc(v)) & MASK64), 0n) & MASK64,
        );
        break;
      case "unique":
        metrics[key] = values[0]!;
        values.slice(1).forEach((v, i) => (metrics[`${key}_${i + 1}`] = v));
        break;
    }
  }
  return {
    loss_fn_output_type: results[0]!.loss_fn_output_type,
    loss_fn_outputs: results.flatMap((r) => r.loss_fn_outputs),
    metrics,
  };
}
