"""lock_leak (test fixture, written for nvtlbi): upstream's ranges, with a
handler that returns without releasing mmu_lock on a TLBI without a TTL hint.

Every range is upstream's; the next TLBI (or fault) deadlocks the host.
`nvtlbi diff` against upstream must say DIFFERENT (mmu_lock held on return)."""

from nvtlbi.impl.revisions.upstream import compute_tlb_inval_range, get_guest_mapping_ttl, ttl_to_size  # noqa: F401
from nvtlbi.impl.kernel import *  # noqa: F401,F403
from nvtlbi.impl import tlbi


@kfunc
def handle_ipas2e1is(vcpu, val: u64):
    kvm = vcpu.kvm
    write_lock(kvm.mmu_lock)
    vmid = (vcpu_read_sys_reg(vcpu, VTTBR_EL2) >> 48) & 0xFFFF
    kvm_s2_mmu_iterate_by_vmid(kvm, vmid, lambda mmu: tlbi.s2_mmu_unmap_ipa(mmu, val, compute_tlb_inval_range))
    if not FIELD_GET(TLBI_TTL_MASK, val):
        return                          # the slip: an early return that keeps the lock
    write_unlock(kvm.mmu_lock)
