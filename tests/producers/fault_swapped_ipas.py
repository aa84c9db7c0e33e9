"""Broken fault producer: the shadow leaf is mapped at the canonical IPA
(the guest translation's output) with the faulting nested IPA as its
output: the two arguments of kvm_pgtable_stage2_map swapped.  The shadow S2
then holds a leaf where the nested guest never faulted, caching no guest
translation there.  Breaks tag-truth; the replay finds no leaf at the
faulting IPA (it crashed on that: an internal error, not a verdict).
Why the mistake is plausible: both are phys_addr_t named "ipa", and for a
guest that maps IPA to the same PA (as the tests often do) it works."""

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
        prot |= kvm_encode_nested_level(nested)

    if fault_is_perm and vma_pagesize == fault_granule:
        prot &= ~KVM_NV_GUEST_MAP_SZ
        ret = c_int(kvm_pgtable_stage2_relax_perms(pgt, fault_ipa, prot, 0))
    else:
        # the slip: input and output swapped
        ret = c_int(kvm_pgtable_stage2_map(pgt, ipa, vma_pagesize, fault_ipa & ~(PAGE_SIZE() - 1), prot,
                                           NULL, 0))
    return ret
