"""Cheap evidence for the range op (model/evidence.py's, for TLBI
RIPAS2E1): worlds of one case (granule, level of C, operand case) drawn from
a seeded stream in the form of a counterexample of the op
(model/range_replay.describe), and a revision run on them concretely.

A draw obeys what the symbolic world assumes (model/range_env.py): C aligned
to its block size, x a host page of C below the VM's IPA size, the host
granule no larger than the guest's, the IPA size 32 to 48 bits, two shadow
MMUs each with its own cached VTTBR (the guest's VMID or another, in use or
free), C faulted into one of them.  The operand is built for its case (TG,
TTL) with its range near C: at C's start, inside it, ending in it, or
anywhere below the IPA size; uniform operands almost never touch C.

A run is budgeted (range_replay.build(budgeted=True): a handler reading
nested_mmus[] past 10,000 times is looping, and that is the solver's to
report); a hit
counts only when model/range_replay.attach replays it."""

from nvtlbi.impl import granule as G
from nvtlbi.impl import tlbi_range as TR
from nvtlbi.model import evidence
from nvtlbi.model import range_props as RP
from nvtlbi.model import range_replay as RR
from nvtlbi.model.range_env import N_MMUS

IA_BITS = (32, 36, 40, 42, 44, 48)
VMIDS = (0, 1, 0xff, 0xffff)


def _ttl(rng, case):
    """A 2-bit TTL of the case, or None if the case has none at this level
    (ResTLBIRTTL: TTL 01 is 'any level' at 16K and 64K, range_env)."""
    g, L = case.shift, case.level
    reserved = lambda t: t == 1 and g != 12
    if case.hint == "nolevel":
        return rng.choice([0] + [t for t in (1,) if reserved(t)])
    if case.hint == "match":
        return L if L in (1, 2, 3) and not reserved(L) else None
    if case.hint == "otherlevel":
        ts = [t for t in (1, 2, 3) if t != L and not reserved(t)]
        return rng.choice(ts) if ts else None
    return rng.randrange(4)


def _tg(rng, case):
    mine = TR.TG_OF[case.shift]
    if case.hint == "tg0":
        return 0
    if case.hint == "othertg":
        return rng.choice([t for t in (1, 2, 3) if t != mine])
    return mine


def draw(rng, case, drop=()):
    """One world of the case (a counterexample's form, without property,
    ranges or error); None if the case has no operand at this level."""
    g, L = case.shift, case.level
    ttl = _ttl(rng, case)
    if ttl is None:
        return None
    tg = _tg(rng, case)
    host = rng.choice([s for s in G.GRANULES.values() if s <= g])
    ia_bits = rng.choice(IA_BITS)
    limit, size = 1 << ia_bits, G.level_size(g, L)
    if size > limit:
        return None
    span = min(limit, 1 << 34) if rng.random() < 0.7 else limit
    c_base = rng.randrange(max(span // size, 1)) * size
    x = c_base + (rng.randrange(min(size, limit - c_base) >> host) << host)
    unit = 1 << TR.TG_SHIFT.get(tg, 16)         # BaseADDR's unit (TG 00: the 64K KVM uses)
    scale = rng.choice((0, 0, 1, rng.randrange(4)))
    num = rng.choice((0, 1, 31, rng.randrange(32)))
    length = (num + 1) << (5 * scale + 1) << TR.TG_SHIFT.get(tg, 16)
    r = rng.random()
    if r < 0.3:             # at C's start
        base = c_base
    elif r < 0.55:          # inside C, or at x
        base = x if rng.random() < 0.5 else c_base + rng.randrange(size)
    elif r < 0.8:           # ending in C: its start below C's
        base = max(c_base + rng.randrange(size) - length, 0)
    else:
        base = rng.randrange(limit)
    val = TR.make_operand(base & -unit, tg, scale, num, ttl)
    vmid = rng.choice(VMIDS) if rng.random() < 0.8 else rng.randrange(1 << 16)
    vttbr = vmid << 48 | rng.randrange(1 << 20) << 12
    mmus = []
    for _ in range(N_MMUS):
        mv = vmid if rng.random() < 0.75 else rng.choice(VMIDS)
        mmus.append(mv << 48 | rng.randrange(1 << 20) << 12 | int(rng.random() < 0.2))
    op = TR.Operand.of(val)
    return {"op": "ripas2e1", "granule": case.granule, "level": L, "hint": case.hint, "val": val,
            "operand": str(op), "ipa": op.base if op.valid else 0, "host_granule": G.name(host),
            "ia_bits": ia_bits, "vttbr": vttbr, "mmus": mmus, "k": rng.randrange(N_MMUS), "C": [c_base, c_base + size],
            "x": x}


def hits(rev, w, props, drop=()):
    """{property: replayed counterexample} of one drawn world; None if the
    revision loops or fails other than as C can (the solver's to report)."""
    try:
        vm = RR.build(w, budgeted=True)        # a looping handler stops
    except Exception:       # noqa: BLE001 -- a world the machinery cannot build is no evidence
        return {}
    try:
        out = RR.execute(w, vm, rev)
    except Exception:       # noqa: BLE001 -- the budget's _Hang, userfault's RevisionError/InternalError
        return None
    return evidence.replayed(rev, w, out, props, RP.PROPERTIES, RR.attach, drop,
                             ranges=[[b, b + s, m] for b, s, m in out.ranges])
