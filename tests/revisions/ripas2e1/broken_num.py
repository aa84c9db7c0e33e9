"""A deliberately broken range decode (test revision, not history): the
range is NUM << (5*SCALE+1) pages, dropping __TLBI_RANGE_PAGES' +1, so
NUM=0 unmaps nothing.  R1 must fail with a replayed counterexample."""

from nvtlbi.impl.kernel import *  # noqa: F401,F403
from nvtlbi.impl.revisions_ripas2e1.upstream import kvm_s2_mmu_iterate_by_vmid, s2_mmu_unmap_range  # noqa: F401


def handle_ripas2e1is(vcpu, val):
    vttbr = u64(vcpu_read_sys_reg(vcpu, VTTBR_EL2))
    tg = u64(FIELD_GET(GENMASK(47, 46), val))
    scale = u64(FIELD_GET(GENMASK(45, 44), val))
    num = u64(FIELD_GET(GENMASK(43, 39), val))
    base = u64(val & GENMASK(36, 0))
    if tg == 1:
        shift = c_int(12)
    elif tg == 2:
        shift = c_int(14)
    else:
        shift = c_int(16)
    base <<= shift
    range = u64((unsigned_long(num) << (5 * scale + 1)) << shift)     # the bug: no +1
    kvm_s2_mmu_iterate_by_vmid(vcpu.kvm, get_vmid(vttbr), tlbi_info(range=(base, range)), s2_mmu_unmap_range)
    return True
