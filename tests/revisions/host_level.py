"""host_level (broken on purpose): upstream's shadow walk, but the TTL's
level is the level at which the host's walk found the shadow leaf
(kvm_pgtable_get_leaf's *level), not the guest's mapping level the leaf's
tag [56:55] carries.

The two agree only where the host backs the guest's block with a leaf of the
same size.  A shadow leaf is at most as large as the guest's mapping (the
fault caps the host's block size by it), so the host level names a size no
larger than the guest's block: a guest block backed by smaller host leaves is
unmapped in part.  Whether the hint is too small depends on the host level of
the leaf probed, so the model's counterexample names it (its probes'
host_level); tests/test_replay_host_level.py replays it.

ttl_to_size and compute_tlb_inval_range are imported from upstream; the
imported compute_tlb_inval_range calls this file's get_guest_mapping_ttl
(impl/linking.py).  Our own code."""

from nvtlbi.impl.kernel import *  # noqa: F401,F403
from nvtlbi.impl.revisions.upstream import compute_tlb_inval_range, ttl_to_size  # noqa: F401


@kfunc
def get_guest_mapping_ttl(mmu, addr: u64) -> u8:
    lockdep_assert_held_write(kvm_s2_mmu_to_kvm(mmu).mmu_lock)
    sz = u64(0)
    vtcr = u64(mmu.tlb_vtcr)
    pte = Ref(kvm_pte_t)
    host_level = Ref(u8)        # s8 in the kernel; the levels here are 0-3 (no LPA2 level -1)

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
        if kvm_pgtable_get_leaf(mmu.pgt, tmp, pte, host_level):
            continue                    # goto again
        if not (pte.val & PTE_VALID):
            continue                    # goto again
        if not FIELD_GET(KVM_NV_GUEST_MAP_SZ, pte.val):
            continue                    # goto again: a leaf the guest's level was not recorded for

        # the bug: the host's level of the shadow leaf stands for the guest's
        ttl |= host_level.val & 3

        sz = u64(ttl_to_size(ttl))
        if addr < (tmp + sz):
            return ttl

        return 0
