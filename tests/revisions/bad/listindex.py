"""Broken on purpose: Python the symbolic engine cannot follow (see tests/test_userfault.py)."""

from nvtlbi.impl.revisions.upstream import ttl_to_size, get_guest_mapping_ttl  # noqa: F401
from nvtlbi.impl.kernel import *  # noqa: F401,F403

SIZES = [0, SZ_1G, SZ_2M, SZ_4K]


@kfunc
def compute_tlb_inval_range(mmu, val: u64) -> unsigned_long:
    ttl = u8(FIELD_GET(TLBI_TTL_MASK, val))
    return unsigned_long(SIZES[ttl & 3])
