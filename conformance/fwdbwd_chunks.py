"""How the official Python SDK (tinker 0.38.0) chunks a forward_backward batch
and combines the chunks' results, for ``_fwdbwd_chunks_test.ts``.

Reads one JSON document on stdin ``{"chunking": [...], "combining": [...]}``:
- a chunking case is ``{"limits": {"maxChunkLen", "maxChunkBytes"}, "datums":
  [{"tokens": n, "images": [bytes...], "inputs": {key: {"dtype", "size",
  "sparse_rows"?}}}]}``; the SDK's own ``TrainingClient._chunked_requests_generator``
  splits it;
- a combining case is a list of ``{"outputs": n, "metrics": {...}}`` results;
  the SDK's ``combine_fwd_bwd_output_results`` merges them.

Prints ``{"chunking": [[[datums, estimated_bytes], ...], ...], "combining": [metrics, ...]}``.
"""

from __future__ import annotations

import json
import sys
from types import SimpleNamespace

import numpy as np

from tinker import types
from tinker.lib.chunked_fwdbwd_helpers import combine_fwd_bwd_output_results
from tinker.lib.public_interfaces.training_client import TrainingClient

args = json.loads(sys.stdin.read())


def tensor(spec: dict) -> types.TensorData:
    np_dtype = np.float32 if spec["dtype"] == "float32" else np.int64
    rows = spec.get("sparse_rows")
    if rows is None:
        return types.TensorData(data=np.ones(spec["size"], np_dtype), dtype=spec["dtype"], shape=[spec["size"]])
    # A sparse tensor with `size` values spread over `rows` rows.
    per_row = [spec["size"] // rows + (1 if r < spec["size"] % rows else 0) for r in range(rows)]
    crow = np.concatenate([[0], np.cumsum(per_row)]).tolist()
    cols = [c for n in per_row for c in range(n)]
    return types.TensorData(
        data=np.ones(spec["size"], np_dtype),
        dtype=spec["dtype"],
        shape=[rows, max(per_row) if per_row else 0],
        sparse_crow_indices=crow,
        sparse_col_indices=cols,
    )


def datum(spec: dict) -> types.Datum:
    chunks = [types.EncodedTextChunk(tokens=list(range(spec["tokens"])))]
    chunks += [types.ImageChunk(data=bytes(n), format="png", expected_tokens=1) for n in spec.get("images", [])]
    return types.Datum(
        model_input=types.ModelInput(chunks=chunks),
        loss_fn_inputs={k: tensor(v) for k, v in spec["inputs"].items()},
    )


def chunking(case: dict) -> list:
    cfg = types.ClientConfigResponse(
        fwdbwd_max_chunk_len=case["limits"]["maxChunkLen"],
        fwdbwd_max_chunk_bytes_count=case["limits"]["maxChunkBytes"],
    )
    fake = SimpleNamespace(holder=SimpleNamespace(_client_config=cfg))
    data = [datum(d) for d in case["datums"]]
    return [
        [len(c.data), c.estimated_bytes_count]
        for c in TrainingClient._chunked_requests_generator(fake, data)  # type: ignore[arg-type]
    ]


def combining(case: list) -> dict:
    results = [
        types.ForwardBackwardOutput(
            loss_fn_output_type="ArrayRecord",
            loss_fn_outputs=[{}] * r["outputs"],
            metrics=r["metrics"],
        )
        for r in case
    ]
    return combine_fwd_bwd_output_results(results).metrics


print(
    json.dumps(
        {
            "chunking": [chunking(c) for c in args["chunking"]],
            "combining": [combining(c) for c in args["combining"]],
        }
    )
)
