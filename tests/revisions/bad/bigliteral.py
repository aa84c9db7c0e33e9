"""Broken on purpose: Python integer arithmetic (1 << 64 is no C word)
reaching a conversion: OverflowError is Python's, not C's."""

from nvtlbi.impl.revisions.upstream import ttl_to_size, get_guest_mapping_ttl  # noqa: F401
from nvtlbi.impl.revisions.upstream import compute_tlb_inval_range as _upstream
from nvtlbi.impl.kernel import *  # noqa: F401,F403


@kfunc
def compute_tlb_inval_range(mmu, val: u64) -> unsigned_long:
    if val >> 63:
        return unsigned_long(1 << 64)
    return _upstream(mmu, val)
