"""lookaround: the depth-first probe of upstream, widened into a bounded
look-around (alternative (b) of the review thread of the seed).

Oliver Upton's point in review: with a host granule smaller than the guest's
(4K host, 16K guest), the shadow entry at the head of a guest page may be an
invalid splinter while a later host page of the same guest page is mapped and
tagged; the depth-only probe then misses and falls back to the largest block.
This revision scans, for each window [tmp, tmp + sz) the depth search visits,
up to LOOKAROUND_ENTRIES host pages from the head (stepping by the host page
size), and takes the first tagged valid leaf whose guest block is at least
as large as the window (so it holds the IPA).  The bound keeps the cost the review worried about
(64K guest pages on 4K host pages: 16 entries per page) explicit.

Written by us against impl.kernel; not a posted patch.
"""

from nvtlbi.impl.kernel import *  # noqa: F401,F403
# Unchanged from upstream: imported, so that the difference is this file
# (they run with this file's get_guest_mapping_ttl: impl/linking.py).
from nvtlbi.impl.revisions.upstream import compute_tlb_inval_range, ttl_to_size  # noqa: F401

# Shadow entries probed per window at most, the head included.  The
# precision command varies it (--bound); 1 is upstream's behaviour.
LOOKAROUND_ENTRIES = 4


@kfunc
def get_guest_mapping_ttl(mmu, addr: u64) -> u8:
    lockdep_assert_held_write(kvm_s2_mmu_to_kvm(mmu).mmu_lock)
    sz = u64(0)
    vtcr = u64(mmu.tlb_vtcr)
    pte = Ref(kvm_pte_t)
    wlevel = u8(0)

    tg = vtcr & VTCR_EL2_TG0_MASK
    if tg == VTCR_EL2_TG0_4K:
        ttl = u8(TLBI_TTL_TG_4K << 2)
    elif tg == VTCR_EL2_TG0_16K:
        ttl = u8(TLBI_TTL_TG_16K << 2)
    else:                               # 64K, and reserved TG0 read as 64K
        ttl = u8(TLBI_TTL_TG_64K << 2)

    tmp = u64(addr)

    while True:
        # the next block size of the guest granule, smallest first, and the
        # guest level a block of that size sits at
        tg = vtcr & VTCR_EL2_TG0_MASK
        if tg == VTCR_EL2_TG0_4K:
            if sz < SZ_4K:
                sz, wlevel = u64(SZ_4K), u8(3)
            elif sz < SZ_2M:
                sz, wlevel = u64(SZ_2M), u8(2)
            elif sz < SZ_1G:
                sz, wlevel = u64(SZ_1G), u8(1)
            else:
                sz = u64(0)
        elif tg == VTCR_EL2_TG0_16K:
            if sz < SZ_16K:
                sz, wlevel = u64(SZ_16K), u8(3)
            elif sz < SZ_32M:
                sz, wlevel = u64(SZ_32M), u8(2)
            else:
                sz = u64(0)
        else:
            if sz < SZ_64K:
                sz, wlevel = u64(SZ_64K), u8(3)
            elif sz < SZ_512M:
                sz, wlevel = u64(SZ_512M), u8(2)
            else:
                sz = u64(0)

        if sz == 0:
            return 0

        tmp &= ~(sz - 1)
        cur = u64(tmp)
        # Scan host pages from the head of the window.  A tagged leaf is
        # taken only if its guest block is at least as large as the window
        # (level <= wlevel): an aligned block that large holding a point of
        # the aligned window holds the whole window, hence the IPA.  A
        # smaller tag may belong to a neighbour of the IPA and is skipped.
        for _ in range(LOOKAROUND_ENTRIES):         # a C loop with a constant bound
            if kvm_pgtable_get_leaf(mmu.pgt, cur, pte, NULL):
                break
            level = u8(FIELD_GET(KVM_NV_GUEST_MAP_SZ, pte.val))
            # one test with '&', not '&&': an entry that does not qualify,
            # whatever the reason, is one outcome (fewer paths to prove)
            if ((pte.val & PTE_VALID) != 0) & (level != 0) & (level <= wlevel):
                return ttl | level
            cur += kvm_granule_size(KVM_PGTABLE_LAST_LEVEL)
            if cur >= tmp + sz:
                break
