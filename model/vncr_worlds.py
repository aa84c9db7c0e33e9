"""Cheap evidence for the VNCR op (model/evidence.py's, for this op): worlds
of one case (granule, S1 level, invalidation kind) drawn from a seeded
stream, in the form of a counterexample of the op (model/vncr_replay.describe),
and a revision run on them concretely.

A draw obeys what the symbolic world assumes (model/vncr_env.py: VNCR_EL2
page-aligned and sign-extended from bit 48, wr.pa keeping the VA's offset in
its block, the IPA below the PA size, cpu -1 or a vCPU's, the other vCPU's
pseudo-TLB NULL or empty, DS only with LPA2 and never with 64K, a 4K L0 or
16K L1 block only with DS, the IPA span whole host pages), so a failure found
here is a failure the solver would find too.  The operands are biased
towards the entry (the TLBI's VA in or next to its block, its ASID, a TTL
naming its level, a range whose ends are near it, an IPA span around its
host page): uniform operands almost never match a cached entry.

A hit counts only when model/vncr_replay.attach replays it; a drawn world
proves nothing."""

from nvtlbi.impl import granule as G
from nvtlbi.impl import vncr as V
from nvtlbi.model import evidence
from nvtlbi.model import vncr_props as VP
from nvtlbi.model import vncr_replay as VR
from nvtlbi.model.vncr_env import N_VCPUS

MASK64 = (1 << 64) - 1
VA_BITS = 49            # va48: bit 48 is the sign (vncr_env, read_vncr_el2)
ASIDS = (0, 1, 0xff, 0x100, 0xffff)


def _gva(rng):
    """A page-aligned VNCR_EL2 sign-extended from bit 48: often at either
    end of the VA space or at the sign bit, where the scope computations
    wrap (a TLBI without TTL covers 1G: the top 1G is the wrap's)."""
    top = (1 << VA_BITS) - 1
    r = rng.random()
    if r < 0.25:
        va = rng.randrange(1 << 24) << 12
    elif r < 0.4:           # the top 1G
        va = top - (rng.randrange(1 << 18) << 12)
    elif r < 0.55:
        va = top - (rng.randrange(1 << 28) << 12)
    elif r < 0.7:           # either side of bit 48, the sign
        va = (1 << 48) + rng.randrange(-(1 << 18), 1 << 18) * (1 << 12)
    else:
        va = rng.randrange(1 << (VA_BITS - 12)) << 12
    va &= top & ~0xfff
    return va | (MASK64 >> VA_BITS << VA_BITS if va >> 48 & 1 else 0)


def _vt(rng, g, level, lpa2, gva=None):
    bs = G.level_shift(g, level)
    gva = _gva(rng) if gva is None else gva
    pa_top = 52 if lpa2 else 48
    pa = (rng.randrange(1 << (pa_top - bs)) << bs) if rng.random() < 0.5 else (rng.randrange(1 << 8) << bs)
    pa = (pa | (gva & ((1 << bs) - 1))) & ((1 << pa_top) - 1)
    return {"alloc": True, "valid": rng.random() < 0.85, "gva": gva, "pa": pa, "nG": rng.random() < 0.5,
            "asid": rng.choice(ASIDS) if rng.random() < 0.7 else rng.randrange(1 << 16),
            "cpu": rng.choice((-1, 0, 1))}


def _asid(rng, vt):
    return vt["asid"] if rng.random() < 0.7 else rng.choice(ASIDS)


def _ttl4(rng, tg, level):
    r = rng.random()
    if r < 0.35:
        return tg << 2 | level
    if r < 0.7:
        return 0
    return rng.randrange(16)


def _va_operand(rng, kind, vt, g, level):
    bs = G.level_shift(g, level)
    tg = {12: 1, 14: 2, 16: 3}[g]
    r = rng.random()
    if r < 0.25:            # the entry's block's start (the scope's alignment is tested there)
        va = vt["gva"] & ~((1 << bs) - 1)
    elif r < 0.6:           # in the entry's block
        va = (vt["gva"] & ~((1 << bs) - 1)) + (rng.randrange(1 << (bs - 12)) << 12)
    elif r < 0.8:           # the next or previous block
        va = vt["gva"] + rng.choice((-1, 1)) * (1 << bs)
    else:
        va = _gva(rng)
    val = (va >> 12) & ((1 << 44) - 1) | _ttl4(rng, tg, level) << 44
    return val | (_asid(rng, vt) << 48 if kind == "va" else rng.randrange(1 << 16) << 48)


def _range_operand(rng, kind, vt, g, level, ds):
    tg = {12: 1, 14: 2, 16: 3}[g] if rng.random() < 0.85 else rng.randrange(4)
    lsb = 16 if (tg == 3 or ds) else {0: 12, 1: 12, 2: 14}[tg]
    scale, num = rng.randrange(4), rng.choice((0, 1, 31, rng.randrange(32)))
    ttl = rng.choice((0, level & 3, rng.randrange(4)))
    bs = G.level_shift(g, level)
    span = (num + 1) << (5 * scale + 1 + {0: 12, 1: 12, 2: 14, 3: 16}[tg])
    r = rng.random()
    if r < 0.4:             # a range that ends in or just past the entry's block
        base = (vt["gva"] & ~((1 << bs) - 1)) - rng.randrange(span) + rng.randrange(1 << bs)
    elif r < 0.8:           # one that starts in or just before it
        base = (vt["gva"] & ~((1 << bs) - 1)) + rng.randrange(1 << bs) - rng.choice((0, 1 << lsb))
    else:
        base = _gva(rng)
    field = (base & MASK64) >> lsb & ((1 << 37) - 1)
    val = field | ttl << 37 | num << 39 | scale << 44 | tg << 46
    return val | (_asid(rng, vt) << 48 if kind == "rva" else rng.randrange(1 << 16) << 48)


def _ipa_span(rng, vt, host_shift):
    page = 1 << host_shift
    p = vt["pa"] & -page
    r = rng.random()
    if r < 0.2:             # the posted callers: all of [0, BIT(ia_bits))
        return 0, 1 << rng.choice((40, 44, 48))
    start = max(p + rng.choice((-2, -1, 0, 0, 1)) * page, 0)
    return start, start + rng.choice((1, 1, 2, 3)) * page


def draw(rng, case, drop=()):
    """One world of the case (a counterexample's form, without property,
    final states or error)."""
    g, level, kind = case.shift, case.level, case.hint
    ds = V.needs_lpa2(g, level) or (g != 16 and rng.random() < 0.3)
    lpa2 = ds or rng.random() < 0.3
    host = rng.choice(tuple(G.GRANULES.values()))
    vts = [_vt(rng, g, level, lpa2)]
    for _ in range(1, N_VCPUS):     # allocated or NULL, holding nothing (vncr_env)
        other = _vt(rng, g, level, lpa2)
        vts.append(dict(other, alloc=rng.random() < 0.6, valid=False))
    vt = vts[0]
    start, end = _ipa_span(rng, vt, host) if kind == "ipa" else (0, 1 << host)
    if kind in ("va", "vaa"):
        val = _va_operand(rng, kind, vt, g, level)
    elif kind in ("rva", "rvaa"):
        val = _range_operand(rng, kind, vt, g, level, ds)
    elif kind == "asid":
        val = _asid(rng, vt) << 48 | rng.randrange(1 << 48)
    else:
        val = rng.randrange(1 << 64)
    d = {"op": "vncr", "granule": case.granule, "level": level, "hint": kind, "kind": kind, "val": val,
         "lpa2": lpa2, "ds": ds, "host_granule": G.name(host), "start": start, "end": end, "ipa": vt["gva"],
         "vts": vts}
    d["tlbi"] = VR._tlbi_text(d)
    d["cached"] = [VR._vt_text(j, v, d) for j, v in enumerate(vts)]
    return d


def hits(rev, w, props, drop=()):
    """{property: replayed counterexample} of one drawn world; None if the
    revision fails other than as C can (a fault of nvtlbi's or of a
    translated input: the solver's path reports it)."""
    try:
        world = VR.build(w)
    except Exception:       # noqa: BLE001 -- a world the machinery cannot build is no evidence
        return {}
    try:
        out = VR.execute(w, world, rev)
    except Exception:       # noqa: BLE001 -- userfault's RevisionError/InternalError: not C's
        return None
    return evidence.replayed(rev, w, out, props, VP.PROPERTIES, VR.attach, drop, after=out.after)
