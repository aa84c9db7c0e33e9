"""A deliberately broken VNCR invalidation (test revision, not history):
kvm_invalidate_vncr_ipa walks the vCPUs but drops no pseudo-TLB, so an
unmap of the VM's IPAs leaves every cached VNCR translation (and its host
page in the fixmap).  No error, no WARN: only the pseudo-TLB state differs
from upstream, which a diff must see and V2 must fail on."""

from nvtlbi.impl.kernel import *  # noqa: F401,F403
from nvtlbi.impl.revisions_vncr.upstream import (compute_s1_tlbi_range, invalidate_vncr,  # noqa: F401
                                                 invalidate_vncr_va, kvm_handle_s1e2_tlbi, pgshift_level_to_ttl,
                                                 ttl_to_size)


@kfunc
def kvm_invalidate_vncr_ipa(kvm, start: u64, end: u64):
    lockdep_assert_held_write(kvm.mmu_lock)

    for i, vcpu in kvm_for_each_vcpu(kvm):
        vt = vcpu.arch.vncr_tlb

        if not vt or not vt.valid:
            continue

        # the bug: the overlap test is never made; nothing is invalidated
