"""The shadow-state assumptions as an inductive invariant of the code that
produces the shadow state: the fault path (impl/producers/fault.py), run
symbolically by the same engine that proves the IPAS2E1 revisions.

The invariant.  Every assumption it covers is a predicate on one shadow
entry and the guest translation that entry caches (its origin):
  tag-truth         a valid leaf tagged l lies inside its cached translation, which has level l;
  leaf-tagged       a valid leaf carries a tag (no LPA2);
  invalid-untagged  an invalid entry carries no tag;
  s2off-untagged    a leaf of the stage-2-off context carries no tag.
So the invariant is "every entry satisfies P", a conjunction over entries.

The abstraction, and why it is sound.  The symbolic shadow state is the one
entry at the faulting IPA before the fault (`old`: valid or not, its tag,
host level and cached translation, all open), the guest's translation the
walk returns (`nested`), the host's answers (backing size, force_pte, THP),
and the entry the transition writes.  A fault changes the shadow S2 only at
that entry: kvm_pgtable_stage2_map writes one leaf (replacing a table frees
entries, and splitting a block gives entries inside it with its attributes:
P holds of both when it held before, as P of an entry is inherited by any
entry inside it with the same descriptor); kvm_pgtable_stage2_relax_perms
changes the permission bits of the leaf at the IPA.  Every other entry is
unchanged, and P of an entry reads only that entry and its own origin.  So
"P of every entry before" implies "P of every entry after" exactly when P
holds of the written entry given P of `old` (the induction hypothesis,
stated under the assumptions' own names) for every value of the open
inputs: that is each obligation, per guest and host granule.

What else is assumed: the guest's break-before-make obligation (`bbm`: the
translation `old` caches and `nested` both contain the IPA, so they are the
same translation), the architecture (nested is a leaf of the guest granule,
`leaf-level`, `no-lpa2`; the walk's output keeps the IPA's offset in the
block), the host sizes (`granule-order` by the choice of host <= guest).

The initial state, an empty shadow S2 (kvm_init_stage2_mmu: every entry 0),
satisfies each P: no valid entry, and 0 carries no tag (`initial_holds`)."""

import time
from dataclasses import dataclass, field
from typing import Any, List, Optional

import z3

from nvtlbi.impl import granule as G
from nvtlbi.impl.cint import Word, s32, s64, u64
from nvtlbi.impl import context
from nvtlbi.impl import kernel
from nvtlbi.model import arch as A
from nvtlbi.model.assumptions import (BBM, CASE, INVALID_UNTAGGED, LEAF_LEVEL, LEAF_TAGGED, NO_LPA2,
                                      S2OFF_UNTAGGED, TAG_TRUTH, VTCR_CURRENT, VTCR_STABLE)
from nvtlbi.model.engine import Engine, in_own_z3_context
from nvtlbi.model.session import Session, of_call
from nvtlbi.model.verdict import COUNTEREXAMPLE, PROVED, UNKNOWN, VACUOUS

NV = (56, 55)           # KVM_NV_GUEST_MAP_SZ
IA_BITS = 48            # NV caps the guest's IPA space at 48 bits (limit_nv_id_reg)
INVARIANT = ("tag-truth", "leaf-tagged", "invalid-untagged", "s2off-untagged")


@dataclass(frozen=True)
class Obligation:
    invariant: str      # the assumption whose preservation is proved
    shift: Optional[int]        # guest granule (None: every one, open in the symbolic world)
    host: Optional[int]         # host granule (<= guest; None: every one, open in the symbolic world)
    transition: str = "fault"   # the transition (model/transitions.py) that preserves it

    @property
    def id(self):
        if self.shift is None:
            return f"{self.transition}-preserves-{self.invariant}"
        return f"{self.transition}-preserves-{self.invariant}-{G.name(self.shift)}-host{G.name(self.host)}"


def obligations(granules=None, transition="fault", invariants=INVARIANT, granular=True):
    """One obligation per invariant and granule pair; granular=False: one per
    invariant, its world open in both granules (so every `granules` has it)."""
    if not granular:
        return [Obligation(i, None, None, transition) for i in invariants]
    gs = [G.GRANULES[g] for g in granules] if granules else sorted(G.GRANULES.values())
    return [Obligation(i, g, h, transition) for g in gs for h in sorted(G.GRANULES.values()) if h <= g
            for i in invariants]


@dataclass
class Outcome:
    id: str
    verdict: str
    seconds: float
    paths: int = 0
    rests_on: list = field(default_factory=list)
    counterexample: Optional[dict] = None
    reason: str = ""


# ---- the symbolic world of one fault ---------------------------------------------------
class Hooks:
    """The kernel hooks of a fault run: the host granule is the case's."""

    def __init__(self, host):
        self.host, self.warnings = host, []

    def bug(self, where):
        raise kernel.KernelBug(where)

    def warn(self, where):
        self.warnings.append(where)

    def warn_if(self, cond, where):
        self.warnings.append(where)     # unused by the invariants: recorded as "may fire"

    def host_cap(self, cap):
        raise NotImplementedError(f"host capability {cap} is not read by the fault path")

    def granule_size(self, level):
        lv = getattr(level, "v", level)
        return Word(u64, A.host_granule_size(z3.BitVecVal(self.host, 8), lv))

    def page_shift_word(self):
        return Word(s32, self.host)


class Pgt:
    """The shadow S2 as the fault sees it: the one entry at the IPA (`old`),
    and the write the producer makes."""

    def __init__(self, w):
        self.w = w

    def stage2_map(self, addr, size, phys, prot):
        self.w.writes.append(("map", addr.v if hasattr(addr, "v") else addr, _bv(size), _bv(phys), _bv(prot)))
        return Word(s32, 0)

    def stage2_relax_perms(self, addr, prot):
        p = _bv(prot)
        bad = z3.Extract(58, 55, p) != 0
        if self.w.engine.decide(bad):
            return Word(s32, -22)
        if not self.w.engine.decide(self.w.old_valid):
            return Word(s32, -11)
        self.w.writes.append(("relax", _bv(addr), p))
        return Word(s32, 0)


def _bv(w):
    v = w.v if hasattr(w, "v") else w
    return z3.BitVecVal(v, 64) if isinstance(v, int) else v


class KVM:
    pass


class MMU:
    def __init__(self, w):
        self.pgt = Pgt(w)
        self.kvm = KVM()


class Memslot:
    def __init__(self, w):
        self.vma_pagesize = Word(u64, w.vma_pagesize)
        self.force_pte = Word(s32, z3.If(w.force_pte, z3.BitVecVal(1, 32), z3.BitVecVal(0, 32)))
        self._thp = w.thp

    def thp_size(self):
        return Word(u64, self._thp)


class FaultWorld:
    """The open inputs of one fault and the facts on them."""

    def __init__(self, engine, ob, s2off=False):
        self.engine, self.ob, self.writes = engine, ob, []
        g, h = ob.shift, ob.host
        hs = z3.BitVecVal(h, 8)
        assume = engine.assume
        self.ipa = z3.BitVec("fault_ipa", 64)
        assume(CASE, z3.ULT(self.ipa, z3.BitVecVal(1 << IA_BITS, 64)))   # beyond it: an address-size fault
        # the guest's translation (walk_nested_s2_pgd's kvm_s2_trans)
        self.lpa2 = z3.Bool("lpa2")
        assume(NO_LPA2, z3.Not(self.lpa2))
        self.level = z3.BitVec("nested.level", A.LVL)
        assume(CASE, z3.And(self.level >= 0, self.level <= 3))
        assume(LEAF_LEVEL, A.is_leaf_level(g, self.level, self.lpa2))
        self.bsize = A.level_size(g, self.level)
        oa = z3.BitVec("nested.oa", 64)
        assume(CASE, A.align_down(oa, self.bsize) == oa)
        assume(CASE, z3.ULT(oa, z3.BitVecVal(1 << IA_BITS, 64)))
        self.output = oa | (self.ipa & (self.bsize - 1))
        self.nested = None if s2off else kernel.kvm_s2_trans()
        if self.nested is not None:
            self.nested.level = Word(s32, z3.SignExt(32 - A.LVL, self.level))
            self.nested.block_size = Word(u64, self.bsize)
            self.nested.output = Word(u64, self.output)
        # the host's answers: the backing size (a host leaf size, never above
        # a PUD), force_pte (then pages), a THP
        sizes = [G.level_size(h, l) for l in G.host_leaf_levels(h)]
        self.vma_pagesize = z3.BitVec("vma_pagesize", 64)
        self.force_pte = z3.Bool("force_pte")
        assume(CASE, z3.Or([self.vma_pagesize == s for s in sizes]))
        assume(CASE, z3.Implies(self.force_pte, self.vma_pagesize == G.level_size(h, 3)))
        self.thp = z3.If(z3.Bool("thp"), z3.BitVecVal(G.level_size(h, 2), 64), z3.BitVecVal(G.level_size(h, 3), 64))
        # the entry at the IPA before the fault, and the translation it caches
        self.old_valid = z3.Bool("old.valid")
        self.old_tag = z3.BitVec("old.tag", 2)
        self.old_hlevel = z3.BitVec("old.hlevel", A.LVL)
        self.old_clevel = z3.BitVec("old.clevel", A.LVL)
        self.old_hsize = A.host_leaf_size(hs, self.old_hlevel)
        self.old_csize = A.level_size(g, self.old_clevel)
        assume(CASE, z3.Implies(self.old_valid, A.is_host_leaf_level(hs, self.old_hlevel)))
        self.perm = z3.Bool("fault_is_perm")
        assume(CASE, z3.Implies(self.perm, self.old_valid))      # a permission fault is on a valid leaf
        self.granule = z3.If(self.perm, self.old_hsize, z3.BitVecVal(0, 64))
        if not s2off:
            # the induction hypothesis: P of the old entry
            old_tagged = z3.And(self.old_valid, self.old_tag != 0)
            assume(TAG_TRUTH, z3.Implies(old_tagged, z3.And(self.old_clevel == z3.ZeroExt(A.LVL - 2, self.old_tag),
                                                             z3.ULE(self.old_hsize, self.old_csize))))
            assume(LEAF_TAGGED, z3.Implies(self.old_valid, self.old_tag != 0))
            # bbm: what the old leaf caches and the guest's translation now
            # both contain the IPA: the same translation
            assume(BBM, z3.Implies(self.old_valid, self.old_clevel == self.level))
        else:
            assume(S2OFF_UNTAGGED, z3.Implies(self.old_valid, self.old_tag == 0))
        assume(INVALID_UNTAGGED, z3.Implies(z3.Not(self.old_valid), self.old_tag == 0))
        if ob.invariant == "vtcr-stable":
            # the MMU the fault runs on (the vCPU's hw_mmu, which
            # get_s2_mmu_nested picked: in use, recycle-preserves-vtcr-current)
            # and whether the old entry kept vtcr-stable (model/inv_mmu.py)
            self.tlb_vtcr = z3.BitVec("mmu.tlb_vtcr", 64)
            self.vcpu_vtcr = z3.BitVec("vcpu.VTCR_EL2", 64)
            self.pending = z3.Bool("mmu.pending_unmap")
            self.old_stable = z3.Bool("old.vtcr_stable")
            assume(VTCR_STABLE, z3.Implies(self.old_valid, self.old_stable))
            # the walk read the vCPU's VTCR_EL2: its granule is the case's
            assume(CASE, A.tg0_means(g, self.vcpu_vtcr))
            assume(VTCR_CURRENT, A.tg0(self.tlb_vtcr) == A.tg0(self.vcpu_vtcr))

    def run(self, producer):
        with context.entered(hooks=Hooks(self.ob.host)):
            producer.user_mem_abort(MMU(self), Word(u64, self.ipa), self.nested, Memslot(self),
                                    Word(s32, z3.If(self.perm, z3.BitVecVal(1, 32), z3.BitVecVal(0, 32))),
                                    Word(s64, self.granule))
        return self

    # -- the entry after the fault ----------------------------------------------------------
    def after(self):
        """(valid, tag, size, base, clevel, csize, cbase, written) of the entry at the IPA after."""
        g = self.ob.shift
        ccbase = A.align_down(self.ipa, self.bsize)
        if not self.writes:
            return (self.old_valid, self.old_tag, self.old_hsize, A.align_down(self.ipa, self.old_hsize),
                    self.old_clevel, self.old_csize, A.align_down(self.ipa, self.old_csize), None)
        w = self.writes[-1]
        if w[0] == "relax":     # the same leaf, its software bits kept
            return (self.old_valid, self.old_tag, self.old_hsize, A.align_down(self.ipa, self.old_hsize),
                    self.old_clevel, self.old_csize, A.align_down(self.ipa, self.old_csize), w)
        _, addr, size, phys, prot = w
        return (z3.BoolVal(True), z3.Extract(56, 55, prot), size, A.align_down(addr, size),
                self.level, self.bsize, ccbase if g else ccbase, w)

    def counterexample(self, m):
        return _cex(self, m)

    def violation(self, invariant):
        valid, tag, size, base, clevel, csize, cbase, w = self.after()
        if invariant == "vtcr-stable":
            if w is None or w[0] == "relax":        # the old entry, its translation unchanged
                return z3.And(valid, z3.Not(self.old_stable))
            return z3.Not(z3.Or(A.tg0_means(self.ob.shift, self.tlb_vtcr), self.pending))
        return z3.Not(entry_ok(invariant, valid, tag, size, base, clevel, csize, cbase))


def entry_ok(invariant, valid, tag, size, base, clevel, csize, cbase):
    """P of one shadow entry (valid, tag, its [base, base + size)) and the
    guest translation it caches (level clevel, [cbase, cbase + csize))."""
    if invariant == "tag-truth":
        inside = z3.And(z3.ULE(cbase, base), z3.ULE(z3.ZeroExt(1, base) + z3.ZeroExt(1, size),
                                                   z3.ZeroExt(1, cbase) + z3.ZeroExt(1, csize)))
        return z3.Implies(z3.And(valid, tag != 0),
                          z3.And(clevel == z3.ZeroExt(A.LVL - 2, tag), z3.ULE(size, csize), inside))
    if invariant == "leaf-tagged":
        return z3.Implies(valid, tag != 0)
    if invariant == "invalid-untagged":
        return z3.Implies(z3.Not(valid), tag == 0)
    if invariant == "s2off-untagged":
        return z3.Implies(valid, tag == 0)
    raise KeyError(invariant)


def _enabled(ob):
    names = [BBM, NO_LPA2, LEAF_LEVEL, INVALID_UNTAGGED, VTCR_STABLE, VTCR_CURRENT]
    names += [S2OFF_UNTAGGED] if ob.invariant == "s2off-untagged" else [TAG_TRUTH, LEAF_TAGGED]
    return [a.name for a in names]


@in_own_z3_context
def prove(producer, ob: Obligation, session: Optional[Session] = None) -> Outcome:
    """One obligation: every path of the producer's fault keeps `ob.invariant`
    of the written entry, given the invariant of the old one."""
    t0 = time.time()
    with of_call(session) as s:
        engine = Engine(_enabled(ob), s)
        state = {}
        s2off = ob.invariant == "s2off-untagged"

        def setup():
            state["w"] = FaultWorld(engine, ob, s2off)

        def program():
            return state["w"].run(producer)

        paths = engine.explore(program, setup)
        return verdict(ob, engine, paths, t0)


def verdict(ob, engine, paths, t0):
    """The verdict of one obligation from the explored paths of its
    transition: each path's result is a world with `violation(invariant)`
    and `counterexample(model)`.  PROVED needs every path's violation unsat
    and at least one path feasible (its facts have a model: the cover
    witness that the obligation is not vacuous)."""
    cores, live = set(), 0
    for p in paths:
        if p.error is not None or p.truncated is not None:
            return Outcome(ob.id, UNKNOWN, time.time() - t0, len(paths),
                           reason=f"path ended in {p.error or p.truncated}")
        w: Any = p.result
        r, m = engine.check(p.facts, [w.violation(ob.invariant)], want_core=True)
        if r == z3.sat:
            return Outcome(ob.id, COUNTEREXAMPLE, time.time() - t0, len(paths),
                           counterexample=w.counterexample(m))
        if r != z3.unsat:
            return Outcome(ob.id, UNKNOWN, time.time() - t0, len(paths), reason=str(m))
        cores |= set(m)  # type: ignore[call-overload]  # unsat: m is the core (a list of names)
        # non-vacuity: a path's facts have a model (the case occurs); one
        # such path is the witness, so the others need no check
        if not live:
            r2, _ = engine.check(p.facts)
            live += r2 == z3.sat
    if not live:
        return Outcome(ob.id, VACUOUS, time.time() - t0, len(paths),
                       reason=f"no path of the {ob.transition} is feasible")
    return Outcome(ob.id, PROVED, time.time() - t0, len(paths), rests_on=sorted(cores))


def _val(m, e):
    v = m.eval(e, model_completion=True)
    return v.as_long() if z3.is_bv_value(v) else z3.is_true(v)


def _cex(w, m):
    valid, tag, size, base, clevel, csize, cbase, wr = w.after()
    return {"ipa": _val(m, w.ipa), "guest_level": _val(m, w.level), "guest_size": _val(m, w.bsize),
            "guest_oa": _val(m, w.output) & ~(_val(m, w.bsize) - 1),
            "vma_pagesize": _val(m, w.vma_pagesize), "force_pte": _val(m, w.force_pte),
            "thp": _val(m, z3.Bool("thp")), "perm": _val(m, w.perm),
            "old": {"valid": _val(m, w.old_valid), "tag": _val(m, w.old_tag),
                    "size": _val(m, w.old_hsize)},
            "written": None if wr is None else wr[0], "leaf_base": _val(m, base), "leaf_size": _val(m, size),
            "leaf_tag": _val(m, tag)}


def initial_holds(shift, host):
    """The empty shadow S2 satisfies every P: its entries are all 0
    (invalid, no tag).  Checked on the concrete empty table's every reachable
    entry (the root's) and the all-zero descriptor."""
    from nvtlbi.impl import descriptor as D
    from nvtlbi.impl.pgtable import PageTable
    pgt = PageTable(host)
    return (not list(pgt.leaves()) and not list(pgt.annotations()) and not D.is_valid(0) and D.nv_level(0) == 0)


# ---- counterexamples as event traces, replayed on impl/ ----------------------------------
def _leaf_text(leaf, at):
    """A shadow leaf as an event shows it; a producer may map none at the
    faulting IPA (it mapped elsewhere): that is said, not assumed away."""
    if leaf is None:
        return f"no shadow leaf maps {at:#x} (the producer mapped none there)"
    return f"shadow leaf [{leaf[0]:#x}, {leaf[0] + leaf[1]:#x}) tag {leaf[3] >> 55 & 3}"


def replay(cex, producer, shift, host, tlbi_revision="upstream"):
    """Replay a counterexample as events on impl/: the guest maps the
    translation, the nested guest faults (the producer runs; for a permission
    fault, a first fault makes the old leaf and a write to it faults), a second fault
    lands elsewhere in the same guest translation, then the guest breaks it
    (break-before-make) and issues TLBI IPAS2E1 at the faulting IPA without a
    hint, emulated by the IPAS2E1 revision.  Returns (events, violations
    after the fault, stale leaves after the TLBI)."""
    from nvtlbi.impl import revision as REV
    from nvtlbi.impl.invariants import violations
    from nvtlbi.impl.nested import VM, GuestS2, handle_perm_fault, handle_shadow_fault, new_mmu
    from nvtlbi.impl.tlbi import make_operand, run
    gsize, level = cex["guest_size"], cex["guest_level"]
    ipa = cex["ipa"] & ~((1 << host) - 1)
    tbase = ipa & ~(gsize - 1)
    guest = GuestS2(shift)
    vm = VM(feat_ttl=True)
    vm.producer = producer
    mmu = new_mmu(vm, guest, host)
    events = []
    guest.map(tbase, level, cex["guest_oa"])
    events.append(f"guest maps {G.name(shift)} L{level} [{tbase:#x}, {tbase + gsize:#x}) -> {cex['guest_oa']:#x}")
    backing = dict(vma_pagesize=cex["vma_pagesize"], force_pte=cex["force_pte"], thp=cex["thp"])
    how = f"backing {cex['vma_pagesize']:#x}{', force_pte' if cex['force_pte'] else ''}"
    if cex["perm"]:
        # the leaf a permission fault meets: an earlier fault of the old
        # entry's size made it (pages only if it is a page), read-only
        osize = cex["old"]["size"]
        handle_shadow_fault(mmu, guest, ipa, vma_pagesize=osize, force_pte=osize == 1 << host)
        old = mmu.pgt.leaf(ipa)
        events.append(f"nested fault at {ipa:#x} (backing {osize:#x}): {_leaf_text(old, ipa)}")
        handle_perm_fault(mmu, guest, ipa, **backing)
        what = "permission fault (a write)"
    else:
        handle_shadow_fault(mmu, guest, ipa, **backing)
        what = "nested fault"
    leaf = mmu.pgt.leaf(ipa)
    events.append(f"{what} at {ipa:#x} ({how}): {_leaf_text(leaf, ipa)}")
    if cex["perm"] and leaf is not None and old is not None and leaf[1] < old[1]:
        events.append(f"  (the map replaced the block [{old[0]:#x}, {old[0] + old[1]:#x}) by a table: "
                      f"the rest of it is unmapped)")
    broken = [v for v in violations(mmu, guest) if v[0] in INVARIANT]
    other = None if leaf is None else tbase if leaf[0] != tbase else tbase + leaf[1]
    if other is not None and leaf[1] < gsize and mmu.pgt.leaf(other) is None:
        handle_shadow_fault(mmu, guest, other, **backing)
        events.append(f"nested fault at {other:#x}: {_leaf_text(mmu.pgt.leaf(other), other)}")
    guest.unmap(tbase, level)
    events.append(f"guest breaks [{tbase:#x}, {tbase + gsize:#x}) (invalid entry)")
    run(vm, make_operand(ipa, 0), REV.load(tlbi_revision))
    un = mmu.unmapped[-1]
    events.append(f"TLBI IPAS2E1IS {ipa:#x} no hint ({tlbi_revision}): unmaps [{un[0]:#x}, {un[0] + un[1]:#x})")
    stale = [(b, s, o) for b, s, _, _, o in mmu.shadow_leaves() if o is not None and o.overlaps(
        __import__("nvtlbi.impl.nested", fromlist=["Translation"]).Translation(shift, level, tbase, cex["guest_oa"]))]
    for b, s, o in stale[:3]:        # the first few and a count
        events.append(f"STALE: shadow leaf [{b:#x}, {b + s:#x}) still maps {o}")
    if len(stale) > 3:
        events.append(f"STALE: ... and {len(stale) - 3} more shadow leaves of that translation "
                      f"({len(stale)} in all)")
    if not stale:
        events.append("no stale leaf: no shadow leaf of the broken translation survives the TLBI")
    return events, broken, stale
