"""`nvtlbi invariants`: prove that the transitions of the shadow stage 2
(model/transitions.py: the fault, the unmap, ...), each a producer in
impl/producers/, preserve the shadow-state assumptions: one obligation per
transition, assumption, guest granule and host granule (one per transition
and assumption for those whose world leaves the granules open: the MMU's).  A counterexample is
replayed on impl/ as an event trace.  Exit status as `prove`: 0 all PROVED,
1 a replayed counterexample, 2 anything else."""

import json

from nvtlbi.impl import granule as G
from nvtlbi.impl import producers
from nvtlbi.model import transitions as T
from nvtlbi.model.session import Session
from nvtlbi.model.verdict import COUNTEREXAMPLE, PROVED, overall_exit  # noqa: F401
from nvtlbi.options import UsageError
from nvtlbi.versions import solver_versions


def add_parser(sub, common):
    p = sub.add_parser("invariants", help="prove the shadow-state transitions preserve the assumptions")
    p.add_argument("--transition", choices=list(T.BY_NAME), action="append",
                   help="only these transitions (default: all; with --revision: fault)")
    p.add_argument("--revision", default=None,
                   help="producer .py file (or bundled name) for the one transition proved (default: the bundled one)")
    p.add_argument("--granule", choices=list(G.GRANULES), action="append", help="only these guest granules")
    p.add_argument("--invariant", choices=T.INVARIANTS, action="append", help="only these assumptions")
    p.add_argument("--json", action="store_true", help="machine-readable results")
    p.add_argument("--debug", action="store_true", help="show tracebacks")


def _prove(spec, kind, t, ob):
    """One job, in a worker: one obligation (and the replay of its
    counterexample); (text lines, its JSON record, exit status)."""
    producer = producers.load(spec, kind)
    with Session():
        o = t.prove(producer, ob)
        rec = {"id": o.id, "transition": t.name, "producer": producer.path, "verdict": o.verdict,
               "seconds": round(o.seconds, 2), "paths": o.paths, "rests_on": o.rests_on, "reason": o.reason}
        code = {PROVED: 0, COUNTEREXAMPLE: 1}.get(o.verdict, 2)
        if o.verdict == COUNTEREXAMPLE:
            events, broken, stale = t.replay(o.counterexample, producer, ob.shift, ob.host)
            rec.update(counterexample=o.counterexample, trace=events,
                       replayed=[f"{n}: {d}" for n, d in broken], stale=len(stale))
            if not broken:      # the model says broken, impl/ does not: nvtlbi's own failure
                rec["replay"] = "MODEL BUG: the counterexample does not break the assumption on impl/"
                code = 2
    lines = [f"{o.id}: {o.verdict} ({o.seconds:.1f} s, {o.paths} paths)"
             + (f" rests on {', '.join(o.rests_on)}" if o.rests_on else "")
             + (f" {o.reason}" if o.reason else "")]
    lines += [f"    {line}" for line in rec.get("trace", [])]
    lines += [f"    [replayed on impl/, right after the {t.name}: {line}]" for line in rec.get("replayed", [])]
    if "replay" in rec:
        lines.append(f"    {rec['replay']}")
    return lines, rec, code


def run(args):
    from nvtlbi import scheduler
    names = args.transition or (["fault"] if args.revision else list(T.BY_NAME))
    if args.revision and len(names) != 1:
        raise UsageError("--revision: give one --transition (the producer file is of one kind)")
    specs = {n: (args.revision or T.BY_NAME[n].producer, T.BY_NAME[n].producer) for n in names}
    paths = {n: scheduler.producer_path(specs[n][0], args, specs[n][1]) for n in names}
    jobs = [scheduler.Job(_prove, specs[t.name] + (t, ob), f"obligation {ob.id}", specs[t.name][0])
            for t, ob in T.obligations(args.granule, names, args.invariant)]
    if not jobs:        # nothing proved is no pass (it exited 0)
        have = sorted({i for n in names for i in T.BY_NAME[n].invariants})
        raise UsageError(f"--invariant {', '.join(args.invariant or ())}: no obligation of {', '.join(names)} "
                         f"(its obligations: {', '.join(have)})")
    shown = None if args.json else (lambda r: print("\n".join(r[0]), flush=True))
    done = scheduler.run(jobs, 1, args, each=shown)
    out, codes = [rec for _, rec, _ in done], [code for _, _, code in done]
    if args.json:
        doc = {"producers": paths, "versions": solver_versions(), "results": out}
        if len(paths) == 1:
            doc["producer"] = next(iter(paths.values()))
        print(json.dumps(doc, indent=1))
    return 2 if 2 in codes else 1 if 1 in codes else 0
