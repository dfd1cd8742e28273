// The protobuf messages SDK 0.38 exchanges with Tinker (schema:
// `tinker/proto/tinker_public_pb2.pyi`, package `tinker_public`), encoded and
// decoded by hand over `_proto.ts`:
//
// - `ForwardBackwardRequest`: the body of POST /api/v1/forward_backward
//   (`Content-Type: application/x-protobuf`), for `forward` (forward_only)
//   and `forward_backward` alike.
// - `ForwardBackwardOutput` and `SampleResponse`: the bodies of
//   /api/v1/retrieve_future replies when the request asked for them with
//   `Accept: application/x-protobuf` and the reply's Content-Type says so.
//
// Encoders write fields in field-number order and omit proto3 defaults, as
// the official encoder does, so single-entry maps give identical bytes; map
// entries go in insertion order (upb's own order is its hash order, so
// multi-entry maps compare equal after decoding, not byte for byte).
// Decoders follow the SDK's `proto/response_conv.py`, and read the messages
// the encoders write (the fake server needs both directions).

import {
  bfloat16FromBytes,
  float32Bytes,
  float32FromBytes,
  int32Bytes,
  int32FromBytes,
  int64Bytes,
  int64FromBytes,
  MessageWriter,
  ProtoError,
  type ProtoField,
  ProtoReader,
} from "./_proto.ts";
import { ModelInput, type ModelInputChunk } from "../model_input.ts";
import { TensorData, type TensorDtype } from "../tensor_data.ts";
import type {
  Datum,
  ForwardBackwardOutput,
  LossFnConfig,
  LossFnOutput,
  PromptAltTokens,
  ProvenanceSpan,
  SampledSequence,
  SampleResponse,
  StopReason,
  TopkLogprobs,
} from "../training_types.ts";

/** The content type of protobuf bodies, sent and accepted. */
export const PROTO_CONTENT_TYPE = "application/x-protobuf";

// enum DType
const DTYPE_FLOAT32 = 1;
const DTYPE_INT64 = 2;
const DTYPE_INT32 = 3;
const DTYPE_BFLOAT16 = 4;
// enum StopReason
const STOP_REASONS: readonly StopReason[] = ["stop", "length"];

/** A forward_backward request as the SDK builds it before serialising. */
export interface ForwardBackwardRequestMessage {
  /** The training model. */
  model_id: string;
  /** The request's sequence id within the model (the SDK's `request_id + 1`, so ≥ 1). */
  seq_id: number;
  /** The examples. */
  data: readonly Datum[];
  /** The loss function. */
  loss_fn: string;
  /** Its parameters. */
  loss_fn_config?: LossFnConfig | null;
  /** `true` for `forward` (no backward pass). */
  forward_only?: boolean;
}

/** A decoded forward_backward request: tensors are `TensorData`, spans as sent. */
export interface DecodedForwardBackwardRequest extends ForwardBackwardRequestMessage {
  /** The examples, `loss_fn_inputs` as tensors. */
  data: DecodedDatum[];
  /** Its parameters (`null` when none were sent). */
  loss_fn_config: LossFnConfig | null;
  /** Whether only the forward pass runs. */
  forward_only: boolean;
}

/** A decoded datum. */
export interface DecodedDatum extends Datum {
  /** The loss function's inputs as tensors. */
  loss_fn_inputs: Record<string, TensorData>;
  /** The input's provenance, when sent. */
  model_input_spans: ProvenanceSpan[] | null;
  /** The loss rows' provenance, when sent. */
  loss_fn_input_spans: ProvenanceSpan[] | null;
}

// ---------------------------------------------------------------------------
// Encoding

function tensorMessage(td: TensorData, what: string): MessageWriter {
  const w = new MessageWriter();
  const values = td.dtype === "float32"
    ? float32Bytes(td.data as Float32Array)
    : int64Bytes(td.data as number[], what);
  if (td.sparse_crow_indices !== null) {
    const csr = new MessageWriter();
    if (values.byteLength > 0) csr.bytes(1, values);
    const crow = int64Bytes(td.sparse_crow_indices, `${what}.sparse_crow_indices`);
    const col = int64Bytes(td.sparse_col_indices!, `${what}.sparse_col_indices`);
    if (crow.byteLength > 0) csr.bytes(2, crow);
    if (col.byteLength > 0) csr.bytes(3, col);
    w.message(2, csr);
  } else {
    w.bytes(1, values); // a oneof member: written even when empty
  }
  w.uint(3, td.dtype === "float32" ? DTYPE_FLOAT32 : DTYPE_INT64);
  if (td.shape !== null) w.packedInt(4, td.shape);
  return w;
}

function chunkMessage(chunk: ModelInputChunk, what: string): MessageWriter {
  const w = new MessageWriter();
  switch (chunk.type) {
    case "encoded_text": {
      const text = new MessageWriter();
      if (chunk.tokens.length > 0) text.bytes(1, int32Bytes(chunk.tokens, `${what}.tokens`));
      return w.message(1, text);
    }
    case "image": {
      const image = new MessageWriter();
      if (chunk.data.byteLength > 0) image.bytes(1, chunk.data);
      image.string(2, chunk.format);
      if (chunk.expected_tokens !== undefined && chunk.expected_tokens !== null) {
        image.int(3, chunk.expected_tokens);
      }
      return w.message(2, image);
    }
    case "dmel": {
      const dmel = new MessageWriter();
      if (chunk.dmel.byteLength > 0) dmel.bytes(1, chunk.dmel);
      return w.message(3, dmel);
    }
    default:
      throw new RangeError(
        `Invalid ${what}: a ${chunk.type} chunk cannot be sent in a forward_backward request ` +
          "(the protobuf wire has token, image and dmel chunks only)",
      );
  }
}

function spanMessage(span: ProvenanceSpan, what: string): MessageWriter {
  if (span.kind !== "prompt" && span.kind !== "sampled") {
    throw new RangeError(`Invalid ${what}.kind: expected "prompt" or "sampled", got ${span.kind}`);
  }
  const arm = new MessageWriter();
  if (span.sequence_id) arm.string(1, span.sequence_id);
  if (span.offset) arm.int(2, span.offset);
  if (span.length) arm.int(3, span.length);
  return new MessageWriter().message(span.kind === "prompt" ? 1 : 2, arm);
}

function entry(key: string): MessageWriter {
  return new MessageWriter().string(1, key);
}

function datumMessage(datum: Datum, what: string): MessageWriter {
  const w = new MessageWriter();
  if (!(datum?.model_input instanceof ModelInput)) {
    throw new RangeError(`Invalid ${what}.model_input: expected a ModelInput`);
  }
  datum.model_input.chunks.forEach((chunk, i) => {
    w.message(1, chunkMessage(chunk, `${what}.model_input chunk ${i}`));
  });
  for (const [name, value] of Object.entries(datum.loss_fn_inputs ?? {})) {
    const td = TensorData.fromLossFnInput(name, value);
    w.message(2, entry(name).message(2, tensorMessage(td, `${what}.loss_fn_inputs.${name}`)));
  }
  const inputSpans = datum.model_input_spans ?? null;
  const lossSpans = datum.loss_fn_input_spans ?? null;
  if ((inputSpans === null) !== (lossSpans === null)) {
    throw new RangeError(
      `Invalid ${what}: provenance comes as a pair (set both span lists or neither)`,
    );
  }
  inputSpans?.forEach((s, i) => w.message(3, spanMessage(s, `${what}.model_input_spans[${i}]`)));
  lossSpans?.forEach((s, i) => w.message(4, spanMessage(s, `${what}.loss_fn_input_spans[${i}]`)));
  return w;
}

/**
 * Serialises a forward_backward request as SDK 0.38's
 * `forward_backward_request_to_proto(...).SerializeToString()`.
 * Number-valued `loss_fn_config` entries go to both config maps (old and new
 * servers), string values to the new one only, as the SDK does.
 */
export function encodeForwardBackwardRequest(request: ForwardBackwardRequestMessage): Uint8Array {
  const w = new MessageWriter();
  if (request.model_id) w.string(1, request.model_id);
  if (request.seq_id) w.int(2, request.seq_id);
  request.data.forEach((datum, i) => w.message(3, datumMessage(datum, `data[${i}]`)));
  if (request.loss_fn) w.string(4, request.loss_fn);
  const config = Object.entries(request.loss_fn_config ?? {});
  for (const [key, value] of config) {
    if (typeof value === "number") w.message(5, entry(key).double(2, value));
  }
  if (request.forward_only) w.bool(6, true);
  for (const [key, value] of config) {
    if (typeof value !== "number" && typeof value !== "string") {
      throw new RangeError(
        `Invalid loss_fn_config.${key}: expected a number or string, got ${value}`,
      );
    }
    const v = new MessageWriter();
    if (typeof value === "number") v.double(1, value);
    else v.string(2, value);
    w.message(7, entry(key).message(2, v));
  }
  return w.finish();
}

function dtypeCode(dtype: TensorDtype): number {
  return dtype === "float32" ? DTYPE_FLOAT32 : DTYPE_INT64;
}

function trailingShape(td: TensorData): number[] {
  return td.shape === null ? [] : td.shape.slice(1);
}

/**
 * Serialises a forward/backward result as the server does: per run of datums
 * whose fields share dtype and trailing shape, one `ArrayRecord` holding each
 * field as a `BatchedTensor` (values concatenated, byte offsets per datum).
 * Sparse tensors are densified (pad 0).
 */
export function encodeForwardBackwardOutput(output: ForwardBackwardOutput): Uint8Array {
  const w = new MessageWriter();
  if (output.loss_fn_output_type) w.string(1, output.loss_fn_output_type);
  const outputs = output.loss_fn_outputs;
  const signature = (o: LossFnOutput) =>
    JSON.stringify(Object.entries(o).map(([k, t]) => [k, t.dtype, trailingShape(t)]));
  let start = 0;
  while (start < outputs.length) {
    const sig = signature(outputs[start]!);
    let end = start + 1;
    while (end < outputs.length && signature(outputs[end]!) === sig) end++;
    w.message(2, arrayRecord(outputs.slice(start, end), output.loss_fn_output_type));
    start = end;
  }
  for (const [key, value] of Object.entries(output.metrics)) {
    w.message(3, entry(key).double(2, value));
  }
  return w.finish();
}

function arrayRecord(datums: LossFnOutput[], typeTag: string): MessageWriter {
  const w = new MessageWriter();
  if (typeTag) w.string(1, typeTag);
  for (const name of Object.keys(datums[0]!)) {
    const first = datums[0]![name]!;
    const parts = datums.map((d, i) => {
      const dense = d[name]!.toDense();
      return first.dtype === "float32"
        ? float32Bytes(dense)
        : int64Bytes(dense, `loss_fn_outputs[${i}].${name}`);
    });
    const total = parts.reduce((n, p) => n + p.byteLength, 0);
    const data = new Uint8Array(total);
    const offsets = [0];
    for (const part of parts) {
      data.set(part, offsets[offsets.length - 1]!);
      offsets.push(offsets[offsets.length - 1]! + part.byteLength);
    }
    const bt = new MessageWriter();
    if (total > 0) bt.bytes(1, data);
    bt.bytes(2, int64Bytes(offsets, "offsets"));
    bt.uint(3, dtypeCode(first.dtype));
    bt.packedInt(4, trailingShape(first));
    w.message(2, entry(name).message(2, bt));
  }
  if (datums.length) w.int(3, datums.length);
  return w;
}

function topkMessage(topk: TopkLogprobs): MessageWriter {
  const w = new MessageWriter();
  if (topk.token_ids.length > 0) w.bytes(1, int32Bytes(topk.token_ids, "topk.token_ids"));
  if (topk.logprobs.length > 0) w.bytes(2, float32Bytes(topk.logprobs));
  if (topk.k) w.uint(3, topk.k);
  if (topk.length) w.uint(4, topk.length);
  return w;
}

/**
 * Serialises a sample result as the server does (`prompt_logprobs` nulls
 * become NaN; unset optional fields are absent).
 */
export function encodeSampleResponse(response: SampleResponse): Uint8Array {
  const w = new MessageWriter();
  response.sequences.forEach((seq, i) => {
    const s = new MessageWriter();
    const reason = STOP_REASONS.indexOf(seq.stop_reason);
    if (reason < 0) {
      throw new RangeError(
        `Invalid sequences[${i}].stop_reason: ${JSON.stringify(seq.stop_reason)}`,
      );
    }
    if (reason) s.uint(1, reason);
    if (seq.tokens.length > 0) s.bytes(2, int32Bytes(seq.tokens, `sequences[${i}].tokens`));
    if (seq.logprobs !== null) s.bytes(3, float32Bytes(seq.logprobs));
    if (seq.topk_logprobs !== null) s.message(4, topkMessage(seq.topk_logprobs));
    w.message(1, s);
  });
  if (response.prompt_logprobs !== null) {
    w.bytes(2, float32Bytes(response.prompt_logprobs.map((x) => x ?? NaN)));
  }
  if (response.topk_prompt_logprobs !== null) {
    w.message(3, topkMessage(response.topk_prompt_logprobs));
  }
  if (response.prompt_cache_hit_tokens) w.int(4, response.prompt_cache_hit_tokens);
  if (response.target_prompt_logprobs !== null) {
    w.message(5, tensorMessage(response.target_prompt_logprobs, "target_prompt_logprobs"));
  }
  if (response.prompt_alt_tokens !== null) {
    const alt = new MessageWriter()
      .message(1, tensorMessage(response.prompt_alt_tokens.tokens, "prompt_alt_tokens.tokens"))
      .message(2, tensorMessage(response.prompt_alt_tokens.logprobs, "prompt_alt_tokens.logprobs"));
    w.message(6, alt);
  }
  return w.finish();
}

// ---------------------------------------------------------------------------
// Decoding

function each(reader: ProtoReader, visit: (field: ProtoField) => boolean): void {
  for (let f = reader.next(); f !== undefined; f = reader.next()) {
    if (!visit(f)) reader.skip(f);
  }
}

function mapEntry<T>(
  reader: ProtoReader,
  field: ProtoField,
  what: string,
  value: (r: ProtoReader, f: ProtoField) => T,
  empty: () => T,
): [string, T] {
  const r = reader.message(field, what);
  let key = "";
  let v: T | undefined;
  each(r, (f) => {
    if (f.field === 1) key = r.string(f);
    else if (f.field === 2) v = value(r, f);
    else return false;
    return true;
  });
  return [key, v === undefined ? empty() : v];
}

function tensorDtype(code: number, what: string): TensorDtype {
  if (code === DTYPE_FLOAT32 || code === DTYPE_BFLOAT16) return "float32";
  if (code === DTYPE_INT64 || code === DTYPE_INT32) return "int64";
  throw new ProtoError(`Malformed protobuf ${what}: unsupported dtype ${code}`);
}

function valuesFromBytes(
  bytes: Uint8Array,
  code: number,
  what: string,
): { values: Float32Array | number[]; itemsize: number } {
  switch (code) {
    case DTYPE_FLOAT32:
      return { values: float32FromBytes(bytes, what), itemsize: 4 };
    case DTYPE_BFLOAT16:
      return { values: bfloat16FromBytes(bytes, what), itemsize: 2 };
    case DTYPE_INT64:
      return { values: int64FromBytes(bytes, what), itemsize: 8 };
    case DTYPE_INT32:
      return { values: Array.from(int32FromBytes(bytes, what)), itemsize: 4 };
    default:
      throw new ProtoError(`Malformed protobuf ${what}: unsupported dtype ${code}`);
  }
}

function decodeTensor(reader: ProtoReader, what: string): TensorData {
  let dense: Uint8Array | undefined;
  let csr: { values: Uint8Array; crow: Uint8Array; col: Uint8Array } | undefined;
  let code = 0;
  const shape: number[] = [];
  let hasShape = false;
  const empty: Uint8Array = new Uint8Array(0);
  each(reader, (f) => {
    switch (f.field) {
      case 1:
        dense = reader.bytes(f);
        csr = undefined;
        return true;
      case 2: {
        const r = reader.message(f, `${what}.sparse_csr`);
        const parts = { values: empty, crow: empty, col: empty };
        each(r, (g) => {
          if (g.field === 1) parts.values = r.bytes(g);
          else if (g.field === 2) parts.crow = r.bytes(g);
          else if (g.field === 3) parts.col = r.bytes(g);
          else return false;
          return true;
        });
        csr = parts;
        dense = undefined;
        return true;
      }
      case 3:
        code = reader.uint(f);
        return true;
      case 4:
        hasShape = true;
        reader.repeatedInt(f, shape);
        return true;
    }
    return false;
  });
  const dtype = tensorDtype(code, what);
  try {
    if (csr !== undefined) {
      return new TensorData({
        data: valuesFromBytes(csr.values, code, what).values,
        dtype,
        shape,
        sparse_crow_indices: int64FromBytes(csr.crow, `${what}.crow_indices`),
        sparse_col_indices: int64FromBytes(csr.col, `${what}.col_indices`),
      });
    }
    return new TensorData({
      data: valuesFromBytes(dense ?? empty, code, what).values,
      dtype,
      shape: hasShape ? shape : null,
    });
  } catch (error) {
    if (error instanceof ProtoError) throw error;
    throw new ProtoError(`Malformed protobuf ${what}: ${(error as Error).message}`);
  }
}

function decodeChunk(reader: ProtoReader): ModelInputChunk {
  let chunk: ModelInputChunk | undefined;
  each(reader, (f) => {
    if (f.field === 1) {
      const r = reader.message(f, "EncodedTextChunk");
      let tokens: number[] = [];
      each(
        r,
        (g) => g.field === 1 && (tokens = Array.from(int32FromBytes(r.bytes(g), r.what)), true),
      );
      chunk = { type: "encoded_text", tokens };
    } else if (f.field === 2) {
      const r = reader.message(f, "ImageChunk");
      const image: { type: "image"; data: Uint8Array; format: string; expected_tokens?: number } = {
        type: "image",
        data: new Uint8Array(0),
        format: "",
      };
      each(r, (g) => {
        if (g.field === 1) image.data = r.bytes(g).slice();
        else if (g.field === 2) image.format = r.string(g);
        else if (g.field === 3) image.expected_tokens = r.int(g);
        else return false;
        return true;
      });
      chunk = image as ModelInputChunk;
    } else if (f.field === 3) {
      const r = reader.message(f, "DmelChunk");
      let dmel: Uint8Array = new Uint8Array(0);
      each(r, (g) => g.field === 1 && (dmel = r.bytes(g).slice(), true));
      chunk = { type: "dmel", dmel };
    } else return false;
    return true;
  });
  if (chunk === undefined) throw new ProtoError("Malformed protobuf Chunk: no chunk kind set");
  return chunk;
}

function decodeSpan(reader: ProtoReader): ProvenanceSpan {
  let span: ProvenanceSpan | undefined;
  each(reader, (f) => {
    if (f.field !== 1 && f.field !== 2) return false;
    const r = reader.message(f, "ProvenanceSpan");
    const s: ProvenanceSpan = {
      kind: f.field === 1 ? "prompt" : "sampled",
      sequence_id: "",
      offset: 0,
      length: 0,
    };
    each(r, (g) => {
      if (g.field === 1) s.sequence_id = r.string(g);
      else if (g.field === 2) s.offset = r.int(g);
      else if (g.field === 3) s.length = r.int(g);
      else return false;
      return true;
    });
    span = s;
    return true;
  });
  if (span === undefined) throw new ProtoError("Malformed protobuf ProvenanceSpan: no span set");
  return span;
}

function decodeDatum(reader: ProtoReader): DecodedDatum {
  const chunks: ModelInputChunk[] = [];
  const inputs: Record<string, TensorData> = {};
  let inputSpans: ProvenanceSpan[] | null = null;
  let lossSpans: ProvenanceSpan[] | null = null;
  each(reader, (f) => {
    switch (f.field) {
      case 1:
        chunks.push(decodeChunk(reader.message(f, "Chunk")));
        return true;
      case 2: {
        const [key, td] = mapEntry(
          reader,
          f,
          "Datum.loss_fn_inputs",
          (r, g) => decodeTensor(r.message(g, `loss_fn_inputs entry`), "Tensor"),
          () => decodeTensor(new ProtoReader(new Uint8Array(0), "Tensor"), "Tensor"),
        );
        inputs[key] = td;
        return true;
      }
      case 3:
        (inputSpans ??= []).push(decodeSpan(reader.message(f, "ProvenanceSpan")));
        return true;
      case 4:
        (lossSpans ??= []).push(decodeSpan(reader.message(f, "ProvenanceSpan")));
        return true;
    }
    return false;
  });
  let modelInput: ModelInput;
  try {
    modelInput = new ModelInput(chunks);
  } catch (error) {
    throw new ProtoError(`Malformed protobuf Datum: ${(error as Error).message}`);
  }
  return {
    model_input: modelInput,
    loss_fn_inputs: inputs,
    model_input_spans: inputSpans,
    loss_fn_input_spans: lossSpans,
  };
}

/** Parses a forward_backward request body (what the fake server receives). */
export function decodeForwardBackwardRequest(bytes: Uint8Array): DecodedForwardBackwardRequest {
  const reader = new ProtoReader(bytes, "ForwardBackwardRequest");
  const request: DecodedForwardBackwardRequest = {
    model_id: "",
    seq_id: 0,
    data: [],
    loss_fn: "",
    loss_fn_config: null,
    forward_only: false,
  };
  const v1: LossFnConfig = {};
  const v2: LossFnConfig = {};
  let hasV1 = false;
  let hasV2 = false;
  each(reader, (f) => {
    switch (f.field) {
      case 1:
        request.model_id = reader.string(f);
        return true;
      case 2:
        request.seq_id = reader.int(f);
        return true;
      case 3:
        request.data.push(decodeDatum(reader.message(f, "Datum")));
        return true;
      case 4:
        request.loss_fn = reader.string(f);
        return true;
      case 5: {
        const [k, v] = mapEntry(reader, f, "loss_fn_config", (r, g) => r.double(g), () => 0);
        v1[k] = v;
        hasV1 = true;
        return true;
      }
      case 6:
        request.forward_only = reader.bool(f);
        return true;
      case 7: {
        const [k, v] = mapEntry(reader, f, "loss_fn_config_v2", (r, g) => {
          const m = r.message(g, "LossConfigValue");
          let value: number | string = 0;
          each(m, (h) => {
            if (h.field === 1) value = m.double(h);
            else if (h.field === 2) value = m.string(h);
            else return false;
            return true;
          });
          return value;
        }, () => 0);
        v2[k] = v;
        hasV2 = true;
        return true;
      }
    }
    return false;
  });
  // Servers prefer v2 when it is set (the SDK's comment in request_conv.py).
  if (hasV2) request.loss_fn_config = v2;
  else if (hasV1) request.loss_fn_config = v1;
  return request;
}

interface BatchedTensor {
  data: Uint8Array;
  offsets: Uint8Array;
  dtype: number;
  trailing: number[];
}

function decodeBatchedTensor(reader: ProtoReader): BatchedTensor {
  const bt: BatchedTensor = {
    data: new Uint8Array(0),
    offsets: new Uint8Array(0),
    dtype: 0,
    trailing: [],
  };
  each(reader, (f) => {
    if (f.field === 1) bt.data = reader.bytes(f);
    else if (f.field === 2) bt.offsets = reader.bytes(f);
    else if (f.field === 3) bt.dtype = reader.uint(f);
    else if (f.field === 4) reader.repeatedInt(f, bt.trailing);
    else return false;
    return true;
  });
  return bt;
}

/**
 * Parses a forward/backward result as the SDK's
 * `deserialize_forward_backward_output`: the record class name after the
 * last `:`, each `BatchedTensor` sliced per datum by its byte offsets (int32
 * widened to int64, bfloat16 to float32), shapes `[leading, ...trailing]`.
 */
export function decodeForwardBackwardOutput(bytes: Uint8Array): ForwardBackwardOutput {
  const what = "ForwardBackwardOutput";
  const reader = new ProtoReader(bytes, what);
  let typeName = "";
  const records: { fields: [string, BatchedTensor][]; numDatums: number }[] = [];
  const metrics: Record<string, number> = {};
  each(reader, (f) => {
    switch (f.field) {
      case 1:
        typeName = reader.string(f);
        return true;
      case 2: {
        const r = reader.message(f, "ArrayRecord");
        const record = { fields: [] as [string, BatchedTensor][], numDatums: 0 };
        each(r, (g) => {
          if (g.field === 2) {
            record.fields.push(
              mapEntry(
                r,
                g,
                "ArrayRecord.fields",
                (m, h) => decodeBatchedTensor(m.message(h, "BatchedTensor")),
                () => decodeBatchedTensor(new ProtoReader(new Uint8Array(0), "BatchedTensor")),
              ),
            );
          } else if (g.field === 3) record.numDatums = r.int(g);
          else return false; // type_tag (1) is not used by the SDK
          return true;
        });
        records.push(record);
        return true;
      }
      case 3: {
        const [k, v] = mapEntry(reader, f, "metrics", (r, g) => r.double(g), () => 0);
        metrics[k] = v;
        return true;
      }
    }
    return false;
  });
  if (records.length === 0) {
    return { loss_fn_output_type: typeName || "ArrayRecord", loss_fn_outputs: [], metrics };
  }
  const perField = new Map<string, TensorData[]>();
  let numDatums = 0;
  for (const record of records) {
    numDatums += record.numDatums;
    for (const [name, bt] of record.fields) {
      const list = perField.get(name) ?? [];
      perField.set(name, list);
      list.push(...sliceBatched(bt, `${what}.${name}`));
    }
  }
  if (numDatums === 0 && perField.size > 0) numDatums = perField.values().next().value!.length;
  const outputs: LossFnOutput[] = [];
  for (let i = 0; i < numDatums; i++) {
    const datum: LossFnOutput = {};
    for (const [name, list] of perField) {
      const td = list[i];
      if (td === undefined) {
        throw new ProtoError(
          `Malformed protobuf ${what}: field ${name} has ${list.length} datums, expected ${numDatums}`,
        );
      }
      datum[name] = td;
    }
    outputs.push(datum);
  }
  return {
    loss_fn_output_type: typeName.slice(typeName.lastIndexOf(":") + 1),
    loss_fn_outputs: outputs,
    metrics,
  };
}

function sliceBatched(bt: BatchedTensor, what: string): TensorData[] {
  const dtype = tensorDtype(bt.dtype, what);
  const { values, itemsize } = valuesFromBytes(bt.data, bt.dtype, what);
  const offsets = int64FromBytes(bt.offsets, `${what}.offsets`);
  const trailing = bt.trailing.reduce((a, b) => a * b, 1);
  const out: TensorData[] = [];
  for (let i = 0; i + 1 < offsets.length; i++) {
    const start = offsets[i]!;
    const end = offsets[i + 1]!;
    if (start > end || end > bt.data.byteLength || start % itemsize || end % itemsize) {
      throw new ProtoError(`Malformed protobuf ${what}: bad byte offsets ${start}..${end}`);
    }
    const slice = values.slice(start / itemsize, end / itemsize);
    const leading = trailing ? Math.floor(slice.length / trailing) : 0;
    try {
      out.push(new TensorData({ data: slice, dtype, shape: [leading, ...bt.trailing] }));
    } catch (error) {
      throw new ProtoError(`Malformed protobuf ${what}: ${(error as Error).message}`);
    }
  }
  return out;
}

function decodeTopk(reader: ProtoReader): TopkLogprobs | null {
  let ids: Uint8Array = new Uint8Array(0);
  let lps: Uint8Array = new Uint8Array(0);
  let k = 0;
  let length = 0;
  each(reader, (f) => {
    if (f.field === 1) ids = reader.bytes(f);
    else if (f.field === 2) lps = reader.bytes(f);
    else if (f.field === 3) k = reader.uint(f);
    else if (f.field === 4) length = reader.uint(f);
    else return false;
    return true;
  });
  if (length === 0 || k === 0) return null;
  const token_ids = int32FromBytes(ids, "TopkLogprobs.token_ids");
  const logprobs = float32FromBytes(lps, "TopkLogprobs.logprobs");
  if (token_ids.length !== length * k || logprobs.length !== length * k) {
    throw new ProtoError(
      `Malformed protobuf TopkLogprobs: ${length}×${k} matrices need ${length * k} cells, ` +
        `got ${token_ids.length} ids and ${logprobs.length} logprobs`,
    );
  }
  return { length, k, token_ids, logprobs };
}

/**
 * Parses a sample result as the SDK's `deserialize_sample_response`: empty
 * `logprobs` / `prompt_logprobs` read as absent, NaN prompt logprobs as
 * `null`, an empty top-k as absent. `sequenceIds` (the submission's
 * `sample_sequence_ids`) are attached in order when given.
 */
export function decodeSampleResponse(
  bytes: Uint8Array,
  sequenceIds?: readonly string[],
): SampleResponse {
  const reader = new ProtoReader(bytes, "SampleResponse");
  const response: SampleResponse = {
    sequences: [],
    prompt_logprobs: null,
    topk_prompt_logprobs: null,
    target_prompt_logprobs: null,
    prompt_alt_tokens: null,
    prompt_cache_hit_tokens: 0,
  };
  each(reader, (f) => {
    switch (f.field) {
      case 1:
        response.sequences.push(decodeSequence(reader.message(f, "SampledSequence")));
        return true;
      case 2: {
        const lps = float32FromBytes(reader.bytes(f), "SampleResponse.prompt_logprobs");
        response.prompt_logprobs = lps.length
          ? Array.from(lps, (x) => (Number.isNaN(x) ? null : x))
          : null;
        return true;
      }
      case 3:
        response.topk_prompt_logprobs = decodeTopk(reader.message(f, "TopkLogprobs"));
        return true;
      case 4:
        response.prompt_cache_hit_tokens = reader.int(f);
        return true;
      case 5:
        response.target_prompt_logprobs = decodeTensor(
          reader.message(f, "target_prompt_logprobs"),
          "SampleResponse.target_prompt_logprobs",
        );
        return true;
      case 6:
        response.prompt_alt_tokens = decodeAlt(reader.message(f, "PromptAltTokens"));
        return true;
    }
    return false;
  });
  if (sequenceIds !== undefined) {
    if (sequenceIds.length !== response.sequences.length) {
      throw new ProtoError(
        `Malformed protobuf SampleResponse: ${response.sequences.length} sequences for ` +
          `${sequenceIds.length} sequence ids`,
      );
    }
    response.sequences.forEach((seq, i) => (seq.sequence_id = sequenceIds[i]!));
  }
  return response;
}

function decodeSequence(reader: ProtoReader): SampledSequence {
  const seq: SampledSequence = {
    stop_reason: "stop",
    sequence_id: "",
    tokens: [],
    logprobs: null,
    topk_logprobs: null,
  };
  each(reader, (f) => {
    switch (f.field) {
      case 1: {
        const code = reader.uint(f);
        const reason = STOP_REASONS[code];
        if (reason === undefined) {
          throw new ProtoError(`Unknown stop_reason enum value ${code} in proto SampleResponse`);
        }
        seq.stop_reason = reason;
        return true;
      }
      case 2:
        seq.tokens = Array.from(int32FromBytes(reader.bytes(f), "SampledSequence.tokens"));
        return true;
      case 3: {
        const lps = float32FromBytes(reader.bytes(f), "SampledSequence.logprobs");
        seq.logprobs = lps.length ? Array.from(lps) : null;
        return true;
      }
      case 4:
        seq.topk_logprobs = decodeTopk(reader.message(f, "TopkLogprobs"));
        return true;
    }
    return false;
  });
  return seq;
}

function decodeAlt(reader: ProtoReader): PromptAltTokens {
  let tokens: Uint8Array | undefined;
  let logprobs: Uint8Array | undefined;
  each(reader, (f) => {
    if (f.field === 1) tokens = reader.bytes(f);
    else if (f.field === 2) logprobs = reader.bytes(f);
    else return false;
    return true;
  });
  const tensor = (b: Uint8Array | undefined, what: string) =>
    decodeTensor(new ProtoReader(b ?? new Uint8Array(0), what), what);
  return {
    tokens: tensor(tokens, "PromptAltTokens.tokens"),
    logprobs: tensor(logprobs, "PromptAltTokens.logprobs"),
  };
}
