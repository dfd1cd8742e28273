"""The official Python SDK's side of bench/sample_bench.ts.

Against an already running fake server, with `tinker.ServiceClient` (0.38):
sequential `await sampler.sample(...)`, sequential `compute_logprobs`, and
rounds of concurrent samples with `asyncio.gather`.

    .venv/bin/python bench/sample_bench.py '{"url": "...", "apiKey": "...", "calls": 300, "concurrent": 32}'

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
PROMPT = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3]


async def main() -> dict:
    service = tinker.ServiceClient(base_url=args["url"], api_key=args["apiKey"])
    sampler = await service.create_sampling_client(base_model="Qwen/Qwen3-8B")
    prompt = types.ModelInput.from_ints(PROMPT)
    params = types.SamplingParams(max_tokens=8, seed=1)
    calls, concurrent = args["calls"], args["concurrent"]
    for _ in range(20):  # warm-up
        await sampler.sample(prompt, 1, params)
    started = time.perf_counter()
    for _ in range(calls):
        await sampler.sample(prompt, 1, params)
    sample_ms = (time.perf_counter() - started) * 1000 / calls
    started = time.perf_counter()
    for _ in range(calls):
        await sampler.compute_logprobs(prompt)
    logprobs_ms = (time.perf_counter() - started) * 1000 / calls
    rounds = 5
    started = time.perf_counter()
    for _ in range(rounds):
        await asyncio.gather(*(sampler.sample(prompt, 1, params) for _ in range(concurrent)))
    concurrent_ms = (time.perf_counter() - started) * 1000 / rounds
    service.close("success")
    return {
        "runtime": f"Python {sys.version.split()[0]}, tinker {tinker.__version__}",
        "sampleMs": sample_ms,
        "logprobsMs": logprobs_ms,
        "concurrentMs": concurrent_ms,
    }


print(json.dumps(asyncio.run(main())))
