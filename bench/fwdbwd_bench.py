"""The official Python SDK's side of bench/fwdbwd_bench.ts.

Against an already running fake server, with `tinker.ServiceClient` (0.38):
one LoRA training client, then sequential `forward_backward` calls of the
same realistic batch (each: protobuf request, future, protobuf result).

    .venv/bin/python bench/fwdbwd_bench.py '{"url": "...", "apiKey": "...", "calls": 20, "datums": 64, "tokens": 512}'

Prints one line of JSON (times in milliseconds). Not a test.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import warnings

import tinker
from tinker import types

warnings.simplefilter("ignore")

args = json.loads(sys.argv[1])


def batch() -> list[types.Datum]:
    out = []
    for i in range(args["datums"]):
        tokens = [(i * 7 + j * 13) % 50000 for j in range(args["tokens"] + 1)]
        out.append(
            types.Datum(
                model_input=types.ModelInput.from_ints(tokens[:-1]),
                loss_fn_inputs={
                    "target_tokens": tokens[1:],
                    "weights": [0.0 if j < 64 else 1.0 for j in range(args["tokens"])],
                },
            )
        )
    return out


async def main() -> dict:
    service = tinker.ServiceClient(base_url=args["url"], api_key=args["apiKey"])
    training = await service.create_lora_training_client("Qwen/Qwen3-8B")
    data = batch()
    for _ in range(3):  # warm-up
        await training.forward_backward(data, "cross_entropy")
    started = time.perf_counter()
    for _ in range(args["calls"]):
        await training.forward_backward(data, "cross_entropy")
    fwdbwd_ms = (time.perf_counter() - started) * 1000 / args["calls"]
    service.close("success")
    return {
        "runtime": f"Python {sys.version.split()[0]}, tinker {tinker.__version__}",
        "fwdbwdMs": fwdbwd_ms,
    }


print(json.dumps(asyncio.run(main())))
