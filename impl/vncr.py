"""The VNCR pseudo-TLB (FEAT_NV2), concretely: per vCPU, KVM caches one
translation of the guest hypervisor's VNCR_EL2 page (`struct vncr_tlb`,
nested.c, N3_nested_96575923.txt:20): the guest EL2&0 stage-1 walk of the VA
(gva, wi.pgshift, wr.level, wr.pa = the IPA, wr.nG, wr.asid) and the host
page backing that IPA (hpa), mapped in a per-CPU fixmap slot while cpu != -1.

What may invalidate it (the op `vncr`): the guest's TLBIs for the EL2&0
regime (kvm_handle_s1e2_tlbi -> compute_s1_tlbi_range -> invalidate_vncr_va)
and KVM's own unmapping of the VM's IPA space (kvm_nested_s2_unmap /
kvm_nested_s2_wp -> kvm_invalidate_vncr_ipa, the MMU-notifier path).

What the architecture obliges (model-free, z3-free; `obliged` below), ARM DDI
0487 M.a.a J1.1.3.449 TLBIMatch, J1.1.3.451 TLBIRange, J1.1.3.446/447:
- TLBI VA (VAE2*, VALE2*; VAE1* from vEL2 with {E2H,TGE}={1,1}): the entry
  matches if VA<55:bs> == gva<55:bs> (bs: log2 of its block size), its ASID
  equals the operand's or it is global (nG=0), and the TTL is reserved/no
  information or names its granule and level (ResTLBITTL).
- TLBI VAA (VAAE1*, VAALE1*): the same without the ASID.
- TLBI ASID (ASIDE1*): a non-global entry with that ASID.
- TLBI ALL (ALLE2*, VMALLE1* under {1,1}): every EL2/EL2&0 entry (relax_regime).
- TLBI RVA / RVAA: TG names its granule (TG=00: nothing), the 2-bit TTL is
  reserved (ResTLBIRTTL) or names its level, the ASID as for VA (RVA), and its
  block [start, end] overlaps [base, end_address) compared on bits <55:0>; the
  base is BaseADDR sign-extended from Xt<36> (DS=1 or 64K: BaseADDR<52:16>), the
  end saturated on a carry into bit 52 (no FEAT_LVA3).
- The IPA path (not a guest TLBI): when KVM unmaps [start, end) of the VM's
  IPA space, an entry whose host page (the PAGE_SIZE page of wr.pa that hpa
  maps) overlaps it must go: KVM would otherwise keep a host page the VM no
  longer owns in a fixmap.

Named readings (explicit choices):
- `vhe-guest`: the guest hypervisor runs with HCR_EL2.E2H = 1, so the cached
  entry is of the EL2&0 regime (KVM walks it as TR_EL20) and has an ASID.
- `asid-as-written`: the ASID compare is on the 16 bits of operand and entry
  (with 8-bit ASIDs software writes the upper byte as 0: D8.17).
- `va48`: 48-bit VAs (no FEAT_LVA): gva is VNCR_EL2 sign-extended from bit 48
  (read_vncr_el2), so gva<55:49> repeats gva<48>.
- `s1-lpa2-blocks`: a 4K level-0 or 16K level-1 stage-1 block exists only with
  FEAT_LPA2 and TCR_EL2.DS = 1 (at.c walk_s1 accepts them with pa52bit since
  20250915114451.660351-9-maz@kernel.org); 64K level 1 needs a 52-bit PARange,
  which NV caps at 48 (N3:1552), so it is not a case.
"""

from dataclasses import dataclass, field

from nvtlbi.impl import context, kernel
from nvtlbi.impl import granule as G
from nvtlbi.impl.cint import UndefinedBehaviour, Word, s32, u8, u16, u64
from nvtlbi.impl.outcome import c_call
from nvtlbi.impl.tlbi_range import Caller

# The TLBI kinds of the op (its cases): kind -> (meaning, a representative
# instruction, the members routed to the same scope type by compute_s1_tlbi_range)
KINDS = {
    "va": ("TLBI by VA with ASID (VAE2IS; also VAE2*, VALE2*, VAE1*/VALE1* under {E2H,TGE}={1,1})",
           "OP_TLBI_VAE2IS"),
    "vaa": ("TLBI by VA, all ASIDs (VAAE1IS; VAAE1*, VAALE1*)", "OP_TLBI_VAAE1IS"),
    "asid": ("TLBI by ASID (ASIDE1IS; ASIDE1*)", "OP_TLBI_ASIDE1IS"),
    "all": ("TLBI ALL of the regime (ALLE2IS; ALLE2*, VMALLE1*)", "OP_TLBI_ALLE2IS"),
    "rva": ("range TLBI by VA with ASID (RVAE2IS; RVAE2*, RVALE2*, RVAE1*, RVALE1*)", "OP_TLBI_RVAE2IS"),
    "rvaa": ("range TLBI by VA, all ASIDs (RVAAE1IS; RVAAE1*, RVAALE1*)", "OP_TLBI_RVAAE1IS"),
    "ipa": ("KVM unmaps [start, end) of the VM's IPA space (kvm_invalidate_vncr_ipa: MMU notifier, "
            "kvm_nested_s2_unmap/wp)", None),
}
TLBI_KINDS = [k for k, (_, inst) in KINDS.items() if inst]


def inst_of(kind):
    return int(getattr(kernel, KINDS[kind][1]))


def s1_leaf_levels(shift):
    """Levels a guest EL2&0 stage-1 leaf may sit at (reading s1-lpa2-blocks)."""
    return {12: (0, 1, 2, 3), 14: (1, 2, 3), 16: (2, 3)}[shift]


def needs_lpa2(shift, level):
    return (shift, level) in ((12, 0), (14, 1))


# ---- the concrete world: vCPUs with their vncr_tlb --------------------------------
@dataclass
class S1WalkInfo:
    """struct s1_walk_info, the member read here (pgshift)."""
    pgshift: Word = field(default_factory=lambda: Word(u16, 12))


@dataclass
class S1WalkResult:
    """struct s1_walk_result, the members read here: pa (u64, the output IPA
    of the VA), level (s8), nG (bool), asid (u16)."""
    pa: Word = field(default_factory=lambda: Word(u64, 0))
    level: Word = field(default_factory=lambda: Word(u8, 3))
    nG: Word = field(default_factory=lambda: Word(u8, 0))
    asid: Word = field(default_factory=lambda: Word(u16, 0))


@dataclass
class VncrTlb:
    """struct vncr_tlb (N3:20): as kvm_translate_vncr leaves it (N3:1175)."""
    gva: Word = field(default_factory=lambda: Word(u64, 0))
    wi: S1WalkInfo = field(default_factory=S1WalkInfo)
    wr: S1WalkResult = field(default_factory=S1WalkResult)
    hpa: Word = field(default_factory=lambda: Word(u64, 0))
    cpu: Word = field(default_factory=lambda: Word(s32, -1))
    valid: object = False


class NullVncrTlb:
    """vcpu->arch.vncr_tlb of a vCPU that has not run yet: NULL until
    kvm_arch_vcpu_run_pid_change calls kvm_vcpu_allocate_vncr_tlb.  False as a
    condition (`if (!vt)`); dereferencing it is a NULL dereference."""

    def __bool__(self):
        return False

    def __getattr__(self, name):
        raise UndefinedBehaviour(f"NULL pointer dereference: vt->{name} of a vCPU whose vncr_tlb is not "
                                 f"allocated (it has not run yet)")


@dataclass
class VcpuArch:
    vncr_tlb: object


class VncrVcpu:
    def __init__(self, kvm, vt):
        self.kvm, self.arch = kvm, VcpuArch(vt)


class _Pgt:
    def __init__(self, ia_bits):
        self.ia_bits = Word(u8, ia_bits)


class _Mmu:
    def __init__(self, ia_bits):
        self.pgt = _Pgt(ia_bits)


class _KvmArch:
    def __init__(self, ia_bits):
        self.mmu = _Mmu(ia_bits)


class VncrKvm:
    """The VM as the VNCR path reads it: its vCPUs, mmu_lock, FEAT_NV2."""

    def __init__(self, vts, ia_bits=40, nv2=True):
        from nvtlbi.impl.nested import MMULock
        self.mmu_lock = MMULock()
        self.nv2 = nv2
        self.arch = _KvmArch(ia_bits)
        self.vcpus = [VncrVcpu(self, vt if vt is not None else NullVncrTlb()) for vt in vts]

    def has_feat(self, reg, fld, val):
        if (reg, fld, val) != ("ID_AA64MMFR4_EL1", "NV_frac", "NV2_ONLY"):
            raise NotImplementedError(f"kvm_has_feat({reg}, {fld}, {val}) is not modelled")
        return Word(s32, int(self.nv2))


def cached(gva, shift, level, pa, nG=False, asid=0, cpu=-1, host_shift=12):
    """A valid vncr_tlb for the guest's VNCR_EL2 at gva, translated by a
    stage-1 leaf of (shift, level) to IPA pa (pa's offset in the block is gva's)."""
    hpa = (pa >> host_shift << host_shift) | (1 << 45)       # any host page; ours
    return VncrTlb(Word(u64, gva), S1WalkInfo(Word(u16, shift)),
                   S1WalkResult(Word(u64, pa), Word(u8, level), Word(u8, int(nG)), Word(u16, asid)),
                   Word(u64, hpa), Word(s32, cpu), True)


# ---- the architecture (model-free) -------------------------------------------------
MASK56 = (1 << 56) - 1


def _res_ttl(ttl, lpa2):
    """ResTLBITTL (J1.1.3.447): a reserved 4-bit TTL means 'any level'."""
    return (ttl >> 2) == 0 or ttl in (0b1000, 0b1100) or (ttl in (0b0100, 0b1001) and not lpa2)


def _res_rttl(tg, ttl, lpa2):
    """ResTLBIRTTL (J1.1.3.446)."""
    return ttl == 0 or (ttl == 1 and tg == 2 and not lpa2)


def tlbi_range(val, ds):
    """TLBIRange (J1.1.3.451): (valid, tg, start, end) as 64-bit values."""
    tg, scale, num = (val >> 46) & 3, (val >> 44) & 3, (val >> 39) & 31
    if tg == 0:
        return False, 0, 0, 0
    field_, top = val & ((1 << 37) - 1), (val >> 36) & 1
    lsb = 16 if (tg == 3 or ds) else {1: 12, 2: 14}[tg]
    start = (field_ << lsb) | ((((1 << 64) - 1) >> (lsb + 37) << (lsb + 37)) if top else 0)
    tg_bits = {1: 12, 2: 14, 3: 16}[tg]
    end = (start + ((num + 1) << (5 * scale + 1 + tg_bits))) & ((1 << 64) - 1)
    if (end >> 52) & 1 != (start >> 52) & 1:
        end = (((1 << 12) - 1) << 52 if (start >> 52) & 1 else 0) | ((1 << 52) - 1)
    return True, tg, start, end


def obliged(kind, val, vt, lpa2=False, ds=False, span=None, host_shift=12):
    """Must this TLBI (kind, operand val) or IPA unmap (span = (start, end))
    remove the cached entry vt?  (J1.1.3.449 with the entry's context.)"""
    shift, level = int(vt.wi.pgshift), int(vt.wr.level)
    gva, nG, asid = int(vt.gva), bool(int(vt.wr.nG)), int(vt.wr.asid)
    bs = G.level_shift(shift, level)
    tg = {12: 1, 14: 2, 16: 3}[shift]
    if kind == "ipa":
        start, end = span
        page = 1 << host_shift
        p = int(vt.wr.pa) & -page
        return start < p + page and p < end
    asid_ok = not nG or ((val >> 48) & 0xffff) == asid
    if kind == "all":
        return True
    if kind == "asid":
        return nG and ((val >> 48) & 0xffff) == asid
    if kind in ("va", "vaa"):
        ttl = (val >> 44) & 15
        ttl_ok = _res_ttl(ttl, lpa2) or ((ttl >> 2) == tg and (ttl & 3) == level)
        addr = (val & ((1 << 44) - 1)) << 12
        same = (addr & MASK56) >> bs == (gva & MASK56) >> bs
        return same and ttl_ok and (asid_ok or kind == "vaa")
    valid, rtg, start, end = tlbi_range(val, ds)
    if not valid or rtg != tg:
        return False
    ttl = (val >> 37) & 3
    if not (_res_rttl(rtg, ttl, lpa2) or ttl == level):
        return False
    e_start, e_end = (gva & ~((1 << bs) - 1)) & MASK56, (gva | ((1 << bs) - 1)) & MASK56
    return (asid_ok or kind == "rvaa") and (start & MASK56) <= e_end and (end & MASK56) > e_start


def ttl_scope(ttl, lpa2=False):
    """The VA span a 4-bit TTL lets a TLBI by VA reach, for precision (V5):
    the block the TTL names (any granule and level), never less than 1G,
    the span KVM uses when the TTL names none (reserved: 'any level')."""
    if _res_ttl(ttl, lpa2):
        return 1 << 30
    return max(1 << 30, G.level_size({1: 12, 2: 14, 3: 16}[ttl >> 2], ttl & 3))


def within(kind, val, vt, lpa2=False, ds=False, span=None):
    """May this invalidation drop the cached entry vt without being
    imprecise (V5)?  Never an entry of another ASID (a non-global one, for
    the TLBIs by ASID, VA or range with ASID), nor a global one for a TLBI by
    ASID (J1.1.3.449: neither matches); for a TLBI by VA (VAA), only an entry
    whose block overlaps the VA's ttl_scope-aligned span; for KVM's IPA
    unmap, only an entry whose stage-1 block at wr.pa overlaps [start, end)
    (what the entry translates; the host-page test of `obliged` is the
    least, this the most an unmap needs to drop).  TLBI ALL: anything;
    range TLBIs: the ASID alone (KVM may decode a range with another TG)."""
    shift, level = int(vt.wi.pgshift), int(vt.wr.level)
    gva, nG, asid = int(vt.gva), bool(int(vt.wr.nG)), int(vt.wr.asid)
    mask = (1 << G.level_shift(shift, level)) - 1
    op_asid = (val >> 48) & 0xffff
    if kind == "ipa":
        start, end = span
        pa = int(vt.wr.pa)
        return start <= pa | mask and pa & ~mask < end
    if kind == "all":
        return True
    if kind == "asid":
        return nG and op_asid == asid
    if kind in ("va", "rva") and nG and op_asid != asid:
        return False
    if kind in ("rva", "rvaa"):
        return True
    size = ttl_scope((val >> 44) & 15, lpa2)
    va = (val & ((1 << 37) - 1)) << 12
    va = (va | ((1 << 64) - 1) >> 49 << 49) if va >> 48 & 1 else va      # va48: sign-extended from bit 48
    lo = va & ~(size - 1)
    return (gva & ~mask) <= lo + size - 1 and lo <= gva | mask


# ---- the caller a vncr revision plugs into -------------------------------------------
def handle_default(rev, vcpu, val):
    """Our harness, not kernel code: the world says which invalidation
    happens (vcpu.vncr_event).  A TLBI goes to the revision's
    kvm_handle_s1e2_tlbi(vcpu, inst, val); the IPA path is KVM's unmap of
    [start, end) calling kvm_invalidate_vncr_ipa under mmu_lock for write, as
    kvm_nested_s2_unmap and kvm_nested_s2_wp do (N3:1058-1084)."""
    ev = vcpu.vncr_event
    if ev.kind == "ipa":
        kvm = vcpu.kvm
        kernel.write_lock(kvm.mmu_lock)
        try:
            return c_call(rev.module.kvm_invalidate_vncr_ipa, kvm, ev.start, ev.end)
        finally:
            kernel.write_unlock(kvm.mmu_lock)
    return c_call(rev.module.kvm_handle_s1e2_tlbi, vcpu, ev.inst, val)


CALLER = Caller("vncr", "nvtlbi_vncr_event", ("kvm_handle_s1e2_tlbi", "kvm_invalidate_vncr_ipa"),
                "nvtlbi.impl.revisions_vncr", handle_default,
                # callees first: what an audit of posted C translates (or adopts) and shows the origin of
                ("ttl_to_size", "pgshift_level_to_ttl", "decode_range_tlbi", "invalidate_vncr",
                 "kvm_invalidate_vncr_ipa", "invalidate_vncr_va", "tlbi_va_s1_to_va", "compute_s1_tlbi_range",
                 "kvm_handle_s1e2_tlbi"))


@dataclass
class Event:
    kind: str
    inst: object = None         # a u32 Word: the TLBI's sys_insn encoding
    start: object = None        # the IPA path's [start, end), u64 Words
    end: object = None


def run(kvm, kind, val, revision, span=(0, 0), host_shift=12):
    """One invalidation on the concrete VM with `revision`: the hooks (WARN_ONs
    and fixmap slots cleared).  vCPU 0 issues the TLBI."""
    hooks = kernel.ConcreteHooks(page_shift=host_shift)
    vcpu = kvm.vcpus[0]
    vcpu.vncr_event = Event(kind, Word(kernel.u32, inst_of(kind)) if kind != "ipa" else None,
                            Word(u64, span[0]), Word(u64, span[1]))
    try:
        with context.entered(hooks=hooks):
            revision.handle(vcpu, Word(u64, int(val)))
    finally:
        kvm.mmu_lock.write_held = False
    return hooks

