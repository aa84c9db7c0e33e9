"""`nvtlbi prove`: every obligation of one revision, the verdict matrix, the
assumptions its proofs rest on and its coverage; `--json`."""

import dataclasses
import json
import time

from nvtlbi.model import assumptions as AS
from nvtlbi.model.verdict import overall_exit
from nvtlbi import cache, proving, render, trust
from nvtlbi.versions import solver_versions


def add_parser(sub, common):
    p = sub.add_parser("prove", help="prove every obligation and print the verdict matrix")
    common(p)
    cache.add_option(p)
    p.add_argument("--json", action="store_true", help="machine-readable results")


def run(args):
    t0 = time.perf_counter()
    rev, results, tally, use = proving.run_matrix(args)
    wall = time.perf_counter() - t0
    if args.json:
        print(json.dumps({"op": args.op, "revision": rev.name, "dropped": args.drop, "seconds": round(wall, 2),
                          "versions": solver_versions(),
                          "coverage": trust.as_json(results, rev), "cache": use.as_json(),
                          **({"cross_check": tally.as_dict()} if args.cross_check else {}),
                          "results": [dataclasses.asdict(r) | {"id": r.id} for r in results]}, indent=1))
    else:
        print(f"op {args.op}; revision {rev.name} ({rev.path}); assumptions: {', '.join(AS.enabled(args.drop))}"
              + (f"; dropped: {', '.join(args.drop)}" if args.drop else ""))
        print(render.matrix(results))
        print(render.summary(results))
        for line in trust.lines(results, rev, restricted=bool(args.granule or args.hint or args.property or args.level)):
            print(line)
        if args.cross_check:
            print(proving.cross_line(tally))
        print(use.line())
        print(f"wall time {wall:.1f}s")
    return overall_exit(results)
