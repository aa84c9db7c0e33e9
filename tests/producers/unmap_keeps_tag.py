"""Broken unmap producer: the unmap walker invalidates a leaf by clearing
only its valid bit, so the invalid entry keeps its software bits, the
guest level tag among them.  Breaks invalid-untagged.

Why the mistake is plausible: keeping the level of an unmapped guest block
in the invalid entry looks useful (a later TLBI could still find the
guest's level there, which is what the invalidtags alternative does on
purpose, with invalid-tag-truth to go with it), and "invalidate" reads as
"clear the valid bit".  KVM's kvm_clear_pte writes 0."""

from nvtlbi.impl.producers.unmap import *  # noqa: F401,F403


@kfunc
def stage2_unmap_walker(ctx, visit) -> c_int:
    if not kvm_pte_valid(ctx.old):
        if stage2_pte_is_counted(ctx.old):
            kvm_clear_pte(ctx.ptep)
        return 0
    if kvm_pte_table(ctx.old, ctx.level):
        return 0
    # the mistake: the valid bit alone, the software bits stay
    ctx.ptep.write(ctx.old & ~u64(1))
    return 0


@kfunc
def kvm_pgtable_stage2_unmap(pgt, addr: u64, size: u64) -> c_int:
    walker = kvm_pgtable_walker(cb=stage2_unmap_walker, arg=pgt, flags=KVM_PGTABLE_WALK_LEAF)
    return kvm_pgtable_walk(pgt, addr, size, walker)
