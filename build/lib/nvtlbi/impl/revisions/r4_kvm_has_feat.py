"""r4_kvm_has_feat: the seed, v1/v2 13/16 of the 2024 shadow-S2 series.

Provenance: "[PATCH v2 13/16] KVM: arm64: nv: Invalidate TLBs based on shadow
S2 TTL-like information", Marc Zyngier, 29 May 2024,
Message-Id 20240529145628.3272630-14-maz@kernel.org (v1: 9 Apr 2024,
20240409175448.3507472-14-maz@kernel.org, same code), with its FEAT_TTL
companion 11/16 (20240614144552.2773592-12-maz@kernel.org).  REVISIONS.md R4;
the seed ../shared/seeds/000_11a17445164317c2.txt.

Behaviour: an unknown TG0 is read as 64K (no BUG()); the guest TTL is
trusted only if the VM's ID_AA64MMFR2_EL1 advertises FEAT_TTL (kvm_has_feat);
the probe is get_leaf + PTE_VALID as in r2b.  upstream adds only the lockdep
assertion.  Written by us."""

from nvtlbi.impl.kernel import *  # noqa: F401,F403


@kfunc
def ttl_to_size(ttl: u8) -> unsigned_int:
    level = c_int(ttl & 3)
    gran = c_int((ttl >> 2) & 3)
    max_size = unsigned_int(0)

    if gran == TLBI_TTL_TG_4K:
        if level == 0:
            pass
        elif level == 1:
            max_size = unsigned_int(SZ_1G)
        elif level == 2:
            max_size = unsigned_int(SZ_2M)
        elif level == 3:      # nvtlbi: dead-ok (level is 2 bits: 0-2 are handled above)
            max_size = unsigned_int(SZ_4K)
    elif gran == TLBI_TTL_TG_16K:
        if level == 0 or level == 1:
            pass
        elif level == 2:
            max_size = unsigned_int(SZ_32M)
        elif level == 3:      # nvtlbi: dead-ok (level is 2 bits: 0-2 are handled above)
            max_size = unsigned_int(SZ_16K)
    elif gran == TLBI_TTL_TG_64K:
        if level == 0 or level == 1:
            pass                        # 52-bit (4TB) blocks are not supported
        elif level == 2:
            max_size = unsigned_int(SZ_512M)
        elif level == 3:      # nvtlbi: dead-ok (level is 2 bits: 0-2 are handled above)
            max_size = unsigned_int(SZ_64K)
    else:
        pass                            # TTL[3:2] == 0: no size hint

    return max_size


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
    else:                               # 64K, and reserved TG0 read as 64K
        ttl = u8(TLBI_TTL_TG_64K << 2)

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
        else:
            if sz < SZ_64K:
                sz = u64(SZ_64K)
            elif sz < SZ_512M:
                sz = u64(SZ_512M)
            else:
                sz = u64(0)

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
            max_size = unsigned_long(SZ_1G)
        elif tg == VTCR_EL2_TG0_16K:
            max_size = unsigned_long(SZ_32M)
        else:                           # 64K or reserved; 4TB once 52-bit IPA exists
            max_size = unsigned_long(SZ_512M)

    WARN_ON(not max_size)
    return max_size
