"""Broken producer: the level tag is the level of the shadow leaf in the
host's stage 2 (from the size being mapped) instead of the guest's level:
a 2M host leaf of a 1G guest block is tagged 2.  Breaks tag-truth, and a
later TLBI without a hint unmaps 2M of the 1G block."""

from nvtlbi.impl.producers.fault import *  # noqa: F401,F403


@kfunc
def user_mem_abort(mmu, fault_ipa: phys_addr_t, nested, memslot, fault_is_perm: c_int,
                   fault_granule: s64) -> c_int:
    pgt = mmu.pgt
    ipa = phys_addr_t(fault_ipa)
    force_pte = c_int(memslot.force_pte)
    vma_pagesize = s64(memslot.vma_pagesize)
    prot = u64(KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_W)

    if nested:
        max_map_size = unsigned_long(PAGE_SIZE() if force_pte else PUD_SIZE())
        ipa = kvm_s2_trans_output(nested)
        max_map_size = min(kvm_s2_trans_size(nested), max_map_size)
        if max_map_size >= PMD_SIZE() and max_map_size < PUD_SIZE():
            max_map_size = PMD_SIZE()
        elif max_map_size >= PAGE_SIZE() and max_map_size < PMD_SIZE():
            max_map_size = PAGE_SIZE()
        force_pte = c_int(max_map_size == PAGE_SIZE())
        vma_pagesize = min(vma_pagesize, s64(max_map_size))

    if vma_pagesize == PMD_SIZE() or vma_pagesize == PUD_SIZE():
        fault_ipa &= ~(vma_pagesize - 1)
        ipa &= ~(vma_pagesize - 1)

    if vma_pagesize == PAGE_SIZE() and not force_pte:
        if fault_is_perm and fault_granule > PAGE_SIZE():
            vma_pagesize = fault_granule
        else:
            vma_pagesize = s64(transparent_hugepage_adjust(kvm_s2_mmu_to_kvm(mmu), memslot, 0, NULL, NULL))
            if vma_pagesize == PMD_SIZE():
                fault_ipa &= ~(vma_pagesize - 1)
                ipa &= ~(vma_pagesize - 1)

    if nested:
        # the bug: the host leaf's level, not nested->level
        if vma_pagesize == PAGE_SIZE():
            host_level = u64(3)
        elif vma_pagesize == PMD_SIZE():
            host_level = u64(2)
        else:
            host_level = u64(1)
        prot |= FIELD_PREP(KVM_NV_GUEST_MAP_SZ, host_level)

    if fault_is_perm and vma_pagesize == fault_granule:
        prot &= ~KVM_NV_GUEST_MAP_SZ
        ret = c_int(kvm_pgtable_stage2_relax_perms(pgt, fault_ipa, prot, 0))
    else:
        ret = c_int(kvm_pgtable_stage2_map(pgt, fault_ipa, vma_pagesize, ipa & ~(PAGE_SIZE() - 1), prot,
                                           NULL, 0))
    return ret
