"""vtcr-stable as an inductive invariant of the shadow MMUs' life
(impl/producers/mmu.py: get_s2_mmu_nested, check_nested_vcpu_requests) and
of the guest's VTCR_EL2 change.

vtcr-stable as a per-entry predicate.  The assumption says mmu->tlb_vtcr is
the VTCR_EL2 all the MMU's shadow entries were built under.  Per entry e of
an MMU m, with the granule of the guest translation e caches:
  valid(e)  ->  m is in use (CnP clear in tlb_vttbr)
                and (m is stage-2 enabled -> granule(e) = TG0(m.tlb_vtcr)
                                              or m.pending_unmap).
The disjunct `pending_unmap` is the kernel's: get_s2_mmu_nested sets the new
tlb_vtcr on a recycled MMU that still holds the old context's leaves, and
they stay there until check_nested_vcpu_requests empties it.  This is sound
for the IPAS2E1 proofs because no vCPU runs on a pending MMU: whoever takes
it (the recycler, or a later lookup hit) gets KVM_REQ_NESTED_S2_UNMAP, and
the request is handled before the guest is entered; a TLBI that meanwhile
unmaps a wrong range in it removes leaves nobody translates through.

The abstraction.  The symbolic state is two MMUs of kvm->arch.nested_mmus
(all their fields open: tlb_vttbr, tlb_vtcr, nested_stage2_enabled,
refcnt, pending_unmap), one entry of each (valid, granule of its cached
translation), the vCPU's VTTBR/VTCR/HCR and nested_mmus_next (0 or 1).
get_s2_mmu_nested changes at most the MMU it returns, and P of an MMU's
entry reads that MMU's fields and the entry only, so two MMUs cover both
roles an MMU of any array has (picked or not; the lookup's first match or
a later one), and one entry per MMU stands for each of its entries.  The
array holds an MMU with no reference when the lookup misses (it is sized
at two per vCPU, each vCPU holding one reference at most: the BUG_ON's
"MMUs to spare"), a fact of the case here.

No granule pair.  The obligations of this world (recycle-*, pending-unmap-*,
vtcr-write-*) are one each, not one per guest/host granule pair, because
the world takes neither granule from the obligation: the guest granules are
open in it (each entry's granule ranges over 4K/16K/64K, tlb_vtcr and the
vCPU's VTCR_EL2 are any 64-bit values, and the predicate relates them by
TG0), and so is the host granule (HostHooks: PAGE_SIZE, PAGE_SHIFT and
kvm_granule_size answer for a host granule that is a variable of the case,
4K, 16K or 64K, which a producer reading them sees as such).  A proof
over the open world is a proof for each pair: the pair's states are a
subset of its states (its constraint on the pair is a conjunct the proof
did not need), so PROVED once is PROVED for all six, and a counterexample
names its granules in its values.  Proving it per pair as before repeated
the same query six times.  This holds only while the world reads no pair:
MmuWorld's Obligation has shift = host = None, and any read of them
fails (G.name(None), BitVecVal(None)) rather than picks one.

Beside vtcr-stable, `recycle-preserves-vtcr-current` proves what the
fault's vtcr-stable obligation rests on: the MMU get_s2_mmu_nested returns
is in use and caches the vCPU's VTCR_EL2 (a stage-2-enabled one).  It
stays so while the nested guest runs: VTCR_EL2 changes only in the guest
hypervisor's context, and entering the nested guest again picks the MMU
anew (kvm_vcpu_put_hw_mmu / kvm_vcpu_load_hw_mmu)."""

import time
from typing import Optional

import z3

from nvtlbi.impl import context
from nvtlbi.impl.cint import Word, s32, u64
from nvtlbi.impl.eras import KvmS2Mmu
from nvtlbi.impl.granule import GRANULES
from nvtlbi.model import arch as A
from nvtlbi.model.assumptions import CASE, VTCR_CURRENT, VTCR_STABLE
from nvtlbi.model.engine import Engine, in_own_z3_context
from nvtlbi.model.invariants import Hooks, Obligation, Outcome, verdict
from nvtlbi.model.session import Session, of_call

N_MMUS = 2


def _bv(x, width=64):
    v = x.v if hasattr(x, "v") else x
    if isinstance(v, bool):
        v = int(v)
    return z3.BitVecVal(v, width) if isinstance(v, int) else v


def _truth(x):
    """A C condition (a word, concrete or symbolic, or a Python bool) as a z3 Bool."""
    v = x.v if hasattr(x, "v") else x
    if isinstance(v, (bool, int)):
        return z3.BoolVal(bool(v))
    if z3.is_bool(v):
        return v
    return v != 0


class HostHooks(Hooks):
    """The kernel hooks of an MMU transition: the host granule is open (a
    variable of the case, one of the three granules)."""

    def __init__(self, engine):
        super().__init__(None)
        self.shift = z3.BitVec("host_page_shift", 8)
        engine.assume(CASE, z3.Or([self.shift == sh for sh in GRANULES.values()]))

    def granule_size(self, level):
        lv = getattr(level, "v", level)
        return Word(u64, A.host_granule_size(self.shift, lv))

    def page_shift_word(self):
        return Word(s32, z3.ZeroExt(24, self.shift))


class _Lock:
    def assert_held_write(self):
        pass        # the callers hold kvm->mmu_lock (the concrete run checks it)

    def acquire_write(self):
        pass

    def release_write(self):
        pass


class _Atomic:
    def __init__(self, counter):
        self.counter = counter


class SymS2Mmu(KvmS2Mmu):
    """One kvm_s2_mmu, every field open, and one of its entries."""

    def __init__(self, w, i):
        self.w, self.i = w, i
        self.guest_vttbr = Word(u64, z3.BitVec(f"mmu{i}.tlb_vttbr", 64))
        self.guest_vtcr = Word(u64, z3.BitVec(f"mmu{i}.tlb_vtcr", 64))
        self.nested_stage2_enabled = Word(s32, z3.If(z3.Bool(f"mmu{i}.s2_enabled"), z3.BitVecVal(1, 32),
                                                     z3.BitVecVal(0, 32)))
        self.refcnt = _Atomic(Word(s32, z3.BitVec(f"mmu{i}.refcnt", 32)))
        self.pending_unmap = Word(s32, z3.If(z3.Bool(f"mmu{i}.pending_unmap"), z3.BitVecVal(1, 32),
                                             z3.BitVecVal(0, 32)))
        self.e_valid = z3.Bool(f"mmu{i}.entry.valid")
        self.e_granule = z3.BitVec(f"mmu{i}.entry.granule", 8)
        self.pgt = _OneEntry(self)

    @property
    def kvm(self):
        # kvm_s2_mmu_to_kvm: __unmap_stage2_range asserts its mmu_lock
        return self.w.kvm

    def unmap_range(self, start, size):
        # kvm_stage2_unmap_range's walk (impl/producers/unmap.py) over this
        # MMU's one entry, as model/inv_unmap.py runs it
        from nvtlbi.impl import producers
        from nvtlbi.model.inv_unmap import _Ctx
        w = self.w
        pte = z3.BitVec(f"mmu{self.i}.entry.pte", 64)
        w.engine.assume(CASE, (z3.Extract(0, 0, pte) == 1) == self.e_valid)
        self.pgt.old, self.pgt.writes = pte, []
        # the entry is inside the table's input range; the walk reaches it
        # only when it overlaps [start, start + size): a caller that unmaps
        # less than the whole MMU leaves the entry as it was (assuming the
        # overlap proved a pending unmap of half the IPA space)
        base = self.pgt.base
        w.engine.assume(CASE, z3.ULT(base, z3.BitVecVal(1 << self.pgt.ia_bits, 64)))
        page = _bv(w.hooks.granule_size(3))
        if not w.engine.decide(z3.And(z3.ULT(base, _bv(start) + _bv(size)), z3.ULT(_bv(start), base + page))):
            return
        producers.load("unmap").call("stage2_unmap_walker", _Ctx(self.pgt), 1)
        after = self.pgt.writes[-1] if self.pgt.writes else pte
        self.e_valid = z3.Extract(0, 0, after) == 1

    def holds(self):
        """vtcr-stable of this MMU's entry (see the module's docstring)."""
        v, vtcr = _bv(self.guest_vttbr), _bv(self.guest_vtcr)
        s2, pending = _truth(self.nested_stage2_enabled), _truth(self.pending_unmap)
        same = z3.Or([z3.And(self.e_granule == sh, A.tg0_means(sh, vtcr)) for sh in GRANULES.values()])
        return z3.Implies(self.e_valid, z3.And(z3.Extract(0, 0, v) == 0, z3.Implies(s2, z3.Or(same, pending))))


class _OneEntry:
    """The MMU's page table as the unmap walk sees it: one entry."""

    def __init__(self, mmu):
        self.mmu, self.ia_bits, self.writes = mmu, 48, []
        self.base = z3.BitVec(f"mmu{mmu.i}.entry.addr", 64)
        self.hlevel = z3.BitVecVal(3, A.LVL)
        self.old = None

    def write(self, value):
        self.writes.append(_bv(value))


class _Arch:
    def __init__(self, mmus, nxt):
        self.nested_mmus, self.nested_mmus_size, self.nested_mmus_next = mmus, Word(s32, len(mmus)), Word(s32, nxt)


class _Kvm:
    def __init__(self, mmus, nxt):
        self.mmu_lock, self.arch = _Lock(), _Arch(mmus, nxt)


class _VcpuArch:
    hw_mmu = None


class _Vcpu:
    def __init__(self, kvm):
        self.kvm, self.requests, self.arch = kvm, set(), _VcpuArch()
        self.sys_regs = {r: Word(u64, z3.BitVec(f"vcpu.{r}", 64)) for r in ("VTTBR_EL2", "VTCR_EL2", "HCR_EL2")}

    def read_sys_reg(self, reg):
        return self.sys_regs[reg]


class MmuWorld:
    def __init__(self, engine, ob: Obligation):
        self.engine, self.ob = engine, ob
        nxt = 1 if engine.decide(z3.Bool("nested_mmus_next")) else 0
        self.mmus = [SymS2Mmu(self, i) for i in range(N_MMUS)]
        self.kvm = _Kvm(self.mmus, nxt)
        self.vcpu = _Vcpu(self.kvm)
        self.returned = None
        self.hooks = HostHooks(engine)
        assume = engine.assume
        for m in self.mmus:
            assume(CASE, _bv(m.refcnt.counter, 32) >= 0)
            assume(CASE, z3.Or([m.e_granule == sh for sh in GRANULES.values()]))
            assume(VTCR_STABLE, m.holds())       # the induction hypothesis
        # MMUs to spare: one has no reference (two per vCPU, one each at most)
        assume(CASE, z3.Or([_bv(m.refcnt.counter, 32) == 0 for m in self.mmus]))

    def run(self, producer):
        t = self.ob.transition
        with context.entered(hooks=self.hooks):
            if t == "recycle":
                self.returned = producer.call("get_s2_mmu_nested", self.vcpu)
            elif t == "pending-unmap":
                # the vCPU runs on mmus[0], whose unmap may be pending
                self.vcpu.arch.hw_mmu = self.mmus[0]
                self.vcpu.requests.add("KVM_REQ_NESTED_S2_UNMAP")
                producer.call("check_nested_vcpu_requests", self.vcpu)
            elif t == "vtcr-write":
                producer.call("guest_write_vtcr", self.vcpu, Word(u64, z3.BitVec("new_vtcr", 64)))
            else:
                raise KeyError(t)
        return self

    def violation(self, invariant):
        if invariant == "vtcr-stable":
            return z3.Not(z3.And([m.holds() for m in self.mmus]))
        if invariant == "vtcr-current":
            # the MMU get_s2_mmu_nested returns is in use and, stage 2 on,
            # caches the vCPU's VTCR_EL2
            m, vcpu = self.returned, self.vcpu.sys_regs
            s2 = (_bv(vcpu["HCR_EL2"]) & 1) != 0
            ok = z3.And(z3.Extract(0, 0, _bv(m.guest_vttbr)) == 0,
                        z3.Implies(s2, A.tg0(_bv(m.guest_vtcr)) == A.tg0(_bv(vcpu["VTCR_EL2"]))))
            return z3.Not(ok)
        raise KeyError(invariant)

    def counterexample(self, m):
        def val(e):
            v = m.eval(e, model_completion=True)
            return v.as_long() if z3.is_bv_value(v) else z3.is_true(v)
        out = {"transition": self.ob.transition,
               "vcpu": {r: val(_bv(w)) for r, w in self.vcpu.sys_regs.items()},
               "mmus": [{"tlb_vttbr": val(_bv(x.guest_vttbr)), "tlb_vtcr": val(_bv(x.guest_vtcr)),
                         "s2_enabled": val(_truth(x.nested_stage2_enabled)),
                         "pending_unmap": val(_truth(x.pending_unmap)),
                         "entry_valid": val(x.e_valid), "entry_granule": val(x.e_granule),
                         "entry_addr": val(x.pgt.base)} for x in self.mmus],
               "host_page_shift": val(self.hooks.shift)}
        if self.returned is not None:
            out["returned"] = self.mmus.index(self.returned)
        return out


def _enabled(ob):
    return [VTCR_STABLE.name, VTCR_CURRENT.name]


@in_own_z3_context
def prove(producer, ob: Obligation, session: Optional[Session] = None) -> Outcome:
    t0 = time.time()
    with of_call(session) as s:
        engine = Engine(_enabled(ob), s)
        state = {}

        def setup():
            state["w"] = MmuWorld(engine, ob)

        def program():
            return state["w"].run(producer)

        return verdict(ob, engine, engine.explore(program, setup), t0)


# ---- counterexamples as event traces, replayed on impl/ ----------------------------------
def replay(cex, producer, shift, host, at=0, pending=False):
    """Replay a recycle counterexample on impl/: the nested guest runs on
    MMU 0 (a lookup hit) and faults under the guest's first VTCR_EL2; back in
    the guest hypervisor it writes VTCR_EL2 (another granule) and re-enters
    the nested guest: get_s2_mmu_nested (`producer`) recycles MMU 0, its
    pending unmap empties it, and the nested guest faults again.  Returns
    (events, violations after the second fault, []).  The obligation has
    no granule pair (shift, host None): the replay takes a 16K guest on 4K
    host pages, the pair with a second guest granule on either side.  `at`:
    the IPA of the first fault (a pending-unmap counterexample's entry);
    `pending`: the violations right after the pending unmap, before the
    second fault (which could overwrite the leaf the unmap left)."""
    from nvtlbi.impl import granule as G
    shift = G.GRANULES["16K"] if shift is None else shift
    host = G.GRANULES["4K"] if host is None else host
    from nvtlbi.impl.invariants import violations
    from nvtlbi.impl.nested import VM, GuestS2, handle_shadow_fault, load_hw_mmu, new_mmu, put_hw_mmu
    other = [s for s in sorted(G.GRANULES.values()) if s != shift and s >= host]
    if not other:
        return [f"not replayed: no second guest granule >= host {G.name(host)} besides {G.name(shift)}"], [], []
    g1, g2 = GuestS2(shift), GuestS2(other[0])
    vm = VM(feat_ttl=True)
    vm.mmu_producer = producer
    m0, m1 = new_mmu(vm, g1, host), new_mmu(vm, g1, host)
    m1.free = True                      # kvm_init_nested_s2_mmu: CnP set, no reference
    vcpu = vm.vcpu
    events = [f"two shadow MMUs: 0 in use for VTTBR {m0.vttbr:#x}, VTCR {int(m0.guest_vtcr):#x} "
              f"({G.name(shift)}); 1 free"]
    mmu = load_hw_mmu(vcpu)
    events.append(f"enter the nested guest: get_s2_mmu_nested returns MMU {vm.mmus.index(mmu)}")
    l1 = G.guest_leaf_levels(shift)[-1]
    at &= ~((1 << shift) - 1)
    g1.map(at, l1, at)
    handle_shadow_fault(mmu, g1, at)
    events.append(f"nested fault at {at:#x} under {G.name(shift)}: {len(list(mmu.pgt.leaves()))} shadow leaf in MMU "
                  f"{vm.mmus.index(mmu)}")
    put_hw_mmu(vcpu)
    vcpu.sys_regs["VTCR_EL2"] = g2.vtcr
    events.append(f"the guest hypervisor writes VTCR_EL2 = {g2.vtcr:#x} ({G.name(g2.shift)})")
    mmu = load_hw_mmu(vcpu)
    events.append(f"enter the nested guest: {producer.name}'s get_s2_mmu_nested returns MMU {vm.mmus.index(mmu)}, "
                  f"tlb_vtcr {int(mmu.guest_vtcr):#x}, pending unmap done: {len(list(mmu.pgt.leaves()))} leaves")
    if pending:
        # right after the pending unmap, per entry (impl/'s check compares
        # only tlb_vtcr with a guest): a valid leaf it left caches a
        # translation of another granule than tlb_vtcr's, no unmap pending
        now = G.shift_of_tg0(int(mmu.guest_vtcr) >> 14 & 3)
        left = [(b, s, o) for b, s, _, _, o in mmu.shadow_leaves() if o is not None and o.shift != now]
        return events, [("vtcr-stable", f"shadow leaf [{b:#x}, {b + s:#x}) caches {o}, in an MMU whose tlb_vtcr "
                                        f"is {G.name(now)}, no unmap pending")
                        for b, s, o in left if not mmu.pending_unmap], []
    l2 = G.guest_leaf_levels(g2.shift)[-1]
    g2.map(0, l2, 0)
    handle_shadow_fault(mmu, g2, 0)
    events.append(f"nested fault at 0x0 under {G.name(g2.shift)}: shadow leaf {mmu.pgt.leaf(0)[:2]}")
    broken = [v for v in violations(mmu, g2) if v[0] in ("vtcr-stable", "vtcr-current")]
    return events, broken, []


def replay_pending(cex, producer, shift, host):
    """Replay a pending-unmap counterexample on impl/: the recycle's events,
    the first fault at the IPA of the entry the pending unmap left valid
    (MMU 0's), so that a
    check_nested_vcpu_requests that unmaps less than the whole MMU leaves
    it; `producer` (an mmu file) is both the recycle and the pending unmap.
    Its granules are the recycle replay's (the world leaves them open)."""
    m0 = cex["mmus"][0]
    if not m0["entry_valid"]:
        return ["not replayed: MMU 0's entry is invalid, which no event sequence here leaves"], [], []
    return replay(cex, producer, shift, host, at=m0["entry_addr"], pending=True)

