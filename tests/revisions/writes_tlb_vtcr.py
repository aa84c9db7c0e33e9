"""writes_tlb_vtcr (test fixture, written for nvtlbi): upstream's ranges,
with a compute_tlb_inval_range that rewrites a reserved TG0 (0b11) in
mmu->tlb_vtcr as 64K when it falls back.

The ranges are upstream's (a reserved TG0 reads as 64K either way), but
the MMU's cached VTCR_EL2 changes: lookup_s2_mmu compares the whole VTCR, so
the vCPU's next entry misses this MMU.  A TLBI handler only reads the MMU;
nvtlbi refuses the write (an error naming the line) rather than say
EQUIVALENT or PROVED for an effect it does not compare."""

from nvtlbi.impl.revisions.upstream import get_guest_mapping_ttl, ttl_to_size  # noqa: F401
from nvtlbi.impl.kernel import *  # noqa: F401,F403


@kfunc
def compute_tlb_inval_range(mmu, val: u64) -> unsigned_long:
    kvm = kvm_s2_mmu_to_kvm(mmu)

    ttl = u8(FIELD_GET(TLBI_TTL_MASK, val))

    if not ttl or not kvm_has_feat(kvm, ID_AA64MMFR2_EL1, TTL, IMP):
        # no usable hint in the operand: look for one in the shadow S2
        addr = u64((val & GENMASK_ULL(35, 0)) << 12)
        ttl = u8(get_guest_mapping_ttl(mmu, addr))

    max_size = unsigned_long(ttl_to_size(ttl))

    if not max_size:
        # fall back to the largest block the guest granule allows
        tg = mmu.tlb_vtcr & VTCR_EL2_TG0_MASK
        if tg == VTCR_EL2_TG0_MASK:
            # the slip: the reserved TG0 "normalised" to 64K in the cached copy
            # (lookup_s2_mmu then no longer matches the guest's VTCR_EL2)
            mmu.tlb_vtcr = (mmu.tlb_vtcr & ~VTCR_EL2_TG0_MASK) | VTCR_EL2_TG0_64K
        if tg == VTCR_EL2_TG0_4K:
            max_size = unsigned_long(SZ_1G)
        elif tg == VTCR_EL2_TG0_16K:
            max_size = unsigned_long(SZ_32M)
        else:                           # 64K or reserved; 4TB once 52-bit IPA exists
            max_size = unsigned_long(SZ_512M)

    WARN_ON(not max_size)
    return max_size
