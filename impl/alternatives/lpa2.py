"""lpa2: the three functions extended to the LPA2/52-bit block levels of a
guest stage 2 (4K level 0 = 512GB, 16K level 1 = 64GB, 64K level 1 = 4TB;
ARM DDI 0487 M.a.a Tables D8-16, D8-26, D8-35; impl/granule.py
guest_leaf_levels(shift, lpa2=True)).

Today KVM keeps guest VTCR_EL2.DS RES0 and never advertises TGRAN*_2 as
52_BIT, so these levels cannot occur (the no-lpa2 assumption), and
upstream says as much: ttl_to_size has "no 52bit IPA support" and the
fallback "should be 4TB" once nested supports 52-bit IPAs.  This is what
that support would look like in these three functions:

- ttl_to_size names the LPA2 block sizes, and returns unsigned long (4TB
  does not fit upstream's unsigned int);
- get_guest_mapping_ttl probes the LPA2 block size of the granule too;
- the fallback of compute_tlb_inval_range is the largest block with
  52-bit IPAs.

A 4K level-0 block is tagged 0 by kvm_encode_nested_level, which reads as
"no tag", so the probe never names it: such a T is covered by the fallback.
Neither the TTL nor tlb_vtcr says whether the guest uses LPA2, so the LPA2
sizes are used whatever DS is: a reserved TTL (4K L0 or 16K L1 without
LPA2) is sized as the LPA2 block, which holds any smaller aligned block.

Written by us against impl.kernel; not a posted patch.  Its C twin is
tests/c/lpa2.c (tests/test_audit_proposed.py).
"""

from nvtlbi.impl.kernel import *  # noqa: F401,F403

# include/linux/sizes.h has no SZ_64G, SZ_512G or SZ_4T: BIT_ULL(36), (39), (42)


@kfunc
def ttl_to_size(ttl: u8) -> unsigned_long:
    level = c_int(ttl & 3)
    gran = c_int((ttl >> 2) & 3)
    max_size = unsigned_long(0)

    if gran == TLBI_TTL_TG_4K:
        if level == 0:
            max_size = unsigned_long(BIT_ULL(39))
        elif level == 1:
            max_size = unsigned_long(SZ_1G)
        elif level == 2:
            max_size = unsigned_long(SZ_2M)
        elif level == 3:      # nvtlbi: dead-ok (level is 2 bits: 0-2 are handled above)
            max_size = unsigned_long(SZ_4K)
    elif gran == TLBI_TTL_TG_16K:
        if level == 0:
            pass                        # reserved
        elif level == 1:
            max_size = unsigned_long(BIT_ULL(36))
        elif level == 2:
            max_size = unsigned_long(SZ_32M)
        elif level == 3:      # nvtlbi: dead-ok (level is 2 bits: 0-2 are handled above)
            max_size = unsigned_long(SZ_16K)
    elif gran == TLBI_TTL_TG_64K:
        if level == 0:
            pass                        # reserved
        elif level == 1:
            max_size = unsigned_long(BIT_ULL(42))
        elif level == 2:
            max_size = unsigned_long(SZ_512M)
        elif level == 3:      # nvtlbi: dead-ok (level is 2 bits: 0-2 are handled above)
            max_size = unsigned_long(SZ_64K)
    else:
        pass                            # TTL[3:2] == 0: no size hint

    return max_size


@kfunc
def get_guest_mapping_ttl(mmu, addr: u64) -> u8:
    # upstream's depth-first probe, with one more rung: the LPA2 block size
    lockdep_assert_held_write(kvm_s2_mmu_to_kvm(mmu).mmu_lock)
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
            elif sz < BIT_ULL(39):
                sz = u64(BIT_ULL(39))
            else:
                sz = u64(0)
        elif tg == VTCR_EL2_TG0_16K:
            if sz < SZ_16K:
                sz = u64(SZ_16K)
            elif sz < SZ_32M:
                sz = u64(SZ_32M)
            elif sz < BIT_ULL(36):
                sz = u64(BIT_ULL(36))
            else:
                sz = u64(0)
        else:
            if sz < SZ_64K:
                sz = u64(SZ_64K)
            elif sz < SZ_512M:
                sz = u64(SZ_512M)
            elif sz < BIT_ULL(42):
                sz = u64(BIT_ULL(42))
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
        if not level:      # nvtlbi: dead-ok (tag 0: no tag, or an LPA2 4K level-0 block; leaf-tagged, no-lpa2)
            continue                    # goto again

        ttl |= level

        # the tagged guest block, from the probe address, must still hold the IPA
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
        # fall back to the largest block the guest granule allows with 52-bit IPAs
        tg = mmu.tlb_vtcr & VTCR_EL2_TG0_MASK
        if tg == VTCR_EL2_TG0_4K:
            max_size = unsigned_long(BIT_ULL(39))
        elif tg == VTCR_EL2_TG0_16K:
            max_size = unsigned_long(BIT_ULL(36))
        else:                           # 64K or reserved
            max_size = unsigned_long(BIT_ULL(42))

    WARN_ON(not max_size)
    return max_size
