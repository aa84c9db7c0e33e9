"""warn_excused (test fixture, written for nvtlbi): upstream's ranges, plus a
WARN_ON on a TLBI whose valid TTL names another granule than the MMU's.

Such a TLBI is excused for T (C5.5.13: nothing is required of its range),
yet the warning is an effect on the host: equivalence restricted to the
TLBIs the architecture obliges (mutation's EXCUSED class) must still see it."""

from nvtlbi.impl.revisions.upstream import compute_tlb_inval_range as _upstream_range
from nvtlbi.impl.revisions.upstream import get_guest_mapping_ttl, ttl_to_size  # noqa: F401
from nvtlbi.impl.kernel import *  # noqa: F401,F403


@kfunc
def compute_tlb_inval_range(mmu, val: u64) -> unsigned_long:
    kvm = kvm_s2_mmu_to_kvm(mmu)
    max_size = unsigned_long(_upstream_range(mmu, val))
    ttl = u8(FIELD_GET(TLBI_TTL_MASK, val))
    tg = mmu.tlb_vtcr & VTCR_EL2_TG0_MASK
    if tg == VTCR_EL2_TG0_4K:
        gran = TLBI_TTL_TG_4K
    elif tg == VTCR_EL2_TG0_16K:
        gran = TLBI_TTL_TG_16K
    else:
        gran = TLBI_TTL_TG_64K
    hinted = kvm_has_feat(kvm, ID_AA64MMFR2_EL1, TTL, IMP) and (ttl >> 2) != 0
    WARN_ON(hinted and (ttl >> 2) != gran)
    return max_size
