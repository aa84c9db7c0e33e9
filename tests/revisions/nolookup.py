"""nolookup (imprecise on purpose): upstream without the shadow-S2 look-up.

A TLBI without a usable TTL always falls back to the largest block of the
guest granule.  Safe (P1-P4 hold) but imprecise: P5 must fail for nohint
and nofeat, and hold for match.  Only compute_tlb_inval_range differs from
upstream.
"""

from nvtlbi.impl.revisions.upstream import get_guest_mapping_ttl, ttl_to_size  # noqa: F401
from nvtlbi.impl.kernel import *  # noqa: F401,F403


@kfunc
def compute_tlb_inval_range(mmu, val: u64) -> unsigned_long:
    kvm = kvm_s2_mmu_to_kvm(mmu)

    ttl = u8(FIELD_GET(TLBI_TTL_MASK, val))

    if not ttl or not kvm_has_feat(kvm, ID_AA64MMFR2_EL1, TTL, IMP):
        # no usable hint in the operand: look for one in the shadow S2
        addr = u64((val & GENMASK_ULL(35, 0)) << 12)
        ttl = u8(0)                     # broken on purpose: no look-up

    max_size = unsigned_long(ttl_to_size(ttl))

    if not max_size:
        # fall back to the largest block the guest granule allows
        tg = mmu.tlb_vtcr & VTCR_EL2_TG0_MASK
        if tg == VTCR_EL2_TG0_4K:
            max_size = unsigned_long(SZ_1G)
        elif tg == VTCR_EL2_TG0_16K:
            max_size = unsigned_long(SZ_32M)
        else:                           # 64K or reserved; 4TB once 52-bit IPA exists
            max_size = unsigned_long(SZ_512M)

    WARN_ON(not max_size)
    return max_size
