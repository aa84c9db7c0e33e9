"""r3_tlb_vtcr: v11 rename of the cached VTCR and of the capability test.

Provenance: "[PATCH v11 35/43]" and "[PATCH v11 36/43]", Marc Zyngier,
20 Nov 2023, Message-Ids 20231120131027.854038-36-maz@kernel.org and
20231120131027.854038-37-maz@kernel.org (REVISIONS.md R3).

Behaviour: r2b with mmu->vtcr renamed mmu->tlb_vtcr and cpus_have_final_cap
replaced by cpus_have_final_cap: a change of form (`nvtlbi diff r2b_get_leaf
r3_tlb_vtcr`).  BUG() on an unknown TG0 remains.  Written by us."""

from nvtlbi.impl.kernel_2023 import *  # noqa: F401,F403
from nvtlbi.impl.revisions.r2a_trust_ttl import ttl_to_size  # unchanged  # noqa: F401


@kfunc
def get_guest_mapping_ttl(mmu, addr: u64) -> u8:
    # Walk the shadow S2 in depth only: probe the IPA aligned down to each
    # block size of the guest granule (cached in tlb_vtcr), smallest first,
    # and take the level tag of the first valid leaf that carries one.
    sz = u64(0)
    vtcr = u64(mmu.tlb_vtcr)
    pte = Ref(kvm_pte_t)

    tg = vtcr & VTCR_EL2_TG0_MASK
    if tg == VTCR_EL2_TG0_4K:
        ttl = u8(TLBI_TTL_TG_4K << 2)
    elif tg == VTCR_EL2_TG0_16K:
        ttl = u8(TLBI_TTL_TG_16K << 2)
    elif tg == VTCR_EL2_TG0_64K:
        ttl = u8(TLBI_TTL_TG_64K << 2)
    else:
        BUG()

    tmp = u64(addr)

    while True:                         # again:
        tg = vtcr & VTCR_EL2_TG0_MASK
        if tg == VTCR_EL2_TG0_4K:
            if sz < SZ_4K:
                sz = u64(SZ_4K)
            elif sz < SZ_2M:
                sz = u64(SZ_2M)
            elif sz < SZ_1G:
                sz = u64(SZ_1G)
            else:
                sz = u64(0)
        elif tg == VTCR_EL2_TG0_16K:
            if sz < SZ_16K:
                sz = u64(SZ_16K)
            elif sz < SZ_32M:
                sz = u64(SZ_32M)
            else:
                sz = u64(0)
        elif tg == VTCR_EL2_TG0_64K:      # nvtlbi: dead-ok (the first switch BUG()s on a reserved TG0)
            if sz < SZ_64K:
                sz = u64(SZ_64K)
            elif sz < SZ_512M:
                sz = u64(SZ_512M)
            else:
                sz = u64(0)
        else:
            BUG()

        if sz == 0:
            return 0

        tmp &= ~(sz - 1)
        if kvm_pgtable_get_leaf(mmu.pgt, tmp, pte, NULL):
            continue                    # goto again
        if not (pte.val & PTE_VALID):
            continue                    # goto again
        level = u8(FIELD_GET(KVM_NV_GUEST_MAP_SZ, pte.val))
        if not level:      # nvtlbi: dead-ok (tag 0 is an LPA2 level-0 block: leaf-tagged, no-lpa2)
            continue                    # goto again

        ttl |= level

        # A tag was found; it only helps if the guest block it names,
        # starting at the probe address, still reaches the IPA.
        sz = u64(ttl_to_size(ttl))
        if addr < (tmp + sz):
            return ttl

        return 0


@kfunc
def compute_tlb_inval_range(mmu, val: u64) -> unsigned_long:
    ttl = u8(FIELD_GET(GENMASK_ULL(47, 44), val))

    if not (cpus_have_final_cap(ARM64_HAS_ARMv8_4_TTL) and ttl):
        addr = u64((val & GENMASK_ULL(35, 0)) << 12)
        ttl = u8(get_guest_mapping_ttl(mmu, addr))

    max_size = unsigned_long(ttl_to_size(ttl))

    if not max_size:
        tg = mmu.tlb_vtcr & VTCR_EL2_TG0_MASK
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
    base_addr = u64((val & GENMASK_ULL(35, 0)) << 12)
    max_size = unsigned_long(compute_tlb_inval_range(mmu, val))
    base_addr &= ~(max_size - 1)
    kvm_unmap_stage2_range(mmu, base_addr, max_size)
