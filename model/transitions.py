"""The registry of the shadow-state transitions: one entry per transition of
the shadow stage 2 whose preservation of the assumptions is proved.

An entry names the transition (as obligation ids spell it:
`<name>-preserves-<invariant>-<guest>-host<host>`, or `<name>-preserves-<invariant>`
for a transition whose world leaves both granules open: one obligation
covers every pair, model/inv_mmu.py says why), the bundled producer
that implements it (impl/producers/<producer>.py, which impl/nested.py runs
concretely), the kind of producer file `--revision` must give for it, the
invariants its obligations cover, and its prover and replay.  `nvtlbi
invariants`, proofs/test_invariants.py and the docs iterate over it."""

from dataclasses import dataclass
from typing import Callable, Dict, Tuple

from nvtlbi.model import inv_mmu, inv_unmap, invariants


@dataclass(frozen=True)
class Transition:
    name: str
    producer: str           # bundled producer (impl/producers/), also the kind a producer file must be
    what: str               # the kernel code, in a line
    invariants: Tuple[str, ...]
    prove: Callable         # prove(producer, Obligation) -> invariants.Outcome
    replay: Callable        # replay(counterexample, producer, shift, host) -> (events, broken, stale)
    facts: Tuple[str, ...] = ()     # what its symbolic world takes as a fact of the case (not proved)
    # the invariants it keeps without an obligation, each by a frame argument
    # (it writes nothing the predicate reads), with that argument: trusted
    # by the end-to-end theorem, which names any invariant a transition
    # has neither an obligation nor a frame argument for
    frame: Tuple[Tuple[str, str], ...] = ()
    # the invariants it breaks, but only on an MMU it leaves with an unmap
    # pending, each with why that is harmless: no vCPU translates through a
    # pending MMU (trusted by the end-to-end theorem, not proved)
    window: Tuple[Tuple[str, str], ...] = ()
    # False: its symbolic world takes no granule pair (both are open in it),
    # so one obligation per invariant stands for all six pairs
    granular: bool = True

    def obligations(self, granules=None, only=None):
        inv = tuple(i for i in self.invariants if not only or i in only)
        return invariants.obligations(granules, self.name, inv, self.granular)


STABLE = ("vtcr-stable",)
_ENTRIES = ("tag-truth", "leaf-tagged", "invalid-untagged")


def _frame(names, why):
    return tuple((n, why) for n in names)


# An obligation that is not an invariant of every state but a property a
# transition establishes (its id keeps the `-preserves-` spelling):
# vtcr-current holds of the MMU get_s2_mmu_nested returns; the guest's
# VTCR_EL2 write breaks it for an MMU the vCPU no longer runs on.  The
# end-to-end theorem (model/endtoend.py) needs its obligation PROVED and
# does not count it in the invariant.
ESTABLISHED: Dict[str, str] = {
    "vtcr-current": "recycle-preserves-vtcr-current proves it of the MMU get_s2_mmu_nested returns; it stays "
                    "true while the nested guest runs because VTCR_EL2 changes only in the guest hypervisor's "
                    "context, and entering the nested guest again picks the MMU anew (kvm_vcpu_put_hw_mmu / "
                    "kvm_vcpu_load_hw_mmu): this run-loop argument is not proved",
    # what links (b) to the shadow state: P1-P3 prove the range the TLBI
    # unmaps covers T; the unmap must then clear every valid leaf the range
    # overlaps (an unmap that keeps one preserved every invariant above and
    # left the theorem PROVED with T's leaf still mapped)
    "overlap-cleared": "kvm_pgtable_stage2_unmap leaves no valid leaf that overlaps the range it was given "
                       "(model/inv_unmap.py: the visited entry, or one the walk skips)",
}


def _no_replay(cex, producer, shift, host):
    return ["not replayed: this transition has no event replay on impl/ yet"], [], []


TRANSITIONS = [
    Transition("fault", "fault", "user_mem_abort's nested part: a shadow leaf for a guest translation, "
               "or relaxed permissions on the leaf there", invariants.INVARIANT + STABLE, invariants.prove,
               invariants.replay,
               ("the MMU the fault runs on is in use (CnP clear): the written leaf's vtcr-stable checks only its "
                "granule; vtcr-current's first half, which the recycle proves of the MMU it returns",)),
    Transition("unmap", "unmap", "kvm_pgtable_stage2_unmap (kvm_stage2_unmap_range): clear every leaf of a range",
               invariants.INVARIANT + STABLE + ("overlap-cleared",), inv_unmap.prove, inv_unmap.replay),
    Transition("recycle", "mmu", "get_s2_mmu_nested: reuse the MMU of the vCPU's VTTBR/VTCR, or recycle one "
               "(pending unmap, new tlb_vttbr/tlb_vtcr)", STABLE + ("vtcr-current",), inv_mmu.prove, inv_mmu.replay,
               ("some MMU of kvm->arch.nested_mmus has no reference when the lookup misses: two MMUs per vCPU, "
                "each vCPU holding one reference at most (the BUG_ON's 'MMUs to spare')",),
               _frame(_ENTRIES, "it writes MMU fields only (tlb_vttbr, tlb_vtcr, nested_stage2_enabled, "
                                "pending_unmap, refcnt), no shadow entry: the predicate reads one entry and the "
                                "translation it caches"),
               granular=False,
               # not a frame argument: the predicate reads nested_stage2_enabled, which it writes
               window=_frame(("s2off-untagged",), "a recycled MMU made stage-2-off keeps the old context's tagged "
                             "leaves until check_nested_vcpu_requests empties it, so the predicate is false on it "
                             "meanwhile (vtcr-stable has the same window, as its pending_unmap disjunct); harmless "
                             "because no vCPU translates through a pending MMU: whoever takes it gets "
                             "KVM_REQ_NESTED_S2_UNMAP, handled before the guest is entered, and a TLBI emulated "
                             "in the window (another vCPU may take mmu_lock between the two) at worst unmaps a "
                             "wrong range of an MMU emptied before use. The theorem's 'any MMU' is any MMU without "
                             "a pending unmap; an obligation would need tags in model/inv_mmu.py's per-entry "
                             "world and the pending disjunct in the fault and unmap worlds' predicate")),
    Transition("pending-unmap", "mmu", "check_nested_vcpu_requests: empty a pending MMU, clear pending_unmap",
               STABLE, inv_mmu.prove, inv_mmu.replay_pending, (),
               _frame(invariants.INVARIANT, "its entry writes are kvm_stage2_unmap_range's over the whole IPA "
                                            "space: the unmap transition, whose obligations prove the predicate; "
                                            "clearing pending_unmap writes no entry"),
               granular=False),
    Transition("vtcr-write", "guest", "the guest hypervisor stores VTCR_EL2 (VNCR page, no trap)",
               STABLE, inv_mmu.prove, _no_replay, (),
               _frame(invariants.INVARIANT, "it writes the vCPU's VTCR_EL2 only: no shadow entry, no MMU field"),
               granular=False),
]
BY_NAME = {t.name: t for t in TRANSITIONS}


def obligations(granules=None, transitions=None, only=None):
    """[(Transition, Obligation)] for the named transitions (default: all)."""
    return [(t, o) for t in TRANSITIONS if not transitions or t.name in transitions
            for o in t.obligations(granules, only)]
INVARIANTS = sorted({i for t in TRANSITIONS for i in t.invariants})


def of_kind(kind):
    """The transitions a producer of `kind` (impl/producers ENTRY) implements:
    one file of the `mmu` kind is both the recycle and the pending unmap."""
    return [t for t in TRANSITIONS if t.producer == kind]

