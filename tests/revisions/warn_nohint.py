"""warn_nohint (test fixture, written for nvtlbi): upstream's ranges, plus a
WARN_ON that fires on every TLBI whose operand carries no TTL hint.

The guest chooses the operand, so the warning is guest-reachable: the host
log fills with backtraces while every range stays upstream's.  `nvtlbi diff`
against upstream must say DIFFERENT (the WARN_ON), never EQUIVALENT."""

from nvtlbi.impl.revisions.upstream import compute_tlb_inval_range as _upstream_range
from nvtlbi.impl.revisions.upstream import get_guest_mapping_ttl, ttl_to_size  # noqa: F401
from nvtlbi.impl.kernel import *  # noqa: F401,F403


@kfunc
def compute_tlb_inval_range(mmu, val: u64) -> unsigned_long:
    max_size = unsigned_long(_upstream_range(mmu, val))
    WARN_ON(not FIELD_GET(TLBI_TTL_MASK, val))     # the slip: a guest-chosen operand
    return max_size
