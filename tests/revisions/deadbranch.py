"""deadbranch (broken on purpose): upstream plus a branch the assumptions
make unreachable, to show that branch coverage flags it."""

from nvtlbi.impl.revisions.upstream import get_guest_mapping_ttl, ttl_to_size  # noqa: F401
from nvtlbi.impl.revisions import upstream
from nvtlbi.impl.kernel import *  # noqa: F401,F403


@kfunc
def compute_tlb_inval_range(mmu, val: u64) -> unsigned_long:
    size = unsigned_long(upstream.compute_tlb_inval_range(mmu, val))
    if size > SZ_1G:
        # no path gets here: every size upstream returns is at most 1G
        size = unsigned_long(SZ_4K)
    return size
