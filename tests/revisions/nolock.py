"""Broken on purpose (a kernel bug, not a tool failure): a TLBI handler that
walks the shadow S2 without taking mmu_lock, so get_guest_mapping_ttl's
lockdep_assert_held_write fires.  lockdep is the kernel's verdict on the
code: it stays a counterexample (tests/test_toolfail.py)."""

from nvtlbi.impl.revisions.upstream import ttl_to_size, get_guest_mapping_ttl, compute_tlb_inval_range  # noqa: F401
from nvtlbi.impl.kernel import *  # noqa: F401,F403
from nvtlbi.impl import tlbi


def handle_ipas2e1is(vcpu, val):
    vmid = (vcpu_read_sys_reg(vcpu, VTTBR_EL2) >> 48) & 0xFFFF
    kvm_s2_mmu_iterate_by_vmid(vcpu.kvm, vmid,
                               lambda mmu: tlbi.s2_mmu_unmap_ipa(mmu, val, compute_tlb_inval_range))
