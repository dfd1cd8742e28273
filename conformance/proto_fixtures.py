"""Protobuf bytes as the official Python SDK (tinker 0.38.0) makes them.

Prints one JSON document on stdout: a list of cases, each with
- ``kind``: ``forward_backward_request``, ``sample_response`` or
  ``forward_backward_output``;
- ``spec``: what the message holds, in a JSON form the TypeScript test rebuilds
  (float32 arrays as base64 of their little-endian bytes, so NaN/inf/-0 are
  exact; doubles that JSON cannot hold as the strings "NaN", "Infinity",
  "-Infinity");
- ``sdk``: base64 of the SDK's bytes exactly as it sends/receives them;
- ``sdk_sorted``: the same message serialised with map entries sorted by key
  (``deterministic=True``), the only form byte-comparable when a map has more
  than one entry (upb writes maps in hash order);
- ``decoded`` (responses): what the SDK's own decoder
  (``tinker.proto.response_conv``) makes of ``sdk``, in the same JSON form.

Requests are built from SDK types and serialised by the SDK's own
``forward_backward_request_to_proto``; responses (which only servers encode)
are built with the SDK's generated ``tinker_public_pb2`` classes.

Run by ``_proto_messages_test.ts``; ``python conformance/proto_fixtures.py``
prints the cases.
"""

from __future__ import annotations

import base64
import json
import math
import sys

import numpy as np

from tinker import types
from tinker.proto import tinker_public_pb2 as pb
from tinker.proto.request_conv import forward_backward_request_to_proto
from tinker.proto.response_conv import (
    deserialize_forward_backward_output,
    deserialize_sample_response,
)
from tinker.types.provenance_spans import PromptProvenanceSpan, SampledProvenanceSpan


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def f32(values) -> str:
    return b64(np.asarray(values, dtype=np.float32).tobytes())


def double(x: float):
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def tensor_json(td: types.TensorData) -> dict:
    arr = td._numpy
    out: dict = {"dtype": td.dtype, "shape": td.shape}
    if td.dtype == "float32":
        out["f32"] = b64(np.ascontiguousarray(arr, dtype=np.float32).tobytes())
    else:
        out["ints"] = np.asarray(arr, dtype=np.int64).ravel().tolist()
    if td.sparse_crow_indices is not None:
        out["crow"] = list(td.sparse_crow_indices)
        out["col"] = list(td.sparse_col_indices or [])
    return out


def chunk_json(chunk) -> dict:
    if isinstance(chunk, types.EncodedTextChunk):
        return {"type": "encoded_text", "tokens": list(chunk.tokens)}
    if isinstance(chunk, types.ImageChunk):
        return {
            "type": "image",
            "data": b64(chunk.data),
            "format": chunk.format,
            "expected_tokens": chunk.expected_tokens,
        }
    return {"type": "dmel", "dmel": b64(chunk.dmel)}


def span_json(span) -> dict:
    kind = "sampled" if isinstance(span, SampledProvenanceSpan) else "prompt"
    return {"kind": kind, "sequence_id": span.sequence_id, "offset": span.offset, "length": span.length}


def request_case(name: str, data, loss_fn="cross_entropy", config=None, seq_id=1, forward_only=False):
    request = types.ForwardBackwardRequest(
        forward_backward_input=types.ForwardBackwardInput(
            data=data, loss_fn=loss_fn, loss_fn_config=config
        ),
        model_id="model-7f3a",
        seq_id=seq_id,
    )
    # As resources/training.py does it:
    msg = forward_backward_request_to_proto(request)
    msg.forward_only = forward_only
    spec = {
        "model_id": request.model_id,
        "seq_id": seq_id,
        "loss_fn": loss_fn,
        "loss_fn_config": None
        if config is None
        else {k: v if isinstance(v, str) else double(v) for k, v in config.items()},
        "forward_only": forward_only,
        "data": [
            {
                "chunks": [chunk_json(c) for c in d.model_input.chunks],
                "inputs": {k: tensor_json(td) for k, td in d.loss_fn_inputs.items()},
                "model_input_spans": None
                if d.model_input_spans is None
                else [span_json(s) for s in d.model_input_spans],
                "loss_fn_input_spans": None
                if d.loss_fn_input_spans is None
                else [span_json(s) for s in d.loss_fn_input_spans],
            }
            for d in data
        ],
    }
    return {
        "name": name,
        "kind": "forward_backward_request",
        "spec": spec,
        "sdk": b64(msg.SerializeToString()),
        "sdk_sorted": b64(msg.SerializeToString(deterministic=True)),
    }


def datum(tokens, **inputs):
    return types.Datum(model_input=types.ModelInput.from_ints(tokens), loss_fn_inputs=inputs)


def requests() -> list:
    rng = np.random.default_rng(13)
    cases = []
    cases.append(
        request_case(
            "supervised datum",
            [datum([1, 2, 3], target_tokens=[2, 3, 4], weights=[0.0, 1.0, 1.0])],
        )
    )
    cases.append(
        request_case(
            "one loss input",
            [datum([5, 6], target_tokens=[6, 7])],
            seq_id=42,
        )
    )
    cases.append(
        request_case(
            "empty chunk, empty tensors, no seq id",
            [
                types.Datum(
                    model_input=types.ModelInput(chunks=[types.EncodedTextChunk(tokens=[])]),
                    loss_fn_inputs={
                        "target_tokens": types.TensorData(data=[], dtype="int64", shape=[0]),
                        "weights": types.TensorData(data=[], dtype="float32", shape=[0]),
                    },
                ),
                types.Datum(model_input=types.ModelInput.empty(), loss_fn_inputs={}),
            ],
            seq_id=0,
        )
    )
    cases.append(
        request_case(
            "negative and large integers, config edge values",
            [
                datum(
                    [-1, 0, 2147483647, -2147483648],
                    target_tokens=np.array([-5, 2**40, -(2**40), 2**53 - 1], dtype=np.int64),
                )
            ],
            loss_fn="ppo",
            config={
                "clip_low_threshold": -0.2,
                "clip_high_threshold": float("inf"),
                "beta": float("nan"),
                "zero": 0.0,
                "mode": "token-mean",
                "empty": "",
            },
            seq_id=2147483647,
        )
    )
    cases.append(
        request_case(
            "NaN, infinities and -0 in float32 tensors",
            [
                datum(
                    [1, 2, 3, 4, 5],
                    advantages=np.array(
                        [float("nan"), float("inf"), float("-inf"), -0.0, 1e-45], dtype=np.float32
                    ),
                )
            ],
            loss_fn="importance_sampling",
        )
    )
    image = bytes(range(256)) * 3
    dmel = bytes([254, 3, 2, 7, 80]) + bytes(12)
    cases.append(
        request_case(
            "image and dmel chunks",
            [
                types.Datum(
                    model_input=types.ModelInput(
                        chunks=[
                            types.EncodedTextChunk(tokens=[100, 101]),
                            types.ImageChunk(data=image, format="png", expected_tokens=64),
                            types.ImageChunk(data=b"\xff\xd8\xff", format="jpeg"),
                            types.ImageChunk(data=b"", format="png", expected_tokens=0),
                            types.DmelChunk(dmel=dmel),
                            types.EncodedTextChunk(tokens=[102]),
                        ]
                    ),
                    loss_fn_inputs={"weights": np.ones(3, dtype=np.float32)},
                )
            ],
        )
    )
    cases.append(
        request_case(
            "sparse CSR and 2-D tensors",
            [
                types.Datum(
                    model_input=types.ModelInput.from_ints([1, 2, 3]),
                    loss_fn_inputs={
                        "target_tokens": types.TensorData(
                            data=[7, 9, 11],
                            dtype="int64",
                            shape=[3, 4],
                            sparse_crow_indices=[0, 1, 1, 3],
                            sparse_col_indices=[2, 0, 3],
                        ),
                        "target_distribution": types.TensorData(
                            data=np.arange(12, dtype=np.float32) / 7, dtype="float32", shape=[3, 4]
                        ),
                        "empty_sparse": types.TensorData(
                            data=[],
                            dtype="float32",
                            shape=[2, 2],
                            sparse_crow_indices=[0, 0, 0],
                            sparse_col_indices=[],
                        ),
                    },
                )
            ],
            loss_fn="cross_entropy",
        )
    )
    cases.append(
        request_case(
            "provenance spans",
            [
                datum([1, 2, 3, 4], target_tokens=[2, 3, 4, 5]).with_provenance(
                    model_input=[
                        PromptProvenanceSpan(sequence_id="seq-a", offset=0, length=2),
                        SampledProvenanceSpan(sequence_id="seq-a", offset=0, length=2),
                    ],
                    loss_fn_inputs=[
                        PromptProvenanceSpan(sequence_id="seq-a", offset=1, length=1),
                        SampledProvenanceSpan(sequence_id="seq-b", offset=5, length=3),
                    ],
                )
            ],
            loss_fn="stable_reinforce",
        )
    )
    cases.append(
        request_case(
            "forward only, several datums",
            [datum(list(range(i, i + 5)), target_tokens=list(range(i + 1, i + 6))) for i in range(4)],
            forward_only=True,
            seq_id=3,
        )
    )
    big = []
    for i in range(4):
        n = 4096
        tokens = rng.integers(0, 151_000, size=n + 1)
        big.append(
            datum(
                tokens[:-1].tolist(),
                target_tokens=tokens[1:].astype(np.int64),
                weights=(rng.random(n) > 0.3).astype(np.float32),
                advantages=rng.standard_normal(n).astype(np.float32),
            )
        )
    cases.append(request_case("large batch", big, loss_fn="importance_sampling", seq_id=9))
    return cases


def topk_msg(length: int, k: int, seed: int) -> pb.TopkLogprobs:
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, 50_000, size=length * k).astype(np.int32)
    lps = -rng.random(length * k).astype(np.float32) * 10
    ids[-1] = 0  # an empty trailing cell
    lps[-1] = -99999.0
    return pb.TopkLogprobs(token_ids=ids.tobytes(), logprobs=lps.tobytes(), k=k, length=length)


def topk_json(topk) -> dict | None:
    if topk is None:
        return None
    n, k = topk.token_ids.shape
    return {
        "length": n,
        "k": k,
        "token_ids": topk.token_ids.ravel().tolist(),
        "logprobs": f32(topk.logprobs.ravel()),
    }


def sample_json(resp: types.SampleResponse) -> dict:
    return {
        "sequences": [
            {
                "stop_reason": s.stop_reason,
                "tokens": s.tokens,
                "logprobs": None if s.logprobs_np is None else f32(s.logprobs_np),
                "topk_logprobs": topk_json(s.topk_logprobs_np),
            }
            for s in resp.sequences
        ],
        "prompt_logprobs": None
        if resp.prompt_logprobs is None
        else [None if x is None else double(x) for x in resp.prompt_logprobs],
        "topk_prompt_logprobs": topk_json(resp.topk_prompt_logprobs_np),
        "target_prompt_logprobs": None
        if resp.target_prompt_logprobs is None
        else tensor_json(resp.target_prompt_logprobs),
        "prompt_alt_tokens": None
        if resp.prompt_alt_tokens is None
        else {
            "tokens": tensor_json(resp.prompt_alt_tokens.tokens),
            "logprobs": tensor_json(resp.prompt_alt_tokens.logprobs),
        },
        "prompt_cache_hit_tokens": resp.prompt_cache_hit_tokens,
    }


def response_case(name: str, kind: str, msg, exact: bool = False) -> dict:
    raw = msg.SerializeToString()
    if kind == "sample_response":
        decoded = sample_json(deserialize_sample_response(raw))
    else:
        out = deserialize_forward_backward_output(raw)
        decoded = {
            "loss_fn_output_type": out.loss_fn_output_type,
            "loss_fn_outputs": [{k: tensor_json(v) for k, v in d.items()} for d in out.loss_fn_outputs],
            "metrics": {k: double(v) for k, v in out.metrics.items()},
        }
    return {
        "name": name,
        "kind": kind,
        "sdk": b64(raw),
        "sdk_sorted": b64(msg.SerializeToString(deterministic=True)),
        "decoded": decoded,
        # Whether re-encoding the decoded value must give `sdk_sorted` again
        # (false where decoding is lossy: int32 widened, empty fields dropped).
        "exact": exact,
    }


def dense(values, dtype: int, shape, np_dtype) -> pb.Tensor:
    return pb.Tensor(dense=np.asarray(values, dtype=np_dtype).tobytes(), dtype=dtype, shape=shape)


def samples() -> list:
    cases = []
    s1 = pb.SampledSequence(
        stop_reason=pb.STOP_REASON_STOP,
        tokens=np.array([5, 6, 7, -1], dtype=np.int32).tobytes(),
        logprobs=np.array([-0.5, -1.25, float("-inf"), 0.0], dtype=np.float32).tobytes(),
    )
    s2 = pb.SampledSequence(
        stop_reason=pb.STOP_REASON_LENGTH, tokens=np.array([9], dtype=np.int32).tobytes()
    )
    cases.append(
        response_case(
            "two sequences, prompt logprobs with NaN",
            "sample_response",
            pb.SampleResponse(
                sequences=[s1, s2],
                prompt_logprobs=np.array([float("nan"), -2.5, -0.125], dtype=np.float32).tobytes(),
                prompt_cache_hit_tokens=128,
            ),
            exact=True,
        )
    )
    cases.append(
        response_case(
            "top-k logprobs, prompt and sampled",
            "sample_response",
            pb.SampleResponse(
                sequences=[
                    pb.SampledSequence(
                        stop_reason=pb.STOP_REASON_LENGTH,
                        tokens=np.array([1, 2, 3], dtype=np.int32).tobytes(),
                        logprobs=np.array([-1, -2, -3], dtype=np.float32).tobytes(),
                        topk_sampled_logprobs=topk_msg(3, 4, 1),
                    )
                ],
                topk_prompt_logprobs=topk_msg(5, 2, 2),
            ),
            exact=True,
        )
    )
    cases.append(
        response_case(
            "target prompt logprobs and alternative tokens",
            "sample_response",
            pb.SampleResponse(
                sequences=[pb.SampledSequence(tokens=np.array([4], dtype=np.int32).tobytes())],
                target_prompt_logprobs=dense(
                    [-0.5, 0.0, -1.5, -3.0], pb.DTYPE_FLOAT32, [2, 2], np.float32
                ),
                prompt_alt_tokens=pb.PromptAltTokens(
                    tokens=dense([10, 11, 12, 13, 14, 15], pb.DTYPE_INT32, [2, 3], np.int32),
                    logprobs=dense(
                        [-1, -2, -3, -4, -5, -6], pb.DTYPE_FLOAT32, [2, 3], np.float32
                    ),
                ),
            ),
        )
    )
    cases.append(
        response_case(
            "sparse target prompt logprobs, empty optional fields",
            "sample_response",
            pb.SampleResponse(
                sequences=[pb.SampledSequence(logprobs=b"")],
                prompt_logprobs=b"",
                topk_prompt_logprobs=pb.TopkLogprobs(),
                target_prompt_logprobs=pb.Tensor(
                    sparse_csr=pb.SparseCsr(
                        values=np.array([-0.25, -4.0], dtype=np.float32).tobytes(),
                        crow_indices=np.array([0, 1, 2], dtype=np.int64).tobytes(),
                        col_indices=np.array([1, 0], dtype=np.int64).tobytes(),
                    ),
                    dtype=pb.DTYPE_FLOAT32,
                    shape=[2, 3],
                ),
            ),
        )
    )
    cases.append(response_case("no sequences", "sample_response", pb.SampleResponse(), exact=True))
    return cases


def batched(arrays, dtype: int, np_dtype, trailing=()) -> pb.BatchedTensor:
    parts = [np.asarray(a, dtype=np_dtype).tobytes() for a in arrays]
    offsets = np.cumsum([0] + [len(p) for p in parts]).astype(np.int64)
    return pb.BatchedTensor(
        data=b"".join(parts), offsets=offsets.tobytes(), dtype=dtype, trailing_shape=list(trailing)
    )


def outputs() -> list:
    rng = np.random.default_rng(7)
    cases = []
    lengths = [3, 0, 5]
    rec = pb.ArrayRecord(type_tag="ArrayRecord", num_datums=3)
    rec.fields["logprobs"].CopyFrom(
        batched([-rng.random(n) for n in lengths], pb.DTYPE_FLOAT32, np.float32)
    )
    rec.fields["elementwise_loss"].CopyFrom(
        batched([rng.random(n) for n in lengths], pb.DTYPE_FLOAT32, np.float32)
    )
    msg = pb.ForwardBackwardOutput(loss_fn_output_type="ArrayRecord", loss_fn_outputs=[rec])
    msg.metrics["loss:sum"] = 3.75
    msg.metrics["clock_cycle:unique"] = 12.0
    msg.metrics["nan:mean"] = float("nan")
    cases.append(response_case("one record, ragged datums", "forward_backward_output", msg, True))

    one = pb.ArrayRecord(type_tag="ArrayRecord", num_datums=2)
    one.fields["logprobs"].CopyFrom(batched([[-1.5, -0.5], [-2.0]], pb.DTYPE_FLOAT32, np.float32))
    msg = pb.ForwardBackwardOutput(loss_fn_output_type="ArrayRecord", loss_fn_outputs=[one])
    msg.metrics["loss:sum"] = -0.0
    cases.append(response_case("one field", "forward_backward_output", msg, exact=True))

    a = pb.ArrayRecord(num_datums=1)
    a.fields["topk"].CopyFrom(batched([[1, 2, 3, 4]], pb.DTYPE_INT32, np.int32, trailing=[2]))
    a.fields["bf16"].CopyFrom(
        batched([np.array([0x3F80, 0xC000, 0x7FC0], dtype=np.uint16)], pb.DTYPE_BFLOAT16, np.uint16)
    )
    b = pb.ArrayRecord(num_datums=2)
    b.fields["topk"].CopyFrom(
        batched([[5, 6, 7], [8, 9, 10, 11, 12, 13]], pb.DTYPE_INT64, np.int64, trailing=[3])
    )
    b.fields["bf16"].CopyFrom(
        batched([np.array([0x4040], np.uint16), np.array([], np.uint16)], pb.DTYPE_BFLOAT16, np.uint16)
    )
    msg = pb.ForwardBackwardOutput(
        loss_fn_output_type="tinker.losses:TorchLossReturn", loss_fn_outputs=[a, b]
    )
    cases.append(response_case("two records, int32/int64/bf16", "forward_backward_output", msg))

    legacy = pb.ArrayRecord()  # num_datums unset: counted from the first field
    legacy.fields["logprobs"].CopyFrom(batched([[-1.0], [-2.0]], pb.DTYPE_FLOAT32, np.float32))
    cases.append(
        response_case(
            "num_datums unset",
            "forward_backward_output",
            pb.ForwardBackwardOutput(loss_fn_output_type="ArrayRecord", loss_fn_outputs=[legacy]),
        )
    )
    msg = pb.ForwardBackwardOutput()
    msg.metrics["loss:sum"] = 1.0
    cases.append(response_case("no outputs", "forward_backward_output", msg))
    return cases


if __name__ == "__main__":
    json.dump(requests() + samples() + outputs(), sys.stdout, allow_nan=False)
