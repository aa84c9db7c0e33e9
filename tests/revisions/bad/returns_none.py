"""Broken on purpose: compute_tlb_inval_range forgets its return statement
(C returns an unsigned long; Python returns None)."""

from nvtlbi.impl.revisions.upstream import ttl_to_size, get_guest_mapping_ttl  # noqa: F401
from nvtlbi.impl.kernel import *  # noqa: F401,F403


def compute_tlb_inval_range(mmu, val):
    max_size = unsigned_long(SZ_1G)
    WARN_ON(not max_size)
