"""The symbolic environment's assumptions, read as predicates on a concrete
VM state (guest stage 2 + shadow MMU) between guest operations.  Used by the
tests to show that every state KVM's concrete machinery reaches satisfies
what the proofs assume.  Each predicate is its registry entry's `check`
(impl/assumptions.py): this module only runs them."""

from nvtlbi.impl.assumptions import ASSUMPTIONS, INVALID_TAG_TRUTH, State


def _state(mmu, guest):
    # The cached guest translations are the origins of the live shadow leaves
    # (the shadow is KVM's virtual TLB for the nested guest).
    return State(mmu, guest, list(mmu.shadow_leaves()))


def violations(mmu, guest):
    """[(assumption name, detail)] for every default assumption the state breaks."""
    st = _state(mmu, guest)
    return [(a.name, detail) for a in ASSUMPTIONS if a.check is not None for detail in a.check(st)]


def annotation_violations(mmu, guest):
    """invalid-tag-truth (opt-in) on a concrete state: every tagged invalid
    shadow entry lies inside the guest's current translation of the tagged level."""
    return [(INVALID_TAG_TRUTH.name, detail) for detail in INVALID_TAG_TRUTH.check(_state(mmu, guest))]
