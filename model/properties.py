"""The registry of properties proved of the invalidated range(s) on every
path: one entry per property.

An entry (`Property`) holds the property's name, its meaning, its source,
the hint cases it says nothing about, whether it is proved by default, its
symbolic statement (`statement(env, error)`: a Z3 Boolean over a path's
outcome, its recorded unmaps (base, size, mmu), its WARN_ONs, or the
exception that ended it) and its concrete check (`violated(outcome,
scenario)`, z3-free, in model/violation.py: does a run on impl/ break it).
The prover asks `holds`, the replay asks `Outcome.violates`: both go
through the entry, so a misspelt property is an UnknownProperty, never a
branch that silently matches nothing.

P1 and P3 hold of every MMU's range; P2 and P5 of the MMU holding T.
docs/model.md's table of the properties is generated from this registry
(`python -m nvtlbi.docs`)."""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, List, Optional, Tuple, Union

import z3

from nvtlbi.impl import granule as G
from nvtlbi.impl.kernel import KernelBug
from nvtlbi.model import hints as H
from nvtlbi.model import symhooks as SH
from nvtlbi.model import violation as V
from nvtlbi.model.assumptions import GET_LEAF_RANGE, STABLE_PGT
from nvtlbi.model.hints import Hint, hint_fact

if TYPE_CHECKING:
    from nvtlbi.model.env import SymEnv
    from nvtlbi.model.replay import Outcome, Scenario

# An unmap a path recorded (model/env.py SymMMU.unmap_range): base and size as
# 64-bit terms, and the index of the MMU (0: the one holding T).
Unmap = Tuple[z3.BitVecRef, z3.BitVecRef, int]
# statement(env, error) -> z3 Bool: the property holds on the path that ended with
# `error` (None: it returned; else the C outcome it raised, impl/outcome.py)
Statement = Callable[["SymEnv", Optional[BaseException]], z3.BoolRef]


@dataclass(frozen=True)
class Property:
    name: str
    meaning: str
    source: str
    statement: Statement        # statement(env, error) -> z3 Bool: the property holds on the path
    violated: Callable[["Outcome", "Scenario"], bool]   # violated(outcome, scenario): a concrete run breaks it
    about_T: bool = False       # says nothing where the hint case excuses the TLBI for T
    default: bool = True        # proved unless --property names others (P5: only on request)
    # causes(env, error) -> the distinct reasons a failing path fails, as a
    # counterexample's `error` names them, each with when it holds on the
    # path, when the property fails for reasons a report should tell apart
    # (P4: each BUG() and WARN_ON site); None: a property of the ranges,
    # whose counterexample is the range itself
    causes: Optional[Callable[["SymEnv", Optional[BaseException]], List[Tuple[str, z3.BoolRef]]]] = None

    def __str__(self) -> str:
        return self.name

    def applies(self, hint: Union[Hint, str]) -> bool:
        """Does the property say anything in this hint case?"""
        return not (self.about_T and H.hint(hint).excuses)

    @property
    def hints(self) -> List[str]:
        """The hint cases it applies to."""
        return [h.name for h in H.HINT_CASES if self.applies(h)]


def _x(e: z3.BitVecRef) -> z3.BitVecRef:
    return z3.ZeroExt(1, e)       # 65-bit: sums cannot wrap


# ---- the symbolic statements ----------------------------------------------------------------
def _available(env: "SymEnv", error: Optional[BaseException]) -> z3.BoolRef:
    return z3.And(z3.BoolVal(not isinstance(error, KernelBug)), z3.Not(SH.fires(env.warnings)))


def _sites(env: "SymEnv", error: Optional[BaseException]) -> List[Tuple[str, z3.BoolRef]]:
    """The BUG() and WARN_ON sites a path reaches, as model/describe.py names
    them in a counterexample's `error` (one site: one cause of P4's failure),
    each with when it fires on the path."""
    out = [(f"{type(error).__name__}: {error}", z3.BoolVal(True))] if isinstance(error, KernelBug) else []
    return out + [(f"WARN_ON at {w.where}", w.cond) for w in env.warnings]


def _on_ranges(statement: Callable[["SymEnv", List[Unmap]], z3.BoolRef]) -> Statement:
    """A range property, after what every range property says of a path that
    failed or unmapped nothing."""
    def holds(env: "SymEnv", error: Optional[BaseException]) -> z3.BoolRef:
        if isinstance(error, KernelBug):
            return z3.BoolVal(True)     # a BUG() path computes no range: P4's failure, not P1-P3's
        if error is not None:
            return z3.BoolVal(False)    # undefined behaviour or a crash of the revision itself
        if not env.unmaps:
            return z3.BoolVal(False)
        return statement(env, env.unmaps)
    holds.__name__ = holds.__qualname__ = statement.__name__
    return holds


@_on_ranges
def _contains_ipa(env: "SymEnv", unmaps: List[Unmap]) -> z3.BoolRef:
    return z3.And([z3.And(z3.ULE(b, env.ipa), z3.ULT(_x(env.ipa), _x(b) + _x(s))) for b, s, _ in unmaps])


def stale_page(env: "SymEnv") -> z3.BitVecRef:
    """P2's witness: the host page of T where a shadow leaf of T would
    survive.  It is existential: the prover asks for a model of not-holds,
    and a counterexample names the page (model/describe.py), which the
    replay faults in (model/replay.py)."""
    return z3.BitVec("P2.stale_page", 64)


@_on_ranges
def _contains_T(env: "SymEnv", unmaps: List[Unmap]) -> z3.BoolRef:
    # A shadow leaf of T survives only at a host page of T (its part below
    # the VM's IPA size) that no unmapped range overlaps: KVM's unmap removes
    # every shadow leaf a range overlaps, and shadow leaves are at least a
    # host page, so a range counts rounded out to host pages.  A page a
    # probe of this MMU found empty holds no leaf at the unmap (stable-pgt:
    # the answer stands while mmu_lock is held), so none can survive there:
    # without that, a revision that unmaps nothing after finding T's only
    # page empty "fails" with no stale leaf possible (a counterexample that
    # cannot replay).
    page = z3.ZeroExt(65 - 8, z3.BitVecVal(1, 8)) << z3.ZeroExt(65 - 8, env.host_shift)
    lo, hi = _x(env.T_base), _x(env.T_base) + _x(env.T_size)
    must = env.obliged()
    if env.engine.on(GET_LEAF_RANGE):
        # shadow leaves exist only below the VM's IPA size (an access
        # beyond it is an address-size fault): only that part of T counts
        limit = _x(env.ia_limit)
        hi = z3.If(z3.ULE(hi, limit), hi, limit)
        must = z3.And(must, z3.ULT(lo, limit))
    # the range covering all of T settles it (the usual case, and a cheap
    # one for the solver); only when none does is a surviving page sought
    rounded = [(_x(b) & ~(page - 1), (_x(b) + _x(s) + page - 1) & ~(page - 1)) for b, s, m in unmaps if m == 0]
    covers = z3.Or([z3.And(z3.ULE(rb, lo), z3.ULE(hi, re)) for rb, re in rounded])
    sp = _x(stale_page(env))
    in_T = z3.And(z3.ULE(lo, sp), z3.ULT(sp, hi), sp & (page - 1) == 0)
    unmapped = z3.Or([z3.And(z3.ULE(rb, sp), z3.ULT(sp, re)) for rb, re in rounded])
    empty = z3.Or([z3.And(p.ret == 0, z3.Not(p.valid), _x(p.addr) & ~(page - 1) == sp)
                   for p in env._known() if p.mmu == 0]) if env.engine.on(STABLE_PGT) else z3.BoolVal(False)
    return z3.Implies(must, z3.Or(covers, z3.Not(z3.And(in_T, z3.Not(unmapped), z3.Not(empty)))))


@_on_ranges
def _well_formed(env: "SymEnv", unmaps: List[Unmap]) -> z3.BoolRef:
    return z3.And([z3.And(s != 0, s & (s - 1) == 0, z3.ULE(_x(b) + _x(s), z3.BitVecVal(1 << 64, 65)))
                   for b, s, _ in unmaps])


@_on_ranges
def _precise(env: "SymEnv", unmaps: List[Unmap]) -> z3.BoolRef:
    assert env.seeds, "P5 needs the seed reads (engine.seeds)"
    # KVM has T's size: the TTL names T, or there is no usable TTL (the
    # hint cases as impl/oracle.hint_case classifies them) and a tagged leaf is where it looks
    informed = z3.Or(_hint(env, H.MATCH),
                     z3.And(z3.Or(_hint(env, H.NOHINT), _hint(env, H.NOFEAT)),
                            z3.Or([z3.And(z3.ULE(size, env.T_size), p.tagged) for size, p in env.seeds])))
    mine = [(b, s) for b, s, m in unmaps if m == 0]
    exact = z3.And([z3.And(b == env.T_base, s == env.T_size) for b, s in mine]) if mine else z3.BoolVal(False)
    # no cached translation is larger than the granule's largest block
    g = env.case.shift
    largest = z3.If(env.lpa2, z3.BitVecVal(G.level_size(g, min(G.guest_leaf_levels(g, True))), 64),
                    z3.BitVecVal(G.level_size(g, min(G.guest_leaf_levels(g, False))), 64))
    bounded = z3.And([z3.ULE(s, largest) for _, s in mine])
    return z3.And(z3.Implies(informed, exact), bounded)


def _hint(env: "SymEnv", h: Hint) -> z3.BoolRef:
    return hint_fact(h.name, env.ttl, env.feat, env.lpa2, env.case.shift, env.T_level)


# ---- the registry ---------------------------------------------------------------------------
_C5_5_13 = "ARM DDI 0487 M.a.a C5.5.13 (TLBI IPAS2E1, IPAS2E1IS), D8.17.5"
P1 = Property("P1", "the invalidated range contains the IPA", _C5_5_13,
              _contains_ipa, V.contains_ipa)
P2 = Property("P2", "no shadow leaf of the cached guest translation containing the IPA survives, when the TLBI must "
                    "remove it: every host page of it (below the VM's IPA size) is in an invalidated range (rounded "
                    "out to host pages, as the unmap removes whole leaves) or was found empty by a probe "
                    "(stable-pgt); a counterexample names the page whose leaf survives",
              _C5_5_13 + ", J1.1.3.449 TLBIMatch, ResTLBITTL (impl/oracle.py)",
              _contains_T, V.stale, about_T=True)
P3 = Property("P3", "the range size is a nonzero power of two and the range does not wrap",
              "s2_mmu_unmap_ipa aligns the IPA down to the size and unmaps one block, [base, base + size) "
              "(kvm_stage2_unmap_range; impl/tlbi.py)",
              _well_formed, V.well_formed)
P4 = Property("P4", "no guest-controlled input reaches BUG() or WARN_ON in the revision's code or the kernel "
                    "functions nvtlbi models (among them __unmap_stage2_range's two; one counterexample per "
                    "site reached)",
              "availability: a guest must not bring the host down (BUG()) or make it warn (WARN_ON)",
              _available, V.availability, causes=_sites)
P5 = Property("P5", "precision: the range is at most the granule's largest block, and exactly T when the TTL names "
                    "T, or when there is no usable TTL and a tagged shadow leaf maps the IPA aligned down to a block "
                    "size of the granule up to T's (its guest page, ..., T's base)",
              "the review thread of the seed (how much more than T a TLBI unmaps); not an isolation property: "
              "a revision that over-invalidates fails it and stays safe",
              _precise, V.imprecise, about_T=True, default=False)

PROPERTIES = {p.name: p for p in [P1, P2, P3, P4, P5]}
ISOLATION = tuple(p.name for p in PROPERTIES.values() if p.default)     # the default obligations; P5 on request


class UnknownProperty(KeyError):
    def __str__(self) -> str:
        return f"unknown property {self.args[0]!r} (properties: {', '.join(PROPERTIES)})"


def prop(name: Union[Property, str]) -> Property:
    """The entry named `name`; a misspelt name is an UnknownProperty."""
    if isinstance(name, Property):
        return name
    try:
        return PROPERTIES[name]
    except KeyError:
        raise UnknownProperty(name) from None


def holds(name: Union[Property, str], env: "SymEnv", error: Optional[BaseException] = None) -> z3.BoolRef:
    """The property as a Z3 Boolean over the path's outcome."""
    return prop(name).statement(env, error)


def applies(name: Union[Property, str], hint: Union[Hint, str]) -> bool:
    """P2 and P5 say nothing when the hint excuses the TLBI for T (any
    range is correct; upstream uses the hinted block's size, which may
    belong to another granule)."""
    return prop(name).applies(hint)
