"""The worst (and best) over-invalidation a revision allows, found by the
solver: on every explored path of the revision, the largest (smallest) size
the range of the MMU holding T can take under the assumptions, for a fixed
host granule.  Ratio = range size / size of T.

Sizes are searched by descending (ascending) powers of two with one
satisfiability query each; P3 (proved separately) makes the range size a
power of two, and every size is also checked without that premise by asking
whether any size strictly beyond the bound found is possible."""

from dataclasses import dataclass

import z3

from nvtlbi.impl import granule as G
from nvtlbi.model import assumptions as AS
from nvtlbi.model.env import Case
from nvtlbi.model.prover import explore


@dataclass
class Bound:
    worst: int          # largest range size; None if no path could be solved
    best: int           # smallest range size
    t_size: int
    paths: int
    unknown: int = 0    # queries the solver gave up on (then the bound is not proved)

    @property
    def worst_ratio(self):
        return None if self.worst is None else self.worst / self.t_size

    @property
    def best_ratio(self):
        return None if self.best is None else self.best / self.t_size

    @property
    def proved(self):
        return self.unknown == 0 and self.worst is not None


def _size_of(env):
    sizes = [s for b, s, m in env.unmaps if m == 0]
    return sizes[0] if len(sizes) == 1 else None


def bounds(rev, guest_shift, level, hosts, hint="nohint", drop=()):
    """{host shift: Bound} on the range size for T of (guest_shift, level).
    The revision is explored once; each path is then asked, per host
    granule, for its largest and smallest possible range size (bisection on
    the exponent with an incremental solver holding the path's facts)."""
    enabled = AS.enabled(drop, extra=getattr(rev, "ASSUMES", ()))
    engine, paths = explore(rev, Case(guest_shift, level, hint), enabled)
    t_size = G.level_size(guest_shift, level)
    out = {h: Bound(None, None, t_size, len(paths)) for h in hosts}
    for path in paths:
        env = path.result if path.error is None else None
        size = None if env is None else _size_of(env)
        if size is None:
            continue
        solver = engine.solver()
        for name, f in path.facts:
            engine.add_fact(solver, name, f)
        for h in hosts:
            _path_bounds(engine, solver, size, env.host_shift == h, out[h])
    return out


def _path_bounds(engine, solver, size, host, b):
    def sat(*extra):
        solver.push()
        solver.add(host, *extra)
        r = solver.check(*engine.active())
        solver.pop()
        if r == z3.unknown:
            b.unknown += 1
        return r == z3.sat

    if not sat():
        return
    if b.worst is None or sat(z3.UGT(size, b.worst)):
        k = _last(lambda k: sat(z3.UGE(size, 1 << k)))       # largest 2^k <= some size
        if sat(z3.UGT(size, 1 << k)):
            b.unknown += 1                                   # not a power of two: no exact bound
        b.worst = 1 << k
    if b.best is None or sat(z3.ULT(size, b.best)):
        k = _last(lambda k: not sat(z3.ULT(size, 1 << k)))   # largest 2^k <= every size
        if not sat(size == (1 << k)):
            b.unknown += 1
        b.best = 1 << k


def _last(pred, lo=0, hi=63):
    """Largest k in [lo, hi] with pred(k), pred monotone (true then false)."""
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if pred(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo
