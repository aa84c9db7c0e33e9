"""Broken MMU producer: the pending unmap of a recycled MMU passes its size
in host pages (kvm_phys_size >> PAGE_SHIFT) where kvm_stage2_unmap_range
takes bytes, so only the bottom of the IPA space is emptied and the old
context's leaves above it stay in an MMU that now caches the new VTCR_EL2.
Breaks vtcr-stable (pending-unmap-preserves-vtcr-stable).
Why the mistake is plausible: neighbouring KVM interfaces count pages
(kvm_flush_remote_tlbs_range takes a page count, memslots have npages), and
the unmap looks the same whichever unit the size is in."""

from nvtlbi.impl.producers.mmu import *  # noqa: F401,F403


@kfunc
def check_nested_vcpu_requests(vcpu):
    if kvm_check_request(KVM_REQ_NESTED_S2_UNMAP, vcpu):
        mmu = vcpu.arch.hw_mmu
        write_lock(vcpu.kvm.mmu_lock)
        if mmu.pending_unmap:
            kvm_stage2_unmap_range(mmu, 0, kvm_phys_size(mmu) >> PAGE_SHIFT(), True)
            mmu.pending_unmap = False
        write_unlock(vcpu.kvm.mmu_lock)
