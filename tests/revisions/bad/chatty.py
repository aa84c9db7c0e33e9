"""Correct but chatty: upstream's range, printing on stdout at import and on every call (see tests/test_process.py)."""

from nvtlbi.impl.revisions.upstream import ttl_to_size, get_guest_mapping_ttl  # noqa: F401
from nvtlbi.impl.revisions.upstream import compute_tlb_inval_range as _upstream
from nvtlbi.impl.kernel import *  # noqa: F401,F403

print("chatty: imported")


def compute_tlb_inval_range(mmu, val):
    print("chatty: computing a range")
    return _upstream(mmu, val)
