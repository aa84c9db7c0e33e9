"""nvtlbi: prove the NV stage-2 TLBI range inference, print counterexamples.

Exit status: 0 every obligation PROVED; 1 a COUNTEREXAMPLE (that replays);
2 UNKNOWN, VACUOUS, a counterexample that does not replay (model bug), or a
usage error (bad revision file, unknown assumption)."""

import argparse
import dataclasses
import json
import os
import sys
import time

from nvtlbi.impl import revision as REV
from nvtlbi.impl.outcome import InternalError
from nvtlbi.model import assumptions as AS
from nvtlbi.model.engine import CrossCheckError
from nvtlbi.model.env import HINTS
from nvtlbi.model.matrix import matrix
from nvtlbi.model.prover import prove_level
from nvtlbi.model.properties import ISOLATION, PROPERTIES
from nvtlbi.model.session import CrossTally, Limits, Session
from nvtlbi.model.verdict import COUNTEREXAMPLE, overall_exit
from nvtlbi import options, render, scheduler, trust
from nvtlbi.versions import solver_versions


class UsageError(Exception):
    pass


# Further subcommands live in their own modules: each defines
# add_parser(subparsers, common) and run(args) -> exit status, and may raise
# UsageError or RevisionError for user errors.  Register them here.
EXTRA_COMMANDS = {"audit": __import__("nvtlbi.cmd_audit", fromlist=["run"]),
                  "diff": __import__("nvtlbi.cmd_diff", fromlist=["run"])}
EXTRA_COMMANDS["precision"] = __import__("nvtlbi.cmd_precision", fromlist=["run"])
EXTRA_COMMANDS["mutate"] = __import__("nvtlbi.cmd_mutate", fromlist=["run"])
EXTRA_COMMANDS["selfcheck"] = __import__("nvtlbi.cmd_selfcheck", fromlist=["run"])


def _parser():
    p = argparse.ArgumentParser(prog="nvtlbi", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd")

    def common(sp):
        sp.add_argument("--revision", default="upstream",
                        help="bundled revision name or path to a revision .py file (default: upstream)")
        sp.add_argument("--drop", action="append", default=[], metavar="ASSUMPTION",
                        help="turn an assumption off (repeatable): " + ", ".join(AS.NAMES))
        sp.add_argument("--timeout", type=float, default=0, metavar="SECONDS",
                        help="wall-clock bound per solver query and per job (a granule and level of T: all "
                             f"its obligations); 0: none per query, {scheduler.DEFAULT_BOUND:g} s per job")
        sp.add_argument("--rlimit", type=int, default=Limits.rlimit,
                        help="deterministic solver resource limit per query")
        sp.add_argument("--granule", choices=["4K", "16K", "64K"], action="append",
                        help="only these granules")
        sp.add_argument("--hint", choices=HINTS, action="append", help="only these hint cases")
        sp.add_argument("--property", choices=sorted(PROPERTIES), action="append",
                        help="only these properties (default P1-P4; P5, precision, only on request)")
        sp.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="worker processes at a time (at least 1; revision code always runs in a worker)")
        sp.add_argument("--debug", action="store_true", help="show tracebacks")
        sp.add_argument("--cross-check", action="store_true",
                        help="re-solve every query with Bitwuzla (SMT-LIB2 export); a disagreement is an error")
        sp.add_argument("--no-coverage", action="store_true",
                        help="skip branch coverage (it traces the revision: about 2x slower exploration)")

    pp = sub.add_parser("prove", help="prove every obligation and print the verdict matrix")
    common(pp)
    pp.add_argument("--json", action="store_true", help="machine-readable results")
    pc = sub.add_parser("cex", help="print a counterexample as a concrete scenario")
    common(pc)
    pc.add_argument("--id", help="obligation id, e.g. upstream-4K-L2-nohint-P2 (default: the first counterexample)")
    pc.add_argument("--pytest", metavar="FILE", help="also write a regression test that replays the scenario")
    pc.add_argument("--json", action="store_true", help="machine-readable results")
    pa = sub.add_parser("assumptions", help="list the named assumptions and their sources")
    pa.add_argument("--json", action="store_true", help="machine-readable results")
    for name, module in EXTRA_COMMANDS.items():
        module.add_parser(sub, common)
    return p


def _cases(args, enabled):
    cases = matrix(enabled, hints=args.hint or HINTS)
    if args.granule:
        cases = [c for c in cases if c.granule in args.granule]
    return cases


def _work(spec, shift, level, hints, props, drop, session):
    """One job, in a worker: every obligation of one (granule, level) of T,
    under the session the job hands it (a tally of its own, sent back)."""
    rev = REV.load(spec)
    with session.fresh() as s:
        rs = prove_level(rev, shift, level, hints, props=props, drop=drop)
    return rs, s.tally


def cross_line(tally):
    """One line for --cross-check; a disagreement never gets here (it is an error)."""
    return (f"cross-check (bitwuzla): {tally.agreed} queries agreed, 0 disagreed, "
            f"{tally.unchecked} unchecked (a solver gave up)")


def session_of(args):
    """The Session (model/session.py) the options ask for."""
    return Session(limits=Limits(rlimit=args.rlimit, timeout_ms=int(args.timeout * 1000)),
                   coverage=not getattr(args, "no_coverage", False),
                   cross_check=bool(getattr(args, "cross_check", False)))


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
    props = tuple(sorted(args.property)) if args.property else ISOLATION
    levels = []
    for c in _cases(args, enabled):           # one job per (granule, level): its hints share a run
        if not levels or levels[-1][:2] != (c.shift, c.level):
            levels.append((c.shift, c.level, []))
        levels[-1][2].append(c.hint)
    jobs = [scheduler.Job(_work, (spec, shift, level, tuple(hints), props, tuple(args.drop), session),
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


def cmd_prove(args):
    t0 = time.perf_counter()
    rev, results, tally = run_matrix(args)
    wall = time.perf_counter() - t0
    if args.json:
        print(json.dumps({"revision": rev.name, "dropped": args.drop, "seconds": round(wall, 2),
                          "versions": solver_versions(),
                          "coverage": trust.as_json(results, rev),
                          **({"cross_check": tally.as_dict()} if args.cross_check else {}),
                          "results": [dataclasses.asdict(r) | {"id": r.id} for r in results]}, indent=1))
    else:
        print(f"revision {rev.name} ({rev.path}); assumptions: {', '.join(AS.enabled(args.drop))}"
              + (f"; dropped: {', '.join(args.drop)}" if args.drop else ""))
        print(render.matrix(results))
        print(render.summary(results))
        for line in trust.lines(results, rev, restricted=bool(args.granule or args.hint or args.property)):
            print(line)
        if args.cross_check:
            print(cross_line(tally))
        print(f"wall time {wall:.1f}s")
    return overall_exit(results)


def scenarios(spec, results, dropped, args):
    """render.counterexample for each result, each drawn in a worker (the
    drawing replays the scenario on the revision)."""
    jobs = [scheduler.Job(_draw, (spec, r, tuple(dropped)), f"drawing counterexample {r.id}", spec)
            for r in results]
    return scheduler.run(jobs, args.jobs, args)


def _draw(spec, result, dropped):
    return render.counterexample(result, REV.load(spec), dropped)


def cmd_cex(args):
    rev, results, _ = run_matrix(args)
    cexs = [r for r in results if r.verdict == COUNTEREXAMPLE]
    if args.id:
        cexs = [r for r in cexs if r.id == args.id]
        if not cexs and not any(r.id == args.id for r in results):
            raise UsageError(f"--id {args.id}: no such obligation")
    if not cexs:
        if args.json:
            print(json.dumps({"revision": rev.name, "versions": solver_versions(), "counterexample": None,
                              "summary": render.summary(results).splitlines()[0]}, indent=1))
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
        print(json.dumps({"revision": rev.name, "versions": solver_versions(), "id": cexs[0].id, "counterexample": cexs[0].counterexample,
                          "scenario": text, **({"pytest": args.pytest} if args.pytest else {})}, indent=1))
    else:
        print(text)
        if args.pytest:
            print(f"regression test written to {args.pytest}")
    return 1 if cexs[0].counterexample.get("replayed") else 2


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.cmd is None:
        args = _parser().parse_args(["prove"] + (argv or sys.argv[1:]))
    if args.cmd == "assumptions":
        if args.json:
            print(json.dumps([{"name": a.name, "meaning": a.meaning, "source": a.source}
                              for a in AS.BY_NAME.values()], indent=1))
        else:
            print(render.assumptions_table())
        return 0
    try:
        options.validate(args)      # before any work: bad values and unwritable outputs
        if args.cmd in EXTRA_COMMANDS:
            code = EXTRA_COMMANDS[args.cmd].run(args)
        else:
            code = {"prove": cmd_prove, "cex": cmd_cex}[args.cmd](args)
    except (REV.RevisionError, UsageError, CrossCheckError, InternalError, options.OptionError,
            scheduler.WorkerError) as e:
        if getattr(args, "debug", False):
            raise
        print(f"nvtlbi: error: {e}", file=sys.stderr)
        return 2
    except Exception as e:              # nvtlbi's own failure: one line, never a verdict
        if getattr(args, "debug", False):
            raise
        from nvtlbi.model import userfault
        print(f"nvtlbi: error: {userfault.internal(e)}", file=sys.stderr)
        return 2
    sys.stdout.flush()
    return code


def entry():
    try:
        sys.exit(main())
    except KeyboardInterrupt:       # the workers are gone already (nvtlbi/scheduler.py)
        print("nvtlbi: interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    # `python -m nvtlbi.cli`: run the imported module, so that the exception
    # classes the subcommands raise (nvtlbi.cli.UsageError) are the ones main() catches
    from nvtlbi.cli import entry as _entry
    _entry()
