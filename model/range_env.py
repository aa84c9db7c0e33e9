"""The symbolic world of a TLBI RIPAS2E1 (range): the operand, the guest's
VTTBR_EL2, several shadow MMUs (each with its own cached VTTBR: VMID, base
address, free or in use), and one cached guest translation C of the case's
(granule, level) on one of them, with a host page x of it that a shadow leaf
maps.  The range revision (impl/revisions_ripas2e1/) runs against it in the
same engine as IPAS2E1's; only its unmaps are recorded."""

import z3

from nvtlbi.impl import granule as G
from nvtlbi.impl.cint import UndefinedBehaviour, Word, s32, u8, u64
from nvtlbi.model import arch as A
from nvtlbi.model.assumptions import CASE, GET_LEAF_RANGE, GRANULE_ORDER
from nvtlbi.model.env import A_bv, ReadOnlyMmu, SymLock

N_MMUS = 2          # shadow MMUs in kvm->arch.nested_mmus: each may share the VMID or not, be free or not


class RangeCases:
    """The range op's cases of the operand, as seen by C (the 'hint'
    dimension of its matrix).  excuses: the TLBI need not remove C."""
    # name -> (meaning, excuses C, the arch range applies)
    CASES = {
        "nolevel": ("TG names C's granule; TTL 00 or a reserved level (any level)", False, True),
        "match": ("TG names C's granule; TTL names C's level", False, True),
        "otherlevel": ("TG names C's granule; TTL names another level (C excused)", True, True),
        "othertg": ("TG names another granule than C's (nothing required of C: J1.1.3.451)", True, False),
        "tg0": ("TG = 0b00, reserved (TLBIRange invalid: nothing required)", True, False),
    }
    NAMES = list(CASES)

    @staticmethod
    def fact(name, val, shift, level):
        tg, ttl = A.range_tg(val), A.range_ttl(val)
        mine = tg == {12: 1, 14: 2, 16: 3}[shift]
        nolevel = z3.Or(ttl == 0, A.range_ttl_reserved(ttl, shift))
        named = z3.And(ttl == z3.Extract(1, 0, level), z3.Not(nolevel))
        return {"nolevel": z3.And(mine, nolevel), "match": z3.And(mine, named),
                "otherlevel": z3.And(mine, z3.Not(nolevel), z3.Not(named)),
                "othertg": z3.And(tg != 0, z3.Not(mine)), "tg0": tg == 0, "any": z3.BoolVal(True)}[name]


class _Arch:
    def __init__(self, env):
        self.nested_mmus = env.mmus
        self.nested_mmus_size = Word(s32, len(env.mmus))


class RangeKVM:
    def __init__(self, env):
        self.env = env
        self.mmu_lock = SymLock(env)


class RangeVCPU:
    def __init__(self, env):
        self.env, self.kvm = env, env.kvm

    def read_sys_reg(self, reg):
        if reg != "VTTBR_EL2":
            raise NotImplementedError(f"vcpu_read_sys_reg({reg}) is not modelled for the range op")
        return Word(u64, self.env.vttbr)


class _RangePgt:
    """The shadow S2 as the range path sees it: never read (the range is
    the operand's), only its input size, which the unmap checks."""

    def __init__(self, env):
        self.env = env

    @property
    def ia_bits(self):
        """pgt->ia_bits: every shadow stage 2 takes the VM's IPA size."""
        return Word(u8, self.env.ia_bits)

    def get_leaf(self, addr):
        raise NotImplementedError("the range path reads no shadow S2 (kvm_pgtable_get_leaf is not modelled there)")


class RangeMMU(ReadOnlyMmu):
    def __init__(self, env, index):
        self.env, self.index, self.kvm = env, index, env.kvm
        self.guest_vttbr = Word(u64, z3.BitVec(f"mmu{index}.tlb_vttbr", 64))
        self.pgt = _RangePgt(env)
        self._fix()

    def unmap_range(self, start, size):
        self.env.unmaps.append((A_bv(start), A_bv(size), self.index))


class _MmuArray(list):
    def __getitem__(self, i):
        # the index is a concrete C int (the loop counts from 0); past either
        # end is a read outside the kvm_s2_mmu array, undefined in C
        if not 0 <= int(i) < len(self):
            raise UndefinedBehaviour(f"kvm->arch.nested_mmus[{int(i)}] read outside the array of {len(self)}")
        return list.__getitem__(self, int(i))


class RangeEnv:
    """What the range obligations speak of; `ipa` (for minimisation and
    reports) is the architectural base."""

    def __init__(self, engine, case):
        self.engine, self.case = engine, case
        g, L = case.shift, case.level
        self.val = z3.BitVec("val", 64)
        self.vttbr = z3.BitVec("vcpu.VTTBR_EL2", 64)
        self.host_shift = z3.BitVec("host_shift", 8)
        self.ia_bits = z3.BitVec("shadow.ia_bits", 8)
        self.host_ttl = z3.BoolVal(False)
        self.k = z3.BitVec("C.mmu", 8)                  # the MMU caching C
        self.C_level = A.lvl(L)
        self.C_size = z3.BitVecVal(G.level_size(g, L), 64)
        self.C_base = z3.BitVec("C.base", 64)
        self.x = z3.BitVec("x", 64)                     # a host page of C that a shadow leaf maps
        self.base, self.size = A.range_of(self.val, g)  # 65-bit
        self.ipa = z3.Extract(63, 0, self.base)
        self.unmaps, self.warnings, self.probes, self.seeds = [], [], [], []
        self.bug = None
        assume = engine.assume
        assume(CASE, RangeCases.fact(case.hint, self.val, g, self.C_level))
        assume(CASE, z3.Or([self.host_shift == s for s in G.GRANULES.values()]))
        assume(GRANULE_ORDER, z3.ULE(self.host_shift, g))
        assume(GET_LEAF_RANGE, z3.And(z3.UGE(self.ia_bits, 32), z3.ULE(self.ia_bits, 48)))
        self.ia_limit = z3.BitVecVal(1, 64) << z3.ZeroExt(56, self.ia_bits)
        page = self.page = z3.BitVecVal(1, 64) << z3.ZeroExt(56, self.host_shift)
        assume(CASE, z3.ULT(self.k, N_MMUS))
        assume(CASE, self.C_base & (self.C_size - 1) == 0)
        assume(CASE, z3.And(z3.ULE(self.C_base, self.x), z3.ULT(self.x - self.C_base, self.C_size),
                            self.x & (page - 1) == 0, z3.ULT(self.x, self.ia_limit)))
        self.kvm = RangeKVM(self)
        self.vcpu = RangeVCPU(self)
        self.mmus = _MmuArray(RangeMMU(self, i) for i in range(N_MMUS))
        self.kvm.arch = _Arch(self)

    # what the architecture says, per MMU
    def vmid(self, v):
        return z3.Extract(63, 48, v)

    def of_vmid(self, j):
        """MMU j is in use and caches the guest's current VMID."""
        t = self.mmus[j].guest_vttbr.v
        return z3.And(z3.Extract(0, 0, t) == 0, self.vmid(t) == self.vmid(self.vttbr))

    def case_fact(self, name):
        return RangeCases.fact(name, self.val, self.case.shift, self.C_level)

    def overlaps(self):
        """C's block overlaps the range (65-bit)."""
        cb, cs = z3.ZeroExt(1, self.C_base), z3.ZeroExt(1, self.C_size)
        return z3.And(z3.ULT(cb, self.base + self.size), z3.ULT(self.base, cb + cs))

    def obliged(self):
        """Where the architecture asks something of the unmapped ranges
        (what model/equiv.py's obliged-only diff compares): TG names C's
        granule, so the whole range must go (R1), whatever the TTL."""
        return self.tg_mine()

    def obliged_C(self):
        """Must the TLBI remove C?  In the cases that do not excuse it, when
        its block overlaps the range (reading range-overlap-whole)."""
        return z3.And(z3.Or(self.case_fact("nolevel"), self.case_fact("match")), self.overlaps())

    def tg_mine(self):
        """TG names C's granule: the architectural range applies."""
        return z3.Or([self.case_fact(n) for n, (_, _, applies) in RangeCases.CASES.items() if applies])
