"""The range op's models made concrete: a path's or a counterexample's model
in domain terms (describe), the world it names built on impl/ (shadow MMUs
with their VTTBRs, the guest's translation C faulted into MMU k at page x),
the TLBI run with the revision, and the architecture's check."""

from dataclasses import dataclass, field

import z3

from nvtlbi.impl import granule as G
from nvtlbi.impl import tlbi_range as TR
from nvtlbi.impl.nested import GuestS2, VM, handle_shadow_fault, new_mmu
from nvtlbi.impl.outcome import C_OUTCOMES
from nvtlbi.impl.revision import RevisionError
from nvtlbi.model import range_props as RP
from nvtlbi.model import replay as R
from nvtlbi.model import symhooks as SH
from nvtlbi.model import userfault


def describe(env, model, path=None, prop=None):
    ev = lambda e: model.eval(e, model_completion=True).as_long()
    val = ev(env.val)
    d = {"op": "ripas2e1", "granule": env.case.granule, "level": env.case.level, "hint": env.case.hint,
         "val": val, "operand": str(TR.Operand.of(val)), "ipa": ev(env.ipa),
         "host_granule": G.name(ev(env.host_shift)) if ev(env.host_shift) in G.NAMES else str(ev(env.host_shift)),
         "ia_bits": ev(env.ia_bits), "vttbr": ev(env.vttbr),
         "mmus": [ev(m.guest_vttbr.v) for m in env.mmus], "k": ev(env.k),
         "C": [ev(env.C_base), ev(env.C_base) + ev(env.C_size)], "x": ev(env.x)}
    if path is not None:
        d["property"] = prop
        d["ranges"] = [[ev(b), ev(b) + ev(s), m] for b, s, m in env.unmaps]
        if path.error is not None:
            d["error"] = f"{type(path.error).__name__}: {path.error}"
        elif fired := SH.fired(env.warnings, model):
            d["error"] = f"WARN_ON at {fired[0]}"
    return d


@dataclass
class Outcome:
    ranges: list
    stale: list = field(default_factory=list)
    range_left: list = field(default_factory=list)
    beyond: list = field(default_factory=list)
    error: str | None = None
    warnings: list = field(default_factory=list)


def build(d, budgeted=False):
    """The world of a model: MMUs with the model's tlb_vttbr (CnP: free), the
    guest's C mapped, and MMU k faulting C's page x in as a host page.
    budgeted: nested_mmus[] readable ITERATION_BUDGET times (_BudgetVM), for
    runs of code that may loop (model/range_worlds.py)."""
    g, h = G.GRANULES[d["granule"]], G.GRANULES[d["host_granule"]]
    guest = GuestS2(g)
    vm = _BudgetVM() if budgeted else VM()
    for t in d["mmus"]:
        m = new_mmu(vm, guest, h, ia_bits=d["ia_bits"])
        m.vttbr, m.free = t & ~1, bool(t & 1)
    vm.vcpu.sys_regs["VTTBR_EL2"] = d["vttbr"]
    base = d["C"][0]
    guest.map(base, d["level"], base)
    got = handle_shadow_fault(vm.mmus[d["k"]], guest, d["x"], vma_pagesize=1 << h)
    if got is None or not hasattr(got, "level"):
        raise ValueError(f"the nested access at {d['x']:#x} did not fault C in ({got})")
    return vm


def execute(d, vm, rev):
    error, warnings = None, []
    try:
        warnings = TR.run(vm, d["val"], rev)
        if warnings:
            error = f"WARN_ON at {warnings[0]}"
    except C_OUTCOMES as e:
        error = f"{type(e).__name__}: {e}"
    except Exception as e:
        raise userfault.classify(e, rev) from e
    op = TR.Operand.of(d["val"])
    vmid = d["vttbr"] >> 48
    ranges = [(b, s, i) for i, m in enumerate(vm.mmus) for b, s in m.unmapped]
    out = Outcome(ranges, TR.stale_leaves(vm, d["val"], vmid), error=error, warnings=warnings)
    g = G.GRANULES[d["granule"]]
    h = G.GRANULES[d["host_granule"]]
    if op.valid and op.shift == g:
        page = 1 << h
        x = d["x"]
        if op.base <= x < op.base + op.size and x < 1 << d["ia_bits"]:
            for i, m in enumerate(vm.mmus):
                if not m.free and m.vttbr >> 48 == vmid and \
                        not any((b & -page) <= x < ((b + s + page - 1) & -page) for b, s in m.unmapped):
                    out.range_left.append((i, x))
        big = G.level_size(g, min(G.guest_leaf_levels(g)))
        lo, hi = op.base & -big, (op.base + op.size + big - 1) & -big
        out.beyond = [(b, s, i) for b, s, i in ranges
                      if vm.mmus[i].free or vm.mmus[i].vttbr >> 48 != vmid or b < lo or b + s > hi]
    return out


def _sized(ranges):
    """A model's ranges ([base, end, mmu], as describe() gives them) as the
    concrete run records them: (base, size, mmu)."""
    return [(b, e - b, m) for b, e, m in ranges]


def violates(cex, rev):
    """Does `rev` break the counterexample's property on its world (another
    revision's counterexample: its own outcome is not compared)?  A world
    that cannot be built, or a run that fails otherwise, says no."""
    try:
        world = build(cex)
        return bool(RP.PROPERTIES[cex["property"]].violated(execute(cex, world, rev), cex))
    except Exception:       # noqa: BLE001 -- not a failure the revision shares
        return False


def replay(cex, rev):
    try:
        vm = build(cex)
    except Exception as e:
        return False, f"scenario cannot be built concretely: {type(e).__name__}: {e}", None
    out = execute(cex, vm, rev)
    if "error" not in cex and out.ranges != _sized(cex["ranges"]):
        return False, f"concrete ranges {out.ranges} differ from the model's {cex['ranges']}", out
    if not RP.PROPERTIES[cex["property"]].violated(out, cex):
        return False, f"the concrete run satisfies {cex['property']}", out
    return True, "replayed on impl/: the property fails concretely", out


def attach(cex, rev, dropped=()):
    """Replay one counterexample of the range op and say in it whether it
    replayed (and, if so, which shadow leaves survived)."""
    ok, why, out = replay(cex, rev)
    R.say(cex, ok, why, dropped)
    if ok and out is not None:
        cex["stale"] = [f"MMU #{i} {b:#x}+{s:#x} L{lvl} (guest {o})" for i, (b, s, lvl, _, o) in out.stale]
        cex["left"] = [f"MMU #{i} host page {x:#x} of the range" for i, x in out.range_left]


def cover(witness):
    try:
        build(witness)
    except Exception as e:
        return False, f"the witness cannot be built: {type(e).__name__}: {e}"
    return True, "case occurs concretely"


def executed(engine, rev, results, solvers, models, witness):
    """Proved code = executed code: one model per explored path replayed on
    impl/ with the same ranges and outcome."""
    proved = [r for r in results if r.verdict == "PROVED"]
    if not proved:
        return
    checked, unbuildable = 0, []
    for i, (h, model) in sorted(models.items()):
        path, env, s = solvers[i]
        d = describe(env, model, path)
        try:
            vm = build(d)
        except Exception as e:
            unbuildable.append(f"the world cannot be built: {type(e).__name__}: {e}")
            continue
        out = execute(d, vm, rev)
        sym = (_sized(d["ranges"]), bool(path.error), len(SH.fired(env.warnings, model)))
        conc = ([tuple(r) for r in out.ranges], bool(out.error and not out.warnings), len(out.warnings))
        if sym != conc:
            raise RevisionError(f"{rev.path}:1: the revision behaves differently on concrete input than on the "
                                f"symbolic path: symbolically {sym}, concretely {conc}")
        checked += 1
    covered = {h: cover(witness[h]) for h in {r.hint for r in proved}}
    for r in proved:
        ok, why = covered[r.hint]
        r.concrete = {"paths_checked": checked, "paths_unbuildable": len(unbuildable), "unbuildable": unbuildable[:5],
                      "witness": why if ok else f"MODEL BUG: {why}"}


# ---- a mutant that loops: concrete evidence (model/mutation.py) ---------------------------
ITERATION_BUDGET = 10_000


class _Hang(Exception):
    pass


class _BudgetVM(VM):
    """A VM whose kvm->arch.nested_mmus[] may be read ITERATION_BUDGET
    times: a handler past that is not walking the array, it is looping."""

    def __init__(self):
        super().__init__()
        self.left = ITERATION_BUDGET

    @property
    def arch(self):
        arch = VM.arch.fget(self)
        mmus, vm = arch.nested_mmus, self

        class Budgeted:
            def __getitem__(self, i):
                vm.left -= 1
                if vm.left < 0:
                    raise _Hang()
                return mmus[i]
        arch.nested_mmus = Budgeted()
        return arch


def hangs(rev, shift):
    """Concrete evidence of non-termination: two in-use shadow MMUs of the
    guest's VMID, nothing cached, a TLBI RIPAS2E1IS of one page of the
    granule at IPA 0: the handler reads nested_mmus[] without end."""
    vm = _BudgetVM()
    guest = GuestS2(shift)
    for _ in range(2):
        new_mmu(vm, guest, 12)
    vm.vcpu.sys_regs["VTTBR_EL2"] = 0
    try:
        TR.run(vm, TR.make_operand(0, TR.TG_OF[shift], 0, 0), rev)
    except _Hang:
        return True
    except Exception:
        return False
    return False
