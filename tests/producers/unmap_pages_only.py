"""Broken unmap producer: the unmap walker clears page leaves (the last
level) only and leaves a valid block in place.  Keeps every per-entry
invariant (it writes less), but a TLBI's unmap no longer removes a shadow
block: breaks overlap-cleared, and a stale shadow leaf survives.
Why the mistake is plausible: a block only partly inside the range maps
memory outside it too, so "do not unmap what the caller did not ask for"
reads as skipping blocks and letting the TABLE_POST visit free them; but
a LEAF walk never reaches TABLE_POST for a block, and stage2_unmap_walker
clears a valid leaf whole at any level."""

from nvtlbi.impl.producers.unmap import *  # noqa: F401,F403


@kfunc
def stage2_unmap_walker(ctx, visit) -> c_int:
    if not kvm_pte_valid(ctx.old):
        if stage2_pte_is_counted(ctx.old):
            kvm_clear_pte(ctx.ptep)
        return 0
    if kvm_pte_table(ctx.old, ctx.level):
        return 0
    if ctx.level != KVM_PGTABLE_LAST_LEVEL:
        return 0                        # the slip: a block stays valid
    kvm_clear_pte(ctx.ptep)
    return 0
