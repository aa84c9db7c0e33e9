"""TLBI IPAS2E1* emulation: decode the operand, let the revision compute the
range, align the IPA down to it and unmap it from every shadow MMU."""

from nvtlbi.impl import context, kernel, tlbi_range
from nvtlbi.impl.cint import Word
from nvtlbi.impl.outcome import c_call
from nvtlbi.impl.kernel import (GENMASK_ULL, VTTBR_EL2, kfunc, kvm_s2_mmu_iterate_by_vmid, kvm_stage2_unmap_range, u64,
                         unsigned_long, vcpu_read_sys_reg, write_lock, write_unlock)


def ipa_of(val):
    """IPA[47:12] sits in Xt[35:0]."""
    return (int(val) & ((1 << 36) - 1)) << 12


def ttl_of(val):
    """TTL sits in Xt[47:44]."""
    return (int(val) >> 44) & 0xF


def make_operand(ipa, ttl=0):
    return ((ipa >> 12) & ((1 << 36) - 1)) | (ttl & 0xF) << 44


@kfunc
def s2_mmu_unmap_ipa(mmu, val: u64, compute_tlb_inval_range):  # type: ignore[valid-type]  # a C type (kfunc)
    """The per-MMU caller (sys_regs.c): NS and IPA[51:48] are dropped, the
    IPA is aligned down to the computed size and that range is unmapped."""
    base_addr = u64((val & GENMASK_ULL(35, 0)) << 12)
    max_size = unsigned_long(c_call(compute_tlb_inval_range, mmu, val, value=True))
    base_addr &= ~(max_size - 1)
    kvm_stage2_unmap_range(mmu, base_addr, max_size, True)


def handle_ipas2e1is(vcpu, val, s2_mmu_unmap_ipa):
    """The current handler: apply the TLBI to every shadow MMU with the
    guest's VMID, with mmu_lock held for write."""
    kvm = vcpu.kvm
    write_lock(kvm.mmu_lock)
    try:
        vmid = (vcpu_read_sys_reg(vcpu, VTTBR_EL2) >> 48) & 0xFFFF
        kvm_s2_mmu_iterate_by_vmid(kvm, vmid, lambda mmu: c_call(s2_mmu_unmap_ipa, mmu, val))
    finally:
        write_unlock(kvm.mmu_lock)


def run(vm, val, revision):
    """Emulate the guest's TLBI IPAS2E1IS on the concrete VM with `revision`."""
    hooks = kernel.ConcreteHooks(host_caps={"ARM64_HAS_ARMv8_4_TTL"} if vm.host_ttl else (),
                                 page_shift=vm.mmus[0].pgt.shift if vm.mmus else 12)
    try:
        with context.entered(hooks=hooks):
            revision.handle(vm.vcpu, Word(u64, int(val)))
    finally:
        vm.mmu_lock.write_held = False
    return hooks.warnings


def handle_default(rev, vcpu, val):
    """A revision without its own handle_ipas2e1is: the current handler
    around the revision's s2_mmu_unmap_ipa or our copy of it."""
    return handle_ipas2e1is(vcpu, val, rev.s2_mmu_unmap_ipa)


# the impl/ side of the op (model/ops.py): IPAS2E1's revisions define
# compute_tlb_inval_range at least (impl/revision.py REQUIRED)
CALLER = tlbi_range.Caller("ipas2e1", "handle_ipas2e1is", ("compute_tlb_inval_range",), "nvtlbi.impl.revisions",
                           handle_default)
