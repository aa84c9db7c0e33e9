"""Broken on purpose: a concrete endless loop, on no symbolic value (see tests/test_process.py)."""

from nvtlbi.impl.revisions.upstream import ttl_to_size, get_guest_mapping_ttl  # noqa: F401
from nvtlbi.impl.kernel import *  # noqa: F401,F403


@kfunc
def compute_tlb_inval_range(mmu, val: u64) -> unsigned_long:
    while True:
        pass
