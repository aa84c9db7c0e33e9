"""fault: the nested part of KVM's stage-2 fault path, the producer of the
shadow state the IPAS2E1 proofs assume (tag-truth, leaf-tagged, ...).

Provenance (comments are ours; no kernel text is copied):
  - kvm_s2_trans_size / kvm_s2_trans_output / kvm_encode_nested_level:
    arch/arm64/include/asm/kvm_nested.h (../shared/ARCH_FACTS.md:14, :112);
    the level and block_size they read are set by walk_nested_s2_pgd
    (../shared/posts/N3_nested_96575923.txt:317-323: block_size from the
    level only, the contiguous span excluded).
  - user_mem_abort's nested part, arch/arm64/kvm/mmu.c: "[PATCH v2 03/16]
    KVM: arm64: nv: Handle shadow stage 2 page faults" and "[PATCH v2 12/16]
    ... Tag shadow S2 entries with guest's leaf S2 level", 29 May 2024,
    20240529145628.3272630-4/-13-maz@kernel.org (ARCH_FACTS.md:20, :112,
    :270): clamp to kvm_s2_trans_size, round into the host sizes, OR the
    guest level into prot, and on the relax-permissions path drop the
    software bits so the PTE keeps its own.  mmu.c is not among
    ../shared/posts: the control flow is that of those mails as the fact
    sheet records it.
  - the permission check before it: kvm_s2_handle_perm_fault,
    N3_nested_96575923.txt:781-803 (a fault the guest must see never gets here).

What is an input here (the host's answers, not the nested part): the
backing size the VMA part settled on (get_vma_page_shift and
fault_supports_stage2_huge_mapping, `memslot.vma_pagesize`), whether
logging forces pages (`memslot.force_pte`), the THP answer, and for a
permission fault the granule of the faulting shadow leaf."""

from nvtlbi.impl.kernel import *  # noqa: F401,F403
from nvtlbi.impl.producers.mm import *  # noqa: F401,F403


@kfunc
def kvm_s2_trans_output(trans) -> phys_addr_t:
    return trans.output


@kfunc
def kvm_s2_trans_size(trans) -> unsigned_long:
    return trans.block_size


@kfunc
def kvm_encode_nested_level(trans) -> u64:
    # FIELD_PREP converts the level to the mask's u64 before the shift
    return FIELD_PREP(KVM_NV_GUEST_MAP_SZ, trans.level)


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

        # a shadow block only as large as the guest's own mapping
        max_map_size = min(kvm_s2_trans_size(nested), max_map_size)

        # between two host sizes: take the smaller one
        if max_map_size >= PMD_SIZE() and max_map_size < PUD_SIZE():
            max_map_size = PMD_SIZE()
        elif max_map_size >= PAGE_SIZE() and max_map_size < PMD_SIZE():
            max_map_size = PAGE_SIZE()

        force_pte = c_int(max_map_size == PAGE_SIZE())
        vma_pagesize = min(vma_pagesize, s64(max_map_size))

    # both the canonical and the faulting IPA aligned to a block
    if vma_pagesize == PMD_SIZE() or vma_pagesize == PUD_SIZE():
        fault_ipa &= ~(vma_pagesize - 1)
        ipa &= ~(vma_pagesize - 1)

    if vma_pagesize == PAGE_SIZE() and not force_pte:
        if fault_is_perm and fault_granule > PAGE_SIZE():
            vma_pagesize = fault_granule
        else:
            vma_pagesize = s64(transparent_hugepage_adjust(kvm_s2_mmu_to_kvm(mmu), memslot, 0, NULL, NULL))
            if vma_pagesize == PMD_SIZE():      # the THP adjust realigns both IPAs
                fault_ipa &= ~(vma_pagesize - 1)
                ipa &= ~(vma_pagesize - 1)

    if nested:
        prot |= kvm_encode_nested_level(nested)

    if fault_is_perm and vma_pagesize == fault_granule:
        # the PTE's own software bits (the level tag) stay
        prot &= ~KVM_NV_GUEST_MAP_SZ
        ret = c_int(kvm_pgtable_stage2_relax_perms(pgt, fault_ipa, prot, 0))
    else:
        ret = c_int(kvm_pgtable_stage2_map(pgt, fault_ipa, vma_pagesize, ipa & ~(PAGE_SIZE() - 1), prot,
                                           NULL, 0))
    return ret
