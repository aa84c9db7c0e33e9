"""The prover: one case (revision, granule, level of T, hint) is explored
once by the engine (model/engine.py); each property is then checked on
every path, and every PROVED level is replayed concretely on impl/.

Vocabulary users see: `prove_case(...)` and `prove_level(...)` return one
Result per obligation; `explore(...)` the paths of one case.  The cases
come from model/matrix.py."""

import contextlib
import time

import z3

from nvtlbi.impl import context
from nvtlbi.impl.cint import Word, u64
from nvtlbi.model import arch as A
from nvtlbi.model import assumptions as AS
from nvtlbi.model import coverage as cov
from nvtlbi.model import properties as P
from nvtlbi.model import userfault
from nvtlbi.model.describe import describe
from nvtlbi.model.engine import CrossCheckError, Engine, PathExplosion, in_own_z3_context
from nvtlbi.model.env import HINTS, Case, SymEnv, hint_fact
from nvtlbi.model.minimise import minimise
from nvtlbi.model.session import Session, of_call
from nvtlbi.model import symhooks as SH
from nvtlbi.model.symhooks import SymHooks
from nvtlbi.model.verdict import COUNTEREXAMPLE, PROVED, UNKNOWN, VACUOUS, Result


# A property with causes (P4) reports one counterexample per BUG()/WARN_ON
# site: upstream's revisions reach at most three, so four leaves room to see
# a new one without letting a revision with a WARN per path list them all.
MAX_CAUSES = 4


def _run(engine, rev, case, make_env=SymEnv):
    state = {}

    def setup():
        state["env"] = make_env(engine, case)

    def program():
        env = state["env"]
        with context.entered(hooks=SymHooks(env)):
            rev.handle(env.vcpu, Word(u64, env.val))
        return env

    return setup, program, state


def explore(rev, case, enabled, session: Session | None = None, make_env=SymEnv):
    """All feasible paths of `rev` on `case` under the enabled assumptions;
    each path's result is its SymEnv (probes made, ranges unmapped)."""
    with of_call(session) as s:
        engine = Engine(enabled, s)
        setup, program, state = _run(engine, rev, case, make_env)
        engine.current_env = lambda: state.get("env")
        return engine, engine.explore(program, setup)


def prove_case(rev, case, props=P.ISOLATION, drop=(), replay=True, session: Session | None = None, make_env=None,
               op=None):
    """The obligations of one case (revision, granule, level, hint) of `op` (model/ops.py)."""
    return prove_level(rev, case.shift, case.level, [case.hint], props, drop, replay, session, make_env, op)


@in_own_z3_context       # its values must not depend on what the process proved before (--jobs)
def prove_level(rev, shift, level, hints=HINTS, props=P.ISOLATION, drop=(), replay=True, session: Session | None = None,
                make_env=None, op=None):
    """The obligations of every hint case of one (granule, level): the
    revision is explored once over any operand, then each hint case and each
    property is checked on every path (a path's facts are asserted once).
    Under `session` (model/session.py; the one entered, else a default one):
    its limits, decision bound, cross-check and coverage flag.  make_env
    builds the symbolic environment of a run (SymEnv or a subclass)."""
    from nvtlbi.model import ops
    o = ops.op(op)
    # the replays build a concrete world per path and counterexample: the
    # bundled producers they fault with are loaded once (impl/context.py)
    with of_call(session) as s, context.entered(producers={}):
        return _prove_level(rev, shift, level, hints, props, drop, replay, s, make_env or o.make_env, o)


def _prove_level(rev, shift, level, hints, props, drop, replay, session, make_env, op):
    # the op's entry (model/ops.py) says what a case, a property, a model in
    # domain terms and a replay are; for ipas2e1 these are the functions below
    _hint = op.case_fact
    enabled = AS.enabled(drop, extra=getattr(rev, "ASSUMES", ()))
    coverage = session.coverage
    # P5 reads the shadow S2 where the revision may not: the env's seeds
    engine = Engine(enabled, session, seeds="P5" in props)
    t0 = time.perf_counter()
    any_case = Case(shift, level, "any")
    setup, program, state = _run(engine, rev, any_case, make_env)
    engine.current_env = lambda: state.get("env")
    engine.label = f"{rev.name}-{any_case.granule}-L{level}"
    todo = [(h, p) for h in hints for p in props if op.applies(p, h)]

    def result(hint, prop, verdict, seconds, **kw):
        return Result(rev.name, any_case.granule, level, hint, prop, verdict, round(seconds, 3), **kw)

    def everyone(verdict, **kw):
        dt = (time.perf_counter() - t0) / max(1, len(todo))
        return [result(h, p, verdict, dt, **kw) for h, p in todo]

    # 1. Each hint case must occur under the assumptions (cover witness).
    facts = engine.record(setup)
    env0 = state["env"]
    base = engine.solver_for(facts)
    witness, vacuous = {}, {}
    for h in hints:
        r, info = engine.check_in(base, [_hint(env0, h)], want_core=True)
        if r == z3.sat:
            witness[h] = op.describe(env0, info) | {"hint": h}
        elif r == z3.unsat:
            vacuous[h] = info
        else:
            return everyone(UNKNOWN, reason=f"cover check: {info}")
    live = [h for h in hints if h in witness]

    # 2. Explore every feasible path of the revision (any hint).
    paths = []
    tracer = cov.Tracer(rev.path) if coverage else contextlib.nullcontext()
    if live:
        if coverage:
            engine.on_prune = tracer.prune
        try:
            with tracer:
                paths = engine.explore(program, setup)
        except PathExplosion as e:
            userfault.check_explosion(e, rev)       # a loop in the revision's own code
            return everyone(UNKNOWN, reason=str(e))
        except CrossCheckError:
            raise
        except Exception as e:                      # not C's doing: a usage or internal error
            raise userfault.classify(e, rev) from e
    t_explore = time.perf_counter() - t0
    sides = cov.sides(rev.path, tracer.arcs) if coverage else None
    pruned = tracer.pruned_list() if coverage else None
    engine.on_prune = None

    # 3. Each hint case and property on each path.
    per_cell = t_explore / max(1, len(todo))
    solvers, cut = [], []
    for path in paths:
        if path.truncated is not None:      # a C loop past --unwind: checked below for feasibility only
            cut.append((path, engine.solver_for(path.facts)))
            continue
        env = path.result if path.error is None else path.error_env
        solvers.append((path, env, engine.solver_for(path.facts)))
    # Per (path, hint): is the path possible in this hint case, and can any
    # property fail on it?  Only when one can is each property asked alone.
    ok = {}             # (path index, hint) -> None (impossible) | core (all hold) | "check"
    models = {}         # path index -> a model of the path (any hint case): replayed on impl/
    for i, (path, env, s) in enumerate(solvers):
        for h in live:
            hint = _hint(env, h)
            r, info = engine.check_in(s, [hint], want_core=True)
            if r == z3.unsat:
                ok[i, h] = ("impossible", set(info))
                continue
            if r == z3.sat:
                models.setdefault(i, (h, info))
            bad = z3.Or([z3.Not(op.holds(p, env, path.error)) for p in props if op.applies(p, h)])
            r, info = engine.check_in(s, [hint, bad], want_core=True)
            ok[i, h] = ("holds", set(info) | path.pruned_by) if r == z3.unsat else ("check", path.pruned_by)
    out = []
    for h, prop in todo:
        t1 = time.perf_counter()
        if h in vacuous:
            out.append(result(h, prop, VACUOUS, per_cell, contradicting=vacuous[h],
                              reason="the assumptions plus the case are unsatisfiable"))
            continue
        verdict, core, cex, reason, n = PROVED, set(), None, "", 0
        causes_of, seen, more = op.properties[prop].causes, set(), []
        engine.label = f"{rev.name}-{any_case.granule}-L{level}-{h}-{prop}"
        order = list(enumerate(solvers))
        if causes_of is not None:
            # paths that reach fewer causes first: each cause is then shown
            # by a path that fails for it alone, where one exists
            order.sort(key=lambda x: len(causes_of(x[1][1], x[1][0].error)))
        for i, (path, env, s) in order:
            state, known = ok[i, h]
            core |= known
            if state == "impossible":
                continue                    # this path cannot take this hint case
            n += 1
            if state == "holds":
                continue
            hint = _hint(env, h)
            if causes_of is None:
                bad = z3.Not(op.holds(prop, env, path.error))
                r, info = engine.check_in(s, [hint, bad], want_core=True)
                if r == z3.sat:
                    model = minimise(engine, s, [hint, bad], env.ipa, info)
                    verdict, cex = COUNTEREXAMPLE, op.describe(env, model, path, prop) | {"hint": h}
                    break
                if r == z3.unknown:
                    verdict, reason = UNKNOWN, f"solver gave up: {info}"
                    break
                core |= set(info)
                continue
            # a property with causes fails on a path when one of its causes
            # holds there: each cause not yet shown is asked alone (at most
            # MAX_CAUSES counterexamples), on a model where no other cause
            # holds when there is one
            sites = causes_of(env, path.error)
            for site, cond in sites:
                if site in seen or len(more) + (cex is not None) >= MAX_CAUSES:
                    continue
                others = [c for x, c in sites if x != site]
                goal = [hint, z3.And(cond, *[z3.Not(c) for c in others])]
                r, info = engine.check_in(s, goal, want_core=True)
                if r != z3.sat and others:
                    goal = [hint, cond]
                    r, info = engine.check_in(s, goal, want_core=True)
                if r == z3.sat:
                    model = minimise(engine, s, goal, env.ipa, info)
                    found = op.describe(env, model, path, prop) | {"hint": h}
                    found["error"] = site           # the cause this counterexample shows
                    seen |= {x for x, c in sites if z3.is_true(model.eval(c, model_completion=True))} | {site}
                    if verdict == COUNTEREXAMPLE:
                        more.append(found)
                    else:
                        verdict, cex = COUNTEREXAMPLE, found
                elif r == z3.unknown:
                    if verdict != COUNTEREXAMPLE:
                        verdict, reason = UNKNOWN, f"solver gave up: {info}"
                    # a counterexample stands; the other causes stay unsearched here
                else:
                    core |= set(info)
            if verdict == UNKNOWN:
                break
        if verdict == PROVED:
            # a path cut at the unwinding bound that this hint case can take:
            # what it does after the bound is unknown, so no PROVED (a
            # counterexample on a whole path above still stands)
            for path, s in cut:
                env = path.error_env
                r, _ = engine.check_in(s, [_hint(env, h)]) if env is not None else (z3.sat, None)
                if r != z3.unsat:
                    verdict, reason = UNKNOWN, str(path.truncated)
                    break
        if verdict == PROVED and n == 0:
            verdict, reason = VACUOUS, "no path of the revision is feasible in this case"
        rests = sorted(core - {"case"})
        res = result(h, prop, verdict, time.perf_counter() - t1 + per_cell, coverage=sides, pruned=pruned,
                     rests_on=rests if verdict == PROVED else [], witness=witness[h],
                     counterexample=cex, causes=more, reason=reason, paths=n)
        if cex is not None and replay:
            for c in [cex] + more:
                op.attach(c, rev, tuple(drop))
        out.append(res)
    if replay:
        op.executed(engine, rev, out, solvers, models, witness)
    return out


def executed(engine, rev, results, solvers, models, witness):
    """Proved code = executed code: for the PROVED obligations, build each
    hint case's cover witness on impl/, and replay one model per explored
    path (the models of the checks above, shared by the level's obligations),
    requiring the concrete ranges, probes and outcome to be the path's.  A
    revision that does something else concretely raises a RevisionError."""
    proved = [r for r in results if r.verdict == PROVED]
    if not proved:
        return
    from nvtlbi.model import replay as R
    check = R.PathCheck()
    for i, (h, model) in sorted(models.items()):
        path, env, s = solvers[i]
        why = R.check_path(describe(env, model, path), rev, path.error, SH.fired(env.warnings, model))
        if why is not None:
            # The model may ask for a shadow S2 no fault path makes (it knows
            # less than impl/: e.g. a host block over an address an earlier
            # probe found invalid).  Shadow leaves that are host pages can
            # always be faulted in: ask once for such a model of the path.
            pages = [p.hlevel == A.lvl(3) for p in env._known()]
            r, again = engine.check_in(s, [_hint(env, h)] + pages)
            if r == z3.sat:
                why = R.check_path(describe(env, again, path), rev, path.error, SH.fired(env.warnings, again))
        if why is None:
            check.checked += 1
        else:
            check.unbuildable.append(why)
    covered = {h: R.cover(witness[h]) for h in {r.hint for r in proved}}
    for r in proved:
        ok, why = covered[r.hint]
        r.concrete = check.as_dict() | {"witness": why if ok else f"MODEL BUG: {why}"}


def _hint(env, h):
    return hint_fact(h, env.ttl, env.feat, env.lpa2, env.case.shift, env.T_level)
