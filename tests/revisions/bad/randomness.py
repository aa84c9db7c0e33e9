"""Broken on purpose: uses randomness.  Each TLBI picks, at random, the
shadow-S2 look-up or the granule's largest block; both are safe, so every
symbolic path proves, but a concrete run need not take the path the
solver's model describes.  The generator is seeded, so that the run on main
is reproducible."""

import random

from nvtlbi.impl.revisions.upstream import ttl_to_size, get_guest_mapping_ttl  # noqa: F401
from nvtlbi.impl.revisions.upstream import compute_tlb_inval_range as _upstream
from nvtlbi.impl.kernel import *  # noqa: F401,F403

RNG = random.Random(1)


@kfunc
def compute_tlb_inval_range(mmu, val: u64) -> unsigned_long:
    if RNG.random() < 0.5:
        return _upstream(mmu, val)
    tg = mmu.tlb_vtcr & VTCR_EL2_TG0_MASK
    if tg == VTCR_EL2_TG0_4K:
        return unsigned_long(SZ_1G)
    if tg == VTCR_EL2_TG0_16K:
        return unsigned_long(SZ_32M)
    return unsigned_long(SZ_512M)
