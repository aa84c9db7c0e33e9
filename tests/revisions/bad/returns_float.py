"""Broken on purpose: compute_tlb_inval_range returns a float."""

from nvtlbi.impl.revisions.upstream import ttl_to_size, get_guest_mapping_ttl  # noqa: F401
from nvtlbi.impl.kernel import *  # noqa: F401,F403


def compute_tlb_inval_range(mmu, val):
    return 0x40000000 / 1              # a Python float, not a C word
