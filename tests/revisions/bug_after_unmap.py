"""bug_after_unmap (test fixture, written for nvtlbi): upstream's ranges,
unmapped as upstream unmaps them, then BUG() on a TLBI without a TTL hint.

Every range is upstream's; only BUG() is reachable (by the guest, which
chooses the operand).  `nvtlbi diff` against upstream must say DIFFERENT."""

from nvtlbi.impl.revisions.upstream import compute_tlb_inval_range, get_guest_mapping_ttl, ttl_to_size  # noqa: F401
from nvtlbi.impl.kernel import *  # noqa: F401,F403


@kfunc
def s2_mmu_unmap_ipa(mmu, val: u64):
    base_addr = u64((val & GENMASK_ULL(35, 0)) << 12)
    max_size = unsigned_long(compute_tlb_inval_range(mmu, val))
    base_addr &= ~(max_size - 1)
    kvm_stage2_unmap_range(mmu, base_addr, max_size, True)
    if not FIELD_GET(TLBI_TTL_MASK, val):
        BUG()
