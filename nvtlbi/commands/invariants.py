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


def run(args):
    names = args.transition or (["fault"] if args.revision else list(T.BY_NAME))
    if args.revision and len(names) != 1:
        raise UsageError("--revision: give one --transition (the producer file is of one kind)")
    loaded = {n: producers.load(args.revision or T.BY_NAME[n].producer, T.BY_NAME[n].producer) for n in names}
    out, codes = [], []
    with Session():
        for t, ob in T.obligations(args.granule, names, args.invariant):
            producer = loaded[t.name]
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
            codes.append(code)
            out.append(rec)
            if not args.json:
                print(f"{o.id}: {o.verdict} ({o.seconds:.1f} s, {o.paths} paths)"
                      + (f" rests on {', '.join(o.rests_on)}" if o.rests_on else "")
                      + (f" {o.reason}" if o.reason else ""))
                for line in rec.get("trace", []):
                    print(f"    {line}")
                for line in rec.get("replayed", []):
                    print(f"    [replayed on impl/, right after the {t.name}: {line}]")
                if "replay" in rec:
                    print(f"    {rec['replay']}")
    if args.json:
        doc = {"producers": {n: p.path for n, p in loaded.items()}, "versions": solver_versions(), "results": out}
        if len(loaded) == 1:
            doc["producer"] = next(iter(loaded.values())).path
        print(json.dumps(doc, indent=1))
    return 2 if 2 in codes else 1 if 1 in codes else 0
