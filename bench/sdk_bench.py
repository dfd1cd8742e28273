"""The official Python SDK's side of `deno task bench` (bench/lib_bench.ts is ours).

Against an already running fake server, with `tinker.RestClient` (0.38):
- per-call: sequential `await rest.get_training_run(id)`;
- paging: `list_user_checkpoints(limit=100, offset=...)` until `cursor.total_count`;
- concurrency: `asyncio.gather` of concurrent `get_training_run` calls.

    .venv/bin/python bench/sdk_bench.py '{"url": "...", "apiKey": "...", "runId": "..."}'

Prints one line of JSON (times in milliseconds). Not a test.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
import warnings

import tinker

warnings.simplefilter("ignore")

args = json.loads(sys.argv[1])
calls = args.get("calls", 2000)
concurrent = args.get("concurrent", 100)
only = args.get("only")


async def main() -> dict:
    rest = tinker.RestClient(base_url=args["url"], api_key=args["apiKey"])
    run_id = args["runId"]
    out: dict = {"runtime": f"Python {sys.version.split()[0]}, tinker {tinker.__version__}"}

    for _ in range(100 if only is None else 5):  # warm-up: bootstrap, connections
        await rest.get_training_run(run_id)

    if only in (None, "perCall"):
        started = time.perf_counter()
        for _ in range(calls):
            await rest.get_training_run(run_id)
        out["perCall"] = {"calls": calls, "meanMs": (time.perf_counter() - started) * 1000 / calls}

    if only in (None, "paging"):
        times = []
        items = 0
        pages = 0
        for repeat in range(args.get("pagingRepeats", 3) + 1):
            started = time.perf_counter()
            items = pages = offset = 0
            while True:
                page = await rest.list_user_checkpoints(limit=100, offset=offset)
                pages += 1
                items += len(page.checkpoints)
                offset += len(page.checkpoints)
                total = page.cursor.total_count if page.cursor else None
                if not page.checkpoints or total is None or offset >= total:
                    break
            if repeat > 0:
                times.append((time.perf_counter() - started) * 1000)
        expected = args.get("pagingItems")
        if expected is not None and items != expected:
            raise SystemExit(f"paging walked {items} items, expected {expected}")
        out["paging"] = {"items": items, "pages": pages, "medianMs": statistics.median(times)}

    if only in (None, "concurrency"):
        times = []
        for repeat in range(args.get("concurrencyRepeats", 10) + 1):
            started = time.perf_counter()
            runs = await asyncio.gather(*(rest.get_training_run(run_id) for _ in range(concurrent)))
            assert len(runs) == concurrent
            if repeat > 0:
                times.append((time.perf_counter() - started) * 1000)
        out["concurrency"] = {"calls": concurrent, "medianMs": statistics.median(times)}
    return out


print(json.dumps(asyncio.run(main())), flush=True)
