"""Runs ``tuft launch`` for the interop stage, with a watchdog.

    .venv-tuft/bin/python tests/interop/serve_tuft.py SECONDS [tuft launch options...]

The server exits by itself after SECONDS, or within a second of its parent
process going away (the test that started it was killed), so no TuFT process
outlives a test run. Set ``TUFT_CPU_TEST=1`` and put ``standins/`` on
``PYTHONPATH`` (the test does both, for this process only).
"""

from __future__ import annotations

import os
import sys
import threading
import time

limit = float(sys.argv[1])
parent = os.getppid()
started = time.monotonic()


def watchdog() -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(3)
        if time.monotonic() - started > limit:
            print(f"serve_tuft: watchdog: stopping TuFT after {limit:.0f} s", file=sys.stderr)
            os._exit(4)


threading.Thread(target=watchdog, daemon=True).start()

from tuft.cli import main  # noqa: E402

sys.argv = ["tuft", "launch", *sys.argv[2:]]
main()
