"""Broken on purpose: behaves one way on symbolic input and another on
concrete input.  It inspects its argument's representation: a concrete
operand (a Python int inside the word) takes a 4K range, whatever T is.
The symbolic run never sees that branch, so only replaying the proof's
paths on impl/ can show it (tests/test_toolfail.py)."""

from nvtlbi.impl.revisions.upstream import ttl_to_size, get_guest_mapping_ttl  # noqa: F401
from nvtlbi.impl.revisions.upstream import compute_tlb_inval_range as _upstream
from nvtlbi.impl.kernel import *  # noqa: F401,F403


@kfunc
def compute_tlb_inval_range(mmu, val: u64) -> unsigned_long:
    if isinstance(val.v, int):
        return unsigned_long(SZ_4K)
    return _upstream(mmu, val)
