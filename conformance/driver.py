"""Runs one conformance scenario's steps with the official Python SDK.

    .venv/bin/python conformance/driver.py BASE_URL API_KEY < steps.json

stdin: {"steps": [step, ...]}; a step is
  {"call": "rest.get_training_run", "args": [...], "kwargs": {...}}
  {"call": "service.create_training_client_from_state", ..., "save": "training"}
    (the result is kept as client "training" for later steps, reported as its get_info())
  {"paginate": "rest.list_training_runs", "kwargs": {...}, "items": "training_runs"}
Arguments may be {"$date": "2025-01-15"}, {"$datetime": "<iso>"},
{"$model": "SessionSearchRequest", "fields": {...}} or
{"$datum": {"tokens": [...], "inputs": {"target_tokens": [...], ...}}} (a types.Datum);
"{model}" in a string becomes the saved "training" client's model id.
stdout: {"results": [{"ok": <json>} | {"error": {"class", "status", "body", "message"}}, ...]}
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import warnings
from datetime import date, datetime
from typing import Any

warnings.simplefilter("ignore")  # deprecated shims, ExperimentalWarning, sync-in-async notes

import pydantic  # noqa: E402
import tinker  # noqa: E402
from tinker import types  # noqa: E402

base_url, api_key = sys.argv[1], sys.argv[2]
clients: dict[str, Any] = {}


def client(name: str) -> Any:
    if name not in clients:
        if name == "rest" and not hasattr(tinker, "AdminClient"):
            # SDK 0.25 (pinned by self-hosted peers such as TuFT): a RestClient
            # comes only from a ServiceClient.
            service = tinker.ServiceClient(base_url=base_url, api_key=api_key)
            clients[name] = service.create_rest_client()
            return clients[name]
        cls = {
            "rest": tinker.RestClient,
            "admin": tinker.AdminClient,
            "service": tinker.ServiceClient,
        }[name]
        clients[name] = cls(base_url=base_url, api_key=api_key)
    return clients[name]


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if "$date" in value:
            return date.fromisoformat(value["$date"])
        if "$datetime" in value:
            return datetime.fromisoformat(value["$datetime"])
        if "$model" in value:
            return getattr(types, value["$model"])(**decode(value["fields"]))
        if "$datum" in value:
            spec = value["$datum"]
            return types.Datum(
                model_input=types.ModelInput.from_ints(spec["tokens"]),
                loss_fn_inputs=spec["inputs"],
            )
        if "$ints" in value:
            return types.ModelInput.from_ints(value["$ints"])
        if "$tensor" in value:
            return types.TensorData(**value["$tensor"])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, str) and "{model}" in value:
        return value.replace("{model}", clients["training"].model_id)
    return value


def encode(value: Any) -> Any:
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, types.SampleResponse):
        return encode_sample(value)
    if isinstance(value, types.TensorData):
        return {"data": value.tolist(), "dtype": value.dtype, "shape": value.shape}
    if isinstance(value, types.ForwardBackwardOutput):
        return {
            "loss_fn_output_type": value.loss_fn_output_type,
            "loss_fn_outputs": [{k: encode(v) for k, v in o.items()} for o in value.loss_fn_outputs],
            "metrics": value.metrics,
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return encode(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [encode(v) for v in value]
    return value


def encode_sample(value: Any) -> dict[str, Any]:
    """A sample result as the JSON the TypeScript side reports (`conformance/scenarios_sampling.ts`)."""
    return {
        "sequences": [
            {
                "stop_reason": s.stop_reason,
                "sequence_id": s.sequence_id,
                "tokens": list(s.tokens),
                "logprobs": None if s.logprobs is None else [float(x) for x in s.logprobs],
                "topk_logprobs": None if s.topk_logprobs is None else [
                    None if row is None else [[int(i), float(lp)] for i, lp in row]
                    for row in s.topk_logprobs
                ],
            }
            for s in value.sequences
        ],
        "prompt_logprobs": None if value.prompt_logprobs is None else [
            None if x is None else float(x) for x in value.prompt_logprobs
        ],
        "topk_prompt_logprobs": None if value.topk_prompt_logprobs is None else [
            None if row is None else [[int(i), float(lp)] for i, lp in row]
            for row in value.topk_prompt_logprobs
        ],
        "prompt_cache_hit_tokens": value.prompt_cache_hit_tokens,
        "target_prompt_logprobs": encode_tensor(value.target_prompt_logprobs),
        "prompt_alt_tokens": None if value.prompt_alt_tokens is None else {
            "tokens": encode_tensor(value.prompt_alt_tokens.tokens),
            "logprobs": encode_tensor(value.prompt_alt_tokens.logprobs),
        },
    }


def encode_tensor(td: Any) -> Any:
    """A TensorData as its fields (sparse indices only when set)."""
    if td is None:
        return None
    out = {"data": [float(x) if td.dtype == "float32" else int(x) for x in td.data],
           "dtype": td.dtype, "shape": list(td.shape) if td.shape is not None else None}
    if td.sparse_crow_indices is not None:
        out["sparse_crow_indices"] = list(td.sparse_crow_indices)
        out["sparse_col_indices"] = list(td.sparse_col_indices)
    return out


def method(target: str) -> Any:
    name, attr = target.split(".", 1)
    return getattr(client(name), attr)


def result(value: Any) -> Any:
    # RestClient methods return APIFuture (0.38); a few helpers return plain values.
    return value.result() if hasattr(value, "result") else value


def paginate(step: dict[str, Any]) -> list[Any]:
    """The SDK has no iterator: page with limit/offset as a caller would, until the cursor's
    total (or, without a cursor, a page shorter than the limit)."""
    kwargs = decode(step.get("kwargs", {}))
    limit, offset, items = kwargs["limit"], kwargs.get("offset", 0), []
    while True:
        page = result(method(step["paginate"])(**{**kwargs, "offset": offset}))
        got = getattr(page, step["items"])
        items.extend(got)
        offset += len(got)
        cursor = getattr(page, "cursor", None)
        if (cursor is not None and offset >= cursor.total_count) or (cursor is None and len(got) < limit):
            return [encode(i) for i in items]
        if not got:
            return [encode(i) for i in items]


def run(step: dict[str, Any]) -> dict[str, Any]:
    try:
        if "paginate" in step:
            return {"ok": paginate(step)}
        fn = method(step["call"])
        value = result(fn(*decode(step.get("args", [])), **decode(step.get("kwargs", {}))))
        if "save" in step:
            clients[step["save"]] = value
            # A sampling client has no get_info: it is reported by its base model.
            value = value.get_info() if hasattr(value, "get_info") else {
                "base_model": value.get_base_model()
            }
        return {"ok": encode(value)}
    except Exception as e:  # noqa: BLE001 - every failure is data here
        body = getattr(e, "body", None)
        try:
            json.dumps(body)
        except TypeError:
            body = repr(body)
        return {
            "error": {
                "class": type(e).__name__,
                "status": getattr(e, "status_code", None),
                "body": body,
                "message": str(e),
            }
        }


steps = json.load(sys.stdin)["steps"]
print(json.dumps({"results": [run(s) for s in steps]}))
sys.stdout.flush()
# The results are out; skip interpreter teardown, where the SDK's background
# threads occasionally abort the process (exit 134, nothing on stderr) after
# a run against TuFT.
os._exit(0)
