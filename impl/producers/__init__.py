"""Producers: the KVM code that creates and destroys shadow stage-2 state,
written as revisions are (kernel vocabulary, kernel names, provenance), so
that the simulator (impl/nested.py) runs the very module the invariant
proofs (model/transitions.py) run symbolically.

One bundled producer per kind, each with the function a file of that kind
must define (ENTRY):
  - `fault` (impl/producers/fault.py): `user_mem_abort(mmu, fault_ipa,
    nested, memslot, fault_is_perm, fault_granule)`, the nested part of the
    stage-2 fault;
  - `unmap` (impl/producers/unmap.py): `kvm_pgtable_stage2_unmap(pgt, addr,
    size)`, the unmap walk of a range;
  - `mmu` (impl/producers/mmu.py): `get_s2_mmu_nested(vcpu)` and
    `check_nested_vcpu_requests(vcpu)`, picking, recycling and emptying a
    shadow MMU;
  - `guest` (impl/producers/guest.py): `guest_write_vtcr(vcpu, val)`, the
    guest hypervisor's own VTCR_EL2 change.
`load(path, kind)` takes a file (tests/producers/ holds broken ones)."""

import importlib
import os
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from nvtlbi.impl import eras, linking
from nvtlbi.impl import revision as REV
from nvtlbi.impl.revision import RevisionError

# bundled producer (its module's name) -> the function a producer of that kind defines
ENTRY = {"fault": "user_mem_abort", "unmap": "kvm_pgtable_stage2_unmap", "mmu": "get_s2_mmu_nested",
         "guest": "guest_write_vtcr"}
BUNDLED = tuple(ENTRY)
ERA = "v2024"       # the vocabulary the producers import (impl/kernel.py plus impl/producers/mm.py)


@dataclass
class Producer:
    name: str
    path: str
    module: ModuleType
    kind: str = ""          # the bundled producer whose entry point it defines (ENTRY)

    def call(self, fn: str, *args: Any) -> Any:
        with eras.running(ERA):
            return getattr(self.module, fn)(*args)

    def user_mem_abort(self, *args: Any) -> Any:
        return self.call("user_mem_abort", *args)


def load(spec: str, kind: str = "") -> Producer:
    """`spec`: a bundled producer's name or a .py file; `kind`: the bundled
    producer whose entry point the file must define (default: the bundled
    name itself, or for a file the one kind whose entry point it has,
    defined or imported from the bundled producer it derives from)."""
    if spec.endswith(".py") or os.sep in spec:
        path = os.path.abspath(spec)
        name = os.path.splitext(os.path.basename(path))[0]
        module = REV.import_file(spec, path, f"nvtlbi_user_producer_{name}", what="producer")
    else:
        if spec not in BUNDLED:
            raise RevisionError(f"{spec}: no bundled producer of that name (have: {', '.join(BUNDLED)})")
        module = importlib.import_module(f"nvtlbi.impl.producers.{spec}")
        assert module.__file__ is not None
        name, path = spec, module.__file__
    if not kind:
        have = [k for k, fn in ENTRY.items() if callable(getattr(module, fn, None))]
        if len(have) > 1:
            raise RevisionError(f"{path}:1: producer has the entry points of several kinds "
                                f"({', '.join(ENTRY[k] for k in have)}): one file is one kind")
        kind = spec if spec in ENTRY else have[0] if have else "fault"
    missing = [f for f in (ENTRY[kind],) if not callable(getattr(module, f, None))]
    if missing:
        raise RevisionError(f"{path}:1: producer lacks {', '.join(missing)}")
    try:
        linking.link(module)        # a patch's imported user_mem_abort calls the patch's helpers
    except linking.LinkError as e:
        raise RevisionError(f"{path}:1: {e}") from None
    return Producer(name, path, module, kind)
