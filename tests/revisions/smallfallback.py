"""smallfallback (broken on purpose): upstream with a 2M instead of 1G fallback for 4K.

Provenance: "[PATCH v3 13/16] KVM: arm64: nv: Invalidate TLBs based on shadow
S2 TTL-like information", Marc Zyngier, 14 Jun 2024,
Message-Id 20240614144552.2773592-14-maz@kernel.org, applied as 809b2e6013a5
(with d1de1576dc21 for ttl_to_size / compute_tlb_inval_range).  Same as the
v2 in the seed plus the lockdep assertion Oliver Upton asked for.

Only compute_tlb_inval_range differs from upstream; the rest is imported.
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
        ttl = u8(get_guest_mapping_ttl(mmu, addr))

    max_size = unsigned_long(ttl_to_size(ttl))

    if not max_size:
        # fall back to the largest block the guest granule allows
        tg = mmu.tlb_vtcr & VTCR_EL2_TG0_MASK
        if tg == VTCR_EL2_TG0_4K:
            max_size = unsigned_long(SZ_2M)   # BROKEN: smaller than a 4K-granule L1 block
        elif tg == VTCR_EL2_TG0_16K:
            max_size = unsigned_long(SZ_32M)
        else:                           # 64K or reserved; 4TB once 52-bit IPA exists
            max_size = unsigned_long(SZ_512M)

    WARN_ON(not max_size)
    return max_size
