"""unlocked_unmap (test fixture, written for nvtlbi): upstream's ranges, with
a handler that takes mmu_lock only when it may have to walk the shadow S2.
On a TLBI with a TTL hint it unmaps without the lock.

Nothing upstream's functions call asserts the lock on that path (the hint
needs no look-up), but __unmap_stage2_range does
(lockdep_assert_held_write(&kvm->mmu_lock), arch/arm64/kvm/mmu.c): the
kernel's lockdep fails.  `nvtlbi diff` against upstream must say DIFFERENT
(an error), with the `match` hint too."""

from nvtlbi.impl.revisions.upstream import compute_tlb_inval_range, get_guest_mapping_ttl, ttl_to_size  # noqa: F401
from nvtlbi.impl.kernel import *  # noqa: F401,F403
from nvtlbi.impl import tlbi


@kfunc
def handle_ipas2e1is(vcpu, val: u64):
    kvm = vcpu.kvm
    vmid = (vcpu_read_sys_reg(vcpu, VTTBR_EL2) >> 48) & 0xFFFF
    if FIELD_GET(TLBI_TTL_MASK, val):
        # the slip: "a hint needs no walk, so no lock"
        kvm_s2_mmu_iterate_by_vmid(kvm, vmid, lambda mmu: tlbi.s2_mmu_unmap_ipa(mmu, val, compute_tlb_inval_range))
        return
    write_lock(kvm.mmu_lock)
    kvm_s2_mmu_iterate_by_vmid(kvm, vmid, lambda mmu: tlbi.s2_mmu_unmap_ipa(mmu, val, compute_tlb_inval_range))
    write_unlock(kvm.mmu_lock)
