"""nvtlbi mutate REVISION: generate mutants of the revision's source and
classify each one (killed with a replayed counterexample, proven equivalent,
excused (differs only where the architecture requires nothing), or
safe-different with every obligation proved); print the score.

Exit status: 0 when every mutant is explained, 2 otherwise."""

import dataclasses
import json
import sys
import time

from nvtlbi.model import mutation as MU
from nvtlbi.model import ops
from nvtlbi.model.mutants import generate
from nvtlbi import options, scheduler
from nvtlbi.versions import solver_versions

SHIFTS = {"4K": 12, "16K": 14, "64K": 16}
# a mutant costs 1-60 s of CPU (an equivalence proof runs three full diffs);
# 40 spread over the source keep the default run near 2 minutes on 2 cores
DEFAULT_SAMPLE = 40
# what the properties that kill are, per op (the legend of "killed by")
KILLERS = {"ipas2e1": "P1-P4 isolation, P5 precision", "ripas2e1": "R1-R4 isolation and availability, R5 precision",
           "vncr": "V1-V3 the pseudo-TLB dropped and its fixmap cleared, V4 availability, V5 precision"}


def add_parser(sub, common):
    p = sub.add_parser("mutate", help="mutation testing: classify every generated mutant of a revision")
    p.add_argument("target", nargs="?", default="upstream", metavar="REVISION",
                   help="bundled revision name or path to a revision .py file (default: upstream)")
    p.add_argument("--only", action="append", metavar="ID", help="only these mutants (e.g. m017; repeatable)")
    p.add_argument("--sample", type=int, default=DEFAULT_SAMPLE, metavar="N",
                   help=f"a deterministic sample of N mutants spread evenly over the source "
                        f"(default {DEFAULT_SAMPLE}; 0: all of them)")
    p.add_argument("--list", action="store_true", help="list the mutants without classifying them")
    p.add_argument("--json", action="store_true", help="machine-readable results")
    p.add_argument("--no-concrete", action="store_true",
                   help="do not run each mutant on generated concrete worlds first (model/evidence.py): "
                        "symbolic work only")
    common(p)
    options.ignores(p, "give the revision to mutate as REVISION", "revision")
    options.ignores(p, "a mutant is classified on every operand case and the op's default properties (narrow it "
                       "with --granule or --level)", "hint", "property")
    options.ignores(p, "mutants are classified with z3 only and no coverage", "cross_check", "no_coverage")


def select(mutants, only=None, sample=0):
    if only:
        known = {m.id for m in mutants}
        bad = [i for i in only if i not in known]
        if bad:
            from nvtlbi.options import UsageError
            raise UsageError(f"--only {bad[0]}: no such mutant (have m001..m{len(mutants):03d})")
        return [m for m in mutants if m.id in only]
    if sample and sample < len(mutants):
        # the first mutant of each operator, plus evenly spread ones
        firsts = {}
        for m in mutants:
            firsts.setdefault(m.operator, m.id)
        if sample <= len(firsts):       # too few for one per operator: spread only
            firsts = {}
        chosen = set(firsts.values())
        spread = max(sample - len(chosen), 1)
        while True:         # denser until the spread adds enough new ones
            picks = [mutants[i * len(mutants) // spread].id for i in range(spread)]
            if len(chosen | set(picks)) >= sample or spread >= len(mutants):
                break
            spread += 1
        for pid in picks:
            if len(chosen) >= sample:
                break
            chosen.add(pid)
        return [m for m in mutants if m.id in chosen]
    return mutants


def _work(original, mutant, path, shifts, limits, drop, op=None, concrete=True, levels=None, symbolic=True,
          baseline=None, same=True):
    """One job, in a worker: classify one mutant (symbolic False: its
    cheap round only; None if it survives that)."""
    return MU.classify(original, mutant, path, shifts=shifts, limits=limits, drop=drop, op=op, concrete=concrete,
                       levels=levels, symbolic=symbolic, baseline=baseline, same=same)


def jobs_for(original, mutants, paths, shifts, limits, drop, op=None, concrete=True, levels=None, symbolic=True,
             baseline=None, same=True):
    extra = (op, concrete, tuple(levels) if levels else None, symbolic, baseline, same)
    return [scheduler.Job(_work, (original, m, paths[m.id], shifts, limits, drop) + extra,
                          f"mutant {m.id} (line {m.line}: {m.change})", paths[m.id]) for m in mutants]


def classify_all(original, mutants, paths, shifts, limits, drop, op, workers, args, concrete=True, levels=None,
                 each=None):
    """Every mutant classified, in two rounds: a cheap round for all of them
    (model/same_function.py, which proves most EQUIVALENT ones in a fraction
    of a second, then model/evidence.py: a kill costs a second), then the solver for the
    survivors, sharing the original's own failures (what a mutant's
    counterexample is compared with) as they are computed.  each(result) as
    results come: the round's kills first, then the survivors, each round in
    mutant order."""
    o = ops.op(op)
    out = {}
    cheap = concrete and o.draw is not None
    if cheap:
        shown = (lambda r: r is not None and each(r)) if each else None      # a kill as soon as it is found
        first = scheduler.run(jobs_for(original, mutants, paths, shifts, limits, drop, op, levels=levels,
                                       symbolic=False), workers, args, each=shown)
        for m, r in zip(mutants, first):
            if r is not None:
                r.baseline = None
                out[m.id] = r
    rest = [m for m in mutants if m.id not in out]
    # the original's own failures per (granule, level), as the survivors
    # compute them (model/mutation._Baseline): each result brings its part
    # back, and a worker forked later starts with all that came before, so
    # a run computes each part about once (twice at most with two workers)
    # and never one that no survivor asks for (ipas2e1's EQUIVALENT ones)
    baseline = {}

    def collect(r):
        baseline.update(r.baseline or {})
        r.baseline = None
        if each:
            each(r)
    # (the first round asked model/same_function.py already: not again)
    for r in scheduler.run(jobs_for(original, rest, paths, shifts, limits, drop, op, concrete=False,
                                    levels=levels, baseline=baseline, same=not cheap), workers, args, each=collect):
        out[r.id] = r
    return [out[m.id] for m in mutants]


def run(args):
    rev = scheduler.describe([args.target], args)[args.target]
    with open(rev.path) as f:
        mutants = select(generate(f.read()), args.only, args.sample)
    if args.list and args.json:
        print(json.dumps([{"id": m.id, "line": m.line, "operator": m.operator, "change": m.change}
                          for m in mutants], indent=1))
        return 0
    if args.list:
        for m in mutants:
            print(f"{m.id}  line {m.line:<4} {m.operator:<9} {m.change}")
        return 0
    shifts = tuple(s for s in MU.GRANULE_ORDER if not args.granule or s in {SHIFTS[g] for g in args.granule})
    limits = options.limits_of(args)
    paths = MU.write(mutants)
    t0 = time.perf_counter()
    if not args.json:
        print(f"mutants of {rev.name} ({rev.path}), op {args.op}; granules: "
              f"{', '.join(g for g, s in SHIFTS.items() if s in shifts)}"
              + (f"; levels: {', '.join(map(str, sorted(args.level)))} only" if args.level else ""), flush=True)
    def show(r):                # as they come: the concrete round's kills, then the rest
        print(f"{r.id} line {r.line:<4} {r.operator:<9} {r.verdict:<11} {r.change}  ({r.seconds:.0f}s)")
        print(f"     {r.evidence}", flush=True)
    results = classify_all(args.target, mutants, paths, shifts, limits, tuple(args.drop), args.op, args.jobs, args,
                           concrete=not args.no_concrete, levels=args.level, each=None if args.json else show)
    wall = time.perf_counter() - t0
    explained, counted = MU.score(results)
    counts = MU.counts(results)
    if args.json:
        print(json.dumps({"op": args.op, "revision": rev.name, "levels": sorted(args.level or []) or None,
                          "mutants": len(results), "explained": explained,
                          "versions": solver_versions(),
                          "counted": counted, "counts": counts, "killed_by": MU.killed_by(results),
                          "seconds": round(wall, 1),
                          "results": [{k: v for k, v in dataclasses.asdict(r).items()
                                       if k not in ("example", "baseline")}
                                      for r in results]}, indent=1))
    else:
        pct = 100.0 * explained / counted if counted else 100.0
        print(", ".join(f"{c.lower()} {n}" for c, n in counts.items()))
        by = MU.killed_by(results)
        if by:
            print("killed by: " + ", ".join(f"{k} {n}" for k, n in by.items())
                  + f"  ({KILLERS[ops.op(args.op).name]})")
        print(f"score: {explained}/{counted} classified ({pct:.0f} %); wall time {wall:.1f}s")
    sys.stdout.flush()
    return 0 if explained == counted else 2
