"""The symbolic world of the VNCR pseudo-TLB (op vncr): two vCPUs, the
issuer (allocated) and another whose vncr_tlb may still be NULL (it has not
run yet), each pseudo-TLB valid or not with a cached translation of the
case's (granule, S1 level); the invalidation is one of impl/vncr.KINDS, chosen
by the harness before the revision runs (so the revision sees the trapped
instruction as the constant it is), with its operand or IPA range symbolic.
The architecture's obligation in Z3 mirrors impl/vncr.obliged."""

import z3

from nvtlbi.impl import granule as G
from nvtlbi.impl import kernel
from nvtlbi.impl import vncr as V
from nvtlbi.impl.cint import Word, s32, u8, u16, u64
from nvtlbi.model.assumptions import CASE
from nvtlbi.model.env import Case, SymLock

N_VCPUS = 2
KIND_NAMES = list(V.KINDS)


class SymVt:
    """One vCPU's struct vncr_tlb, fields as Words over Z3 terms."""

    def __init__(self, env, j):
        g = env.case.shift
        self.valid0 = z3.BitVec(f"vt{j}.valid", 8)
        self.gva0 = z3.BitVec(f"vt{j}.gva", 64)
        self.pa0 = z3.BitVec(f"vt{j}.wr.pa", 64)
        self.nG0 = z3.BitVec(f"vt{j}.wr.nG", 8)
        self.asid0 = z3.BitVec(f"vt{j}.wr.asid", 16)
        self.cpu0 = z3.BitVec(f"vt{j}.cpu", 32)
        self.valid = Word(u8, self.valid0)
        self.gva = Word(u64, self.gva0)
        self.hpa = Word(u64, z3.BitVec(f"vt{j}.hpa", 64))
        self.cpu = Word(s32, self.cpu0)
        self.wi = V.S1WalkInfo(Word(u16, g))
        self.wr = V.S1WalkResult(Word(u64, self.pa0), Word(u8, env.level), Word(u8, self.nG0), Word(u16, self.asid0))
        for f in env.memo(("vt-facts", j), lambda: self._facts(env)):
            env.engine.assume(CASE, f)
        object.__setattr__(self, "_fixed", True)

    def __setattr__(self, name, value):
        # the invalidation writes vt->valid only (invalidate_vncr); any other
        # field is state no property or diff compares, and the second
        # revision of a diff would run on the first one's write: refused
        if getattr(self, "_fixed", False) and name != "valid":
            raise AttributeError(f"the invalidation writes vt->{name}: nvtlbi models one that writes only "
                                 f"vt->valid (no property or diff would see it)")
        object.__setattr__(self, name, value)

    def _facts(self, env):
        g = env.case.shift
        # what kvm_translate_vncr leaves (N3:1175): VNCR_EL2 page-aligned (RES0
        # [11:0]) and sign-extended from bit 48 (read_vncr_el2, reading va48);
        # wr.pa keeps the VA's offset in the block; the IPA fits the PA size
        return [z3.And(z3.ULE(self.valid0, 1), z3.ULE(self.nG0, 1)),
                z3.Extract(11, 0, self.gva0) == 0,
                self.gva0 == z3.SignExt(15, z3.Extract(48, 0, self.gva0)),
                z3.And([z3.Implies(env.level_is(L), z3.Extract(G.level_shift(g, L) - 1, 0, self.pa0) ==
                                   z3.Extract(G.level_shift(g, L) - 1, 0, self.gva0)) for L in env.levels]),
                z3.ULT(self.pa0, z3.If(env.lpa2, z3.BitVecVal(1 << 52, 64), z3.BitVecVal(1 << 48, 64))),
                z3.Or(self.cpu0 == z3.BitVecVal(-1, 32), z3.ULT(self.cpu0, N_VCPUS))]

    def valid_after(self):
        v = self.valid
        if isinstance(v, bool):
            return z3.BoolVal(v)
        return v.v != 0


class _Arch:
    def __init__(self, env):
        self.mmu = type("mmu", (), {})()
        self.mmu.pgt = type("pgt", (), {})()
        self.mmu.pgt.ia_bits = Word(u8, 48)


class SymKvm:
    def __init__(self, env):
        self.env = env
        self.mmu_lock = SymLock(env)
        self.arch = _Arch(env)
        self.vcpus = []

    def has_feat(self, reg, fld, val):
        if (reg, fld, val) != ("ID_AA64MMFR4_EL1", "NV_frac", "NV2_ONLY"):
            raise NotImplementedError(f"kvm_has_feat({reg}, {fld}, {val}) is not modelled")
        return Word(s32, 1)         # the pseudo-TLB exists only with NV2 (kvm_vcpu_allocate_vncr_tlb)


class _VcpuArch:
    def __init__(self, env, j):
        self.env, self.j = env, j

    @property
    def vncr_tlb(self):
        env = self.env
        if self.j == 0 or env.engine.decide(env.alloc[self.j]):
            return env.vts[self.j]
        return V.NullVncrTlb()


class SymVcpu:
    def __init__(self, env, j):
        self.env, self.kvm, self.arch = env, env.kvm, _VcpuArch(env, j)

    @property
    def vncr_event(self):
        """Our harness's choice of invalidation (impl/vncr.handle_default):
        a fork over the kinds, so each path has a constant instruction."""
        env = self.env
        for i, k in enumerate(KIND_NAMES):
            if i == len(KIND_NAMES) - 1 or env.engine.decide(env.kind == i):
                inst = Word(kernel.u32, V.inst_of(k)) if k != "ipa" else None
                return V.Event(k, inst, Word(u64, env.start), Word(u64, env.end))


class VncrEnv:
    def __init__(self, engine, case):
        self.engine, self.case = engine, case
        a = engine.assume
        self.val = z3.BitVec("val", 64)
        self.kind = z3.BitVec("kind", 8)
        self.lpa2 = z3.Bool("vm.FEAT_LPA2")
        self.ds = z3.Bool("TCR_EL2.DS")
        self.host_shift = z3.BitVec("host_shift", 8)
        self.start = z3.BitVec("ipa.start", 64)
        self.end = z3.BitVec("ipa.end", 64)
        # the case's S1 level, or any level of the granule (a diff, case.level None)
        self.levels = V.s1_leaf_levels(case.shift) if case.level is None else (case.level,)
        self.level = case.level if case.level is not None else z3.BitVec("vt.wr.level", 8)
        self.alloc = [z3.BoolVal(True)] + [z3.Bool(f"vcpu{j}.vncr_tlb_allocated") for j in range(1, N_VCPUS)]
        self.warnings, self.fixmap_cleared = [], []
        self.bug = None
        for f in self.memo("facts", self._facts):
            a(CASE, f)
        self.kvm = SymKvm(self)
        self.vts = [SymVt(self, j) for j in range(N_VCPUS)]
        # the other vCPU is there for the allocation race (NULL until its first
        # run); its pseudo-TLB, when allocated, holds nothing (this halves the
        # paths; V1/V2 are stated per vCPU and vCPU 0's is any)
        for vt in self.vts[1:]:
            a(CASE, vt.valid0 == 0)
        self.kvm.vcpus = [SymVcpu(self, j) for j in range(N_VCPUS)]
        self.vcpu = self.kvm.vcpus[0]
        self.ipa = self.vts[0].gva0           # what a counterexample is minimised on

    def _facts(self):
        case, out = self.case, []
        out.append(z3.ULT(self.kind, len(KIND_NAMES)))
        if case.hint != "any":
            out.append(self.kind == KIND_NAMES.index(case.hint))
        out.append(z3.Implies(self.ds, self.lpa2))
        out.append(z3.Or([self.level_is(L) for L in self.levels]))
        for L in self.levels:
            if V.needs_lpa2(case.shift, L):
                out.append(z3.Implies(self.level_is(L), self.ds))     # reading s1-lpa2-blocks
        if case.shift == 16:
            out.append(z3.Not(self.ds))                # DS is RES0 with 64K
        out.append(z3.Or([self.host_shift == s for s in G.GRANULES.values()]))
        out.append(z3.ULT(self.start, self.end))
        # KVM unmaps whole host pages: the notifier's range and the posted
        # callers' [0, BIT(ia_bits)) are PAGE_SIZE-aligned
        hp = z3.BitVecVal(1, 64) << z3.ZeroExt(56, self.host_shift)
        out.append(z3.And(self.start & (hp - 1) == 0, self.end & (hp - 1) == 0))
        return out

    def memo(self, key, build):
        """A term built once per exploration: every path's setup names the
        same symbolic inputs, so the same terms (z3 hash-conses them); the
        engine's memo lives as long as the exploration (model/engine.py)."""
        key = ("vncr", self.case, key)
        hit = self.engine.memo.get(key)
        if hit is None:
            hit = self.engine.memo[key] = build()
        return hit

    def level_is(self, L):
        return z3.BoolVal(self.level == L) if isinstance(self.level, int) else self.level == L

    # ---- what a diff compares (model/equiv.py) -----------------------------------------
    def restart(self):
        """The state before the invalidation, for the next revision of a diff."""
        for vt in self.vts:
            vt.valid = Word(u8, vt.valid0)
        self.fixmap_cleared = []

    def state(self):
        """The pseudo-TLB state the invalidation leaves: each vCPU's entry
        valid or not, and whether its CPU's fixmap slot was cleared."""
        out = []
        for vt in self.vts:
            slot = z3.BitVecVal(kernel.FIX_VNCR, 32) - vt.cpu0
            out.append(vt.valid_after())
            out.append(z3.Or([getattr(i, "v", i) == slot for i in self.fixmap_cleared] or [z3.BoolVal(False)]))
        return out

    def case_fact(self, name):
        return z3.BoolVal(True) if name == "any" else self.kind == KIND_NAMES.index(name)

    # ---- the architecture (impl/vncr.obliged in Z3) ------------------------------------
    def obliged(self, vt=None):
        """Must the invalidation drop vt (default: the issuer's, when it
        holds a translation: what an obliged-only diff compares)?"""
        if vt is None:
            return z3.And(self.held(0), self.obliged(self.vts[0]))
        j = self.vts.index(vt)
        return self.memo(("obliged", j), lambda: z3.Or([z3.And(self.level_is(L), self._obliged_at(vt, L))
                                                         for L in self.levels]))

    def _obliged_at(self, vt, L):
        g = self.case.shift
        bs = G.level_shift(g, L)
        tg = {12: 1, 14: 2, 16: 3}[g]
        val, gva = self.val, vt.gva0
        op_asid = z3.Extract(63, 48, val)
        ng = vt.nG0 == 1
        asid_ok = z3.Or(z3.Not(ng), op_asid == vt.asid0)
        ttl = z3.Extract(47, 44, val)
        res = z3.Or(z3.Extract(3, 2, ttl) == 0, ttl == 8, ttl == 12, z3.And(z3.Or(ttl == 4, ttl == 9),
                                                                             z3.Not(self.lpa2)))
        ttl_ok = z3.Or(res, ttl == (tg << 2 | L))
        addr = z3.ZeroExt(20, z3.Extract(43, 0, val)) << 12
        same = z3.Extract(55, bs, addr) == z3.Extract(55, bs, gva)
        va = z3.And(same, ttl_ok, asid_ok)
        vaa = z3.And(same, ttl_ok)
        # range (TLBIRange J1.1.3.451)
        rtg, ttl2 = z3.Extract(47, 46, val), z3.Extract(38, 37, val)
        rres = z3.Or(ttl2 == 0, z3.And(ttl2 == 1, rtg == 2, z3.Not(self.lpa2)))
        rttl_ok = z3.Or(rres, ttl2 == L)
        field = z3.SignExt(27, z3.Extract(36, 0, val))
        tg_bits = g
        start = field << tg_bits if g == 16 else z3.If(self.ds, field << 16, field << tg_bits)
        num = z3.ZeroExt(59, z3.Extract(43, 39, val))
        scale = z3.ZeroExt(62, z3.Extract(45, 44, val))
        end0 = start + ((num + 1) << (scale * 5 + 1 + tg_bits))
        ones52 = z3.BitVecVal((1 << 52) - 1, 64)
        sat = z3.If(z3.Extract(52, 52, start) == 1, z3.BitVecVal(((1 << 12) - 1) << 52, 64) | ones52, ones52)
        end = z3.If(z3.Extract(52, 52, end0) != z3.Extract(52, 52, start), sat, end0)
        mask = z3.BitVecVal((1 << bs) - 1, 64)
        e_start, e_end = gva & ~mask, gva | mask
        overlap = z3.And(z3.ULE(z3.Extract(55, 0, start), z3.Extract(55, 0, e_end)),
                         z3.UGT(z3.Extract(55, 0, end), z3.Extract(55, 0, e_start)))
        rvaa = z3.And(rtg == tg, rttl_ok, overlap)
        rva = z3.And(rvaa, asid_ok)
        page = z3.BitVecVal(1, 64) << z3.ZeroExt(56, self.host_shift)
        p = vt.pa0 & ~(page - 1)
        ipa = z3.And(z3.ULT(self.start, p + page), z3.ULT(p, self.end))
        by = {"va": va, "vaa": vaa, "asid": z3.And(ng, op_asid == vt.asid0), "all": z3.BoolVal(True),
              "rva": rva, "rvaa": rvaa, "ipa": ipa}
        return z3.Or([z3.And(self.kind == i, by[k]) for i, k in enumerate(KIND_NAMES)])

    def within(self, vt):
        """May the invalidation drop vt without being imprecise (V5)?
        impl/vncr.within in Z3."""
        j = self.vts.index(vt)
        return self.memo(("within", j), lambda: z3.Or([z3.And(self.level_is(L), self._within_at(vt, L))
                                                        for L in self.levels]))

    def _within_at(self, vt, L):
        g = self.case.shift
        mask = z3.BitVecVal((1 << G.level_shift(g, L)) - 1, 64)
        val, gva = self.val, vt.gva0
        ng, asid_eq = vt.nG0 == 1, z3.Extract(63, 48, val) == vt.asid0
        asid_ok = z3.Or(z3.Not(ng), asid_eq)
        ipa = z3.And(z3.ULE(self.start, vt.pa0 | mask), z3.ULT(vt.pa0 & ~mask, self.end))
        ttl = z3.Extract(47, 44, val)
        res = z3.Or(z3.Extract(3, 2, ttl) == 0, ttl == 8, ttl == 12, z3.And(z3.Or(ttl == 4, ttl == 9),
                                                                             z3.Not(self.lpa2)))
        size = z3.BitVecVal(1 << 30, 64)
        for t in range(4, 16):
            if t in (8, 12):
                continue
            named = max(1 << 30, G.level_size({1: 12, 2: 14, 3: 16}[t >> 2], t & 3))
            size = z3.If(z3.And(z3.Not(res), ttl == t), z3.BitVecVal(named, 64), size)
        va = z3.SignExt(15, z3.Concat(z3.Extract(36, 0, val), z3.BitVecVal(0, 12)))
        lo = va & ~(size - 1)
        va_ok = z3.And(z3.ULE(gva & ~mask, lo + size - 1), z3.ULE(lo, gva | mask))
        by = {"va": z3.And(asid_ok, va_ok), "vaa": va_ok, "asid": z3.And(ng, asid_eq), "all": z3.BoolVal(True),
              "rva": asid_ok, "rvaa": z3.BoolVal(True), "ipa": ipa}
        return z3.Or([z3.And(self.kind == i, by[k]) for i, k in enumerate(KIND_NAMES)])

    def held(self, j):
        """vt j exists and caches a translation before the invalidation."""
        return z3.And(self.alloc[j], self.vts[j].valid0 == 1)


def new_case(shift, level, hint):
    return Case(shift, level, hint)
