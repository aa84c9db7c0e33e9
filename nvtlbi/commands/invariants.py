"""`nvtlbi invariants`: prove that the shadow fault path (a producer,
impl/producers/) preserves the shadow-state assumptions (model/invariants.py):
one obligation per assumption, guest granule and host granule.  A
counterexample is replayed on impl/ as an event trace.  Exit status as
`prove`: 0 all PROVED, 1 a replayed counterexample, 2 anything else."""

import json

from nvtlbi.impl import granule as G
from nvtlbi.impl import producers
from nvtlbi.model import invariants as I
from nvtlbi.model.session import Session
from nvtlbi.model.verdict import COUNTEREXAMPLE, PROVED, overall_exit  # noqa: F401
from nvtlbi.versions import solver_versions


def add_parser(sub, common):
    p = sub.add_parser("invariants", help="prove the fault path preserves the shadow-state assumptions")
    p.add_argument("--revision", default="fault",
                   help="bundled producer name or path to a producer .py file (default: fault)")
    p.add_argument("--granule", choices=list(G.GRANULES), action="append", help="only these guest granules")
    p.add_argument("--invariant", choices=list(I.INVARIANT), action="append", help="only these assumptions")
    p.add_argument("--json", action="store_true", help="machine-readable results")
    p.add_argument("--debug", action="store_true", help="show tracebacks")


def run(args):
    producer = producers.load(args.revision)
    obs = [o for o in I.obligations(args.granule) if not args.invariant or o.invariant in args.invariant]
    out, codes = [], []
    with Session():
        for ob in obs:
            o = I.prove(producer, ob)
            rec = {"id": o.id, "verdict": o.verdict, "seconds": round(o.seconds, 2), "paths": o.paths,
                   "rests_on": o.rests_on, "reason": o.reason}
            code = {PROVED: 0, COUNTEREXAMPLE: 1}.get(o.verdict, 2)
            if o.verdict == COUNTEREXAMPLE:
                events, broken, stale = I.replay(o.counterexample, producer, ob.shift, ob.host)
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
                    print(f"    [replayed on impl/, right after the fault: {line}]")
                if "replay" in rec:
                    print(f"    {rec['replay']}")
    if args.json:
        print(json.dumps({"producer": producer.path, "versions": solver_versions(), "results": out}, indent=1))
    return 2 if 2 in codes else 1 if 1 in codes else 0
