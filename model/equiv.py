"""Semantic difference of two revisions: run both on the same symbolic
environment (one operand, one tlb_vtcr, one shadow S2 answering both
revisions' probes consistently) and ask whether the unmapped ranges can
differ.  Equivalent means: the same ranges, per MMU, for every input and
environment under the enabled assumptions."""

import time
from dataclasses import dataclass, field

import z3

from impl import granule as G
from impl import kernel
from impl.cint import Word, u64
from model import assumptions as AS
from impl.outcome import C_OUTCOMES
from model import userfault
from model.engine import CrossCheckError, Engine, Limits, PathExplosion, in_own_z3_context
from model.env import Case, SymEnv
from model.obligation import SymHooks, describe, minimise

EQUIVALENT, DIFFERENT, UNKNOWN, VACUOUS = "EQUIVALENT", "DIFFERENT", "UNKNOWN", "VACUOUS"


@dataclass
class DiffResult:
    a: str
    b: str
    granule: str
    level: int
    verdict: str
    seconds: float
    example: dict = None
    reason: str = ""
    paths: int = 0


@dataclass
class Outcome:
    unmaps: list = field(default_factory=list)
    error: str = None          # compared: "BUG()" or the exception's type
    where: str = ""            # shown, not compared


def _outcome(rev, env):
    env.unmaps, env.warnings = [], []
    old = kernel.hooks
    kernel.hooks = SymHooks(env)
    try:
        rev.handle(env.vcpu, Word(u64, env.val))
        return Outcome(list(env.unmaps))
    except kernel.KernelBug as e:
        return Outcome(list(env.unmaps), "BUG()", str(e).rsplit("/", 1)[-1])
    except C_OUTCOMES as e:     # only C's outcomes are compared; any other exception is an error
        return Outcome(list(env.unmaps), f"{type(e).__name__}")
    finally:
        kernel.hooks = old


def differ(oa, ob):
    if oa.error != ob.error or len(oa.unmaps) != len(ob.unmaps):
        return z3.BoolVal(True)
    if any(ma != mb for (_, _, ma), (_, _, mb) in zip(oa.unmaps, ob.unmaps)):
        return z3.BoolVal(True)
    return z3.Or([z3.Or(ba != bb, sa != sb) for (ba, sa, _), (bb, sb, _) in zip(oa.unmaps, ob.unmaps)] or
                 [z3.BoolVal(False)])


@in_own_z3_context       # the distinguishing input must not depend on --jobs
def diff_case(rev_a, rev_b, case, drop=(), limits=None, obliged_only=False):
    """obliged_only: compare only the inputs where the architecture obliges
    the TLBI to remove T (a TLBI whose valid TTL names another granule or
    level is excused: any range passes P2 there)."""
    engine = Engine(AS.enabled(drop), limits or Limits())
    state = {}
    t0 = time.perf_counter()

    def setup():
        state["env"] = SymEnv(engine, case)

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
            r = _compare(engine, path, res, n, obliged_only)
            if r is not None:
                return r
    except PathExplosion as e:
        return res(UNKNOWN, reason=str(e))
    except CrossCheckError:
        raise
    except Exception as e:      # not C's doing: a usage or internal error, never a verdict
        raise userfault.classify(e, rev_a, rev_b) from e
    return res(EQUIVALENT, paths=n)


def _compare(engine, path, res, n, obliged_only=False):
    """None if the revisions agree on this path, else the DiffResult."""
    if path.error is not None:
        return res(UNKNOWN, reason=f"the engine failed: {type(path.error).__name__}: {path.error}")
    env, oa, ob = path.result
    d = differ(oa, ob)
    if obliged_only:
        d = z3.And(env.obliged(), d)
    r, model = engine.check(path.facts, [d])
    if r == z3.unknown:
        return res(UNKNOWN, reason=f"solver gave up: {model}", paths=n)
    if r != z3.sat:
        return None
    model = minimise(engine, path.facts, [d], env.ipa, model)
    ex = describe(env, model, path, "diff")
    ev = lambda e: model.eval(e, model_completion=True).as_long()
    for key, o in (("a", oa), ("b", ob)):
        ex[key] = {"ranges": [[ev(b), ev(b) + ev(s), m] for b, s, m in o.unmaps],
                   "error": o.error and f"{o.error} {o.where}".strip()}
    return res(DIFFERENT, example=ex, paths=n)


def diff_cases():
    """One case per granule: any level of T, any hint."""
    return [Case(shift, None, "any") for shift in sorted(G.GRANULES.values())]


def _diff_job(job):
    from impl import revision as REV
    sa, sb, case, drop, limits = job
    return diff_case(REV.load(sa), REV.load(sb), case, drop, limits)


def diff_all(a, b, drop=(), limits=None, granules=None, jobs=1, specs=None):
    """diff_case over every granule (in parallel when specs, the paths the
    revisions load from, are given)."""
    cases = [c for c in diff_cases() if not granules or c.granule in granules]
    if jobs > 1 and specs and len(cases) > 1:
        import multiprocessing
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            return pool.map(_diff_job, [(specs[0], specs[1], c, drop, limits) for c in cases], chunksize=1)
    return [diff_case(a, b, c, drop, limits) for c in cases]
