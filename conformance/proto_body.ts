/**
 * Protobuf bodies reduced to comparable text: the conformance harness
 * compares bodies as strings, and two correct encodings of one
 * forward_backward request can differ in bytes (upb writes map entries in hash
 * order; we write them in insertion order). Decoding both sides and printing
 * the result canonically (map keys sorted, tensors as dtype/shape/values)
 * leaves only real differences.
 *
 * @module
 */
import { decodeForwardBackwardRequest } from "../internal/_proto_messages.ts";
import type { TensorData } from "../tensor_data.ts";

function sortKeys<T>(o: Record<string, T>, map: (value: T) => unknown): Record<string, unknown> {
  return Object.fromEntries(
    Object.keys(o).sort().map((k) => [k, map(o[k]!)]),
  );
}

function tensor(td: TensorData): unknown {
  return {
    dtype: td.dtype,
    shape: td.shape,
    // Numbers as text, so NaN and ±Infinity survive JSON.
    data: Array.from(td.data, (x) => Object.is(x, -0) ? "-0" : String(x)),
    ...(td.sparse_crow_indices === null ? {} : {
      sparse_crow_indices: td.sparse_crow_indices,
      sparse_col_indices: td.sparse_col_indices,
    }),
  };
}

/**
 * The canonical text of a forward_backward protobuf body: the same for every
 * encoding of the same request.
 *
 * @param body The request body's bytes.
 * @returns Pretty JSON of the decoded request, map keys sorted.
 */
export function canonicalForwardBackwardBody(body: Uint8Array): string {
  const request = decodeForwardBackwardRequest(body);
  const canonical = {
    model_id: request.model_id,
    seq_id: request.seq_id,
    loss_fn: request.loss_fn,
    loss_fn_config: request.loss_fn_config === null
      ? null
      : sortKeys(request.loss_fn_config, (v) => (typeof v === "number" ? String(v) : { text: v })),
    forward_only: request.forward_only,
    data: request.data.map((d) => ({
      model_input: d.model_input.toJSON(),
      loss_fn_inputs: sortKeys(d.loss_fn_inputs, tensor),
      model_input_spans: d.model_input_spans,
      loss_fn_input_spans: d.loss_fn_input_spans,
    })),
  };
  return JSON.stringify(canonical, null, 1);
}
