"""Import-time stand-ins for packages TuFT imports but never uses in its CPU test mode.

TuFT 0.2.2 imports ``torch``, ``peft`` and ``ray`` at module level even when
``TUFT_CPU_TEST=1`` selects its numpy-only dummy backends. The real packages
are gigabytes (PyPI's torch wheel pulls the CUDA libraries), so the interop
stage puts this directory on the TuFT server's PYTHONPATH instead. Every
module and attribute here imports and resolves, so class definitions,
decorators and type annotations work; calling or instantiating anything
raises at once, naming what TuFT tried to use. Nothing here is ever
installed into a venv.
"""

import importlib.abc
import importlib.machinery
import sys
import types


class StandinUsed(RuntimeError):
    """Raised when TuFT actually uses a stand-in instead of only importing it."""


class _StandinMeta(type):
    def __getattr__(cls, name: str):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return _standin(f"{cls.__qualname__}.{name}")

    def __call__(cls, *args, **kwargs):
        # Applied as a decorator at import time (``@once_differentiable``):
        # the function is returned unchanged; its body, if ever run, hits
        # stand-ins itself.
        if len(args) == 1 and not kwargs and isinstance(args[0], types.FunctionType):
            return args[0]
        raise StandinUsed(
            f"{cls.__qualname__} is an import-time stand-in (the interop stage runs "
            "TuFT's CPU test mode without it); TuFT tried to use it"
        )

    def __or__(cls, other):
        return cls

    def __ror__(cls, other):
        return cls

    def __getitem__(cls, item):
        return cls

    def __repr__(cls):
        return f"<stand-in {cls.__qualname__}>"


def _standin(qualname: str) -> type:
    cls = _StandinMeta(qualname.rsplit(".", 1)[-1], (), {})
    cls.__qualname__ = qualname
    return cls


class _Module(types.ModuleType):
    def __getattr__(self, name: str):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        value = _standin(f"{self.__name__}.{name}")
        setattr(self, name, value)
        return value


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, root: str) -> None:
        self.root = root

    def find_spec(self, fullname, path=None, target=None):
        if fullname.startswith(self.root + "."):
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _Module(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


def install(module: types.ModuleType) -> None:
    """Turns the package ``module`` (and every submodule of it) into stand-ins."""
    module.__class__ = _Module
    sys.meta_path.insert(0, _Finder(module.__name__))
