"""unmap: the stage-2 unmap of a range, the producer that destroys shadow
state.  Every caller that removes shadow leaves reaches it: the emulated
TLBIs (s2_mmu_unmap_range, s2_mmu_unmap_ipa: kvm_stage2_unmap_range on a
range), the recycling of a shadow MMU and the MMU notifiers
(kvm_stage2_unmap_range(mmu, 0, kvm_phys_size(mmu), ...)).

Provenance (comments are ours; no kernel text is copied):
  - kvm_stage2_unmap_range -> __unmap_stage2_range -> stage2_apply_range
    (arch/arm64/kvm/mmu.c; impl/kernel.py's __unmap_stage2_range holds its
    two WARN_ONs): the range is cut into chunks and each chunk is passed to
    kvm_pgtable_stage2_unmap.  Chunking changes the order of the visits,
    not which entries are visited, so the walk is over the whole range here.
    The callers: ../shared/posts/S_sys_regs_260119377.txt:3517, :3616 (the
    TLBIs), N3_nested_96575923.txt:1080, :1789 (all of an MMU).
  - kvm_pgtable_stage2_unmap and its walker stage2_unmap_walker
    (arch/arm64/kvm/hyp/pgtable.c, not among ../shared/posts): a LEAF walk
    of the range.  A valid leaf is cleared whole, even a block only partly
    inside the range (the rest faults back lazily, as after a map that
    breaks a block); an invalid entry is cleared only if it is counted
    (stage2_pte_is_counted: a non-zero PTE), the others are left as they
    are.  Clearing is kvm_clear_pte: the PTE becomes 0, so its software
    bits, the guest level tag among them, go too.
  - A table whose last entry is cleared is freed by the walk's TABLE_POST
    visit: that removes entries and makes none, so it is not modelled (the
    shadow-state invariant only reads the entries that exist).

What is not here: the TLB invalidation and cache maintenance the walker
does after clearing a valid PTE (stage2_unmap_put_pte's TLBI, the dcache
flush of a cacheable page): they change no shadow entry."""

from nvtlbi.impl.kernel import *  # noqa: F401,F403
from nvtlbi.impl.producers.mm import *  # noqa: F401,F403


@kfunc
def stage2_pte_is_counted(pte: u64) -> c_int:
    # the refcount of a table page counts its non-zero entries: valid ones,
    # and invalid ones that still carry information
    return pte != 0


@kfunc
def stage2_unmap_walker(ctx, visit) -> c_int:
    if not kvm_pte_valid(ctx.old):
        if stage2_pte_is_counted(ctx.old):
            kvm_clear_pte(ctx.ptep)
        return 0
    if kvm_pte_table(ctx.old, ctx.level):
        # a LEAF walk descends into tables; what is left of an emptied one
        # is freed by the walk (not a change to any leaf)
        return 0
    # a block only partly in the range goes whole
    kvm_clear_pte(ctx.ptep)
    return 0


@kfunc
def kvm_pgtable_stage2_unmap(pgt, addr: u64, size: u64) -> c_int:
    walker = kvm_pgtable_walker(cb=stage2_unmap_walker, arg=pgt, flags=KVM_PGTABLE_WALK_LEAF)
    return kvm_pgtable_walk(pgt, addr, size, walker)
