"""`nvtlbi cex`: the first counterexample (or the one named with --id) of a
revision as a concrete scenario, replayed on the revision; `--pytest FILE`
also writes a regression test that replays it.

Cheap evidence first (every op has a generator): the revision first runs on seeded
generated worlds of the cases (model/evidence.py); a failure found there,
replayed, is the counterexample and the solver is not run.  Otherwise (or
with --no-concrete) the matrix is proved as before."""

import json
import os

from nvtlbi.impl import revision as REV
from nvtlbi.model import assumptions as AS
from nvtlbi.model import evidence, ops
from nvtlbi.model.verdict import COUNTEREXAMPLE, overall_exit
from nvtlbi import cache, render
from nvtlbi import scheduler
from nvtlbi.proving import _cases, run_matrix, scenarios
from nvtlbi.options import UsageError
from nvtlbi.versions import solver_versions


def add_parser(sub, common):
    p = sub.add_parser("cex", help="print a counterexample as a concrete scenario")
    common(p)
    cache.add_option(p)
    p.add_argument("--id", help="obligation id, e.g. upstream-4K-L2-nohint-P2 (default: the first counterexample)")
    p.add_argument("--pytest", metavar="FILE", help="also write a regression test that replays the scenario")
    p.add_argument("--json", action="store_true", help="machine-readable results")
    p.add_argument("--invariants", action="store_true",
                   help="a counterexample of the producers' preservation obligations (`nvtlbi invariants`), drawn "
                        "as events replayed on impl/: --revision names the producer (default: the bundled fault), "
                        "--id an obligation such as fault-preserves-tag-truth-4K-host4K")
    p.add_argument("--no-concrete", action="store_true",
                   help="do not try generated concrete worlds first (model/evidence.py): go straight to the solver")


# worlds per case, and seconds in all, tried before the solver
CONCRETE = evidence.Budget(worlds=60, seconds=3.0)


def _concrete(spec, cases, props, drop, wanted, op=None):
    """In a worker: the first failure on generated worlds, replayed (a
    Result), or None."""
    from nvtlbi.impl import revision as R
    rev = R.load(spec, ops.op(op).caller)
    keep = None if wanted is None else \
        (lambda c, p: f"{rev.name}-{c['granule']}-L{c['level']}-{c['hint']}-{p}" == wanted)
    return evidence.hunt(rev, cases, props, budget=CONCRETE, drop=drop, keep=keep, op=op)


def _try_concrete(args):
    if ops.op(args.op).draw is None or getattr(args, "no_concrete", False):
        return None
    try:
        cases = _cases(args, AS.enabled(args.drop))
    except KeyError:
        return None                 # the prover's path says which assumption is unknown
    info = scheduler.describe([args.revision], args)[args.revision]      # user errors first
    props = tuple(sorted(args.property)) if args.property else ops.op(args.op).isolation
    job = scheduler.Job(_concrete, (args.revision, cases, props, tuple(args.drop), args.id, args.op),
                        "running the revision on generated worlds", args.revision)
    r = scheduler.run([job], 1, args)[0]
    return (info, r) if r is not None else None


def run(args):
    if args.invariants:
        return _invariants(args)
    if args.pytest and args.op != ops.DEFAULT:
        raise UsageError(f"--pytest: regression tests are generated for op {ops.DEFAULT} only (not {args.op})")
    if args.pytest:
        from nvtlbi import regress
        other = sorted(set(args.property or ()) - set(regress.CHECKS))
        if other:
            raise UsageError(f"--pytest: regression tests check {', '.join(regress.CHECKS)} (not {', '.join(other)})")
    if args.id:
        _check_id(args)
    found = _try_concrete(args)
    if found is not None:
        return _print(args, *found, None, "concrete")
    rev, results, _, use = run_matrix(args)
    cexs = [r for r in results if r.verdict == COUNTEREXAMPLE]
    if args.id:
        cexs = [r for r in cexs if r.id == args.id]
        if not cexs and not any(r.id == args.id for r in results):
            raise UsageError(f"--id {args.id}: no such obligation")
    if not cexs:
        if args.json:
            print(json.dumps({"op": args.op, "revision": rev.name, "versions": solver_versions(), "counterexample": None,
                              "cache": use.as_json(), "summary": render.summary(results).splitlines()[0]}, indent=1))
        else:
            print("no counterexample" + (f" for {args.id}" if args.id else "") + ": "
                  + render.summary(results).splitlines()[0])
        return overall_exit(results)
    return _print(args, rev, cexs[0], use, "solver")


def _check_id(args):
    """--id names an obligation of this run (before any work: an id of
    another revision, op or case would otherwise be refused only once the
    whole matrix is proved)."""
    try:
        cases = _cases(args, AS.enabled(args.drop))
    except KeyError:
        return                      # the prover's path says which assumption is unknown
    name = scheduler.describe([args.revision], args)[args.revision].name
    props = args.property or ops.op(args.op).isolation
    ids = [f"{name}-{c.granule}-L{c.level}-{c.hint}-{p}" for c in cases for p in props]
    if args.id not in ids:
        raise UsageError(f"--id {args.id}: no such obligation" + (f" (this run's are {ids[0]} .. {ids[-1]})"
                                                                   if ids else " (the run has no cases)"))


def _invariants(args):
    """The first preservation counterexample of a producer (or --id's), drawn
    as an event trace replayed on impl/."""
    from nvtlbi.impl import producers
    from nvtlbi.model import endtoend as E
    from nvtlbi.model import transitions as T
    from nvtlbi.model.session import Session
    given = [o for o, v in (("--pytest", args.pytest), ("--hint", args.hint), ("--level", args.level),
                            ("--property", args.property), ("--drop", args.drop)) if v]
    if args.op != ops.DEFAULT:
        given.append("--op")
    if given:
        raise UsageError(f"{given[0]}: not an option of cex --invariants (it takes --revision, --granule, --id)")
    # the option's default names the TLBI revision; for --invariants the producer
    spec = "fault" if args.revision == "upstream" else args.revision
    scheduler.producer_path(spec, args)         # its import runs in a worker first
    producer = producers.load(spec)
    if args.id and args.id not in E.obligation_ids(args.granule, T.of_kind(producer.kind)):
        raise UsageError(f"--id {args.id}: no such preservation obligation (e.g. {E.obligation_ids()[0]})")
    with Session():
        tr, passed = E.first_trace(E.producers_for(producer), args.granule, args.id,
                                   transitions=T.of_kind(producer.kind))
    if tr is None:
        if args.json:
            print(json.dumps({"producer": producer.path, "versions": solver_versions(), "counterexample": None,
                              "obligations": passed}, indent=1))
        else:
            print(f"no counterexample: {len(passed)} preservation obligations of {producer.name}: "
                  + ", ".join(sorted({p.split(': ', 1)[1] for p in passed})))
        return 0 if all(p.endswith(": PROVED") for p in passed) else 2
    if args.json:
        print(json.dumps({"producer": producer.path, "versions": solver_versions(), "id": tr.id,
                          "invariant": tr.invariant, "counterexample": tr.counterexample, "trace": tr.events,
                          "replayed": [f"{n}: {d}" for n, d in tr.broken], "stale": len(tr.stale),
                          "scenario": render.invariant_trace(tr, producer)}, indent=1))
    else:
        print(render.invariant_trace(tr, producer))
    return 1 if tr.broken else 2


def _print(args, rev, result, use, how):
    """The counterexample drawn; `how` it was found (concrete: on generated
    worlds, the solver not run; solver: the matrix proved)."""
    cexs = [result]
    text = scenarios(args.revision, cexs[:1], args.drop, args)[0]
    said = (f"found by concrete testing on generated worlds (model/evidence.py), replayed; the solver was not run "
            f"(--no-concrete to prove the matrix)" if how == "concrete" else "found by the solver")
    replayed = bool(cexs[0].counterexample.get("replayed"))
    # a counterexample impl/ does not reproduce makes a test that passes
    # while the bug is present: none is written (it was, and passed)
    written = bool(args.pytest) and replayed
    if written:
        from nvtlbi import regress
        spec = args.revision if args.revision in REV.bundled() + REV.alternatives() else os.path.abspath(args.revision)
        regress.generate(cexs[0], spec, args.pytest)
    if args.json:
        print(json.dumps({"op": args.op, "revision": rev.name, "versions": solver_versions(), "id": cexs[0].id,
                          "found": how, "counterexample": cexs[0].counterexample, "scenario": text,
                          "cache": use.as_json() if use is not None else None,
                          **({"pytest": args.pytest if written else None} if args.pytest else {})}, indent=1))
    else:
        print(text)
        print(said)
        if written:
            print(f"regression test written to {args.pytest}")
        elif args.pytest:
            print(f"no regression test written to {args.pytest}: the counterexample does not replay on impl/, "
                  f"so a test of it would pass while the bug is present")
    return 1 if replayed else 2
