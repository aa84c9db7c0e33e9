"""Broken on purpose: the Jun 2026 five-argument kvm_pgtable_get_leaf
(walk flags) in the 2024 vocabulary, whose kvm_pgtable_get_leaf takes four."""

from nvtlbi.impl.revisions.upstream import ttl_to_size  # noqa: F401
from nvtlbi.impl.kernel import *  # noqa: F401,F403


@kfunc
def compute_tlb_inval_range(mmu, val: u64) -> unsigned_long:
    pte = Ref(kvm_pte_t)
    addr = u64((val & GENMASK_ULL(35, 0)) << 12)
    if kvm_pgtable_get_leaf(mmu.pgt, addr, pte, NULL, 0):
        return unsigned_long(SZ_1G)
    return unsigned_long(SZ_1G)
