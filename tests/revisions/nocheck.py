"""nocheck (broken on purpose): upstream without the `addr < tmp + sz` check.

Provenance: "[PATCH v3 13/16] KVM: arm64: nv: Invalidate TLBs based on shadow
S2 TTL-like information", Marc Zyngier, 14 Jun 2024,
Message-Id 20240614144552.2773592-14-maz@kernel.org, applied as 809b2e6013a5
(with d1de1576dc21 for ttl_to_size / compute_tlb_inval_range).  Same as the
v2 in the seed plus the lockdep assertion Oliver Upton asked for.

ttl_to_size and compute_tlb_inval_range are imported from upstream; the
imported compute_tlb_inval_range calls this file's get_guest_mapping_ttl
(impl/linking.py).
"""

from nvtlbi.impl.kernel import *  # noqa: F401,F403
from nvtlbi.impl.revisions.upstream import compute_tlb_inval_range, ttl_to_size  # noqa: F401


@kfunc
def get_guest_mapping_ttl(mmu, addr: u64) -> u8:
    # Walk the shadow S2 in depth only: probe the IPA aligned down to each
    # block size of the guest granule (cached in tlb_vtcr), smallest first,
    # and take the level tag of the first valid leaf that carries one.
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
        if not level:
            continue                    # goto again

        ttl |= level

        # A tag was found; it only helps if the guest block it names,
        # starting at the probe address, still reaches the IPA.
        return ttl                      # BROKEN: the tag is trusted even if its block misses addr
