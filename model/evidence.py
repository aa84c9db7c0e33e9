"""Cheap evidence first: before any symbolic work, run a revision concretely
on a seeded stream of generated worlds of one case (granule, level of T,
hint) and check the properties with the concrete checks the replay uses
(model/violation.py through model/properties.py).

A world is drawn in the terms of a counterexample (model/describe.py's
form): T, the operand, the VM's features, and tagged shadow leaves that the
nested guest faulted in (in T, and in translations near the IPA).  It is
built by model/replay.from_counterexample, as a counterexample is; a run
that breaks a property becomes a counterexample dict (the probes the
revision made, the ranges, the error) and counts only if it replays through
model/replay.attach_cex (`replayed: True`): the replay stays the only judge,
never a second oracle.  What survives goes to the solver; a world drawn
here proves nothing.

This module draws and runs ipas2e1's worlds; an op's entry (model/ops.py)
names its own (`draw`, `hits`: model/range_worlds.py, model/vncr_worlds.py),
and `hunt` goes through the entry.  The draws depend on the seed and the
case alone (random.Random, no global state), so one seed gives one result."""

import random
import time
from dataclasses import dataclass

from nvtlbi.impl import granule as G
from nvtlbi.impl import context, oracle, tlbi
from nvtlbi.impl.nested import GuestS2, Translation
from nvtlbi.model import hints as H
from nvtlbi.model import properties as P
from nvtlbi.model import replay as R
from nvtlbi.model.verdict import COUNTEREXAMPLE, Result

FOUND = "found by concrete testing, replayed"
PROBES = 10_000
IA_BITS = (32, 36, 40, 42, 44, 48, 52)


@dataclass(frozen=True)
class Budget:
    worlds: int = 200           # generated worlds per case
    seconds: float = 1.0        # and no more wall time than this per case


class _Hang(Exception):
    pass


class _Budgeted:
    """The shadow S2 with a probe budget: a revision that keeps probing is
    looping, and a concrete run must end (the solver judges it then)."""

    def __init__(self, pgt):
        self.pgt, self.left = pgt, PROBES

    def get_leaf(self, addr):
        self.left -= 1
        if self.left < 0:
            raise _Hang()
        return self.pgt.get_leaf(addr)

    def __getattr__(self, item):
        return getattr(self.pgt, item)


def _draw_world(rng, case, drop):
    """One world of the case in counterexample form (no property, probes or
    ranges yet), with its shadow leaves as seeds; None if the draw misses
    the case (a TTL of another hint case)."""
    g, level = case.shift, case.level
    lpa2 = "no-lpa2" in drop and rng.random() < 0.3
    host = rng.choice([s for s in G.GRANULES.values() if s <= g])
    ia_bits = rng.choice(IA_BITS)
    size = G.level_size(g, level)
    limit = 1 << ia_bits
    # mostly low (where other translations are near), sometimes anywhere below the IPA size
    span = min(limit, 1 << 34) if rng.random() < 0.7 else limit
    base = rng.randrange(max(span // size, 1)) * size
    T = Translation(g, level, base, base)
    ipa = base + (rng.randrange(size >> 12) << 12)
    for _ in range(64):         # a TTL and FEAT_TTL of this hint case
        feat = rng.random() < 0.7
        ttl = 0 if rng.random() < 0.2 else rng.randrange(16)
        if oracle.hint_case(ttl, feat, lpa2, T) == case.hint:
            break
    else:
        return None
    guest = GuestS2(g, lpa2)
    w = {"granule": case.granule, "level": level, "hint": case.hint, "val": tlbi.make_operand(ipa, ttl),
         "ipa": ipa, "ttl": ttl, "feat_ttl": feat, "lpa2": lpa2, "host_granule": G.name(host),
         "host_ttl": rng.random() < 0.7, "ia_bits": ia_bits, "tlb_vtcr": guest.vtcr,
         "tg0": guest.vtcr >> 14 & 3, "vcpu_vtcr": guest.vtcr, "T": [T.base, T.base + T.size],
         "obliged": not H.hint(case.hint).excuses}
    w["seeds"] = _leaves(rng, T, ipa, host, limit, lpa2)
    return w


def _leaves(rng, T, ipa, host, limit, lpa2):
    """Tagged shadow leaves (as a model's probes): host pages the nested
    guest touched in T, and in other translations around the IPA, each
    disjoint from T and from one another."""
    g, page = T.shift, 1 << host
    trans, out = [T], []
    levels = G.guest_leaf_levels(g, lpa2)
    for _ in range(rng.randint(0, 4)):
        lv = rng.choice(levels)
        sz = G.level_size(g, lv)
        r = rng.random()
        if r < 0.5:         # at the IPA aligned down to a block size: where revisions look
            b = ipa & ~(G.level_size(g, rng.choice(levels)) - 1) & ~(sz - 1)
        elif r < 0.8:
            near = G.level_size(g, levels[0]) * rng.choice((1, 2))
            b = (ipa & ~(near - 1)) + rng.randrange(near // sz) * sz
        else:               # a neighbour of the IPA's block
            b = (ipa & ~(sz - 1)) + rng.choice((-1, 1)) * sz
        C = Translation(g, lv, b, b)
        if 0 <= b < limit and not any(C.overlaps(x) for x in trans):
            trans.append(C)
    for C in trans:
        n = rng.randint(1, 3) if C == T else rng.randint(0, 2)
        for _ in range(n):
            r = rng.random()
            at = ipa if C == T and r < 0.3 else C.base if r < 0.6 else C.base + rng.randrange(C.size // page) * page
            out.append({"mmu": 0, "addr": at & ~(page - 1), "ret": 0, "valid": 1, "af": int(rng.random() < 0.8),
                        "tag": 1, "guest_level": C.level})
    return out


def _read(world, addr, levels):
    """A probe of the built world's shadow S2 at addr, in a model's terms."""
    ret, pte, lvl = world.mmu.pgt.get_leaf(addr)
    return _probe((int(addr), ret.value(), int(pte), lvl.value()), levels)


def _probe(p, levels):
    """One probe (replay.RecordingPgt's (addr, ret, pte, level)) in a model's
    terms; the guest level of a tagged leaf is that of the drawn translation
    holding it."""
    addr, ret, pte, lvl = p
    d = {"mmu": 0, "addr": addr, "ret": ret, "valid": pte & 1, "af": pte >> 10 & 1, "tag": pte >> 55 & 3}
    if d["ret"] == 0 and d["valid"]:
        d["host_level"] = lvl
        if d["tag"]:
            lv = next((lv for b, e, lv in levels if b <= addr < e), None)
            if lv is None:
                return None         # a tagged leaf of no drawn translation: not a world we can describe
            d["guest_level"] = lv
    return d


def search(rev, case, props, seed=0, budget=Budget(), drop=()):
    """{property: counterexample} of the case's properties (those that apply
    to its hint) broken in some generated world; each counterexample is in
    model/describe.py's form and has replayed (attach_cex said so).  The
    first world that breaks a property is its counterexample."""
    props = [p for p in props if P.applies(p, case.hint)]
    rng = random.Random(f"{seed}-{case.granule}-L{case.level}-{case.hint}")
    with context.entered(producers={}):        # the bundled producers loaded once (impl/context.py)
        return _search(rev, case, props, rng, budget, drop)


def _search(rev, case, props, rng, budget, drop):
    found, t0 = {}, time.perf_counter()
    for _ in range(budget.worlds):
        if len(found) == len(props) or time.perf_counter() - t0 > budget.seconds:
            break
        w = _draw_world(rng, case, drop)
        if w is None:
            continue
        hit = _run(rev, w, [p for p in props if p not in found], drop)
        if hit is None:             # the revision fails other than as C: the solver's to report
            break
        found.update(hit)
    return found


def _run(rev, w, props, drop):
    """{property: replayed counterexample} of one drawn world; None if the
    revision raises what C cannot (userfault): no concrete verdict then."""
    try:
        sc = R.from_counterexample(w | {"property": None, "probes": [], "ranges": []})
        world = R.build(sc)
        levels = _levels(w)
        seeds = [_read(world, s["addr"], levels) for s in w["seeds"]]
    except Exception:           # noqa: BLE001 -- a world the machinery cannot build is no evidence
        return {}
    world.mmu.pgt = _Budgeted(world.mmu.pgt)
    try:
        out = R.execute(sc, world, rev)
    except Exception:           # noqa: BLE001 -- a hang, or the revision's failure that is not C's
        return None
    finally:
        world.mmu.pgt = world.mmu.pgt.pgt
    hits = {}
    for p in props:
        sc.prop = p
        if not out.violates(sc):
            continue
        probes = [_probe(q, levels) for q in out.probes]
        if None in probes or None in seeds:
            continue
        cex = w | {"property": p, "probes": probes, "seeds": seeds,
                   "ranges": [[b, b + s, m] for b, s, m in out.ranges]}
        if out.error is not None:
            cex["error"] = out.error
        try:
            R.attach_cex(cex, rev, drop)
        except Exception:       # noqa: BLE001
            continue
        if cex["replayed"]:
            cex["evidence"] = FOUND
            hits[p] = cex
    return hits


def replayed(rev, w, out, props, properties, attach, drop=(), **facts):
    """{property: counterexample} of a concrete run `out` on world `w`: each
    property of `properties` the run breaks, as a counterexample (the world,
    the property, `facts` of the run, its error), kept only when the op's
    `attach` replays it.  The range and VNCR ops' `hits` end here."""
    found = {}
    for p in props:
        if not properties[p].violated(out, w):
            continue
        cex = dict(w, property=p, **facts)
        if out.error is not None:
            cex["error"] = out.error
        attach(cex, rev, drop)
        if cex.get("replayed"):
            cex["evidence"] = FOUND
            found[p] = cex
    return found


def _levels(w):
    """(base, end, level) of the drawn translations that hold a seed."""
    out = []
    for s in w["seeds"]:
        size = G.level_size(G.GRANULES[w["granule"]], s["guest_level"])
        out.append((s["addr"] & ~(size - 1), (s["addr"] & ~(size - 1)) + size, s["guest_level"]))
    return out


def hunt(rev, cases, props, seed=0, budget=Budget(), drop=(), keep=None, op=None):
    """The first COUNTEREXAMPLE result (as the prover names it) over several
    cases, in their order (the prover's), each case drawing budget.worlds
    worlds from its own seeded stream; `keep(cex, property)` says which
    replayed hits count (a mutant's known findings do not).  budget.seconds
    bounds all of it.  None if every world drawn satisfied every property.
    `op` (model/ops.py; default ipas2e1) draws the worlds and runs them: its
    entry's `draw` and `hits` (this module's for ipas2e1)."""
    from nvtlbi.model import ops
    op = ops.op(op)
    if op.draw is None:
        return None
    # the bundled producers loaded once for all the worlds (impl/context.py)
    with context.entered(producers={}):
        return _hunt(rev, cases, props, seed, budget, drop, keep, op)


def _hunt(rev, cases, props, seed, budget, drop, keep, op):
    t0 = time.perf_counter()
    for case in cases:
        ps = [p for p in props if op.applies(p, case.hint)]
        rng = random.Random(f"{seed}-{case.granule}-L{case.level}-{case.hint}")
        for _ in range(budget.worlds if ps else 0):
            if time.perf_counter() - t0 > budget.seconds:
                return None
            w = op.draw(rng, case, drop)
            if w is None:
                continue
            hit = op.hits(rev, w, ps, drop)
            if hit is None:         # a hang, or a failure that is not C's: the solver's to report
                return None
            for p in ps:
                if p in hit and (keep is None or keep(hit[p], p)):
                    return Result(rev.name, case.granule, case.level, case.hint, p, COUNTEREXAMPLE,
                                  round(time.perf_counter() - t0, 3), counterexample=hit[p])
    return None


def results(rev, case, props, seed=0, budget=Budget(), drop=()):
    """The concrete hits of a case as COUNTEREXAMPLE results (as the prover
    names them), in property order."""
    t0 = time.perf_counter()
    found = search(rev, case, props, seed, budget, drop)
    secs = round(time.perf_counter() - t0, 3)
    return [Result(rev.name, case.granule, case.level, case.hint, p, COUNTEREXAMPLE, secs, counterexample=found[p])
            for p in props if p in found]
