"""Broken on purpose: ttl_to_size returns a str where C returns an unsigned
int (the @kfunc return conversion rejects it)."""

from nvtlbi.impl.revisions.upstream import get_guest_mapping_ttl  # noqa: F401
from nvtlbi.impl.kernel import *  # noqa: F401,F403


@kfunc
def ttl_to_size(ttl: u8) -> unsigned_int:
    return "SZ_1G"


@kfunc
def compute_tlb_inval_range(mmu, val: u64) -> unsigned_long:
    max_size = unsigned_long(ttl_to_size(FIELD_GET(TLBI_TTL_MASK, val)))
    return max_size
