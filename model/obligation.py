"""Proving obligations: one case (revision, granule, level of T, hint) is
explored once by the engine; each property is then checked on every path.

Vocabulary users see: `matrix(...)` lists the cases, `prove_case(...)`
returns one Result per property.  The engine underneath is model.engine."""

import contextlib
import time

import z3

from impl import granule as G
from impl import kernel
from impl.cint import Word, s32, u64
from model import assumptions as AS
from model import properties as P
from model import coverage as cov
from model import userfault
from model.engine import Engine, Limits, PathExplosion
from model.env import HINTS, Case, SymEnv
from model.verdict import COUNTEREXAMPLE, PROVED, UNKNOWN, VACUOUS, Result


def levels(shift, enabled):
    """Levels of T to prove: the guest leaf levels, plus the LPA2 level when
    no-lpa2 is dropped."""
    return G.guest_leaf_levels(shift, lpa2="no-lpa2" not in enabled)


def matrix(enabled, hints=HINTS):
    return [Case(shift, level, hint)
            for shift in sorted(G.GRANULES.values())
            for level in levels(shift, enabled)
            for hint in hints]


class SymHooks:
    """BUG() ends the path with an error; WARN_ON is recorded on the env;
    host capabilities are symbolic."""

    def __init__(self, env):
        self.env = env
        self.warnings = env.warnings

    def bug(self, where):
        self.env.bug = where
        raise kernel.KernelBug(where)

    def warn(self, where):
        self.warnings.append(where)

    def host_cap(self, cap):
        if cap != "ARM64_HAS_ARMv8_4_TTL":
            raise NotImplementedError(f"host capability {cap} is not modelled")
        return Word(s32, self.env.host_ttl)


def _run(engine, rev, case):
    state = {}

    def setup():
        state["env"] = SymEnv(engine, case)

    def program():
        env = state["env"]
        old = kernel.hooks
        kernel.hooks = SymHooks(env)
        try:
            rev.handle(env.vcpu, Word(u64, env.val))
        finally:
            kernel.hooks = old
        return env

    return setup, program, state


def explore(rev, case, enabled, limits=None):
    """All feasible paths of `rev` on `case` under the enabled assumptions;
    each path's result is its SymEnv (probes made, ranges unmapped)."""
    engine = Engine(enabled, limits or Limits())
    setup, program, state = _run(engine, rev, case)
    engine.current_env = lambda: state.get("env")
    return engine, engine.explore(program, setup)


def prove_case(rev, case, props=tuple(P.PROPERTIES), drop=(), limits=None, replay=True, coverage=False):
    enabled = AS.enabled(drop)
    engine = Engine(enabled, limits or Limits())
    props = [p for p in props if P.applies(p, case.hint)]
    t0 = time.perf_counter()

    def result(prop, verdict, seconds, **kw):
        return Result(rev.name, case.granule, case.level, case.hint, prop, verdict, round(seconds, 3), **kw)

    setup, program, state = _run(engine, rev, case)
    engine.current_env = lambda: state.get("env")
    engine.label = f"{rev.name}-{case.label}"

    # 1. The case must occur under the assumptions (cover witness), else VACUOUS.
    facts = engine.record(setup)
    r, info = engine.check(facts, want_core=True)
    if r == z3.unsat:
        dt = time.perf_counter() - t0
        core = [n for n in info]
        return [result(p, VACUOUS, dt / len(props), contradicting=core,
                       reason="the assumptions plus the case are unsatisfiable") for p in props]
    if r == z3.unknown:
        dt = time.perf_counter() - t0
        return [result(p, UNKNOWN, dt / len(props), reason=f"cover check: {info}") for p in props]
    witness = describe(state["env"], info)

    # 2. Explore every feasible path of the revision.
    tracer = cov.Tracer(rev.path) if coverage else contextlib.nullcontext()
    try:
        with tracer:
            paths = engine.explore(program, setup)
    except PathExplosion as e:
        userfault.check_explosion(e, rev)       # a loop in the revision's own code
        dt = time.perf_counter() - t0
        return [result(p, UNKNOWN, dt / len(props), reason=str(e)) for p in props]
    t_explore = time.perf_counter() - t0
    userfault.check_paths(paths, rev)           # Python the engine cannot follow
    if not paths:
        return [result(p, VACUOUS, t_explore / len(props), reason="no path is feasible under the assumptions")
                for p in props]

    # 3. Each property on each path.
    out = []
    for prop in props:
        t1 = time.perf_counter()
        verdict, core, cex, reason = PROVED, set(), None, ""
        engine.label = f"{rev.name}-{case.label}-{prop}"
        for path in paths:
            env = path.result if path.error is None else path.error_env
            bad = z3.Not(P.holds(prop, env, path.error))
            r, info = engine.check(path.facts, [bad], want_core=True)
            if r == z3.sat:
                model = minimise(engine, path.facts, [bad], env.ipa, info)
                verdict, cex = COUNTEREXAMPLE, describe(env, model, path, prop)
                break
            if r == z3.unknown:
                verdict, reason = UNKNOWN, f"solver gave up: {info}"
                break
            core |= set(info)
        dt = time.perf_counter() - t1 + t_explore / len(props)
        rests = sorted((core | engine.pruned_by) - {"case"})
        res = result(prop, verdict, dt, coverage=cov.sides(rev.path, tracer.arcs) if coverage else None,
                     rests_on=rests if verdict == PROVED else [],
                     witness=witness, counterexample=cex, reason=reason, paths=len(paths))
        if cex is not None and replay:
            from model import replay as R
            R.attach(res, rev)
        out.append(res)
    return out


def minimise(engine, facts, extra, term, model, rounds=40):
    """Shrink the IPA of a counterexample (bisection on its value)."""
    best = model
    lo, hi = 0, best.eval(term, model_completion=True).as_long()
    for _ in range(rounds):
        if lo >= hi:
            break
        mid = (lo + hi) // 2
        r, m = engine.check(facts, list(extra) + [z3.ULE(term, mid)])
        if r == z3.sat:
            best, hi = m, m.eval(term, model_completion=True).as_long()
        else:
            lo = mid + 1
    return best


def _probe(ev, model, p):
    d = {"mmu": p.mmu, "addr": ev(p.addr), "ret": _v(model, p.ret).as_signed_long(),
         "valid": ev(p.pte) & 1, "af": ev(p.pte) >> 10 & 1, "tag": ev(p.pte) >> 55 & 3}
    if d["ret"] == 0 and d["valid"]:
        d["host_level"] = _v(model, p.hlevel).as_signed_long()
        if d["tag"]:
            d["guest_level"] = _v(model, p.clevel).as_signed_long()
    return d


def _v(model, e):
    return model.eval(e, model_completion=True)


def describe(env, model, path=None, prop=None):
    """A model in domain terms: the operand, the case, the probes, the range."""
    ev = lambda e: _v(model, e).as_long()
    evb = lambda e: z3.is_true(_v(model, e))
    case = env.case
    d = {
        "granule": case.granule, "level": _v(model, env.T_level).as_signed_long(), "hint": case.hint,
        "val": ev(env.val), "ipa": ev(env.ipa), "ttl": ev(env.ttl),
        "feat_ttl": evb(env.feat), "lpa2": evb(env.lpa2),
        "host_granule": G.name(ev(env.host_shift)) if ev(env.host_shift) in G.NAMES else str(ev(env.host_shift)),
        "host_ttl": evb(env.host_ttl),
        "tlb_vtcr": ev(env.vtcr), "tg0": ev(env.vtcr) >> 14 & 3, "vcpu_vtcr": ev(env.vcpu_vtcr),
        "T": [ev(env.T_base), ev(env.T_base) + ev(env.T_size)],
        "obliged": evb(env.obliged()),
    }
    if path is not None:
        d["property"] = prop
        d["probes"] = [_probe(ev, model, p) for p in env.probes]
        d["ranges"] = [[ev(b), ev(b) + ev(s), m] for b, s, m in env.unmaps]
        if path.error is not None:
            d["error"] = f"{type(path.error).__name__}: {path.error}"
        elif env.warnings:
            d["error"] = f"WARN_ON at {env.warnings[0]}"
    return d
