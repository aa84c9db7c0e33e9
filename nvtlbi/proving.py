"""The verdict matrix of revisions, proved in worker processes: one job per
(revision, granule, level of T), every obligation of it (nvtlbi/scheduler.py);
and counterexamples drawn as scenarios, each replayed in a worker.  Shared by
the commands that prove (prove, cex, audit); it parses nothing and prints
only progress on a terminal."""

import sys

from nvtlbi.impl import revision as REV
from nvtlbi.model import assumptions as AS
from nvtlbi.model.env import HINTS
from nvtlbi.model.matrix import matrix
from nvtlbi.model.prover import prove_level
from nvtlbi.model.session import CrossTally
from nvtlbi.model import ops
from nvtlbi import render, scheduler
from nvtlbi.options import UsageError, session_of


def _cases(args, enabled):
    o = ops.op(getattr(args, "op", None))
    bad = [h for h in args.hint or () if h not in o.cases]
    if bad:
        raise UsageError(f"--hint {bad[0]}: not a case of op {o.name} (cases: {', '.join(o.cases)})")
    cases = o.matrix(enabled, hints=args.hint or o.cases)
    if args.granule:
        cases = [c for c in cases if c.granule in args.granule]
    return cases


def _work(spec, shift, level, hints, props, drop, session, op=None):
    """One job, in a worker: every obligation of one (granule, level) of T,
    under the session the job hands it (a tally of its own, sent back)."""
    o = ops.op(op)
    rev = REV.load(spec, o.caller)
    with session.fresh() as s:
        rs = prove_level(rev, shift, level, hints, props=props, drop=drop, op=o)
    return rs, s.tally


def cross_line(tally):
    """One line for --cross-check; a disagreement never gets here (it is an error)."""
    return (f"cross-check (bitwuzla): {tally.agreed} queries agreed, 0 disagreed, "
            f"{tally.unchecked} unchecked (a solver gave up)")


def prove_many(specs, args, label=None, infos=None):
    """Prove the matrix for each revision spec, every job in a worker
    (nvtlbi/scheduler.py); ({spec: [Result]} in matrix order, the
    cross-check tally summed over the workers).  Shows progress on a
    terminal.  `infos` ({spec: RevisionInfo}) when the caller has described
    the revisions already."""
    try:
        enabled = AS.enabled(args.drop)
    except KeyError as e:
        raise UsageError(f"--drop {e.args[0]}: no such assumption (have: {', '.join(AS.NAMES)})")
    infos = infos or scheduler.describe(specs, args)       # user errors surface before any work
    session = session_of(args)
    o = ops.op(getattr(args, "op", None))
    bad = [p for p in args.property or () if p not in o.properties]
    if bad:
        raise UsageError(f"--property {bad[0]}: not a property of op {o.name} (properties: {', '.join(o.properties)})")
    props = tuple(sorted(args.property)) if args.property else o.isolation
    levels = []
    for c in _cases(args, enabled):           # one job per (granule, level): its hints share a run
        if not levels or levels[-1][:2] != (c.shift, c.level):
            levels.append((c.shift, c.level, []))
        levels[-1][2].append(c.hint)
    extra = () if o.name == ops.DEFAULT else (o.name,)      # the ipas2e1 job is as before
    jobs = [scheduler.Job(_work, (spec, shift, level, tuple(hints), props, tuple(args.drop), session) + extra,
                          _obligations(infos[spec].name, shift, level, hints, props), spec)
            for spec in specs for shift, level, hints in levels]
    # the slowest jobs (4K, older revisions) first, for a better balance on few cores
    jobs.sort(key=lambda j: (j.args[1] != 12,))
    out = {spec: [] for spec in specs}
    progress = _progress(label or "prove") if sys.stderr.isatty() and len(jobs) > 8 else None
    done = scheduler.run(jobs, args.jobs, args, progress)
    tally = CrossTally()
    for job, (rs, counted) in zip(jobs, done):
        out[job.revision] += rs
        tally += counted
    if progress:
        print(file=sys.stderr)
    return out, tally


def _progress(label):
    return lambda i, n: print(f"\r{label}: {i}/{n} cases", end="", file=sys.stderr, flush=True)


def _obligations(name, shift, level, hints, props):
    """How a job's obligations are named in an error."""
    g = {12: "4K", 14: "16K", 16: "64K"}[shift]
    alt = lambda xs: xs[0] if len(xs) == 1 else "{" + ",".join(xs) + "}"
    return f"obligations {name}-{g}-L{level}-{alt(list(hints))}-{alt(list(props))}"


def run_matrix(args):
    """(RevisionInfo, [Result], cross-check tally) of the revision's matrix."""
    infos = scheduler.describe([args.revision], args)
    by_spec, tally = prove_many([args.revision], args, infos=infos)
    return infos[args.revision], by_spec[args.revision], tally


def scenarios(spec, results, dropped, args):
    """render.counterexample for each result, each drawn in a worker (the
    drawing replays the scenario on the revision)."""
    jobs = [scheduler.Job(_draw, (spec, r, tuple(dropped)), f"drawing counterexample {r.id}", spec)
            for r in results]
    return scheduler.run(jobs, args.jobs, args)


def _draw(spec, result, dropped):
    return render.counterexample(result, REV.load(spec, ops.of_result(result).caller), dropped)

