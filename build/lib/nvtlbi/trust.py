"""What a PROVED rests on, printed with the matrix: non-vacuity (each
PROVED case has a cover witness: it occurs under the assumptions) and the
revision's branch coverage over the run (model/coverage.py)."""

from nvtlbi.model import coverage as cov
from nvtlbi.model.verdict import PROVED


def coverage_report(results, rev):
    taken = [s for r in results if r.coverage for s in r.coverage]
    if not any(r.coverage is not None for r in results):
        return None
    pruned = [p for r in results if r.pruned for p in r.pruned]
    return cov.report(rev.path, taken, pruned)


def lines(results, rev, restricted=False):
    proved = [r for r in results if r.verdict == PROVED]
    out = []
    if proved:
        bare = [r.id for r in proved if not r.witness]
        out.append(f"non-vacuity: {len(proved) - len(bare)}/{len(proved)} PROVED have a cover witness"
                   + (f"; WITHOUT: {', '.join(bare)}" if bare else ""))
        line = executed_line(proved)
        if line:
            out.append(line)
    rep = coverage_report(results, rev)
    if rep is not None:
        if restricted and rep.dead:     # the full list would only name sides other cases take
            out.append(f"branch coverage {rep.reached}/{rep.total} sides (restricted run: the "
                       f"{len(rep.dead)} dead here may be live in other cases)")
        else:
            out.append(rep.line())
    return out


def as_json(results, rev):
    rep = coverage_report(results, rev)
    if rep is None:
        return None
    return {"sides": rep.total, "reached": rep.reached,
            "dead": [{"line": s.line, "side": side, "test": s.text, "expected": s.expected_dead,
                      "why": rep.reason(s, side)} for s, side in rep.dead],
            "unexpectedly_dead": len(rep.unexpected)}


def executed_line(proved):
    """Proved code = executed code: the explored paths and cover witnesses
    replayed on impl/ (model/prover.py's executed()); one entry per
    (granule, level), whose obligations share the paths."""
    levels = {(r.granule, r.level): r.concrete for r in proved if r.concrete}
    if not levels:
        return None
    checked = sum(c["paths_checked"] for c in levels.values())
    unbuilt = sum(c["paths_unbuildable"] for c in levels.values())
    bad = [r.id for r in proved if r.concrete and r.concrete["witness"].startswith("MODEL BUG")]
    return (f"executed: {checked} explored paths replayed on impl/ with the symbolic ranges and outcome"
            + (f"; {unbuilt} paths whose model impl/ cannot build (not checked; --json says why)" if unbuilt else "")
            + (f"; cover witness NOT concrete: {', '.join(bad)}" if bad else ""))
