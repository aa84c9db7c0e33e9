"""The verdict matrix of revisions, proved in worker processes: one job per
(revision, granule, level of T), every obligation of it (nvtlbi/scheduler.py);
and counterexamples drawn as scenarios, each replayed in a worker.  Shared by
the commands that prove (prove, cex, audit); it parses nothing and prints
only progress on a terminal."""

import sys

from nvtlbi.impl import revision as REV
from nvtlbi.model import assumptions as AS
from nvtlbi.model.env import HINTS
from nvtlbi.model.obligation import matrix, prove_level
from nvtlbi.model.properties import ISOLATION
from nvtlbi import render, scheduler
from nvtlbi.options import UsageError, limits_of


def _cases(args, enabled):
    cases = matrix(enabled, hints=args.hint or HINTS)
    if args.granule:
        cases = [c for c in cases if c.granule in args.granule]
    return cases


def _work(spec, shift, level, hints, props, drop, limits, coverage):
    """One job, in a worker: every obligation of one (granule, level) of T."""
    from nvtlbi.model import crosscheck
    rev = REV.load(spec)
    before = (crosscheck.stats.agreed, crosscheck.stats.unchecked)
    rs = prove_level(rev, shift, level, hints, props=props, drop=drop, limits=limits, coverage=coverage)
    return rs, (crosscheck.stats.agreed - before[0], crosscheck.stats.unchecked - before[1])


CROSS = {"agreed": 0, "unchecked": 0}   # --cross-check tally of the last prove_many (over all workers)


def cross_line():
    """One line for --cross-check; a disagreement never gets here (it is an error)."""
    return (f"cross-check (bitwuzla): {CROSS['agreed']} queries agreed, 0 disagreed, "
            f"{CROSS['unchecked']} unchecked (a solver gave up)")


def prove_many(specs, args, label=None, infos=None):
    """Prove the matrix for each revision spec, every job in a worker
    (nvtlbi/scheduler.py); {spec: [Result]} in matrix order.  Shows
    progress on a terminal.  `infos` ({spec: RevisionInfo}) when the caller
    has described the revisions already."""
    try:
        enabled = AS.enabled(args.drop)
    except KeyError as e:
        raise UsageError(f"--drop {e.args[0]}: no such assumption (have: {', '.join(AS.NAMES)})")
    infos = infos or scheduler.describe(specs, args)       # user errors surface before any work
    limits = limits_of(args)
    props = tuple(sorted(args.property)) if args.property else ISOLATION
    coverage = not getattr(args, "no_coverage", False)
    levels = []
    for c in _cases(args, enabled):           # one job per (granule, level): its hints share a run
        if not levels or levels[-1][:2] != (c.shift, c.level):
            levels.append((c.shift, c.level, []))
        levels[-1][2].append(c.hint)
    jobs = [scheduler.Job(_work, (spec, shift, level, tuple(hints), props, tuple(args.drop), limits, coverage),
                          _obligations(infos[spec].name, shift, level, hints, props), spec)
            for spec in specs for shift, level, hints in levels]
    # the slowest jobs (4K, older revisions) first, for a better balance on few cores
    jobs.sort(key=lambda j: (j.args[1] != 12,))
    out = {spec: [] for spec in specs}
    progress = _progress(label or "prove") if sys.stderr.isatty() and len(jobs) > 8 else None
    CROSS.update(agreed=0, unchecked=0)
    from nvtlbi.model import crosscheck
    if getattr(args, "cross_check", False):
        crosscheck.install()        # before the fork: the workers inherit it
    try:
        done = scheduler.run(jobs, args.jobs, args, progress)
    finally:
        if getattr(args, "cross_check", False):
            crosscheck.uninstall()
    for job, (rs, tally) in zip(jobs, done):
        out[job.revision] += rs
        CROSS["agreed"] += tally[0]
        CROSS["unchecked"] += tally[1]
    if progress:
        print(file=sys.stderr)
    return out


def _progress(label):
    return lambda i, n: print(f"\r{label}: {i}/{n} cases", end="", file=sys.stderr, flush=True)


def _obligations(name, shift, level, hints, props):
    """How a job's obligations are named in an error."""
    g = {12: "4K", 14: "16K", 16: "64K"}[shift]
    alt = lambda xs: xs[0] if len(xs) == 1 else "{" + ",".join(xs) + "}"
    return f"obligations {name}-{g}-L{level}-{alt(list(hints))}-{alt(list(props))}"


def run_matrix(args):
    infos = scheduler.describe([args.revision], args)
    return infos[args.revision], prove_many([args.revision], args, infos=infos)[args.revision]


def scenarios(spec, results, dropped, args):
    """render.counterexample for each result, each drawn in a worker (the
    drawing replays the scenario on the revision)."""
    jobs = [scheduler.Job(_draw, (spec, r, tuple(dropped)), f"drawing counterexample {r.id}", spec)
            for r in results]
    return scheduler.run(jobs, args.jobs, args)


def _draw(spec, result, dropped):
    return render.counterexample(result, REV.load(spec), dropped)

