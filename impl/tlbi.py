"""TLBI IPAS2E1* emulation: decode the operand, let the revision compute the
range, align the IPA down to it and unmap it from every shadow MMU."""

from impl.kernel import GENMASK_ULL, kfunc, kvm_stage2_unmap_range, u64, unsigned_long


def ipa_of(val):
    """IPA[47:12] sits in Xt[35:0]."""
    return (int(val) & ((1 << 36) - 1)) << 12


def ttl_of(val):
    """TTL sits in Xt[47:44]."""
    return (int(val) >> 44) & 0xF


def make_operand(ipa, ttl=0):
    return ((ipa >> 12) & ((1 << 36) - 1)) | (ttl & 0xF) << 44


@kfunc
def s2_mmu_unmap_ipa(mmu, val: u64, compute_tlb_inval_range):
    """The per-MMU caller (sys_regs.c): NS and IPA[51:48] are dropped, the
    IPA is aligned down to the computed size and that range is unmapped."""
    base_addr = u64((val & GENMASK_ULL(35, 0)) << 12)
    max_size = unsigned_long(compute_tlb_inval_range(mmu, val))
    base_addr &= ~(max_size - 1)
    kvm_stage2_unmap_range(mmu, base_addr, max_size, True)


def handle_ipas2e1is(vm, val, revision):
    """Apply a trapped TLBI IPAS2E1IS to each of the VM's shadow MMUs (all of
    them share the guest's VMID here) with mmu_lock held for write."""
    vm.mmu_lock.write_held = True
    try:
        for mmu in vm.mmus:
            revision.s2_mmu_unmap_ipa(mmu, val)
    finally:
        vm.mmu_lock.write_held = False
