"""A revision that imports no era vocabulary: its kernel names would have
no meaning, so it is refused (test_eras)."""

from nvtlbi.impl.cint import u64


def compute_tlb_inval_range(mmu, val):
    return u64(1 << 30)
