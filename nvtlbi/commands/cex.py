"""`nvtlbi cex`: the first counterexample (or the one named with --id) of a
revision as a concrete scenario, replayed on the revision; `--pytest FILE`
also writes a regression test that replays it."""

import json
import os

from nvtlbi.impl import revision as REV
from nvtlbi.model import ops
from nvtlbi.model.verdict import COUNTEREXAMPLE, overall_exit
from nvtlbi import cache, render
from nvtlbi.proving import run_matrix, scenarios
from nvtlbi.options import UsageError
from nvtlbi.versions import solver_versions


def add_parser(sub, common):
    p = sub.add_parser("cex", help="print a counterexample as a concrete scenario")
    common(p)
    cache.add_option(p)
    p.add_argument("--id", help="obligation id, e.g. upstream-4K-L2-nohint-P2 (default: the first counterexample)")
    p.add_argument("--pytest", metavar="FILE", help="also write a regression test that replays the scenario")
    p.add_argument("--json", action="store_true", help="machine-readable results")


def run(args):
    if args.pytest and args.op != ops.DEFAULT:
        raise UsageError(f"--pytest: regression tests are generated for op {ops.DEFAULT} only (not {args.op})")
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
    text = scenarios(args.revision, cexs[:1], args.drop, args)[0]
    if args.pytest:
        from nvtlbi import regress
        spec = args.revision if args.revision in REV.bundled() + REV.alternatives() else os.path.abspath(args.revision)
        regress.generate(cexs[0], spec, args.pytest)
    if args.json:
        print(json.dumps({"op": args.op, "revision": rev.name, "versions": solver_versions(), "id": cexs[0].id,
                          "counterexample": cexs[0].counterexample, "scenario": text, "cache": use.as_json(),
                          **({"pytest": args.pytest} if args.pytest else {})}, indent=1))
    else:
        print(text)
        if args.pytest:
            print(f"regression test written to {args.pytest}")
    return 1 if cexs[0].counterexample.get("replayed") else 2
