"""The registry of ops: the guest TLBIs whose emulation nvtlbi proves, one
entry each.  An entry (`Op`) holds the op's name, its meaning and source,
its caller (impl/: the handler a revision defines, where its bundled
revisions are), its case matrix (granule x level x the op's operand cases),
its properties, and what the prover needs to speak of it (the symbolic
world, a case as a Z3 fact, a model in domain terms, the replay on impl/).

`ipas2e1` is today's path, the default; `ripas2e1` the range TLBI; `vncr`
the FEAT_NV2 VNCR pseudo-TLB (its diff runs at any S1 level: any_case None).  The
prover (model/prover.py) and the CLI's --op go through the entry, never
through a branch on the op's name; a misspelt op is an UnknownOp."""

from dataclasses import dataclass
from typing import Callable, Dict, List, Tuple

from nvtlbi.impl import granule as G
from nvtlbi.impl import tlbi, tlbi_range, vncr
from nvtlbi.model import describe as D
from nvtlbi.model import properties as P
from nvtlbi.model import range_env as RE
from nvtlbi.model import range_props as RP
from nvtlbi.model import range_replay as RR
from nvtlbi.model import range_worlds as RW
from nvtlbi.model import vncr_env as VE
from nvtlbi.model import vncr_props as VP
from nvtlbi.model import vncr_replay as VR
from nvtlbi.model import vncr_text as VT
from nvtlbi.model import vncr_worlds as VW
from nvtlbi.model import range_text as RT
from nvtlbi.model.env import HINTS, SymEnv, Case, hint_fact
from nvtlbi.model.matrix import matrix as _ipas2e1_matrix


@dataclass(frozen=True)
class Op:
    name: str
    meaning: str
    source: str
    caller: object                      # impl/: tlbi.CALLER, tlbi_range.CALLER
    cases: List[str]                    # the operand cases (the matrix's "hint" dimension)
    properties: Dict[str, P.Property]
    isolation: Tuple[str, ...]          # the default obligations
    make_env: Callable                  # SymEnv or RangeEnv
    matrix: Callable                    # matrix(enabled, hints) -> [Case]
    applies: Callable                   # applies(property, case name) -> bool
    holds: Callable                     # holds(property, env, error) -> z3 Bool
    case_fact: Callable                 # case_fact(env, case name) -> z3 Bool
    describe: Callable                  # describe(env, model, path=None, prop=None) -> dict
    attach: Callable                    # attach(cex, rev, dropped): replay one counterexample, say so in it
    executed: Callable                  # executed(engine, rev, results, solvers, models, witness)
    cover: Callable                     # cover(witness) -> (ok, why)
    # how a counterexample reads (the front end asks here; None: ipas2e1's
    # own rendering in nvtlbi/render.py and nvtlbi/report.py)
    sentence: Callable | None = None    # sentence(result, cex=None) -> one line in domain terms, its error too
    scenario: Callable | None = None    # scenario(result, rev, dropped) -> the scenario drawn as text
    any_case: Callable | None = None    # any_case(shift) -> the Case a diff runs in (None: any level, any hint)
    example: Callable | None = None     # example(diff example, a, b) -> lines: the input two revisions differ on
    hangs: Callable | None = None       # hangs(rev, shift): a mutant loops concretely (None: ipas2e1's probe budget)
    violates: Callable | None = None    # violates(cex, rev): rev breaks cex's property on cex's world (None: ipas2e1's)
    # cheap evidence (model/evidence.hunt): a seeded world of a case, and a
    # revision's replayed failures on it; None: the op has no generator
    draw: Callable | None = None        # draw(rng, case, drop) -> a world in counterexample form, or None
    hits: Callable | None = None        # hits(rev, world, props, drop) -> {property: replayed cex}, None: not C's

    def __str__(self):
        return self.name


def _ipas2e1_executed(*a):
    from nvtlbi.model import prover
    return prover.executed(*a)


def _ipas2e1_attach(cex, rev, dropped=()):
    from nvtlbi.model import replay as R
    return R.attach_cex(cex, rev, dropped)


def _ipas2e1_draw(rng, case, drop):
    from nvtlbi.model import evidence
    return evidence._draw_world(rng, case, drop)


def _ipas2e1_hits(rev, world, props, drop):
    from nvtlbi.model import evidence
    return evidence._run(rev, world, props, drop)


def _ipas2e1_cover(witness):
    from nvtlbi.model import replay as R
    return R.cover(witness)


def _range_matrix(enabled, hints=None):
    return [Case(shift, level, h) for shift in sorted(G.GRANULES.values())
            for level in G.guest_leaf_levels(shift) for h in (hints or RE.RangeCases.NAMES)]


def _range_any_case(shift):
    # the range revisions never read C: one level serves a diff of the granule
    return Case(shift, G.guest_leaf_levels(shift)[-1], "any")


IPAS2E1 = Op("ipas2e1", "TLBI IPAS2E1*: one IPA, its range inferred from the TTL hint or the shadow S2's level tags",
             "ARM DDI 0487 M.a.a C5.5.13; sys_regs.c handle_ipas2e1is, nested.c compute_tlb_inval_range",
             tlbi.CALLER, HINTS, P.PROPERTIES, P.ISOLATION, SymEnv, _ipas2e1_matrix, P.applies, P.holds,
             lambda env, h: hint_fact(h, env.ttl, env.feat, env.lpa2, env.case.shift, env.T_level),
             D.describe, _ipas2e1_attach, _ipas2e1_executed, _ipas2e1_cover,
             draw=_ipas2e1_draw, hits=_ipas2e1_hits)
RIPAS2E1 = Op("ripas2e1", "TLBI RIPAS2E1*: a range of IPAs (TG, SCALE, NUM, TTL, BaseADDR) unmapped on every shadow "
                          "MMU of the VMID",
              "ARM DDI 0487 M.a.a C5.5.21, D8.17.5.2, J1.1.3.449; sys_regs.c handle_ripas2e1is, "
              "kvm_nested.h decode_range_tlbi, nested.c kvm_s2_mmu_iterate_by_vmid",
              tlbi_range.CALLER, RE.RangeCases.NAMES, RP.PROPERTIES, RP.ISOLATION, RE.RangeEnv, _range_matrix,
              RP.applies, RP.holds, lambda env, h: env.case_fact(h), RR.describe, RR.attach, RR.executed, RR.cover,
              RT.sentence, RT.scenario, _range_any_case, RT.example,
              RR.hangs, RR.violates, RW.draw, RW.hits)



def _vncr_matrix(enabled, hints=None):
    return [Case(shift, level, h) for shift in sorted(G.GRANULES.values())
            for level in vncr.s1_leaf_levels(shift) for h in (hints or VE.KIND_NAMES)]


VNCR = Op("vncr", "the VNCR pseudo-TLB (FEAT_NV2): a vCPU's cached translation of the guest's VNCR_EL2 page, "
                  "dropped by EL2&0 TLBIs (VA, ASID, ALL, range) and by KVM's unmapping of the VM's IPAs",
          "ARM DDI 0487 M.a.a J1.1.3.446-451; nested.c invalidate_vncr_va, kvm_invalidate_vncr_ipa, "
          "compute_s1_tlbi_range, kvm_handle_s1e2_tlbi (N3_nested_96575923.txt:813-1051)",
          vncr.CALLER, VE.KIND_NAMES, VP.PROPERTIES, VP.ISOLATION, VE.VncrEnv, _vncr_matrix,
          VP.applies, VP.holds, lambda env, h: env.case_fact(h), VR.describe, VR.attach, VR.executed, VR.cover,
          VT.sentence, VT.scenario, None, VT.example, VT.hangs, VR.violates, VW.draw, VW.hits)

OPS = {o.name: o for o in [IPAS2E1, RIPAS2E1, VNCR]}
DEFAULT = IPAS2E1.name


class UnknownOp(KeyError):
    def __str__(self):
        return f"unknown op {self.args[0]!r} (ops: {', '.join(OPS)})"


def of_result(result):
    """The op a result is about: its counterexample or witness says it
    (ipas2e1's, from before ops, say nothing)."""
    c = result.counterexample or result.witness or {}
    return op(c.get("op"))


def op(name):
    if isinstance(name, Op):
        return name
    try:
        return OPS[name or DEFAULT]
    except KeyError:
        raise UnknownOp(name) from None
