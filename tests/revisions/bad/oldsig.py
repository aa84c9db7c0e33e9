"""Broken on purpose: the 2020-2023 calling convention
compute_tlb_inval_range(vcpu, mmu, val), run by nvtlbi's current caller,
which passes (mmu, val).  A signature mismatch is a usage error, never a
counterexample (tests/test_toolfail.py)."""

from nvtlbi.impl.revisions.upstream import ttl_to_size, get_guest_mapping_ttl  # noqa: F401
from nvtlbi.impl.kernel import *  # noqa: F401,F403


@kfunc
def compute_tlb_inval_range(vcpu, mmu, val: u64) -> unsigned_long:
    return unsigned_long(SZ_1G)
