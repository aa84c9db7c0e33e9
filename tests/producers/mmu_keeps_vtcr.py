"""Broken MMU producer: get_s2_mmu_nested recycles an MMU for a new
VTTBR_EL2 but keeps its old tlb_vtcr.  Breaks vtcr-current for the MMU it
returns, and so vtcr-stable after the next fault (a leaf built under the new
granule in an MMU whose tlb_vtcr names the old one).

Why the mistake is plausible: the lookup matches on VTTBR and VTCR, and a
patch that thinks of the VMID (tlb_vttbr) as "the" key of an MMU refreshes
only that when it recycles one, on the belief that a guest never changes
its VTCR_EL2 ("It'd be great if the guest didn't screw that one up")."""

from nvtlbi.impl.producers.mmu import *  # noqa: F401,F403


@kfunc
def get_s2_mmu_nested(vcpu):
    kvm = vcpu.kvm
    lockdep_assert_held_write(kvm.mmu_lock)
    s2_mmu = lookup_s2_mmu(vcpu)
    if not s2_mmu:
        i = kvm.arch.nested_mmus_next
        while i < kvm.arch.nested_mmus_size + kvm.arch.nested_mmus_next:
            s2_mmu = kvm.arch.nested_mmus[i % kvm.arch.nested_mmus_size]
            if atomic_read(s2_mmu.refcnt) == 0:
                break
            i += 1
        if atomic_read(s2_mmu.refcnt):
            BUG()
        kvm.arch.nested_mmus_next = (i + 1) % kvm.arch.nested_mmus_size
        if kvm_s2_mmu_valid(s2_mmu):
            s2_mmu.pending_unmap = True
        s2_mmu.tlb_vttbr = vcpu_read_sys_reg(vcpu, VTTBR_EL2) & ~VTTBR_CNP_BIT
        # the mistake: tlb_vtcr is not refreshed
        s2_mmu.nested_stage2_enabled = (vcpu_read_sys_reg(vcpu, HCR_EL2) & HCR_VM) != 0
    atomic_inc(s2_mmu.refcnt)
    if s2_mmu.pending_unmap:
        kvm_make_request(KVM_REQ_NESTED_S2_UNMAP, vcpu)
    return s2_mmu
