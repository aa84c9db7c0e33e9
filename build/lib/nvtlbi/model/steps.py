"""The steps of a concrete scenario: one registry entry per operation that
happens before the TLBI (the guest maps, the nested guest faults, KVM ages).

A scenario (model/replay.py) is a list of (kind, arg) steps.  The entry of a
kind holds everything about it: what it means, how it runs on impl/ (replay),
how a counterexample shows it (nvtlbi/render.py) and how a regression test
writes it (nvtlbi/regress.py).  Before, those three dispatched on the kind's
string each on its own, and a kind known to one (a fault backed by a host
block) fell into another's default branch.  z3-free: only impl/ objects."""

from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

from nvtlbi.impl.nested import handle_shadow_fault


@dataclass(frozen=True)
class Step:
    name: str
    meaning: str
    # run(mmu, guest, arg) -> (ipa, fault) for a fault, None otherwise
    run: Callable[[Any, Any, Any], Optional[Tuple[int, Any]]]
    # show(arg, earlier) -> one line; earlier: the translations mapped before it
    show: Callable[[Any, List[Any]], str]
    # emit(arg) -> one statement of a regression test (nvtlbi/regress.py's names)
    emit: Callable[[Any], str]


def _map_run(mmu: Any, guest: Any, t: Any) -> None:
    guest.map(t.base, t.level, t.oa)


def _map_show(t: Any, earlier: List[Any]) -> str:
    note = " (over an earlier mapping, without break-before-make)" if any(t.overlaps(m) for m in earlier) else ""
    return f"guest maps {t} -> OA {t.oa:#x}{note}"


def _age_run(mmu: Any, guest: Any, addr: int) -> None:
    mmu.pgt.clear_af(addr)


def _block_size(size: int) -> str:
    for unit, n in (("G", 30), ("M", 20), ("K", 10)):
        if size >= 1 << n:
            return f"{size >> n}{unit}"
    return f"{size}"


STEPS: Dict[str, Step] = {s.name: s for s in [
    Step("map", "the guest hypervisor maps a translation in its stage 2",
         _map_run, _map_show,
         lambda t: f"guest.map({t.base:#x}, {t.level}, {t.oa:#x})      # {t}"),
    Step("access", "the nested guest touches an IPA: a shadow fault maps one host page",
         lambda mmu, guest, a: (a, handle_shadow_fault(mmu, guest, a, force_pte=True)),
         lambda a, _: f"nested guest touches {a:#x}: shadow fault",
         lambda a: f"handle_shadow_fault(mmu, guest, {a:#x}, force_pte=True)"),
    Step("access-block", "the nested guest touches an IPA backed by a host block: the fault maps a block",
         lambda mmu, guest, arg: (arg[0], handle_shadow_fault(mmu, guest, arg[0], vma_pagesize=arg[1])),
         lambda arg, _: f"nested guest touches {arg[0]:#x}: shadow fault (a {_block_size(arg[1])} host block)",
         lambda arg: f"handle_shadow_fault(mmu, guest, {arg[0]:#x}, vma_pagesize={arg[1]:#x})"),
    Step("age", "KVM ages the shadow leaf at an IPA (its access flag is cleared)",
         _age_run, lambda a, _: f"KVM ages the shadow leaf at {a:#x} (AF cleared)",
         lambda a: f"mmu.pgt.clear_af({a:#x})"),
]}


class UnknownStep(KeyError):
    def __str__(self) -> str:
        return f"unknown scenario step {self.args[0]!r} (steps: {', '.join(STEPS)})"


def step(name: str) -> Step:
    """The entry named `name`; a misspelt one is an UnknownStep."""
    try:
        return STEPS[name]
    except KeyError:
        raise UnknownStep(name) from None


__all__ = ["STEPS", "Step", "UnknownStep", "step"]
