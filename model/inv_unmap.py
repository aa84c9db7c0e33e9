"""The unmap transition: kvm_pgtable_stage2_unmap of a range
(impl/producers/unmap.py), run symbolically, preserves each per-entry
shadow-state assumption of model/invariants.py.

The abstraction, and why it is sound.  The unmap walk visits entries and
its walker callback may write the entry it visits (ctx->ptep) and nothing
else; a table's TABLE_POST visit only frees an emptied table, removing
entries.  Each visit reads only its own entry (ctx->old, ctx->level,
ctx->addr).  So the symbolic shadow state is the one visited entry, all
open: its PTE (any 64-bit value that is not a table descriptor, since a
LEAF walk descends into tables), the level where the walk stopped (a host
leaf level when it is valid), its address and the guest translation it
caches.  P of every other entry is untouched, and P reads one entry and its
origin, so "P of every entry before" implies "P of every entry after"
exactly when, for every value of these inputs, P of the visited entry
before (the induction hypothesis, under the assumptions' own names)
implies P of what the callback leaves in it.  An entry after the callback
keeps its place and size, and the translation it caches is the one it
cached (an unmap learns no new translation).

Unlike the fault, no guest fact is used: the unmap reads no guest state."""

import time
from typing import Optional

import z3

from nvtlbi.impl import context
from nvtlbi.impl.cint import Word, s32, u64
from nvtlbi.model import arch as A
from nvtlbi.model.assumptions import (CASE, INVALID_UNTAGGED, LEAF_LEVEL, LEAF_TAGGED, S2OFF_UNTAGGED, TAG_TRUTH,
                                      VTCR_STABLE)
from nvtlbi.model.engine import Engine, in_own_z3_context
from nvtlbi.model.invariants import IA_BITS, Hooks, Obligation, Outcome, entry_ok, verdict
from nvtlbi.model.session import Session, of_call


class _Ptep:
    def __init__(self, w):
        self.w = w

    def write(self, value):
        v = value.v if hasattr(value, "v") else value
        self.w.writes.append(z3.BitVecVal(v, 64) if isinstance(v, int) else v)


class _Ctx:
    """struct kvm_pgtable_visit_ctx of the visited entry."""

    def __init__(self, w):
        self.old = Word(u64, w.old)
        self.level = Word(s32, z3.ZeroExt(32 - A.LVL, w.hlevel))
        self.addr = Word(u64, w.base)
        self.ptep = _Ptep(w)


class _Pgt:
    """The shadow S2 as the unmap walk sees it: its one visited entry."""

    def __init__(self, w):
        self.w = w

    def walk(self, addr, size, walker):
        # the entry is visited when it overlaps the walked range; one the
        # walk does not reach keeps its value (what overlap-cleared checks
        # when the walked range is not the one the unmap was given)
        w = self.w
        if not w.engine.decide(_overlaps(w.base, w.hsize, _bv(addr), _bv(size))):
            return 0
        return walker.cb(_Ctx(w), 1)


def _overlaps(base, bsize, start, size):
    return z3.And(z3.ULT(base, start + size), z3.ULT(start, base + bsize))


def _bv(x):
    v = x.v if hasattr(x, "v") else x
    return z3.BitVecVal(v, 64) if isinstance(v, int) else v


class UnmapWorld:
    """The open inputs of one visit of the unmap walk and the facts on them."""

    def __init__(self, engine, ob: Obligation, s2off=False):
        self.engine, self.ob = engine, ob
        self.writes: list = []
        g, hs = ob.shift, z3.BitVecVal(ob.host, 8)
        assume = engine.assume
        self.start, self.size = z3.BitVec("unmap.start", 64), z3.BitVec("unmap.size", 64)
        self.old = z3.BitVec("old.pte", 64)
        self.old_valid = z3.Extract(0, 0, self.old) == 1
        self.old_tag = z3.Extract(56, 55, self.old)
        self.hlevel = z3.BitVec("old.hlevel", A.LVL)
        assume(CASE, z3.And(self.hlevel >= 0, self.hlevel <= 3))
        assume(CASE, z3.Implies(self.old_valid, A.is_host_leaf_level(hs, self.hlevel)))
        # a LEAF visit: the walk descends into tables, so the visited entry
        # is no table descriptor; a valid level-3 entry is a page (bit 1 set)
        bit1 = z3.Extract(1, 1, self.old) == 1
        assume(CASE, z3.Implies(self.old_valid, bit1 == (self.hlevel == 3)))
        self.hsize = A.host_granule_size(hs, z3.ZeroExt(32 - A.LVL, self.hlevel))
        self.base = z3.BitVec("old.addr", 64)
        assume(CASE, A.align_down(self.base, self.hsize) == self.base)
        assume(CASE, z3.ULT(self.base, z3.BitVecVal(1 << IA_BITS, 64)))
        # the guest translation the entry caches
        self.clevel = z3.BitVec("old.clevel", A.LVL)
        self.csize = A.level_size(g, self.clevel)
        self.cbase = A.align_down(self.base, self.csize)
        # the architecture: a cached translation is a leaf of the guest granule
        # (without it, a 16K level-1 "block" no guest makes, which no replay builds)
        assume(LEAF_LEVEL, z3.Implies(self.old_valid, A.is_leaf_level(g, self.clevel, z3.BoolVal(False))))
        if not s2off:
            tagged = z3.And(self.old_valid, self.old_tag != 0)
            assume(TAG_TRUTH, z3.Implies(tagged, z3.And(self.clevel == z3.ZeroExt(A.LVL - 2, self.old_tag),
                                                        z3.ULE(self.hsize, self.csize))))
            assume(LEAF_TAGGED, z3.Implies(self.old_valid, self.old_tag != 0))
        else:
            assume(S2OFF_UNTAGGED, z3.Implies(self.old_valid, self.old_tag == 0))
        assume(INVALID_UNTAGGED, z3.Implies(z3.Not(self.old_valid), self.old_tag == 0))
        # vtcr-stable of the entry: its MMU's fields and its translation,
        # which the unmap does not change, one open truth value here
        self.stable = z3.Bool("old.vtcr_stable")
        assume(VTCR_STABLE, z3.Implies(self.old_valid, self.stable))

    def run(self, producer):
        with context.entered(hooks=Hooks(self.ob.host)):
            producer.call("kvm_pgtable_stage2_unmap", _Pgt(self), Word(u64, self.start), Word(u64, self.size))
        return self

    def after(self):
        """(valid, tag, pte) of the visited entry after the callback."""
        pte = self.writes[-1] if self.writes else self.old
        return z3.Extract(0, 0, pte) == 1, z3.Extract(56, 55, pte), pte

    def violation(self, invariant):
        valid, tag, _ = self.after()
        if invariant == "vtcr-stable":
            return z3.And(valid, z3.Not(self.stable))
        if invariant == "overlap-cleared":
            return z3.And(self.old_valid, _overlaps(self.base, self.hsize, self.start, self.size), valid)
        return z3.Not(entry_ok(invariant, valid, tag, self.hsize, self.base, self.clevel, self.csize, self.cbase))

    def counterexample(self, m):
        def val(e):
            v = m.eval(e, model_completion=True)
            return v.as_long() if z3.is_bv_value(v) else z3.is_true(v)
        valid, tag, pte = self.after()
        return {"transition": "unmap", "start": val(self.start), "size": val(self.size),
                "old": {"pte": val(self.old), "level": val(self.hlevel), "addr": val(self.base),
                        "size": val(self.hsize), "valid": val(self.old_valid), "tag": val(self.old_tag)},
                "guest_level": val(self.clevel), "written": bool(self.writes),
                "after": {"pte": val(pte), "valid": val(valid), "tag": val(tag)}}


def _enabled(ob):
    names = [INVALID_UNTAGGED, VTCR_STABLE, LEAF_LEVEL] + ([S2OFF_UNTAGGED] if ob.invariant == "s2off-untagged" else [TAG_TRUTH, LEAF_TAGGED])
    return [a.name for a in names]


@in_own_z3_context
def prove(producer, ob: Obligation, session: Optional[Session] = None) -> Outcome:
    """One obligation: every path of the unmap walker's visit keeps
    `ob.invariant` of the visited entry, given it before."""
    t0 = time.time()
    with of_call(session) as s:
        engine = Engine(_enabled(ob), s)
        state = {}

        def setup():
            state["w"] = UnmapWorld(engine, ob, ob.invariant == "s2off-untagged")

        def program():
            return state["w"].run(producer)

        return verdict(ob, engine, engine.explore(program, setup), t0)


# ---- counterexamples as event traces, replayed on impl/ ----------------------------------
def replay(cex, producer, shift, host, tlbi_revision="upstream"):
    """Replay an unmap counterexample on impl/: the guest maps the
    translation the visited leaf caches, the nested guest faults on it (the
    bundled fault producer makes the leaf), the guest breaks the mapping
    and issues TLBI IPAS2E1 at the leaf without a hint, whose unmap runs
    `producer`.  Returns (events, violations after the unmap, stale leaves).
    Only a valid old entry is made by events; any other is not replayed
    (events: one line saying so, no violation)."""
    from nvtlbi.impl import descriptor as D
    from nvtlbi.impl import granule as G
    from nvtlbi.impl import revision as REV
    from nvtlbi.impl.invariants import violations
    from nvtlbi.impl.nested import VM, GuestS2, Translation, handle_shadow_fault, new_mmu
    from nvtlbi.impl.tlbi import make_operand, run
    from nvtlbi.model.invariants import INVARIANT
    old = cex["old"]
    if not old["valid"]:
        return [f"not replayed: the visited entry {old['pte']:#x} is invalid, which no event sequence here makes"], [], []
    level, addr, osize = cex["guest_level"], old["addr"], old["size"]
    gsize = G.level_size(shift, level)
    tbase = addr & ~(gsize - 1)
    guest = GuestS2(shift)
    vm = VM(feat_ttl=True)
    vm.unmap_producer = producer
    mmu = new_mmu(vm, guest, host)
    guest.map(tbase, level, tbase)
    events = [f"guest maps {G.name(shift)} L{level} [{tbase:#x}, {tbase + gsize:#x}) -> {tbase:#x}"]
    handle_shadow_fault(mmu, guest, addr, vma_pagesize=osize, force_pte=osize == 1 << host)
    leaf = mmu.pgt.leaf(addr)
    events.append(f"nested fault at {addr:#x} (backing {osize:#x}): shadow leaf "
                  f"[{leaf[0]:#x}, {leaf[0] + leaf[1]:#x}) tag {leaf[3] >> 55 & 3}")
    guest.unmap(tbase, level)
    events.append(f"guest breaks [{tbase:#x}, {tbase + gsize:#x}) (invalid entry)")
    run(vm, make_operand(addr, 0), REV.load(tlbi_revision))
    un = mmu.unmapped[-1]
    d, at = mmu.pgt.lookup(addr)
    events.append(f"TLBI IPAS2E1IS {addr:#x} no hint ({tlbi_revision}): unmaps [{un[0]:#x}, {un[0] + un[1]:#x}) "
                  f"with {producer.name}: the entry at {addr:#x} (level {at}) is now {d:#x}")
    broken = [v for v in violations(mmu, guest) if v[0] in INVARIANT]
    if D.is_valid(d) and d == leaf[3]:
        broken.append(("overlap-cleared", f"the shadow leaf [{leaf[0]:#x}, {leaf[0] + leaf[1]:#x}) survives the "
                                          f"unmap of [{un[0]:#x}, {un[0] + un[1]:#x}), which overlaps it"))
    t = Translation(shift, level, tbase, tbase)
    stale = [(b, s, o) for b, s, _, _, o in mmu.shadow_leaves() if o is not None and o.overlaps(t)]
    for b, s, o in stale[:3]:
        events.append(f"STALE: shadow leaf [{b:#x}, {b + s:#x}) still maps {o}")
    if not stale:
        events.append("no stale leaf: no shadow leaf of the broken translation survives the TLBI")
    return events, broken, stale
