"""Broken on purpose: Python the symbolic engine cannot follow (see tests/test_userfault.py)."""

from nvtlbi.impl.revisions.upstream import ttl_to_size, get_guest_mapping_ttl  # noqa: F401
from nvtlbi.impl.kernel import *  # noqa: F401,F403


@kfunc
def compute_tlb_inval_range(mmu, val: u64) -> unsigned_long:
    size = unsigned_long(SZ_4K)
    while size != val:
        size += 1
    return size
