"""Broken on purpose: a Python assert (C has BUG_ON, here BUG()) on the
operand: Python's AssertionError is not a C outcome."""

from nvtlbi.impl.revisions.upstream import ttl_to_size, get_guest_mapping_ttl  # noqa: F401
from nvtlbi.impl.revisions.upstream import compute_tlb_inval_range as _upstream
from nvtlbi.impl.kernel import *  # noqa: F401,F403


@kfunc
def compute_tlb_inval_range(mmu, val: u64) -> unsigned_long:
    assert not (val >> 63), "NS bit set"
    return _upstream(mmu, val)
