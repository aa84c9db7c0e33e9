"""`nvtlbi precision`: how much more than the cached guest translation T each
revision unmaps on an unhinted TLBI IPAS2E1IS.

Per (revision, host granule, guest granule, level of T): the worst ratio
range/T the solver allows under the assumptions (model/worstcase.py), and
the distribution over random concrete workloads (impl/workload.py): how
often the range is exactly T, median and worst ratio, shadow entries probed
per TLBI, and shadow leaves of other translations destroyed.

Exit status: 0; 1 if a simulated TLBI left a stale shadow leaf (a soundness
failure); 2 if the solver could not settle a worst case."""

import json
import statistics
from contextlib import contextmanager

from nvtlbi.impl import granule as G
from nvtlbi.impl import revision as REV
from nvtlbi.impl.workload import CONFIGS, simulate
from nvtlbi import scheduler
from nvtlbi.versions import solver_versions

DEFAULT_REVISIONS = ["upstream", "lookaround", "invalidtags"]


def add_parser(sub, common):
    p = sub.add_parser("precision", help="measure over-invalidation: solver worst case and simulated workloads")
    p.add_argument("--revision", action="append", metavar="NAME|FILE.py",
                   help="revision to measure (repeatable; default: " + ", ".join(DEFAULT_REVISIONS) + ")")
    p.add_argument("--seed", type=int, default=1, help="workload seed (default 1)")
    p.add_argument("--tlbis", type=int, default=300, help="TLBIs per workload and configuration (default 300)")
    p.add_argument("--bound", type=int, default=None,
                   help="look-around bound (entries per window) for revisions that have one")
    p.add_argument("--no-solver", action="store_true", help="skip the solver's worst case")
    p.add_argument("--jobs", type=int, default=2, help="worker processes at a time (at least 1; revision code always runs in a worker)")
    p.add_argument("--plot", metavar="FILE.png", help="also draw the table (needs matplotlib: pip install .[plot])")
    p.add_argument("--timeout", type=float, default=0, metavar="SECONDS",
                   help="wall-clock bound per job (0: the default bound per job)")
    p.add_argument("--json", action="store_true", help="machine-readable results")
    p.add_argument("--debug", action="store_true", help="show tracebacks")


def _load(spec, bound):
    rev = REV.load(spec)
    if bound is not None and hasattr(rev.module, "LOOKAROUND_ENTRIES"):
        rev.module.LOOKAROUND_ENTRIES = bound
    return rev


def _bounded(spec):
    """In a worker: does the revision have a look-around bound (--bound)?"""
    return hasattr(REV.load(spec).module, "LOOKAROUND_ENTRIES")


def _solve(spec, bound, g, level, hosts):
    """One job, in a worker: the solver's worst cases of one guest granule and level."""
    from nvtlbi.model.worstcase import bounds
    rev = _load(spec, bound)
    with _revision_faults(rev):
        return bounds(rev, g, level, hosts)


def solver_table(specs, bound, args):
    """{(spec, h, g, level): Bound} for every allowed host/guest pair."""
    work = [(spec, bound, g, level, [h for h, gg in CONFIGS if gg == g])
            for spec in specs for g in sorted(G.GRANULES.values()) for level in G.guest_leaf_levels(g)]
    done = scheduler.run([scheduler.Job(_solve, w, f"worst case {G.name(w[2])} L{w[3]}", w[0]) for w in work],
                         args.jobs, args)
    return {(spec, h, g, level): b for (spec, _, g, level, _), bs in zip(work, done) for h, b in bs.items()}


def _simulate(spec, bound, h, g, seed, tlbis):
    """One job, in a worker: one workload on one host/guest configuration."""
    rev = _load(spec, bound)
    with _revision_faults(rev):
        return simulate(rev, h, g, seed, tlbis=tlbis)


@contextmanager
def _revision_faults(rev):
    """An exception out of running `rev` is the revision's error (its
    file:line) when its code is on the stack, else nvtlbi's own
    (model/userfault.py): never "an nvtlbi bug" for the revision's fault."""
    from nvtlbi.model import userfault
    try:
        yield
    except Exception as e:
        raise userfault.classify(e, rev) from e


def sim_table(specs, bound, seed, tlbis, args):
    """{(spec, h, g, level): [Sample]} from one workload per configuration."""
    work = [(spec, bound, h, g, seed, tlbis) for spec in specs for h, g in CONFIGS]
    done = scheduler.run([scheduler.Job(_simulate, w, f"workload host {G.name(w[2])} guest {G.name(w[3])}", w[0])
                          for w in work], args.jobs, args)
    out = {}
    for (spec, _, h, g, _, _), samples in zip(work, done):
        for s in samples:
            out.setdefault((spec, h, g, s.level), []).append(s)
    return out


def rows(specs, sims, solved):
    keys = [(spec, h, g, level) for spec in specs for h, g in CONFIGS for level in G.guest_leaf_levels(g)]
    out = []
    for k in keys:
        ss = sims.get(k, [])
        shadowed = [s for s in ss if s.shadowed]
        b = solved.get(k)
        out.append({
            "revision": k[0], "host": G.name(k[1]), "guest": G.name(k[2]), "level": k[3],
            "tlbis": len(ss),
            "exact": _frac(ss), "exact_shadowed": _frac(shadowed),
            "median": statistics.median(s.ratio for s in ss) if ss else None,
            "worst_sim": max((s.ratio for s in ss), default=None),
            "worst_solver": None if b is None else b.worst_ratio,
            "solver_proved": None if b is None else b.proved,
            "visited_mean": statistics.mean(s.visited for s in ss) if ss else None,
            "visited_max": max((s.visited for s in ss), default=None),
            "collateral": statistics.mean(s.collateral for s in ss) if ss else None,
            "stale": sum(s.stale for s in ss),
        })
    return out


def _frac(ss):
    return sum(s.ratio == 1 for s in ss) / len(ss) if ss else None


def _f(x, fmt):
    return "-" if x is None else format(x, fmt)


def render(table):
    head = (f"{'revision':<12} {'host':>4} {'guest':>5} {'T':>3} {'tlbis':>5} {'exact':>6} {'exact|sh':>8} "
            f"{'median':>8} {'worst':>8} {'worst(solver)':>14} {'visited':>9} {'collat':>6}")
    lines = [head, "-" * len(head)]
    for r in table:
        ws = _f(r["worst_solver"], ".0f") + ("" if r["solver_proved"] in (None, True) else "?")
        lines.append(f"{r['revision']:<12} {r['host']:>4} {r['guest']:>5} {'L' + str(r['level']):>3} {r['tlbis']:>5} "
                     f"{_f(r['exact'], '.0%'):>6} {_f(r['exact_shadowed'], '.0%'):>8} {_f(r['median'], '.0f'):>8} "
                     f"{_f(r['worst_sim'], '.0f'):>8} {ws:>14} "
                     f"{_f(r['visited_mean'], '.1f') + '/' + _f(r['visited_max'], 'd'):>9} {_f(r['collateral'], '.1f'):>6}")
    return "\n".join(lines)


LEGEND = """\
T: guest level of the cached translation; tlbis: unhinted TLBIs that hit a T of that level
exact: range == T; exact|sh: the same among TLBIs whose T had a shadow leaf (something to find)
median/worst: range size / T size over the workload; worst(solver): the largest ratio any state
  allowed by the assumptions gives (proved; '?' = solver gave up); visited: kvm_pgtable_get_leaf
  calls per TLBI, mean/max; collat: shadow leaves of other translations removed per TLBI"""


def run(args):
    from nvtlbi.options import UsageError
    specs = args.revision or DEFAULT_REVISIONS
    scheduler.describe(specs, args)         # user errors before any work
    if args.bound is not None:
        has = scheduler.run([scheduler.Job(_bounded, (s,), "reading the revision's bound", s) for s in specs],
                            args.jobs, args)
        if not any(has):    # the table said "look-around bound N" of revisions that have none
            raise UsageError(f"--bound {args.bound}: no revision given has a look-around bound "
                             f"(LOOKAROUND_ENTRIES): {', '.join(specs)}")
    if args.plot:
        try:
            import matplotlib  # noqa: F401 -- only to refuse early
        except ImportError:
            raise UsageError("--plot needs matplotlib (pip install '.[plot]')") from None
    sims = sim_table(specs, args.bound, args.seed, args.tlbis, args)
    solved = {} if args.no_solver else solver_table(specs, args.bound, args)
    table = rows(specs, sims, solved)
    stale = any(r["stale"] for r in table)
    if args.plot:
        from nvtlbi import options
        from nvtlbi.plot_precision import plot
        try:
            plot(table, args.plot)          # the format follows the file's suffix
        except OSError as e:
            raise options.OptionError(f"--plot {args.plot}: cannot write: {e.strerror or e}") from None
    if args.json:
        print(json.dumps({"seed": args.seed, "versions": solver_versions(), "tlbis": args.tlbis, "bound": args.bound, "stale": stale,
                          **({"plot": args.plot} if args.plot else {}), "rows": table}, indent=1))
    else:
        print(f"precision: seed {args.seed}, {args.tlbis} TLBIs per configuration"
              + (f", look-around bound {args.bound} (of the revisions that have one)" if args.bound else ""))
        print(render(table))
        print(LEGEND)
        if args.plot:
            print(f"plot written to {args.plot}")
        if stale:
            print("SOUNDNESS FAILURE: a simulated TLBI left a stale shadow leaf")
    if stale:
        return 1
    if any(r["solver_proved"] is False for r in table):
        return 2
    return 0
