"""patch_ttl_to_size (broken on purpose): a patch to upstream that changes
only ttl_to_size and imports the rest.

It maps a 4K level-1 TTL to 2M instead of 1G.  Upstream's
compute_tlb_inval_range, imported unchanged, must run with this ttl_to_size,
as the patched C file would: the audit is of the patch, not of upstream."""

from nvtlbi.impl.kernel import *  # noqa: F401,F403
from nvtlbi.impl.revisions.upstream import compute_tlb_inval_range, get_guest_mapping_ttl  # noqa: F401


@kfunc
def ttl_to_size(ttl: u8) -> unsigned_int:
    level = c_int(ttl & 3)
    gran = c_int((ttl >> 2) & 3)
    max_size = unsigned_int(0)

    if gran == TLBI_TTL_TG_4K:
        if level == 1:
            max_size = unsigned_int(SZ_2M)      # the bug: a 1G block
        elif level == 2:
            max_size = unsigned_int(SZ_2M)
        elif level == 3:
            max_size = unsigned_int(SZ_4K)
    elif gran == TLBI_TTL_TG_16K:
        if level == 2:
            max_size = unsigned_int(SZ_32M)
        elif level == 3:
            max_size = unsigned_int(SZ_16K)
    elif gran == TLBI_TTL_TG_64K:
        if level == 2:
            max_size = unsigned_int(SZ_512M)
        elif level == 3:
            max_size = unsigned_int(SZ_64K)
    return max_size
