"""Broken producer: the level tag is encoded only on a translation fault,
never on a permission fault.  Breaks leaf-tagged.

Why the mistake is plausible: the relax-permissions path must not pass
software bits (kvm_pgtable_stage2_relax_perms refuses them, and the PTE
keeps its own tag), so a patch can "simplify" the two steps, OR the level
in and then mask it out again, into one: skip kvm_encode_nested_level when
fault_is_perm.  That misses that a permission fault only relaxes when the
size is unchanged (vma_pagesize == fault_granule).  When it differs, for
example a write to a block that dirty logging has made read-only and now
maps with pages (force_pte), the permission fault installs a new leaf
through kvm_pgtable_stage2_map, and that leaf has no level tag.  A later
TLBI without a hint then cannot learn the guest's level from it."""

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

    # the bug: "a permission fault keeps the PTE's tag", but only the
    # relax path below keeps a PTE; the map path makes a new one
    if nested and not fault_is_perm:
        prot |= kvm_encode_nested_level(nested)

    if fault_is_perm and vma_pagesize == fault_granule:
        ret = c_int(kvm_pgtable_stage2_relax_perms(pgt, fault_ipa, prot, 0))
    else:
        ret = c_int(kvm_pgtable_stage2_map(pgt, fault_ipa, vma_pagesize, ipa & ~(PAGE_SIZE() - 1), prot,
                                           NULL, 0))
    return ret
