"""What a PROVED rests on, printed with the matrix: non-vacuity (each
PROVED case has a cover witness: it occurs under the assumptions) and the
revision's branch coverage over the run (model/coverage.py)."""

from model import coverage as cov
from model.verdict import PROVED


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
