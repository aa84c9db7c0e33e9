"""r2a_trust_ttl: TTL moved to nested.c and trusted unconditionally.

Provenance: "[PATCH v9 35/50] KVM: arm64: nv: Add handling of FEAT_TTL TLB
invalidation", Marc Zyngier, 5 Apr 2023,
Message-Id 20230405154008.3552854-36-maz@kernel.org (REVISIONS.md R2a).

Behaviour: in this patch alone the operand's TTL is used with no capability
check and no shadow probe; the fallback reads the guest VTCR cached in the
MMU (mmu->vtcr) and still BUG()s on an unknown TG0; the new per-MMU caller
recomputes the base for each MMU (no cumulative alignment).  Written by us."""

from nvtlbi.impl.kernel_2020 import *  # noqa: F401,F403


@kfunc
def ttl_to_size(ttl: u8) -> unsigned_int:
    level = c_int(ttl & 3)
    gran = c_int((ttl >> 2) & 3)
    max_size = unsigned_int(0)

    if gran == TLBI_TTL_TG_4K:
        if level == 1:
            max_size = unsigned_int(SZ_1G)
        elif level == 2:
            max_size = unsigned_int(SZ_2M)
        elif level == 3:
            max_size = unsigned_int(SZ_4K)
    elif gran == TLBI_TTL_TG_16K:
        if level == 2:
            max_size = unsigned_int(SZ_32M)
        elif level == 3:
            max_size = unsigned_int(SZ_16K)
    elif gran == TLBI_TTL_TG_64K:
        if level == 2:
            max_size = unsigned_int(SZ_512M)
        elif level == 3:
            max_size = unsigned_int(SZ_64K)
    return max_size



@kfunc
def compute_tlb_inval_range(mmu, val: u64) -> unsigned_long:
    ttl = u8(FIELD_GET(GENMASK_ULL(47, 44), val))
    max_size = unsigned_long(ttl_to_size(ttl))

    if not max_size:
        tg = mmu.vtcr & VTCR_EL2_TG0_MASK
        if tg == VTCR_EL2_TG0_4K:
            max_size = unsigned_long(SZ_1G)
        elif tg == VTCR_EL2_TG0_16K:
            max_size = unsigned_long(SZ_32M)
        elif tg == VTCR_EL2_TG0_64K:
            max_size = unsigned_long(SZ_512M)
        else:
            BUG()

    WARN_ON(not max_size)
    return max_size


@kfunc
def s2_mmu_unmap_ipa(mmu, val: u64):
    # s2_mmu_unmap_stage2_ipa(): called for each MMU, base recomputed each time
    base_addr = u64((val & GENMASK_ULL(35, 0)) << 12)
    max_size = unsigned_long(compute_tlb_inval_range(mmu, val))
    base_addr &= ~(max_size - 1)
    kvm_unmap_stage2_range(mmu, base_addr, max_size)
