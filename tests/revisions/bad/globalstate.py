"""Broken on purpose: keeps state between calls in a module global, a memo
of ttl_to_size keyed by the level alone (TTL[1:0]), forgetting the
granule.  The key is the word's text: a symbolic TTL's text is its whole
term, so the symbolic run never meets a stale entry; concrete TTLs of two
granules with one level share an entry, and the second gets the first's
size."""

from nvtlbi.impl.revisions.upstream import ttl_to_size as _ttl_to_size
from nvtlbi.impl.revisions.upstream import get_guest_mapping_ttl  # noqa: F401
from nvtlbi.impl.kernel import *  # noqa: F401,F403

MEMO = {}


def ttl_to_size(ttl):
    key = repr(ttl & 3)
    if key not in MEMO:
        MEMO[key] = _ttl_to_size(ttl)
    return MEMO[key]


@kfunc
def compute_tlb_inval_range(mmu, val: u64) -> unsigned_long:
    ttl = u8(FIELD_GET(TLBI_TTL_MASK, val))
    if not ttl or not kvm_has_feat(kvm_s2_mmu_to_kvm(mmu), ID_AA64MMFR2_EL1, TTL, IMP):
        ttl = u8(get_guest_mapping_ttl(mmu, u64((val & GENMASK_ULL(35, 0)) << 12)))
    max_size = unsigned_long(ttl_to_size(ttl))
    if not max_size:
        tg = mmu.tlb_vtcr & VTCR_EL2_TG0_MASK
        if tg == VTCR_EL2_TG0_4K:
            max_size = unsigned_long(SZ_1G)
        elif tg == VTCR_EL2_TG0_16K:
            max_size = unsigned_long(SZ_32M)
        else:
            max_size = unsigned_long(SZ_512M)
    return max_size
