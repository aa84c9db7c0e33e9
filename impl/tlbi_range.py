"""TLBI RIPAS2E1* (range) emulation, concretely: the operand, the caller a
range revision plugs into, and the architecture's range (what must be
removed: impl/oracle_range below is model-free and z3-free).

Operand (ARM DDI 0487 M.a.a C5.5.21; ../shared/ARCH_FACTS.md section 7):
TG [47:46] (00 reserved, 01 4K, 10 16K, 11 64K), SCALE [45:44], NUM [43:39],
TTL [38:37] (level hint), BaseADDR [36:0] in units of TG (VTCR_EL2.DS = 0,
the only layout an NV guest has: ARCH_FACTS.md 9).  The range is
[BaseADDR, BaseADDR + (NUM+1) * 2^(5*SCALE+1) * granule) (D8.17.5.2 IHKYNQ)."""

from dataclasses import dataclass
from typing import Any, Callable

from nvtlbi.impl import context, kernel
from nvtlbi.impl import granule as G
from nvtlbi.impl.cint import Word, u64
from nvtlbi.impl.outcome import c_call

TG_SHIFT = {1: 12, 2: 14, 3: 16}        # TG field value -> granule page shift (0: reserved)
TG_OF = {v: k for k, v in TG_SHIFT.items()}


def make_operand(base, tg, scale, num, ttl=0):
    """The Xt of a TLBI RIPAS2E1 for BaseADDR `base` (bytes, in units of TG's
    granule; for TG=0 the 64K unit KVM uses)."""
    shift = TG_SHIFT.get(tg, 16)
    return ((base >> shift) & ((1 << 37) - 1)) | (ttl & 3) << 37 | (num & 31) << 39 | (scale & 3) << 44 \
        | (tg & 3) << 46


@dataclass(frozen=True)
class Operand:
    tg: int
    scale: int
    num: int
    ttl: int
    baseaddr: int       # the field, in units of TG

    @staticmethod
    def of(val):
        val = int(val)
        return Operand((val >> 46) & 3, (val >> 44) & 3, (val >> 39) & 31, (val >> 37) & 3, val & ((1 << 37) - 1))

    @property
    def valid(self):
        """TG = 0b00 is reserved: TLBIRange (J1.1.3) returns invalid, no entry matches."""
        return self.tg != 0

    @property
    def shift(self):
        return TG_SHIFT[self.tg]

    @property
    def base(self):
        return self.baseaddr << self.shift

    @property
    def size(self):
        return (self.num + 1) << (5 * self.scale + 1) << self.shift

    def __str__(self):
        if not self.valid:
            return f"TG=0b00 (reserved) SCALE={self.scale} NUM={self.num} TTL={self.ttl}"
        return (f"TG={G.name(self.shift)} SCALE={self.scale} NUM={self.num} TTL={self.ttl}: "
                f"[{self.base:#x}, {self.base + self.size:#x})")


def ttl_reserved(shift, ttl, lpa2=False):
    """2-bit range TTL values treated as 'any level' (ResTLBIRTTL, J1.1.3.446):
    level 1 of 16K without LPA2 (ARCH_FACTS.md 7).  Named reading
    `rttl-64k-l1-any`: 64K level 1 has no leaf without 52-bit IPAs either, so
    TTL=01 there is read as no information too (the stricter reading: it
    excuses nothing)."""
    return ttl == 1 and shift in (14, 16) and not lpa2


def obliged(op, trans, lpa2=False):
    """Must the range TLBI remove a cached entry for guest translation
    `trans`?  When TG is valid and names its granule, the TTL does not name
    another level, and the entry's block overlaps the range, in part or in
    whole (TLBIOp_RIPAS2, J1.1.3.449: the whole entry is removed).
    Named reading `range-overlap-whole`: an entry overlapping the range only
    in part is removed whole, so every shadow leaf caching it must go."""
    if not op.valid or op.shift != trans.shift:
        return False                # another granule than TG: nothing required (J1.1.3.451)
    if op.ttl and not ttl_reserved(op.shift, op.ttl, lpa2) and op.ttl != trans.level:
        return False                # a level hint naming another level
    return trans.base < op.base + op.size and op.base < trans.base + trans.size


def stale_leaves(vm, val, vmid, lpa2=False):
    """Shadow leaves, on any in-use MMU of the VMID, that survive although
    the TLBI had to remove the guest translation they cache."""
    op = Operand.of(val)
    out = []
    for i, mmu in enumerate(vm.mmus):
        if mmu.free or (mmu.vttbr >> 48) != vmid:
            continue
        out += [(i, leaf) for leaf in mmu.shadow_leaves() if leaf[4] is not None and obliged(op, leaf[4], lpa2)]
    return out


def handle_ripas2e1is_default(rev, vcpu, val):
    raise kernel.KernelBug("a ripas2e1 revision must define handle_ripas2e1is")


@dataclass(frozen=True)
class Caller:
    """The impl/ side of an op (model/ops.py holds the registry): the handler
    a revision of the op defines, what it must define, where its bundled
    revisions are, and how our caller runs it when it defines only a part."""
    op: str
    handler: str
    required: tuple
    package: str            # the bundled revisions' package
    default: Callable[..., Any]     # default(revision, vcpu, val) when the handler is not defined
    functions: tuple = ()   # the kernel functions an audit shows the origin of (ipas2e1: the translator's)


CALLER = Caller("ripas2e1", "handle_ripas2e1is", ("handle_ripas2e1is",), "nvtlbi.impl.revisions_ripas2e1",
                handle_ripas2e1is_default,
                ("handle_ripas2e1is", "decode_range_tlbi", "kvm_s2_mmu_iterate_by_vmid", "s2_mmu_unmap_range"))


def run(vm, val, revision):
    """Emulate the guest's TLBI RIPAS2E1IS on the concrete VM with `revision`:
    the WARN_ONs it reached."""
    hooks = kernel.ConcreteHooks(host_caps={"ARM64_HAS_ARMv8_4_TTL"} if vm.host_ttl else (),
                                 page_shift=vm.mmus[0].pgt.shift if vm.mmus else 12)
    try:
        with context.entered(hooks=hooks):
            revision.handle(vm.vcpu, Word(u64, int(val)))
    finally:
        vm.mmu_lock.write_held = False
    return hooks.warnings
