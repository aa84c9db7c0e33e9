"""lock_twice (test fixture, written for nvtlbi): upstream, with a handler
that takes mmu_lock and then calls the current handler, which takes it again.

Every range would be upstream's, but the host deadlocks on the second
acquisition (lockdep reports it first).  `nvtlbi diff` against upstream must
say DIFFERENT (a lockdep failure), as the concrete world (impl/nested.py's
MMULock) does."""

from nvtlbi.impl.revisions.upstream import compute_tlb_inval_range, get_guest_mapping_ttl, ttl_to_size  # noqa: F401
from nvtlbi.impl.kernel import *  # noqa: F401,F403
from nvtlbi.impl import tlbi


@kfunc
def handle_ipas2e1is(vcpu, val: u64):
    kvm = vcpu.kvm
    write_lock(kvm.mmu_lock)            # the slip: the current handler takes it itself
    tlbi.handle_ipas2e1is(vcpu, val, lambda mmu, v: tlbi.s2_mmu_unmap_ipa(mmu, v, compute_tlb_inval_range))
    write_unlock(kvm.mmu_lock)
