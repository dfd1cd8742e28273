"""Import-time stand-in for `torch` (see ../_standin.py)."""

import sys

import _standin

# TuFT compares this with "2.6" at import time to pick an FSDP import path.
__version__ = "2.11.0+standin"

_standin.install(sys.modules[__name__])
