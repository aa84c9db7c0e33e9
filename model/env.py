"""The symbolic environment a revision runs against: the TLBI operand, the
shadow MMU's fields, what kvm_pgtable_get_leaf may return at any probed
address, and the cached guest translation T containing the IPA, all
constrained by the named assumptions (model/assumptions.py)."""

from dataclasses import dataclass

import z3

from nvtlbi.impl import granule as G
from nvtlbi.impl.cint import Word, s32, u8, u64
from nvtlbi.impl.eras import KvmS2Mmu
from nvtlbi.impl.outcome import LockdepFailure
from nvtlbi.impl.nested import stage2_vtcr
from nvtlbi.model import arch as A
# The assumptions' registry entries: a misspelt one fails this import.
from nvtlbi.model.assumptions import (BBM, CASE, GET_LEAF_RANGE, GET_LEAF_RET, GRANULE_ORDER, INVALID_TAG_TRUTH,
                               INVALID_UNTAGGED, LEAF_LEVEL, LEAF_TAGGED, NO_LPA2, S2OFF_UNTAGGED, STABLE_PGT,
                               TAG_TRUTH, VTCR_CURRENT, VTCR_STABLE)
# The hint cases' registry (model/hints.py): re-exported for obligation.py and the CLI.
from nvtlbi.model.hints import HINT_MEANING, HINTS, hint_fact  # noqa: F401

ERANGE = 34


@dataclass(frozen=True)
class Case:
    shift: int          # granule of T (and of the MMU's shadow entries)
    level: int          # level of T
    hint: str

    @property
    def granule(self):
        return G.name(self.shift)

    @property
    def label(self):
        lvl = "Lany" if self.level is None else f"L{self.level}"
        return f"{self.granule}-{lvl}-{self.hint}"


@dataclass
class Probe:
    """One kvm_pgtable_get_leaf call and what the environment answered."""
    mmu: int            # 0: the S2-enabled MMU holding T; 1: the S2-off context
    addr: object        # BitVec 64
    ret: object         # BitVec 32
    pte: object         # BitVec 64
    hlevel: object      # level of the shadow leaf (host granule)
    clevel: object      # level of the cached guest translation holding it
    hsize: object | None = None  # derived terms, built once per probe
    csize: object | None = None
    cbase: object | None = None

    @property
    def valid(self):
        return z3.Extract(0, 0, self.pte) == 1

    @property
    def tag(self):
        return z3.Extract(56, 55, self.pte)

    @property
    def tagged(self):
        """A valid leaf carrying a level tag was found."""
        return z3.And(self.ret == 0, self.valid, self.tag != 0)


class SymLock:
    def __init__(self, env):
        self.env = env
        self.held = False

    def assert_held_write(self):
        if not self.held:
            raise LockdepFailure("lockdep: mmu_lock not held for write")

    def acquire_write(self):
        if self.held:               # as impl/nested.py's MMULock: a self-deadlock
            raise LockdepFailure("lockdep: mmu_lock taken twice")
        self.held = True

    def release_write(self):
        self.held = False


class SymVCPU:
    def __init__(self, env):
        self.env = env
        self.kvm = env.kvm

    def read_sys_reg(self, reg):
        regs = {"VTCR_EL2": self.env.vcpu_vtcr, "VTTBR_EL2": self.env.vttbr, "HCR_EL2": self.env.hcr}
        if reg not in regs:
            raise NotImplementedError(f"vcpu_read_sys_reg({reg}) is not modelled")
        return Word(u64, regs[reg])


class SymKVM:
    def __init__(self, env):
        self.env = env
        self.mmu_lock = SymLock(env)

    def has_feat(self, reg, fld, val):
        if (reg, fld, val) != ("ID_AA64MMFR2_EL1", "TTL", "IMP"):
            raise NotImplementedError(f"kvm_has_feat({reg}, {fld}, {val}) is not modelled")
        return Word(s32, self.env.feat)

    def lookup_s2_mmu(self, vttbr, hcr):
        """By exact VTTBR: the S2-enabled MMU holding T always exists; the
        S2-off context for the same VTTBR may or may not."""
        if hcr & 1:
            return self.env.mmus[0]
        if self.env.engine.decide(self.env.s2off_exists):
            return self.env.s2off_mmu()
        return None

    def mmus_by_vmid(self, vmid):
        # The current handler iterates every MMU of the VMID; only the one
        # holding T matters for the obligations, so it is the one modelled.
        return [self.env.mmus[0]]


class SymPgt:
    def __init__(self, env, index):
        self.env, self.index = env, index

    def get_leaf(self, addr):
        return self.env.probe(addr, self.index)

    @property
    def ia_bits(self):
        """pgt->ia_bits: every shadow stage 2 takes the VM's IPA size."""
        return Word(u8, self.env.ia_bits)


# the attributes that hold a kvm_s2_mmu field, by the field's kernel name
_FIELD_OF = {"guest_vtcr": "tlb_vtcr", "guest_vttbr": "tlb_vttbr", "host_vtcr": "vtcr"}


class ReadOnlyMmu(KvmS2Mmu):
    """An MMU of a TLBI op's symbolic world, fixed once built.  KVM's TLBI
    handlers read struct kvm_s2_mmu and never write it (the fault and MMU
    producers do, impl/producers/); a revision that writes one has an effect
    that no property checks and `diff` does not compare (and the second
    revision of a diff would run on the first one's write), so the write is
    refused: an error naming the revision's line, never a verdict."""

    def _fix(self):
        object.__setattr__(self, "_fixed", True)

    def __setattr__(self, name, value):
        if getattr(self, "_fixed", False):
            raise AttributeError(f"the TLBI handler writes mmu->{_FIELD_OF.get(name, name)}: nvtlbi models a "
                                 f"handler that only reads struct kvm_s2_mmu (no property or diff would see it)")
        object.__setattr__(self, name, value)


class SymMMU(ReadOnlyMmu):
    """struct kvm_s2_mmu: the era gives `mmu.vtcr` / `mmu.tlb_vtcr` their
    meaning (impl/eras.py); `guest_vtcr` and `host_vtcr` hold the values."""

    def __init__(self, env, index):
        self.env = env
        self.index = index
        self.kvm = env.kvm
        self.guest_vtcr = Word(u64, env.vtcr if index == 0 else z3.BitVec("s2off.tlb_vtcr", 64))
        self.pgt = SymPgt(env, index)
        self._fix()

    @property
    def host_vtcr(self):
        """The shadow S2's own VTCR_EL2 (host page size, input size); built on
        first read, inside the revision's run, where words are symbolic."""
        rest = z3.BitVec(f"mmu{self.index}.vtcr_unmodelled", 64)
        return stage2_vtcr(Word(u8, self.env.host_shift), Word(u8, self.env.ia_bits), Word(u64, rest))

    def unmap_range(self, start, size):
        self.env.unmaps.append((A_bv(start), A_bv(size), self.index))


def A_bv(w):
    return z3.BitVecVal(w.v, 64) if isinstance(w.v, int) else w.v


class SymEnv:
    def __init__(self, engine, case):
        self.engine, self.case = engine, case
        g, L = case.shift, case.level
        self.val = z3.BitVec("val", 64)
        self.vtcr = z3.BitVec("tlb_vtcr", 64)
        self.vcpu_vtcr = z3.BitVec("vcpu.VTCR_EL2", 64)
        self.vttbr = z3.BitVec("vcpu.VTTBR_EL2", 64)
        self.hcr = z3.BitVec("vcpu.HCR_EL2", 64)
        self.feat = z3.Bool("feat_ttl")
        self.host_ttl = z3.Bool("host_ttl")
        self.s2off_exists = z3.Bool("s2off_exists")
        self.lpa2 = z3.Bool("lpa2")
        self.host_shift = z3.BitVec("host_shift", 8)
        self.ia_bits = z3.BitVec("shadow.ia_bits", 8)
        self.ipa = A.operand_ipa(self.val)
        self.ttl = A.operand_ttl(self.val)
        # T's level: the case's, or (level None: diffs) any leaf level
        self.T_level = A.lvl(L) if L is not None else z3.BitVec("T.level", A.LVL)
        self.T_size = z3.BitVecVal(G.level_size(g, L), 64) if L is not None else A.level_size(g, self.T_level)
        self.T_base = A.align_down(self.ipa, self.T_size)
        self.probes, self.unmaps, self.warnings = [], [], []
        self.bug = None

        assume = engine.assume
        assume(CASE, hint_fact(case.hint, self.ttl, self.feat, self.lpa2, g, self.T_level))
        assume(CASE, z3.Or([self.host_shift == s for s in G.GRANULES.values()]))
        assume(NO_LPA2, z3.Not(self.lpa2))
        assume(GRANULE_ORDER, z3.ULE(self.host_shift, g))
        assume(VTCR_STABLE, A.tg0_means(g, self.vtcr))
        assume(VTCR_CURRENT, A.tg0(self.vcpu_vtcr) == A.tg0(self.vtcr))
        assume(LEAF_LEVEL, A.is_leaf_level(g, self.T_level, self.lpa2))
        assume(GET_LEAF_RANGE, z3.And(z3.UGE(self.ia_bits, 32), z3.ULE(self.ia_bits, 52)))
        self.ia_limit = z3.BitVecVal(1, 64) << z3.ZeroExt(56, self.ia_bits)
        self.kvm = SymKVM(self)
        self.vcpu = SymVCPU(self)
        self.mmus = [SymMMU(self, 0)]
        # What the shadow S2 holds at the IPA aligned down to each block size
        # of the guest granule (its page first), whether or not the revision
        # looks there: P5 speaks of it.  These reads' facts join every later
        # probe's; they are not the revision's probes.  Made only when P5 is
        # asked for (engine.seeds): they cost every later probe a few facts.
        self.seeds = []
        sizes = sorted(G.level_size(g, l) for l in G.guest_leaf_levels(g)) if engine.seeds else []
        for size in sizes:
            p = self._new_probe(A.align_down(self.ipa, z3.BitVecVal(size, 64)), 0, f"seed{size:#x}")
            self.seeds.append((size, p))

    def s2off_mmu(self):
        if len(self.mmus) == 1:
            self.mmus.append(SymMMU(self, 1))
        return self.mmus[1]

    def obliged(self):
        return A.obliged(self.ttl, self.feat, self.lpa2, self.case.shift, self.T_level)

    def probe(self, addr, mmu=0):
        """kvm_pgtable_get_leaf at addr in MMU `mmu`: fresh answers, constrained."""
        p = self._new_probe(A_bv(addr), mmu, f"probe{len(self.probes)}")
        self.probes.append(p)
        return Word(s32, p.ret), Word(u64, p.pte), Word(s32, z3.SignExt(32 - A.LVL, p.hlevel))

    def _known(self):
        """Every shadow-S2 read so far: the seeds, then the revision's probes."""
        return [p for _, p in getattr(self, "seeds", [])] + self.probes

    def _new_probe(self, a, mmu, name):
        key = ("probe", mmu, tuple((q.mmu, q.addr.get_id()) for q in self._known()), a.get_id())
        hit = self.engine.memo.get(key)
        if hit is None:
            p = Probe(mmu, a, z3.BitVec(f"{name}.ret", 32), z3.BitVec(f"{name}.pte", 64),
                      z3.BitVec(f"{name}.hlevel", A.LVL), z3.BitVec(f"{name}.clevel", A.LVL))
            hit = self.engine.memo[key] = (p, self._probe_facts(p), key)
        p, facts, _ = hit
        for fact_name, fact in facts:
            self.engine.assume(fact_name, fact)
        return p

    def _probe_facts(self, p):
        """What the environment knows about probe p, given the earlier ones."""
        g, a, mmu = self.case.shift, p.addr, p.mmu
        out = []
        assume = lambda name, fact: out.append((name, fact))
        hsize = p.hsize = A.host_leaf_size(self.host_shift, p.hlevel)
        csize = p.csize = A.level_size(g, p.clevel)
        cbase = p.cbase = A.align_down(a, csize)
        tagged = p.tagged
        assume(GET_LEAF_RET, z3.Or(p.ret == 0, p.ret == -ERANGE))
        assume(GET_LEAF_RANGE, (p.ret == 0) == z3.ULT(a, self.ia_limit))
        assume(INVALID_UNTAGGED, z3.Implies(z3.And(p.ret == 0, z3.Not(p.valid)), p.tag == 0))
        assume(CASE, A.is_host_leaf_level(self.host_shift, p.hlevel))
        if mmu == 1:
            # the S2-off context: shadow leaves made without a guest translation
            assume(S2OFF_UNTAGGED, z3.Implies(z3.And(p.ret == 0, p.valid), p.tag == 0))
        else:
            assume(LEAF_TAGGED, z3.Implies(z3.And(p.ret == 0, p.valid, z3.Not(self.lpa2)), p.tag != 0))
            assume(TAG_TRUTH, z3.Implies(tagged, z3.And(p.clevel == z3.ZeroExt(A.LVL - 2, p.tag),
                                                           z3.ULE(hsize, csize))))
            assume(LEAF_LEVEL, z3.Implies(tagged, A.is_leaf_level(g, p.clevel, self.lpa2)))
            # bbm: this translation and T, or an earlier probe's, are equal or disjoint
            assume(BBM, z3.Implies(z3.And(tagged, overlap(cbase, csize, self.T_base, self.T_size)),
                                     z3.And(p.clevel == self.T_level, cbase == self.T_base)))
        if mmu == 0 and self.engine.on(INVALID_TAG_TRUTH):
            invalid_tag_facts(self, p, assume)
        for q in self._known():
            if q.mmu != mmu:
                continue
            if mmu == 0:
                assume(BBM, z3.Implies(z3.And(tagged, q.tagged, overlap(cbase, csize, q.cbase, q.csize)),
                                         z3.And(p.clevel == q.clevel, cbase == q.cbase)))
            same = z3.And(p.ret == q.ret, p.pte == q.pte, p.hlevel == q.hlevel, p.clevel == q.clevel)
            inside = z3.And(q.ret == 0, q.valid, A.align_down(a, q.hsize) == A.align_down(q.addr, q.hsize))
            assume(STABLE_PGT, z3.Implies(z3.Or(a == q.addr, inside), same))
        return out


def _annotated(p):
    """An invalid shadow entry carrying a level tag (invalidtags revisions)."""
    return z3.And(p.ret == 0, z3.Not(p.valid), p.tag != 0)


def _any_tag(p):
    return z3.Or(p.tagged, _annotated(p))


def invalid_tag_facts(env, p, assume):
    """Opt-in: tagged invalid entries obey what tag-truth, leaf-level and bbm
    say of tagged valid leaves (guarded by their own names, so dropping bbm
    still drops the bbm part).  `assume` collects them with the probe's
    other facts, which are memoised and re-asserted on every re-execution."""
    g = env.case.shift
    ann = _annotated(p)
    assume(INVALID_TAG_TRUTH, z3.Implies(ann, z3.And(p.clevel == z3.ZeroExt(A.LVL - 2, p.tag),
                                                        z3.ULE(p.hsize, p.csize))))
    assume(INVALID_TAG_TRUTH, z3.Implies(ann, A.is_leaf_level(g, p.clevel, env.lpa2)))
    assume(BBM, z3.Implies(z3.And(ann, overlap(p.cbase, p.csize, env.T_base, env.T_size)),
                             z3.And(p.clevel == env.T_level, p.cbase == env.T_base)))
    for q in env._known():
        if q.mmu == 0:
            assume(BBM, z3.Implies(z3.And(_any_tag(p), _any_tag(q), z3.Or(ann, _annotated(q)),
                                            overlap(p.cbase, p.csize, q.cbase, q.csize)),
                                     z3.And(p.clevel == q.clevel, p.cbase == q.cbase)))



def overlap(b1, s1, b2, s2):
    """[b1, b1+s1) and [b2, b2+s2) intersect (65-bit sums: no wraparound)."""
    b1, s1, b2, s2 = (z3.ZeroExt(1, x) for x in (b1, s1, b2, s2))
    return z3.And(z3.ULT(b1, b2 + s2), z3.ULT(b2, b1 + s1))
