"""invalidtags: upstream's depth-first probe, also reading level tags that
the shadow fault path leaves in *invalid* shadow entries (alternative (c),
Marc Zyngier's preferred option in the seed's review thread).

The fault path change (impl/nested.py, ShadowMMU.keep_invalid_tags): after
mapping a shadow leaf smaller than the guest block T it comes from, KVM also
writes T's level tag into the shadow entry at T's base if that entry is not a
valid leaf: an invalid descriptor whose only set bits are the tag, at the
deeper of the level where the walk stops and the level of the largest host
block that fits in T (so the entry never reaches outside T).  The unmap path
clears tagged invalid entries inside the unmapped range, so a TLBI that
removes T also removes its annotation.  Table pages holding only such entries
must count them as references (today's refcount only counts valid entries).

The proof needs one more assumption, invalid-tag-truth: a tagged invalid
shadow entry lies inside a cached guest translation of the tagged level
(the same statement tag-truth makes of valid leaves).

Derived from the upstream revision:

Provenance: "[PATCH v3 13/16] KVM: arm64: nv: Invalidate TLBs based on shadow
S2 TTL-like information", Marc Zyngier, 14 Jun 2024,
Message-Id 20240614144552.2773592-14-maz@kernel.org, applied as 809b2e6013a5
(with d1de1576dc21 for ttl_to_size / compute_tlb_inval_range).  Same as the
v2 in the seed plus the lockdep assertion Oliver Upton asked for.

Transliterated into the vocabulary of impl.kernel; comments are ours.
"""

from nvtlbi.impl.kernel import *  # noqa: F401,F403
# Unchanged from upstream: imported, so that the difference is this file
# (they run with this file's get_guest_mapping_ttl: impl/linking.py).
from nvtlbi.impl.revisions.upstream import compute_tlb_inval_range, ttl_to_size  # noqa: F401

# Assumptions this revision needs beyond the default set (model/assumptions.py).
ASSUMES = ("invalid-tag-truth",)


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
        # valid leaf or invalid annotation: both carry the guest level
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
