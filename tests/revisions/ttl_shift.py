"""ttl_shift (broken on purpose): ttl_to_size computes the block size as a
shift of the level's address bits, in the function's return type.

Level 0 is caught, but a 16K level-1 block (64G, a shift by 36) and a 64K
level-1 block (4T, by 42) do not fit in an unsigned int: the shift is C's
undefined behaviour (arm64's 32-bit LSL would take the count modulo 32 and
unmap 16 or 1024 bytes).  Upstream returns 0 there, no hint.  A model that
gave the oversized shift z3's meaning, 0, would find this revision the same
as upstream and prove it; the TTL is the guest's, so the shift is reachable.
The rest is imported from upstream."""

from nvtlbi.impl.kernel import *  # noqa: F401,F403
from nvtlbi.impl.revisions.upstream import compute_tlb_inval_range, get_guest_mapping_ttl  # noqa: F401


@kfunc
def ttl_to_size(ttl: u8) -> unsigned_int:
    level = c_int(ttl & 3)
    gran = c_int((ttl >> 2) & 3)
    shift = c_int(0)

    if level == 0:
        return unsigned_int(0)
    if gran == TLBI_TTL_TG_4K:
        shift = 12 + (3 - level) * 9
    elif gran == TLBI_TTL_TG_16K:
        shift = 14 + (3 - level) * 11
    elif gran == TLBI_TTL_TG_64K:
        shift = 16 + (3 - level) * 13
    else:
        return unsigned_int(0)              # TTL[3:2] == 0: no size hint
    return unsigned_int(1) << shift
