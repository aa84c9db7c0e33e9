"""The NV machinery around the inference, concretely: the guest hypervisor's
stage 2 and KVM's walk of it, the VM and its shadow MMUs, and the shadow
fault path that builds shadow leaves tagged with the guest's level."""

from dataclasses import dataclass, field

from nvtlbi.impl import descriptor as D
from nvtlbi.impl import granule as G
from nvtlbi.impl.cint import UndefinedBehaviour, Word, convert, s32, s64, select, u8, u64
from nvtlbi.impl.eras import KvmS2Mmu
from nvtlbi.impl.kernel import kvm_s2_trans as kernel_s2_trans
from nvtlbi.impl.outcome import LockdepFailure
from nvtlbi.impl.pgtable import PageTable


@dataclass(frozen=True)
class Translation:
    """One guest stage-2 translation: what a TLB entry of the guest caches."""
    shift: int          # guest granule page shift
    level: int
    base: int           # IPA of the block
    oa: int             # output address of the block

    @property
    def size(self):
        return G.level_size(self.shift, self.level)

    def contains(self, addr):
        return self.base <= addr < self.base + self.size

    def overlaps(self, other):
        return self.base < other.base + other.size and other.base < self.base + self.size

    def __str__(self):
        return f"{G.name(self.shift)} L{self.level} [{self.base:#x}, {self.base + self.size:#x})"


@dataclass(frozen=True)
class Fault:
    kind: str           # "translation", "access" or "address size"
    level: int


class GuestS2:
    """The guest hypervisor's stage-2 tables for one nested VM."""

    def __init__(self, shift, lpa2=False):
        self.shift = shift
        self.lpa2 = lpa2
        self.pgt = PageTable(shift)
        self.vtcr = G.TG0_OF[shift] << 14 | (1 << 31)

    def map(self, ipa, level, oa):
        size = G.level_size(self.shift, level)
        self.pgt.set_entry(ipa & ~(size - 1), level, D.leaf(level, oa & ~(size - 1), size))

    def unmap(self, ipa, level):
        self.pgt.set_entry(ipa, level, 0)


def walk_nested_s2(guest, ipa):
    """KVM's software walk of the guest stage 2: a Translation, or a Fault.
    Blocks above the first block level (4K: 1, 16K/64K: 2; one lower with
    LPA2) are rejected, as are level-3 entries with bit 1 clear and AF=0."""
    d, level = guest.pgt.lookup(ipa)
    if not D.is_valid(d):
        return Fault("translation", level)
    if not D.is_leaf(d, level) or level not in G.guest_leaf_levels(guest.shift, guest.lpa2):
        return Fault("translation", level)
    if not d & D.AF:
        return Fault("access", level)
    size = G.level_size(guest.shift, level)
    return Translation(guest.shift, level, ipa & ~(size - 1), D.output_address(d, size))


class MMULock:
    def __init__(self):
        self.write_held = False

    def assert_held_write(self):
        if not self.write_held:
            raise LockdepFailure("lockdep: mmu_lock not held for write")

    def acquire_write(self):
        if self.write_held:         # a self-deadlock; lockdep reports recursive locking
            raise LockdepFailure("lockdep: mmu_lock taken twice")
        self.write_held = True

    def release_write(self):
        self.write_held = False


HCR_VM = 1


class VCPU:
    """The vCPU running the guest hypervisor: the EL2 registers it last wrote,
    its pending requests and the MMU it runs a nested guest on (arch.hw_mmu)."""

    def __init__(self, kvm, vtcr, vttbr=0x1000, hcr=HCR_VM):
        self.kvm = kvm
        self.sys_regs = {"VTCR_EL2": vtcr, "VTTBR_EL2": vttbr, "HCR_EL2": hcr}
        self.requests = set()
        self.arch = VcpuArch()

    def read_sys_reg(self, reg):
        return Word(u64, self.sys_regs[reg])


class VcpuArch:
    def __init__(self):
        self.hw_mmu = None


class Atomic:
    """atomic_t: its counter."""

    def __init__(self, counter=0):
        self.counter = Word(s32, counter)


class VM:
    """struct kvm, as far as the TLBI path sees it."""

    def __init__(self, feat_ttl=True, host_ttl=True):
        self.mmu_lock = MMULock()
        self.feat_ttl = feat_ttl          # ID_AA64MMFR2_EL1.TTL as the VM sees it
        self.host_ttl = host_ttl          # the host CPU has FEAT_TTL (ARM64_HAS_ARMv8_4_TTL)
        self.mmus = []
        self.vcpu = None
        self.producer = None              # the fault path's producer (None: the bundled `fault`)
        self.unmap_producer = None        # the unmap's producer (None: the bundled `unmap`)
        self.mmu_producer = None          # the MMU lifecycle's producer (None: the bundled `mmu`)
        self.nested_mmus_next = 0         # kvm->arch.nested_mmus_next

    def has_feat(self, reg, fld, val):
        assert (reg, fld, val) == ("ID_AA64MMFR2_EL1", "TTL", "IMP"), (reg, fld, val)
        return Word(s32, int(self.feat_ttl))

    def lookup_s2_mmu(self, vttbr, hcr):
        for mmu in self.mmus:
            if mmu.vttbr == int(vttbr) and mmu.s2_enabled == bool(int(hcr) & HCR_VM):
                return mmu
        return None

    def mmus_by_vmid(self, vmid):
        return [m for m in self.mmus if (m.vttbr >> 48) == int(vmid)]

    @property
    def arch(self):
        """struct kvm_arch: the shadow MMUs as kvm->arch.nested_mmus[]."""
        return KvmArch(self)


class KvmArch:
    """kvm->arch as the range path reads it: nested_mmus[i] and its size."""

    def __init__(self, vm):
        self.__dict__["vm"] = vm
        self.nested_mmus = _MmuArray(vm.mmus)
        self.nested_mmus_size = Word(s32, len(vm.mmus))

    @property
    def nested_mmus_next(self):
        return Word(s32, self.vm.nested_mmus_next)

    @nested_mmus_next.setter
    def nested_mmus_next(self, value):
        self.vm.nested_mmus_next = int(value)


class _MmuArray:
    """kvm->arch.nested_mmus[i] for a C int index (concrete)."""

    def __init__(self, mmus):
        self.mmus = mmus

    def __getitem__(self, i):
        # past either end: a read outside the kvm_s2_mmu array, undefined in C
        if not 0 <= int(i) < len(self.mmus):
            raise UndefinedBehaviour(f"kvm->arch.nested_mmus[{int(i)}] read outside the array of {len(self.mmus)}")
        return self.mmus[int(i)]


# VTCR_EL2 fields kvm_get_vtcr sets the same way for every stage 2: RES1
# (bit 31), SH0 inner shareable, ORGN0/IRGN0 write-back.  TG0 and T0SZ follow
# the host's page size and the stage 2's input size.  The other fields (SL0,
# PS, VS, HA, ...) are not modelled: 0 here, unconstrained in the symbolic
# environment, so a revision that reads them cannot be proved on a guess.
VTCR_FIXED = (1 << 31) | (3 << 12) | (1 << 10) | (1 << 8)
VTCR_MODELLED = (1 << 31) | 0xFFFF & ~(3 << 6)     # RES1, TG0, SH0, ORGN0, IRGN0, T0SZ (not SL0)


def stage2_vtcr(page_shift, ia_bits, rest=0):
    """VTCR_EL2 of a shadow stage 2 as kvm_init_ipa_range sets mmu->vtcr
    (kvm_get_vtcr(mmfr0, mmfr1, phys_shift)): concrete or symbolic words.
    `rest` supplies the fields that are not modelled."""
    page_shift, ia_bits = convert(page_shift, u8), convert(ia_bits, u8)
    tg0 = select(page_shift == 12, u64(G.TG0_OF[12]), select(page_shift == 14, u64(G.TG0_OF[14]),
                                                              u64(G.TG0_OF[16])))
    t0sz = u64(64) - u64(ia_bits)
    return (u64(VTCR_FIXED) | tg0 << 14 | t0sz) | (u64(rest) & ~u64(VTCR_MODELLED))


@dataclass
class ShadowMMU(KvmS2Mmu):
    """struct kvm_s2_mmu for one guest stage-2 context.  Revisions read its
    fields by their kernel names (`mmu.tlb_vtcr`, `mmu.vtcr`), whose meaning
    depends on the era (impl/eras.py); our own code reads `guest_vtcr` and
    `host_vtcr`, which do not."""
    kvm: VM
    guest_vtcr: Word
    pgt: PageTable
    origin: dict = field(default_factory=dict)     # (base, size) -> Translation
    unmapped: list = field(default_factory=list)   # ranges unmapped by TLBIs
    vttbr: int = 0x1000
    s2_enabled: bool = True
    keep_invalid_tags: bool = False    # the invalidtags fault/unmap path (off: today's KVM)
    free: bool = False                 # a free (recycled) MMU: CnP set in tlb_vttbr (kvm_s2_mmu_valid)
    refcnt: Atomic = field(default_factory=Atomic)     # vCPUs running on it
    pending_unmap: bool = False        # recycled: to be emptied before any vCPU runs on it

    @property
    def guest_vttbr(self):
        """mmu->tlb_vttbr: the guest VTTBR_EL2 it caches, CnP set when free."""
        return Word(u64, self.vttbr | (1 if self.free else 0))

    @guest_vttbr.setter
    def guest_vttbr(self, value):
        v = int(value)
        self.vttbr, self.free = v & ~1, bool(v & 1)

    @property
    def nested_stage2_enabled(self):
        return self.s2_enabled

    @nested_stage2_enabled.setter
    def nested_stage2_enabled(self, value):
        self.s2_enabled = bool(value)

    @property
    def host_vtcr(self):
        """The VTCR_EL2 KVM programs for this shadow stage 2 itself."""
        return stage2_vtcr(self.pgt.shift, self.pgt.ia_bits)

    def unmap_range(self, start, size):
        start, size = int(start), int(size)
        self.unmapped.append((start, size))
        run_unmap(self, start, size)
        if self.keep_invalid_tags:
            # a TLBI that removes a guest block removes its annotation too,
            # so a later remap by the guest cannot meet a stale one
            self.pgt.clear_annotations(start, size)

    def shadow_leaves(self):
        """Valid shadow leaves as (base, size, level, pte, origin Translation)."""
        for base, size, level, d in self.pgt.leaves():
            yield base, size, level, d, self.origin.get((base, size))


def new_mmu(vm, guest, host_shift, s2_enabled=True, keep_invalid_tags=False, ia_bits=48):
    """A shadow MMU for the guest's stage 2 (or, s2_enabled=False, the
    context used while the guest runs with its stage 2 off).  The first MMU
    also creates the vCPU, whose VTCR_EL2 is the guest's."""
    mmu = ShadowMMU(vm, Word(u64, guest.vtcr), PageTable(host_shift, ia_bits), s2_enabled=s2_enabled,
                    keep_invalid_tags=keep_invalid_tags)
    vm.mmus.append(mmu)
    if vm.vcpu is None:
        vm.vcpu = VCPU(vm, guest.vtcr)
    return mmu


def handle_s2_off_fault(mmu, ipa, vma_pagesize=None, producer=None):
    """A fault in the stage-2-off context: IPA maps 1:1, and the producer
    runs with no guest translation (nested == NULL), so no level is encoded."""
    if mmu.pgt.leaf(ipa) is not None:
        return None
    _produce(mmu, ipa, None, _memslot(mmu, vma_pagesize or (1 << mmu.pgt.shift), False), False, 0, producer)
    return mmu.pgt.leaf(ipa)[0]


class Memslot:
    """What the host's side of a fault answers (impl/producers/fault.py's
    inputs): the backing size the VMA part settled on, whether logging forces
    pages, and what transparent_hugepage_adjust finds (a THP: PMD_SIZE)."""

    def __init__(self, vma_pagesize, force_pte=False, thp=False, pmd_size=0, page_size=0):
        self.vma_pagesize = Word(u64, vma_pagesize)
        self.force_pte = force_pte
        self._thp = pmd_size if thp else page_size

    def thp_size(self):
        return self._thp


def _memslot(mmu, vma_pagesize, force_pte, thp=False):
    """The backing of a shadow fault: `vma_pagesize` (default: a PUD), never
    a block above the shadow S2's start level (a 32-bit IPA size on 4K starts
    at level 2: fault_supports_stage2_huge_mapping declines a PUD there);
    force_pte: pages only."""
    shift = mmu.pgt.shift
    page, pmd = (G.level_size(shift, l) for l in (3, 2))
    size = min(vma_pagesize or G.level_size(shift, 1), G.level_size(shift, max(mmu.pgt.start, 1)))
    if force_pte:
        size = page
    return Memslot(size, force_pte, thp, pmd, page)


def s2_trans(trans, ipa):
    """struct kvm_s2_trans as walk_nested_s2_pgd fills it for a Translation."""
    out = kernel_s2_trans()
    out.output = Word(u64, trans.oa + (ipa - trans.base))
    out.block_size = Word(u64, trans.size)
    out.level = Word(s32, trans.level)
    return out


def run_unmap(mmu, start, size, producer=None):
    """kvm_pgtable_stage2_unmap of [start, start + size) on the shadow S2:
    the unmap producer (impl/producers/unmap.py) walks the concrete table."""
    from nvtlbi.impl.context import entered
    from nvtlbi.impl.kernel import ConcreteHooks
    p = producer if producer is not None else (mmu.kvm.unmap_producer or _bundled("unmap"))
    with entered(hooks=ConcreteHooks(page_shift=mmu.pgt.shift)):
        return int(p.call("kvm_pgtable_stage2_unmap", mmu.pgt, Word(u64, start), Word(u64, size)))


def load_hw_mmu(vcpu, producer=None):
    """Entering the nested guest (kvm_vcpu_load_hw_mmu, then the requests
    handled before the guest runs): get_s2_mmu_nested picks the MMU for the
    vCPU's VTTBR_EL2/VTCR_EL2/HCR_EL2, reusing or recycling one
    (impl/producers/mmu.py), and a pending unmap empties it.  Returns it."""
    from nvtlbi.impl.context import entered
    from nvtlbi.impl.kernel import ConcreteHooks
    vm = vcpu.kvm
    p = producer if producer is not None else (vm.mmu_producer or _bundled("mmu"))
    shift = vm.mmus[0].pgt.shift
    with entered(hooks=ConcreteHooks(page_shift=shift)):
        vm.mmu_lock.acquire_write()
        try:
            mmu = p.call("get_s2_mmu_nested", vcpu)
        finally:
            vm.mmu_lock.release_write()
        vcpu.arch.hw_mmu = mmu
        p.call("check_nested_vcpu_requests", vcpu)
    return mmu


def put_hw_mmu(vcpu):
    """kvm_vcpu_put_hw_mmu on a switch back to the guest hypervisor: the
    vCPU drops its reference (a VTCR_EL2 write happens only there)."""
    mmu = vcpu.arch.hw_mmu
    if mmu is not None:
        mmu.refcnt.counter = Word(s32, int(mmu.refcnt.counter) - 1)
    vcpu.arch.hw_mmu = None


def _bundled(kind):
    """The bundled producer of `kind`: loaded once per block that entered a
    dict for them (impl/context.py: World.producers), else loaded now."""
    from nvtlbi.impl import context, producers
    loaded = context.current().producers
    if loaded is None:
        return producers.load(kind)
    p = loaded.get(kind)
    if p is None:
        p = loaded[kind] = producers.load(kind)
    return p


def _produce(mmu, ipa, trans, memslot, perm, granule, producer):
    from nvtlbi.impl.context import entered
    from nvtlbi.impl.kernel import ConcreteHooks
    p = producer if producer is not None else (mmu.kvm.producer or _bundled("fault"))
    with entered(hooks=ConcreteHooks(page_shift=mmu.pgt.shift)):
        ret = p.user_mem_abort(mmu, Word(u64, ipa), None if trans is None else s2_trans(trans, ipa), memslot,
                               Word(s32, int(perm)), Word(s64, granule))
    return int(ret)


def handle_shadow_fault(mmu, guest, ipa, vma_pagesize=None, force_pte=False, thp=False, producer=None):
    """A nested-guest access to ipa with no shadow mapping: walk the guest S2
    and run the producer (impl/producers/fault.py: user_mem_abort's nested
    part), which maps a shadow leaf tagged with the guest level.  Returns the
    Translation used, a Fault for the guest, or None if already mapped."""
    if mmu.pgt.leaf(ipa) is not None:
        return None
    if ipa >> mmu.pgt.ia_bits:
        # beyond the VM's IPA size: kvm_handle_guest_abort injects an
        # address-size fault, no shadow leaf is made
        return Fault("address size", 0)
    trans = walk_nested_s2(guest, ipa)
    if isinstance(trans, Fault):
        return trans
    _produce(mmu, ipa, trans, _memslot(mmu, vma_pagesize, force_pte, thp), False, 0, producer)
    _record(mmu, ipa, trans)
    return trans


def handle_perm_fault(mmu, guest, ipa, vma_pagesize=None, thp=False, producer=None, force_pte=False):
    """A permission fault (a write, say) on the shadow leaf mapping ipa: the
    guest's translation allows it, so user_mem_abort runs with fault_is_perm
    and the granule of that leaf (relax its permissions, or remap; force_pte:
    dirty logging maps pages, so a write to a block remaps it).  None if
    no shadow leaf maps ipa; a Fault if the guest walk fails."""
    leaf = mmu.pgt.leaf(ipa)
    if leaf is None:
        return None
    trans = walk_nested_s2(guest, ipa)
    if isinstance(trans, Fault):
        return trans
    _produce(mmu, ipa, trans, _memslot(mmu, vma_pagesize, force_pte, thp), True, leaf[1], producer)
    _record(mmu, ipa, trans)
    return trans


def _record(mmu, ipa, trans):
    """The shadow leaf now mapping ipa caches `trans` (its origin)."""
    leaf = mmu.pgt.leaf(ipa)
    if leaf is None:
        return
    base, size = leaf[0], leaf[1]
    mmu.origin[(base, size)] = trans
    if mmu.keep_invalid_tags and size < trans.size:
        annotate_guest_block(mmu, trans)


def annotate_guest_block(mmu, trans):
    """The invalidtags fault path: make the shadow entry at the guest block's
    base carry its level even while nothing is mapped there, so the depth
    probe at that address finds it.  The entry is the deeper of where the
    walk stops and the largest host block inside the guest block, so it never
    reaches outside it.  Re-run after every fault, since mapping a smaller
    leaf under an annotated entry replaces it by a table."""
    d, level = mmu.pgt.lookup(trans.base)
    if D.is_leaf(d, level):
        return                          # a valid leaf there carries its own tag
    fit = max(l for l in G.host_leaf_levels(mmu.pgt.shift)
              if G.level_size(mmu.pgt.shift, l) <= trans.size) if trans.size >= (1 << mmu.pgt.shift) else 3
    mmu.pgt.annotate(trans.base, max(level, fit), trans.level & 3)
