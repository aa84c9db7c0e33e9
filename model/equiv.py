"""Semantic difference of two revisions: run both on the same symbolic
environment (one operand, one tlb_vtcr, one shadow S2 answering both
revisions' probes consistently) and ask whether anything a caller or the
host can observe can differ.  Equivalent means: the same behaviour, effect
by effect, for every input and environment under the enabled assumptions.

The effects compared are every effect the kernel vocabulary
(impl/kernel.py; the era vocabularies impl/kernel_2020.py, _2023.py and
_2026.py add no effect: they re-spell constants, gate on the host
capability, name the unmap kvm_unmap_stage2_range, take the lock with
spin_lock, add the software walk and a walk-flags argument) lets a
revision have:

  ranges    kvm_stage2_unmap_range / kvm_unmap_stage2_range: each range
            (base, size) and the MMU it is unmapped from (the S2-enabled
            MMU holding T, or the S2-off context), in order; with them the
            op's own final state, when its env has one (vncr: each vCPU's
            pseudo-TLB valid or not, its fixmap slot cleared or not);
  WARN_ON   how many times a WARN_ON fired on the path.  Its file:line is
            shown but not compared: two revisions put it on other lines;
  BUG()     whether the path ends in BUG() (the host oopses);
  errors    whether the path ends in C undefined behaviour (an oversized
            shift, a division by zero: cint.UndefinedBehaviour), a read of
            an uninitialised local (kernel.Uninitialised), or a failed
            lockdep assertion (lockdep_assert_held_write without mmu_lock,
            the unmap's own among them, or mmu_lock taken twice): impl/outcome.C_OUTCOMES;
  mmu_lock  whether the handler returns with kvm->mmu_lock still held
            (spin_lock / write_lock without the unlock: the next TLBI
            deadlocks).  Not compared on a path that ends in BUG() or an
            error: there the kernel never unlocks, whatever the code says.

What the vocabulary records and is not an effect: the reads
(kvm_pgtable_get_leaf, kvm_walk_shadow_s2, vcpu_read_sys_reg,
kvm_has_feat, cpus_have_const_cap, lookup_s2_mmu), whose number and
addresses differ between equal revisions; what a revision writes into its
own locals through a Ref; the handler's return value (void in every
revision).  Any other exception (a Python error, a name the environment
does not model) is no behaviour of the kernel's code: a usage or internal
error (model/userfault.classify), never a verdict."""

import os
import time
from dataclasses import dataclass, field

import z3

from nvtlbi.impl import granule as G
from nvtlbi.impl import context, kernel
from nvtlbi.impl.cint import UndefinedBehaviour, Word, u64
from nvtlbi.model import assumptions as AS
from nvtlbi.impl.outcome import C_OUTCOMES, LockdepFailure
from nvtlbi.model import userfault
from nvtlbi.model.engine import CrossCheckError, Engine, PathExplosion, in_own_z3_context
from nvtlbi.model.env import Case, SymEnv
from nvtlbi.model.describe import describe
from nvtlbi.model.minimise import minimise
from nvtlbi.model.session import Session, of_call
from nvtlbi.model import symhooks as SH
from nvtlbi.model.symhooks import SymHooks

EQUIVALENT, DIFFERENT, UNKNOWN, VACUOUS = "EQUIVALENT", "DIFFERENT", "UNKNOWN", "VACUOUS"
# the effects, in the order an example names them
EFFECTS = ("ranges", "WARN_ON", "BUG()", "error", "mmu_lock")


@dataclass
class DiffResult:
    a: str
    b: str
    granule: str
    level: int
    verdict: str
    seconds: float
    example: dict | None = None
    reason: str = ""
    paths: int = 0


@dataclass
class Outcome:
    """What one revision did on one path."""
    unmaps: list = field(default_factory=list)   # (base, size, mmu index), in order
    warnings: list = field(default_factory=list)  # WARN_ONs (model/symhooks.Warned): compared by how many fire
    error: str | None = None           # "BUG()" or another C outcome that ended the path (c_outcome)
    lock_held: bool = False     # mmu_lock held on return (None when the path ended in an error)
    where: str = ""             # BUG()'s site: shown, not compared
    state: list = field(default_factory=list)   # the op's own final state (env.state(): z3 terms), e.g. vncr's


def c_outcome(exc):
    """The name of the C outcome (impl/outcome.C_OUTCOMES) an exception is."""
    if isinstance(exc, kernel.KernelBug):
        return "BUG()"
    if isinstance(exc, UndefinedBehaviour):
        return "undefined behaviour"
    if isinstance(exc, kernel.Uninitialised):
        return "uninitialised read"
    if isinstance(exc, LockdepFailure):
        return "lockdep failure"
    raise ValueError(f"not a C outcome: {exc!r}")


def _outcome(rev, env):
    # both revisions run on one env: each starts from the same state
    env.unmaps, env.warnings = [], []
    if hasattr(env, "restart"):     # an op whose handler changes the env's own state (vncr's pseudo-TLBs)
        env.restart()
    state = getattr(env, "state", list)
    lock = env.kvm.mmu_lock
    lock.held = False
    try:
        with context.entered(hooks=SymHooks(env)):
            rev.handle(env.vcpu, Word(u64, env.val))
        return Outcome(list(env.unmaps), list(env.warnings), None, lock.held, state=state())
    except C_OUTCOMES as e:     # only C's outcomes are compared; any other exception is an error
        what = c_outcome(e)
        where = _site(str(e)) if what == "BUG()" else str(e)
        return Outcome(list(env.unmaps), list(env.warnings), what, None, where)


def _site(where):
    """file:line shortened to the file's name (mutants live in temp dirs)."""
    return os.path.basename(where)


def ranges_differ(oa, ob):
    """Z3: the two unmap sequences differ (in number, MMU, base or size), or
    the op's own final state does (vncr: a pseudo-TLB valid, a fixmap slot
    cleared; compared when neither path ended in a C outcome)."""
    if oa.state and ob.state:
        return z3.Or(_seq_differ(oa, ob), z3.Or([x != y for x, y in zip(oa.state, ob.state)]))
    return _seq_differ(oa, ob)


def _seq_differ(oa, ob):
    if len(oa.unmaps) != len(ob.unmaps):
        return z3.BoolVal(True)
    if any(ma != mb for (_, _, ma), (_, _, mb) in zip(oa.unmaps, ob.unmaps)):
        return z3.BoolVal(True)
    return z3.Or([z3.Or(ba != bb, sa != sb) for (ba, sa, _), (bb, sb, _) in zip(oa.unmaps, ob.unmaps)] or
                 [z3.BoolVal(False)])


def effect_differs(oa, ob, effect):
    """Whether one effect other than the ranges differs: fixed on a path
    (a bool), but for how many WARN_ONs fire (z3: a warning whose value the
    code ignores is recorded with its condition, model/symhooks.py)."""
    if effect == "WARN_ON":
        return z3.simplify(SH.count(oa.warnings) != SH.count(ob.warnings))
    if effect == "BUG()":
        return (oa.error == "BUG()") != (ob.error == "BUG()")
    if effect == "error":
        return oa.error != ob.error and "BUG()" not in (oa.error, ob.error)
    if effect == "mmu_lock":
        return None not in (oa.lock_held, ob.lock_held) and oa.lock_held != ob.lock_held
    raise ValueError(effect)


def differ(oa, ob, obliged=None, compare=EFFECTS):
    """Z3: the outcomes differ in one of the `compare` effects.  With
    `obliged`, a difference of ranges counts only where it holds (the
    architecture asks nothing of the range of a TLBI whose TTL names another
    granule or level); WARN_ON, BUG(), errors and the lock count everywhere:
    no TLBI excuses them."""
    others = [_z3(effect_differs(oa, ob, e)) for e in compare if e != "ranges"]
    if "ranges" not in compare:
        return z3.Or(others) if others else z3.BoolVal(False)
    d = ranges_differ(oa, ob)
    return z3.Or(others + [d if obliged is None else z3.And(obliged, d)])


def _z3(b):
    return b if isinstance(b, z3.BoolRef) else z3.BoolVal(bool(b))


def differences(oa, ob, model):
    """The names (EFFECTS) of what differs in `model`."""
    out = ["ranges"] if z3.is_true(model.eval(ranges_differ(oa, ob), model_completion=True)) else []
    return out + [e for e in EFFECTS
                  if e != "ranges" and z3.is_true(model.eval(_z3(effect_differs(oa, ob, e)), model_completion=True))]


@in_own_z3_context       # the distinguishing input must not depend on --jobs
def diff_case(rev_a, rev_b, case, drop=(), session: Session | None = None, obliged_only=False, compare=EFFECTS,
              op=None):
    """obliged_only: compare the ranges only on the inputs where the
    architecture obliges the TLBI to remove T (a TLBI whose valid TTL names
    another granule or level is excused: any range passes P2 there); every
    other effect is compared on every input.  compare: the EFFECTS compared
    (all of them, unless a caller asks about one).  Under `session`
    (model/session.py; the one entered, else a default one).  `op`
    (model/ops.py, default ipas2e1): the symbolic world both run in and how
    an example reads."""
    from nvtlbi.model import ops
    with of_call(session) as s:
        return _diff_case(rev_a, rev_b, case, drop, s, obliged_only, compare, ops.op(op))


def _diff_case(rev_a, rev_b, case, drop, session, obliged_only, compare, op):
    engine = Engine(AS.enabled(drop), session)
    state = {}
    t0 = time.perf_counter()

    def setup():
        state["env"] = op.make_env(engine, case)

    def program():
        env = state["env"]
        oa = _outcome(rev_a, env)
        ob = _outcome(rev_b, env)
        return env, oa, ob

    engine.current_env = lambda: state.get("env")

    def res(verdict, **kw):
        return DiffResult(rev_a.name, rev_b.name, case.granule, case.level, verdict,
                          round(time.perf_counter() - t0, 3), **kw)

    r, _ = engine.check(engine.record(setup))
    if r == z3.unsat:
        return res(VACUOUS, reason="the assumptions rule this case out")
    n = 0
    try:
        for path in engine.paths(program, setup):
            n += 1
            r = _compare(engine, path, res, n, obliged_only, (rev_a, rev_b), compare, op.describe)
            if r is not None:
                return r
    except (PathExplosion, context.UnwindingLimit) as e:
        return res(UNKNOWN, reason=str(e))
    except CrossCheckError:
        raise
    except Exception as e:      # not C's doing: a usage or internal error, never a verdict
        raise userfault.classify(e, rev_a, rev_b) from e
    return res(EQUIVALENT, paths=n)


def _compare(engine, path, res, n, obliged_only=False, revs=(), compare=EFFECTS, describe=describe):
    """None if the revisions agree on this path, else the DiffResult."""
    if path.error is not None:
        # not C's doing (C outcomes end a path as an Outcome): a usage or
        # internal error, never a verdict
        raise userfault.classify(path.error, *revs) from path.error
    env, oa, ob = path.result
    d = differ(oa, ob, env.obliged() if obliged_only else None, compare)
    r, model = engine.check(path.facts, [d])
    if r == z3.unknown:
        return res(UNKNOWN, reason=f"solver gave up: {model}", paths=n)
    if r != z3.sat:
        return None
    model = minimise(engine, engine.solver_for(path.facts), [d], env.ipa, model)
    ex = describe(env, model, path, "diff")
    ev = lambda e: model.eval(e, model_completion=True).as_long()
    for key, o in (("a", oa), ("b", ob)):
        ex[key] = {"ranges": [[ev(b), ev(b) + ev(s), m] for b, s, m in o.unmaps],
                   "warnings": [_site(w.where) for w in SH.fired(o.warnings, model)],
                   "error": o.error and (f"{o.error} at {o.where}" if o.error == "BUG()" else f"{o.error} ({o.where})"),
                   "lock_held": o.lock_held,
                   **({"state": [z3.is_true(model.eval(t, model_completion=True)) for t in o.state]}
                      if o.state else {})}
    ex["differs"] = differences(oa, ob, model)
    return res(DIFFERENT, example=ex, paths=n)


def outcome_text(side, rng=None, mmu=None):
    """One side of an example, e.g. "unmaps [0x0, 0x2000000), WARN_ON
    fires 1x (upstream.py:142)"; rng(base, size) formats a range, mmu(index)
    names the MMU it was unmapped from (default: ipas2e1's, 1 the S2-off one)."""
    rng = rng or (lambda b, s: f"[{b:#x}, {b + s:#x})")
    mmu = mmu or (lambda m: " (S2-off MMU)" if m else "")
    rngs = ", ".join(rng(s, e - s) + mmu(m) for s, e, m in side["ranges"])
    out = f"unmaps {rngs or 'nothing'}"
    warns = side.get("warnings") or []
    if warns:
        out += f", WARN_ON fires {len(warns)}x ({', '.join(warns)})"
    if side.get("error"):
        out += f", then {side['error']}"
    if side.get("lock_held"):
        out += ", returns with mmu_lock held"
    return out


def diff_cases(op=None):
    """One case per granule: any level of T, any hint (the op's any_case)."""
    from nvtlbi.model import ops
    o = ops.op(op)
    return [o.any_case(shift) if o.any_case else Case(shift, None, "any") for shift in sorted(G.GRANULES.values())]


def _diff_job(job):
    from nvtlbi.impl import revision as REV
    from nvtlbi.model import ops
    sa, sb, case, drop, limits, op = job
    o = ops.op(op)
    return diff_case(REV.load(sa, o.caller), REV.load(sb, o.caller), case, drop, _session(limits), op=o)


def _session(limits):
    """The session of one diff_case of diff_all: these limits, else the session entered (or a default)."""
    return None if limits is None else Session(limits=limits)


def diff_all(a, b, drop=(), limits=None, granules=None, jobs=1, specs=None, op=None):
    """diff_case over every granule (in parallel when specs, the paths the
    revisions load from, are given)."""
    cases = [c for c in diff_cases(op) if not granules or c.granule in granules]
    if jobs > 1 and specs and len(cases) > 1:
        import multiprocessing
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            return pool.map(_diff_job, [(specs[0], specs[1], c, drop, limits, op) for c in cases], chunksize=1)
    return [diff_case(a, b, c, drop, _session(limits), op=op) for c in cases]
