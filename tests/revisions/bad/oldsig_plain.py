"""Broken on purpose: as oldsig.py, without @kfunc (Python itself rejects
the call, in nvtlbi's caller)."""

from nvtlbi.impl.revisions.upstream import ttl_to_size, get_guest_mapping_ttl  # noqa: F401
from nvtlbi.impl.kernel import *  # noqa: F401,F403


def compute_tlb_inval_range(vcpu, mmu, val):
    return unsigned_long(SZ_1G)
