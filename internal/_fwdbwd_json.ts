// The JSON dialect of forward / forward_backward, for servers that do not
// take protobuf bodies (SDK 0.25 and peers built on it, such as TuFT):
// `POST /api/v1/forward` `{forward_input, model_id, seq_id}` and
// `POST /api/v1/forward_backward` `{forward_backward_input, model_id, seq_id}`,
// each input `{data, loss_fn, loss_fn_config?}` with datums as the SDK's JSON.

import type { ForwardBackwardRequestMessage } from "./_proto_messages.ts";
import { TensorData, type TensorDataInit, type TensorDataJson } from "../tensor_data.ts";
import type { Datum, ForwardBackwardOutput } from "../training_types.ts";

/** A datum as SDK 0.25's JSON: tensors as `{data, dtype, shape}`. */
export function datumToJson(datum: Datum): Record<string, unknown> {
  const inputs: Record<string, TensorDataJson> = {};
  for (const [key, value] of Object.entries(datum.loss_fn_inputs)) {
    inputs[key] = TensorData.fromLossFnInput(key, value).toJSON();
  }
  return {
    loss_fn_inputs: inputs,
    model_input: datum.model_input.toJSON(),
    ...(datum.model_input_spans != null && { model_input_spans: datum.model_input_spans }),
    ...(datum.loss_fn_input_spans != null && { loss_fn_input_spans: datum.loss_fn_input_spans }),
  };
}

/** The JSON path and body of one forward (`forward_only`) or forward_backward request. */
export function forwardBackwardJson(
  request: ForwardBackwardRequestMessage,
): { path: string; body: Record<string, unknown> } {
  const input = {
    data: request.data.map(datumToJson),
    loss_fn: request.loss_fn,
    ...(request.loss_fn_config != null && { loss_fn_config: request.loss_fn_config }),
  };
  return request.forward_only
    ? {
      path: "/api/v1/forward",
      body: { forward_input: input, model_id: request.model_id, seq_id: request.seq_id },
    }
    : {
      path: "/api/v1/forward_backward",
      body: { forward_backward_input: input, model_id: request.model_id, seq_id: request.seq_id },
    };
}

/** A forward_backward result read from JSON (checked by `FORWARD_BACKWARD_OUTPUT`): tensors built. */
export function outputFromJson(value: unknown): ForwardBackwardOutput {
  const raw = value as {
    loss_fn_output_type?: string;
    loss_fn_outputs: Record<string, TensorDataJson>[];
    metrics: Record<string, number>;
  };
  return {
    loss_fn_output_type: raw.loss_fn_output_type ?? "ArrayRecord",
    loss_fn_outputs: raw.loss_fn_outputs.map((record) =>
      Object.fromEntries(
        Object.entries(record).map(([key, t]) => [
          key,
          new TensorData(t as TensorDataInit),
        ]),
      )
    ),
    metrics: raw.metrics,
  };
}
