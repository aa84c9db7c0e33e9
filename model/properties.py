"""The properties proved of the invalidated range(s) on every path.

P1  the range contains the IPA;
P2  it contains the whole cached guest translation T containing the IPA
    (the part of T below the VM's IPA size, where shadow leaves can exist),
    whenever the architecture obliges the TLBI to remove T;
P3  its size is a nonzero power of two and the aligned range does not wrap;
P4  availability: no guest-controlled input reaches BUG() or WARN_ON;
P5  precision (opt-in, `--property P5`): the range is never larger than the
    granule's largest block (no cached translation is larger), and where
    KVM has the information it is exactly T: the TTL names T, or there is
    no usable TTL and a tagged shadow leaf maps the IPA's guest page or the
    IPA aligned down to a larger block size of the granule, up to T's size
    (the addresses inside T a depth-first look-up can read).  Not an isolation
    property: a revision that over-invalidates fails it and stays safe.

P1 and P3 hold of every MMU's range; P2 and P5 of the MMU holding T."""

import z3

from nvtlbi.impl import granule as G
from nvtlbi.model.assumptions import GET_LEAF_RANGE
from nvtlbi.model.env import hint_fact

from nvtlbi.impl.kernel import KernelBug

PROPERTIES = {
    "P1": "the invalidated range contains the IPA",
    "P2": "the invalidated range (rounded out to host pages, as the unmap removes whole leaves) contains the cached guest translation containing the IPA (its part below the VM's IPA size), when the TLBI must remove it",
    "P3": "the range size is a nonzero power of two and the range does not wrap",
    "P4": "no guest-controlled input reaches BUG() or WARN_ON",
    "P5": "precision: the range is at most the granule's largest block, and exactly T when the TTL names T, or when there is no usable TTL and a tagged shadow leaf maps the IPA aligned down to a block size of the granule up to T's (its guest page, ..., T's base)",
}
ISOLATION = ("P1", "P2", "P3", "P4")     # the default obligations; P5 on request


def _x(e):
    return z3.ZeroExt(1, e)       # 65-bit: sums cannot wrap


def holds(prop, env, error=None):
    """The property as a Z3 Boolean over the path's outcome: its recorded
    unmaps (base, size, mmu), its WARN_ONs, or the exception that ended it."""
    if prop == "P4":
        return z3.BoolVal(not isinstance(error, KernelBug) and not env.warnings)
    if isinstance(error, KernelBug):
        return z3.BoolVal(True)     # a BUG() path computes no range: P4's failure, not P1-P3's
    if error is not None:
        return z3.BoolVal(False)    # undefined behaviour or a crash of the revision itself
    unmaps = env.unmaps
    if not unmaps:
        return z3.BoolVal(False)
    if prop == "P1":
        return z3.And([z3.And(z3.ULE(b, env.ipa), z3.ULT(_x(env.ipa), _x(b) + _x(s))) for b, s, _ in unmaps])
    if prop == "P2":
        # KVM's unmap removes every shadow leaf the range overlaps, and shadow
        # leaves are at least a host page: the range counts rounded out to it.
        page = z3.ZeroExt(65 - 8, z3.BitVecVal(1, 8)) << z3.ZeroExt(65 - 8, env.host_shift)
        lo, hi = _x(env.T_base), _x(env.T_base) + _x(env.T_size)
        must = env.obliged()
        if env.engine.on(GET_LEAF_RANGE):
            # shadow leaves exist only below the VM's IPA size (an access
            # beyond it is an address-size fault): only that part of T counts
            limit = _x(env.ia_limit)
            hi = z3.If(z3.ULE(hi, limit), hi, limit)
            must = z3.And(must, z3.ULT(lo, limit))
        covers = z3.Or([z3.And(z3.ULE(_x(b) & ~(page - 1), lo),
                               z3.ULE(hi, (_x(b) + _x(s) + page - 1) & ~(page - 1)))
                        for b, s, m in unmaps if m == 0])
        return z3.Implies(must, covers)
    if prop == "P5":
        assert env.seeds, "P5 needs the seed reads (engine.seeds)"
        # KVM has T's size: the TTL names T, or there is no usable TTL (the
        # hint cases as impl/oracle.hint_case classifies them) and a tagged leaf is where it looks
        informed = z3.Or(_hint(env, "match"),
                         z3.And(z3.Or(_hint(env, "nohint"), _hint(env, "nofeat")),
                                z3.Or([z3.And(z3.ULE(size, env.T_size), p.tagged) for size, p in env.seeds])))
        mine = [(b, s) for b, s, m in unmaps if m == 0]
        exact = z3.And([z3.And(b == env.T_base, s == env.T_size) for b, s in mine]) if mine else z3.BoolVal(False)
        # no cached translation is larger than the granule's largest block
        g = env.case.shift
        largest = z3.If(env.lpa2, z3.BitVecVal(G.level_size(g, min(G.guest_leaf_levels(g, True))), 64),
                        z3.BitVecVal(G.level_size(g, min(G.guest_leaf_levels(g, False))), 64))
        bounded = z3.And([z3.ULE(s, largest) for _, s in mine])
        return z3.And(z3.Implies(informed, exact), bounded)
    if prop == "P3":
        return z3.And([z3.And(s != 0, s & (s - 1) == 0, z3.ULE(_x(b) + _x(s), z3.BitVecVal(1 << 64, 65)))
                       for b, s, _ in unmaps])
    raise ValueError(prop)


def _hint(env, h):
    return hint_fact(h, env.ttl, env.feat, env.lpa2, env.case.shift, env.T_level)


def applies(prop, hint):
    """P2 and P5 say nothing when the hint excuses the TLBI for T (any
    range is correct; upstream uses the hinted block's size, which may
    belong to another granule)."""
    return not (prop in ("P2", "P5") and hint == "mismatch")
