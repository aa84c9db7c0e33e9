"""mmu: the life of a shadow MMU, the producer that picks, recycles and
empties the kvm_s2_mmu a nested guest runs on.

Provenance (comments are ours; no kernel text is copied):
  - lookup_s2_mmu, get_s2_mmu_nested, kvm_init_nested_s2_mmu:
    arch/arm64/kvm/nested.c, ../shared/posts/N3_nested_96575923.txt:612-728.
    A context with the guest's stage 2 on is reused only if it is stage-2
    enabled and its tlb_vttbr (CnP masked) and tlb_vtcr both equal the
    vCPU's VTTBR_EL2 and VTCR_EL2; a stage-2-off context only by VMID.
    Otherwise the first MMU from nested_mmus_next with no reference is
    taken (BUG_ON if none: the array holds two per vCPU, "MMUs to spare");
    if it was in use its unmap becomes pending, and its tlb_vttbr,
    tlb_vtcr and nested_stage2_enabled become the vCPU's.  A pending unmap
    raises KVM_REQ_NESTED_S2_UNMAP on the vCPU.
  - check_nested_vcpu_requests (N3_nested_96575923.txt:1782-1792): before
    the vCPU enters the guest, a pending unmap empties the whole MMU
    (kvm_stage2_unmap_range(mmu, 0, kvm_phys_size(mmu)), the unmap
    producer, impl/producers/unmap.py) and clears pending_unmap.
  - kvm_s2_mmu_iterate_by_vmid (N3_nested_96575923.txt:592-610) is the
    TLBIs' walk over the MMUs (impl/kernel.py); it runs no code here.

The caller holds kvm->mmu_lock for write (kvm_vcpu_load_hw_mmu's
scoped_guard); lockdep checks it."""

from nvtlbi.impl.kernel import *  # noqa: F401,F403
from nvtlbi.impl.producers.mm import *  # noqa: F401,F403


@kfunc
def lookup_s2_mmu(vcpu):
    kvm = vcpu.kvm
    lockdep_assert_held_write(kvm.mmu_lock)
    vttbr = vcpu_read_sys_reg(vcpu, VTTBR_EL2)
    vtcr = vcpu_read_sys_reg(vcpu, VTCR_EL2)
    hcr = vcpu_read_sys_reg(vcpu, HCR_EL2)
    nested_stage2_enabled = (hcr & HCR_VM) != 0
    vttbr &= ~VTTBR_CNP_BIT      # the CnP bit takes no part in the match
    i = 0
    while i < kvm.arch.nested_mmus_size:
        mmu = kvm.arch.nested_mmus[i]
        i += 1
        if not kvm_s2_mmu_valid(mmu):
            continue
        # stage 2 on: the whole VTTBR and the VTCR (no TLB conflict possible)
        if nested_stage2_enabled and mmu.nested_stage2_enabled and vttbr == mmu.tlb_vttbr and vtcr == mmu.tlb_vtcr:
            return mmu
        # stage 2 off: the VMID alone
        if not nested_stage2_enabled and not mmu.nested_stage2_enabled and get_vmid(vttbr) == get_vmid(mmu.tlb_vttbr):
            return mmu
    return NULL


@kfunc
def get_s2_mmu_nested(vcpu):
    kvm = vcpu.kvm
    lockdep_assert_held_write(kvm.mmu_lock)
    s2_mmu = lookup_s2_mmu(vcpu)
    if not s2_mmu:
        # from where the last search stopped, so that free contexts get used
        i = kvm.arch.nested_mmus_next
        while i < kvm.arch.nested_mmus_size + kvm.arch.nested_mmus_next:
            s2_mmu = kvm.arch.nested_mmus[i % kvm.arch.nested_mmus_size]
            if atomic_read(s2_mmu.refcnt) == 0:
                break
            i += 1
        if atomic_read(s2_mmu.refcnt):
            BUG()
        kvm.arch.nested_mmus_next = (i + 1) % kvm.arch.nested_mmus_size
        # an MMU that was in use still holds the old context's leaves
        if kvm_s2_mmu_valid(s2_mmu):
            s2_mmu.pending_unmap = True
        # the key of later lookups, and the VTCR cached once and for all
        s2_mmu.tlb_vttbr = vcpu_read_sys_reg(vcpu, VTTBR_EL2) & ~VTTBR_CNP_BIT
        s2_mmu.tlb_vtcr = vcpu_read_sys_reg(vcpu, VTCR_EL2)
        s2_mmu.nested_stage2_enabled = (vcpu_read_sys_reg(vcpu, HCR_EL2) & HCR_VM) != 0
    atomic_inc(s2_mmu.refcnt)
    # whoever uses the MMU first finishes its unmap before running on it
    if s2_mmu.pending_unmap:
        kvm_make_request(KVM_REQ_NESTED_S2_UNMAP, vcpu)
    return s2_mmu


@kfunc
def kvm_init_nested_s2_mmu(mmu):
    mmu.tlb_vttbr = VTTBR_CNP_BIT     # CnP set: a free context
    mmu.nested_stage2_enabled = False
    atomic_set(mmu.refcnt, 0)


@kfunc
def check_nested_vcpu_requests(vcpu):
    if kvm_check_request(KVM_REQ_NESTED_S2_UNMAP, vcpu):
        mmu = vcpu.arch.hw_mmu
        write_lock(vcpu.kvm.mmu_lock)
        if mmu.pending_unmap:
            kvm_stage2_unmap_range(mmu, 0, kvm_phys_size(mmu), True)
            mmu.pending_unmap = False
        write_unlock(vcpu.kvm.mmu_lock)
