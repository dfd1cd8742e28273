"""The official Python SDK's side of bench/proto_bench.ts: protobuf throughput.

Builds the same batch shape as the TypeScript side (``datums`` supervised
examples of ``tokens`` tokens: int32 token chunk, int64 ``target_tokens``,
float32 ``weights``) from numpy arrays, as a training loop would, and times
- encode: the SDK's ``forward_backward_request_to_proto(request).SerializeToString()``
  (what ``resources/training.py`` sends);
- decode: ``deserialize_forward_backward_output`` of a reply carrying one
  float32 ``logprobs`` per token (what ``retrieve_future`` returns).

    .venv/bin/python bench/proto_bench.py '{"datums": 64, "tokens": 2048, "seconds": 2}'

Prints one line of JSON: bytes per message and MB/s (1 MB = 10^6 bytes). Not a test.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

import tinker
from tinker import types
from tinker.proto import tinker_public_pb2 as pb
from tinker.proto.request_conv import forward_backward_request_to_proto
from tinker.proto.response_conv import deserialize_forward_backward_output

args = json.loads(sys.argv[1])
datums, tokens, seconds = args["datums"], args["tokens"], args.get("seconds", 2)
rng = np.random.default_rng(0)


def batch() -> types.ForwardBackwardRequest:
    data = []
    for _ in range(datums):
        ids = rng.integers(0, 151_000, size=tokens + 1)
        data.append(
            types.Datum(
                model_input=types.ModelInput.from_ints(ids[:-1].tolist()),
                loss_fn_inputs={
                    "target_tokens": ids[1:].astype(np.int64),
                    "weights": (rng.random(tokens) > 0.25).astype(np.float32),
                },
            )
        )
    return types.ForwardBackwardRequest(
        forward_backward_input=types.ForwardBackwardInput(data=data, loss_fn="cross_entropy"),
        model_id="bench-model",
        seq_id=1,
    )


def reply() -> bytes:
    parts = [(-rng.random(tokens)).astype(np.float32).tobytes() for _ in range(datums)]
    offsets = np.cumsum([0] + [len(p) for p in parts]).astype(np.int64)
    record = pb.ArrayRecord(type_tag="ArrayRecord", num_datums=datums)
    record.fields["logprobs"].CopyFrom(
        pb.BatchedTensor(data=b"".join(parts), offsets=offsets.tobytes(), dtype=pb.DTYPE_FLOAT32)
    )
    msg = pb.ForwardBackwardOutput(loss_fn_output_type="ArrayRecord", loss_fn_outputs=[record])
    msg.metrics["loss:sum"] = 1.0
    return msg.SerializeToString()


def rate(fn) -> tuple[int, float]:
    size = len(fn())  # warm-up
    runs, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        runs += 1
    elapsed = time.perf_counter() - start
    return size, size * runs / elapsed / 1e6


request = batch()
encode_bytes, encode = rate(lambda: forward_backward_request_to_proto(request).SerializeToString())
raw = reply()
_, decode = rate(lambda: (deserialize_forward_backward_output(raw), raw)[1])
print(
    json.dumps(
        {
            "runtime": f"Python {sys.version.split()[0]}, tinker {tinker.__version__}",
            "encodeBytes": encode_bytes,
            "encodeMBps": encode,
            "decodeBytes": len(raw),
            "decodeMBps": decode,
        }
    )
)
