"""Producers: the KVM code that creates shadow stage-2 state, written as
revisions are (kernel vocabulary, kernel names, provenance), so that the
simulator (impl/nested.py) runs the very module model/invariants.py proves.

A producer module defines `user_mem_abort(mmu, fault_ipa, nested, memslot,
fault_is_perm, fault_granule)`: the nested part of the stage-2 fault.  The
bundled one is `fault` (impl/producers/fault.py); `load(path)` takes a
file (tests/producers/ holds broken ones)."""

import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from nvtlbi.impl import eras, linking
from nvtlbi.impl.revision import RevisionError

BUNDLED = ("fault",)
REQUIRED = ("user_mem_abort",)
ERA = "v2024"       # the vocabulary the producers import (impl/kernel.py plus impl/producers/mm.py)


@dataclass
class Producer:
    name: str
    path: str
    module: ModuleType

    def user_mem_abort(self, *args: Any) -> Any:
        with eras.running(ERA):
            return self.module.user_mem_abort(*args)


def load(spec: str) -> Producer:
    """`spec`: a bundled producer's name or a .py file."""
    if spec.endswith(".py") or os.sep in spec:
        path = os.path.abspath(spec)
        if not os.path.exists(path):
            raise RevisionError(f"{spec}: no such producer file")
        name = os.path.splitext(os.path.basename(path))[0]
        modname = f"nvtlbi_user_producer_{name}"
        try:
            mspec = importlib.util.spec_from_file_location(modname, path)
            if mspec is None or mspec.loader is None:
                raise ImportError("not a Python source file (.py)")
            module = importlib.util.module_from_spec(mspec)
            sys.modules[modname] = module
            mspec.loader.exec_module(module)
        except SyntaxError as e:
            raise RevisionError(f"{e.filename}:{e.lineno}: syntax error: {e.msg}") from None
        except Exception as e:  # the user's module failed while importing
            tb = e.__traceback__
            assert tb is not None
            while tb.tb_next is not None:
                tb = tb.tb_next
            raise RevisionError(f"{path}:{tb.tb_lineno}: import failed: {type(e).__name__}: {e}") from None
    else:
        if spec not in BUNDLED:
            raise RevisionError(f"{spec}: no bundled producer of that name (have: {', '.join(BUNDLED)})")
        module = importlib.import_module(f"nvtlbi.impl.producers.{spec}")
        assert module.__file__ is not None
        name, path = spec, module.__file__
    missing = [f for f in REQUIRED if not callable(getattr(module, f, None))]
    if missing:
        raise RevisionError(f"{path}:1: producer lacks {', '.join(missing)}")
    try:
        linking.link(module)        # a patch's imported user_mem_abort calls the patch's helpers
    except linking.LinkError as e:
        raise RevisionError(f"{path}:1: {e}") from None
    return Producer(name, path, module)
