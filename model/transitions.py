"""The registry of the shadow-state transitions: one entry per transition of
the shadow stage 2 whose preservation of the assumptions is proved.

An entry names the transition (as obligation ids spell it:
`<name>-preserves-<invariant>-<guest>-host<host>`), the bundled producer
that implements it (impl/producers/<producer>.py, which impl/nested.py runs
concretely), the kind of producer file `--revision` must give for it, the
invariants its obligations cover, and its prover and replay.  `nvtlbi
invariants`, proofs/test_invariants.py and the docs iterate over it."""

from dataclasses import dataclass
from typing import Callable, Tuple

from nvtlbi.model import inv_mmu, inv_unmap, invariants


@dataclass(frozen=True)
class Transition:
    name: str
    producer: str           # bundled producer (impl/producers/), also the kind a producer file must be
    what: str               # the kernel code, in a line
    invariants: Tuple[str, ...]
    prove: Callable         # prove(producer, Obligation) -> invariants.Outcome
    replay: Callable        # replay(counterexample, producer, shift, host) -> (events, broken, stale)

    def obligations(self, granules=None, only=None):
        inv = tuple(i for i in self.invariants if not only or i in only)
        return invariants.obligations(granules, self.name, inv)


STABLE = ("vtcr-stable",)


def _no_replay(cex, producer, shift, host):
    return ["not replayed: this transition has no event replay on impl/ yet"], [], []


TRANSITIONS = [
    Transition("fault", "fault", "user_mem_abort's nested part: a shadow leaf for a guest translation, "
               "or relaxed permissions on the leaf there", invariants.INVARIANT + STABLE, invariants.prove,
               invariants.replay),
    Transition("unmap", "unmap", "kvm_pgtable_stage2_unmap (kvm_stage2_unmap_range): clear every leaf of a range",
               invariants.INVARIANT + STABLE, inv_unmap.prove, inv_unmap.replay),
    Transition("recycle", "mmu", "get_s2_mmu_nested: reuse the MMU of the vCPU's VTTBR/VTCR, or recycle one "
               "(pending unmap, new tlb_vttbr/tlb_vtcr)", STABLE + ("vtcr-current",), inv_mmu.prove, inv_mmu.replay),
    Transition("pending-unmap", "mmu", "check_nested_vcpu_requests: empty a pending MMU, clear pending_unmap",
               STABLE, inv_mmu.prove, _no_replay),
    Transition("vtcr-write", "guest", "the guest hypervisor stores VTCR_EL2 (VNCR page, no trap)",
               STABLE, inv_mmu.prove, _no_replay),
]
BY_NAME = {t.name: t for t in TRANSITIONS}


def obligations(granules=None, transitions=None, only=None):
    """[(Transition, Obligation)] for the named transitions (default: all)."""
    return [(t, o) for t in TRANSITIONS if not transitions or t.name in transitions
            for o in t.obligations(granules, only)]
INVARIANTS = sorted({i for t in TRANSITIONS for i in t.invariants})
