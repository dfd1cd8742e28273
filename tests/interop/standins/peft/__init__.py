"""Import-time stand-in for `peft` (see ../_standin.py)."""

import sys

import _standin

_standin.install(sys.modules[__name__])
