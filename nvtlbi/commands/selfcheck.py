"""nvtlbi selfcheck: does the tool deserve trust on the bundled revisions?
For each one: every obligation (P1-P5) under the default assumptions with
the cross-check on (Bitwuzla re-solves every query; nothing unchecked),
every counterexample replayed (the revision's bug, not the tool's),
non-vacuity (each PROVED has a cover witness), branch coverage (no dead
side that named assumptions rule out), and a mutation sample (every mutant
explained).  One screen of summary.

Exit status: 0 when all of it holds, 2 otherwise."""

import json
import time

from nvtlbi.impl import revision as REV
from nvtlbi.model import assumptions as AS
from nvtlbi.model import findings
from nvtlbi.model import mutation as MU
from nvtlbi.model.session import Session
from nvtlbi.model.mutants import generate
from nvtlbi.model import ops
from nvtlbi.model.prover import prove_level
from nvtlbi.model.verdict import COUNTEREXAMPLE, PROVED
from nvtlbi import options, scheduler, trust
from nvtlbi.commands import mutate as cmd_mutate
from nvtlbi.versions import solver_versions

SAMPLE = 6


def add_parser(sub, common):
    p = sub.add_parser("selfcheck", help="vacuity, coverage, cross-check and a mutation sample over the bundled revisions")
    p.add_argument("revisions", nargs="*", metavar="REVISION",
                   help="revisions to check (default: every bundled revision)")
    p.add_argument("--sample", type=int, default=SAMPLE, metavar="N", help=f"mutants per revision (default {SAMPLE})")
    p.add_argument("--json", action="store_true", help="machine-readable results")
    common(p)
    options.ignores(p, "selfcheck always measures branch coverage", "no_coverage")


def _prove(spec, shift, level, hints, limits, op=None):
    """One job, in a worker: every obligation of one (granule, level) of T,
    cross-checked and with branch coverage; its tally comes back with it."""
    # every property, P5 (R5) too: the mutation sample below is judged by all
    # five; one exploration per (granule, level) serves all its hint cases
    o = ops.op(op)
    with Session(limits=limits, coverage=True, cross_check=True) as s:
        res = prove_level(REV.load(spec, o.caller), shift, level, hints, props=tuple(o.properties), op=o)
    return res, s.tally.agreed, s.tally.unchecked


def check_revision(spec, args, limits):
    from nvtlbi import proving
    o = ops.op(args.op)
    extra = () if o.name == ops.DEFAULT else (o.name,)
    rev = scheduler.describe([spec], args)[spec]
    lines, ok = [], True
    levels = {}
    for c in o.matrix(AS.enabled(())):
        if ((not args.granule or c.granule in args.granule) and (not args.level or c.level in args.level)
                and (not args.hint or c.hint in args.hint)):
            levels.setdefault((c.shift, c.level), []).append(c.hint)
    restricted = bool(args.granule or args.level or args.hint)
    out = scheduler.run([scheduler.Job(_prove, (spec, sh, lv, tuple(hs), limits) + extra,
                                       proving._obligations(rev.name, sh, lv, hs, tuple(o.properties)), spec)
                         for (sh, lv), hs in levels.items()], args.jobs, args)
    results = [r for rs, _, _ in out for r in rs]
    agreed, unchecked = sum(a for _, a, _ in out), sum(u for _, _, u in out)
    counts = {}
    for r in results:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    # a revision's own bug is not the checker's: a counterexample must replay
    ok &= all(r.verdict == PROVED or (r.verdict == COUNTEREXAMPLE
                                      and all(c.get("replayed") for c in [r.counterexample] + r.causes))
              for r in results)
    cex = [r for r in results if r.verdict == COUNTEREXAMPLE]
    known = sorted({f.name for r in cex for f in findings.explains(r) or ()})
    lines.append(f"{rev.name}: {len(results)} obligations: " + ", ".join(f"{v} {n}" for v, n in sorted(counts.items()))
                 + (f" ({sum(bool(r.counterexample.get('replayed')) for r in cex)} of the counterexamples "
                    f"replay on impl/: the revision's bugs" if cex else "")
                 + (f"; {sum(bool(findings.explains(r)) for r in cex)} are only known findings about the "
                    f"kernel: {', '.join(known)})" if known else ")" if cex else ""))
    for line in trust.lines(results, rev, restricted=restricted):
        lines.append(f"{rev.name}: {line}")
    ok &= all(r.witness for r in results if r.verdict == PROVED)
    rep = trust.coverage_report(results, rev)
    # a restricted run may miss sides; sides dead without any assumption are the code's own
    ok &= rep is not None and (not rep.blamed() or restricted)
    lines.append(f"{rev.name}: cross-check (bitwuzla): {agreed} queries agreed, 0 disagreed, {unchecked} unchecked")
    ok &= unchecked == 0

    with open(rev.path) as f:
        mutants = cmd_mutate.select(generate(f.read()), sample=args.sample)
    paths = MU.write(mutants)
    shifts = tuple(s for s in MU.GRANULE_ORDER if not args.granule or s in {cmd_mutate.SHIFTS[g] for g in args.granule})
    classified = cmd_mutate.classify_all(spec, mutants, paths, shifts, limits, (), o.name, args.jobs, args)
    explained, counted = MU.score(classified)
    ok &= explained == counted
    lines.append(f"{rev.name}: mutation sample of {len(mutants)}: "
                 + ", ".join(f"{c.lower()} {n}" for c, n in MU.counts(classified).items() if n)
                 + f"; {explained}/{counted} classified")
    for r in classified:
        if r.verdict == MU.UNEXPLAINED:
            lines.append(f"{rev.name}: UNEXPLAINED {r.id} line {r.line} {r.change}: {r.evidence}")
    return ok, lines


def run(args):
    t0 = time.perf_counter()
    # what the self-check is: every property under the default assumptions;
    # --granule, --level and --hint only narrow the cases (the mutation
    # sample is classified on whole granules)
    if args.drop or args.property:
        raise options.UsageError(f"{'--drop' if args.drop else '--property'}: selfcheck checks every property under "
                                 f"the default assumptions (narrow it with --granule, --level or --hint)")
    limits = options.limits_of(args)
    o = ops.op(args.op)
    options.check_op(args, o)
    bundled = REV.bundled() if o.name == ops.DEFAULT else REV.bundled_of(o.caller)
    if args.revisions and args.revision != "upstream":
        raise options.UsageError("--revision: give the revisions to check either as REVISION arguments or "
                                 "with --revision, not both")
    specs = args.revisions or ([args.revision] if args.revision != "upstream" else bundled)
    ok, report = True, []
    if not args.json:
        print(f"nvtlbi selfcheck: op {o.name}; {', '.join(specs)}; assumptions: {', '.join(AS.enabled(()))}")
    for spec in specs:
        good, lines = check_revision(spec, args, limits)
        ok &= good
        report.append({"revision": spec, "ok": good, "lines": lines})
        if not args.json:
            for line in lines:
                print(line, flush=True)
    wall = time.perf_counter() - t0
    if args.json:
        print(json.dumps({"op": o.name, "ok": ok, "versions": solver_versions(), "assumptions": AS.enabled(()), "seconds": round(wall, 1),
                          "revisions": report}, indent=1))
    else:
        print(f"selfcheck: {'OK' if ok else 'FAILED'} ({wall:.0f}s)")
    return 0 if ok else 2
