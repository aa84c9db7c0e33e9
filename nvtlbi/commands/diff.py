"""`nvtlbi diff A B`: prove two revisions equivalent (the same behaviour
for every operand and environment under the assumptions: unmapped ranges
per MMU in order, WARN_ONs fired, BUG(), errors, mmu_lock on return; see
model/equiv.py) or print an input on which they differ, with both
outcomes and what differs."""

import json
import tempfile

from nvtlbi.model import equiv, ops
from nvtlbi import render
from nvtlbi.versions import solver_versions


def add_parser(sub, common):
    p = sub.add_parser("diff", help="prove two revisions equivalent or show an input where they differ")
    common(p)
    p.add_argument("a", metavar="A", help="revision (bundled name, .py, or posted C)")
    p.add_argument("b", metavar="B", help="revision (bundled name, .py, or posted C)")
    p.add_argument("--json", action="store_true", help="machine-readable results")
    from nvtlbi import options
    options.ignores(p, "diff takes its two revisions as A and B", "revision")
    options.ignores(p, "diff compares every level and operand case of a granule and every outcome (narrow it "
                       "with --granule)", "level", "hint", "property")
    options.ignores(p, "diff solves with z3 only and measures no coverage", "cross_check", "no_coverage")


def exit_status(results):
    vs = {r.verdict for r in results}
    if vs & {equiv.UNKNOWN, equiv.VACUOUS}:
        return 2
    return 1 if equiv.DIFFERENT in vs else 0


def render_example(ex, a, b):
    o = ops.op(ex.get("op"))
    if o.example is not None:
        return "\n".join(o.example(ex, a, b))
    L = [f"    guest granule {ex['granule']}, T at L{ex['level']}, host {ex['host_granule']}, "
         f"FEAT_TTL {'advertised' if ex['feat_ttl'] else 'not advertised'}, "
         f"host FEAT_TTL {'yes' if ex['host_ttl'] else 'no'}, tlb_vtcr.TG0={ex['tg0']:#04b}, "
         f"vCPU VTCR_EL2.TG0={ex['vcpu_vtcr'] >> 14 & 3:#04b}",
         f"    TLBI IPAS2E1IS Xt={ex['val']:#x}: IPA {render.hx(ex['ipa'])}, "
         f"{render.ttl_text(ex['ttl'], ex['feat_ttl'], ex['lpa2'])}"]
    probes = [p for p in ex.get("probes", [])]
    if probes:
        L.append("    shadow S2 answers: " + "; ".join(
            f"{render.hx(p['addr'])}{' (S2-off MMU)' if p['mmu'] else ''}: "
            + (f"ret {p['ret']}" if p["ret"] else
               (f"valid, tag L{p['tag']}{'' if p['af'] else ', AF clear'}" if p["valid"] else "invalid"))
            for p in probes))
    for name, side in ((a, ex["a"]), (b, ex["b"])):
        L.append(f"    {name:<20} {equiv.outcome_text(side, render.rng)}")
    L.append(f"    they differ in: {', '.join(ex.get('differs') or ['ranges'])}")
    return "\n".join(L)


def render_diff(a, b, results):
    """Text for a list of DiffResults between revisions a and b."""
    L = []
    for r in results:
        L.append(f"{a} vs {b} ({r.granule}, any level, any hint): {r.verdict} in {r.seconds:.1f}s, "
                 f"{r.paths} paths" + (f" ({r.reason})" if r.reason else ""))
        if r.example:
            L.append(render_example(r.example, a, b))
    vs = {r.verdict for r in results}
    L.append(f"=> {'EQUIVALENT' if vs == {equiv.EQUIVALENT} else 'DIFFERENT' if equiv.DIFFERENT in vs else 'UNKNOWN'}")
    return "\n".join(L)


def _diff_granule(sa, sb, granule, drop, limits, op=None):
    """One job, in a worker: the diff of one granule."""
    from nvtlbi.impl import revision as REV
    o = ops.op(op)
    return equiv.diff_all(REV.load(sa, o.caller), REV.load(sb, o.caller), drop=drop, limits=limits,
                          granules=[granule], op=o)[0]


def equivalence(args, sa, sb, names):
    """diff of revisions sa and sb (specs), one worker job per granule; [DiffResult] in granule order."""
    from nvtlbi import options, scheduler
    limits = options.limits_of(args)
    op = getattr(args, "op", ops.DEFAULT)
    granules = [c.granule for c in equiv.diff_cases(op) if not args.granule or c.granule in args.granule]
    return scheduler.run([scheduler.Job(_diff_granule, (sa, sb, g, tuple(args.drop), limits, op),
                                        f"diff {names[0]} vs {names[1]} ({g})", sa) for g in granules],
                         args.jobs, args)


def as_json(a, b, results, op=ops.DEFAULT):
    import dataclasses
    return {"op": op, "a": a, "b": b, "versions": solver_versions(), "results": [dataclasses.asdict(r) for r in results]}


def run(args):
    from nvtlbi import inputs, scheduler
    from nvtlbi.options import UsageError
    from nvtlbi.c.inputs import InputError
    with tempfile.TemporaryDirectory(prefix="nvtlbi-diff-") as tmp:
        try:
            caller = ops.op(args.op).caller
            la, lb = (inputs.load(x, tmp, caller=caller) for x in (args.a, args.b))
        except InputError as e:
            raise UsageError(str(e)) from None
        infos = scheduler.describe([la.path, lb.path], args)
        a, b = infos[la.path], infos[lb.path]
        results = equivalence(args, la.path, lb.path, (a.name, b.name))
    if args.json:
        print(json.dumps(as_json(a.name, b.name, results, args.op), indent=1))
    else:
        print(render_diff(a.name, b.name, results))
    return exit_status(results)
