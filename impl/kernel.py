"""The kernel vocabulary a revision is written in.

A revision module does `from nvtlbi.impl.kernel import *` and uses only these names,
spelled as in the kernel (arm64, the 2024 era: VTCR_EL2_TG0_* are the shifted
TCR values, the TTL gate is kvm_has_feat).  Every helper works on concrete
and symbolic words alike; the page table, the VM and the unmap are reached
through the objects passed in (`mmu`), so the same revision runs on a real
page table (impl/) or against the symbolic environment (model/).

C constructs and how they are written here (see docs/writing-a-revision.md):
  u64 x = e;               x = u64(e)           (the conversion is explicit)
  x |= e;                  x |= e               (keeps x's type, as in C)
  static u8 f(u64 a)       @kfunc def f(a: u64) -> u8   (args and return converted)
  kvm_pte_t pte; f(&pte)   pte = Ref(kvm_pte_t); f(pte); pte.val
  goto again;              a `while True:` loop around the label, `continue`
  switch (e) { case A: }   if/elif on e == A, `else:` for default
  mmu->tlb_vtcr            mmu.tlb_vtcr
  NULL                     NULL
"""

import functools
import inspect
import linecache
import re
import sys

from nvtlbi.impl import context as _context
from nvtlbi.impl import eras
from nvtlbi.impl.cint import CType, Word, as_word, convert, literal_type, s32, s64, select, u8, u16, u32, u64  # noqa: F401

# The names a revision of this era sees (`from nvtlbi.impl.kernel import *`): each
# has its meaning and source in impl/eras.py.  Other eras' vocabularies
# (impl.kernel_2020, _2023, _2026) take what they share from here.
ERA = "v2024"
__all__ = eras.names(ERA)

# ---- types -------------------------------------------------------------------
unsigned_int = u32
unsigned_long = u64
c_int = s32
kvm_pte_t = u64
phys_addr_t = u64


from nvtlbi.impl.cint import UndefinedBehaviour as _UndefinedBehaviour  # noqa: E402


class _Null:
    """C's NULL pointer: false as a condition (`if (!p)`), the same only as
    itself (`p == NULL`); a member read or written through it is undefined
    behaviour in C, and here an UndefinedBehaviour outcome (a verdict: a
    NULL dereference), not a Python AttributeError that nvtlbi could not
    tell from a fault of its own.  Python's protocol lookups (dunder names,
    e.g. copy's __deepcopy__) are not dereferences: AttributeError."""
    __slots__ = ()

    def __bool__(self):
        return False

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise _UndefinedBehaviour(f"NULL pointer dereference: ->{name} read")

    def __setattr__(self, name, value):
        raise _UndefinedBehaviour(f"NULL pointer dereference: ->{name} written")

    def __repr__(self):
        return "NULL"

    def __reduce__(self):
        return "NULL"           # pickles as this module's singleton


NULL = _Null()


from nvtlbi.impl import outcome as _outcome
from nvtlbi.impl.outcome import KernelBug, Uninitialised  # noqa: F401  (C outcomes: impl/outcome.py)


# ---- the world a revision runs in ----------------------------------------------
# Concrete and symbolic environments implement these hooks; the vocabulary
# below only calls them, through the current world (impl/context.py): the
# symbolic engine enters its hooks while it runs a revision, impl/tlbi.py a
# ConcreteHooks that records the WARN_ONs of one TLBI.
class ConcreteHooks:
    def __init__(self, host_caps=(), page_shift=12):
        self.warnings = []
        self.host_caps = set(host_caps)
        self.page_shift = page_shift      # the host's PAGE_SHIFT (granule of the shadow S2)
        self.fixmap_cleared = []          # clear_fixmap(idx) calls (the VNCR pseudo-TLB)

    def bug(self, where):
        raise KernelBug(where)

    def warn(self, where):
        self.warnings.append(where)

    def warn_if(self, cond, where):
        """A WARN_ON whose value the code ignores (the symbolic hooks record
        its condition instead of splitting the path on it)."""
        if cond:
            self.warn(where)

    def host_cap(self, cap):
        return Word(s32, int(cap in self.host_caps))

    def granule_size(self, level):
        bits = self.page_shift - 3
        return Word(u64, 1 << (self.page_shift + (3 - int(level)) * bits))

    def page_shift_word(self):
        return Word(s32, self.page_shift)

    def clear_fixmap(self, idx):
        self.fixmap_cleared.append(int(idx))


def _hooks():
    """The hooks of the current world; outside any run, fresh concrete ones
    (no host capability, 4K pages; a WARN_ON there is recorded nowhere)."""
    hooks = _context.current().hooks
    return ConcreteHooks() if hooks is None else hooks


# A statement of a revision translated from C ends with the file and line
# of the C it came from (nvtlbi/c/translator.py): a site is named by that,
# the user's own file:line, not by the translation's temporary .py file.
# That file is whatever the user gave: a .c, but as often a mail or a patch
# (.txt, .mbox, .patch, no extension at all); a path is told from other
# comments by its "." or "/" (a comment such as "bits [56:55]" is none).
_C_SITE = re.compile(r"#\s*(?:case |default |switch \()?([^\s:#()]*[./][^\s:#()]*):(\d+)\)?\s*$")


def c_site(text):
    """The C file:line a translated statement's source line names, or None."""
    m = _C_SITE.search(text.rstrip())
    return f"{m[1]}:{m[2]}" if m else None


def _caller():
    f = sys._getframe(2)
    name, line = f.f_code.co_filename, f.f_lineno
    return c_site(linecache.getline(name, line)) or f"{name}:{line}"


def BUG():
    _hooks().bug(_caller())


def WARN_ON(cond):
    if cond:
        _hooks().warn(_caller())
        return True
    return False


def WARN_ON_ONCE(cond):
    """WARN_ON that splats only the first time its site fires.  That
    suppression is host-log state across calls: a run here is one call, so
    every run is the first and the condition warns whenever it holds (the
    sound reading for "can this WARN fire")."""
    if cond:
        _hooks().warn(_caller())
        return True
    return False


def BUILD_BUG_ON(cond):
    """A compile-time check: a constant false compiles to nothing; a true or
    non-constant condition does not compile (the translator refuses it with
    file:line before anything runs)."""
    w = cond if isinstance(cond, Word) else convert(cond, s32)
    if w.symbolic or w.v != 0:
        raise TypeError(f"BUILD_BUG_ON({w!r}): the kernel would not compile")


# ---- branch hints (include/linux/compiler.h) ----------------------------------
def likely(x):
    """__builtin_expect(!!(x), 1): the value !!x, typed long as
    __builtin_expect's result is; the hint itself has no semantics."""
    return s64(1) if x else s64(0)


def unlikely(x):
    return s64(1) if x else s64(0)


# ---- bits and masks (include/linux/bits.h, bitfield.h) ---------------------
def BIT(n):
    return u64(1) << n


def BIT_ULL(n):
    return u64(1) << n


def GENMASK_ULL(h, l):
    return (~u64(0) << l) & (~u64(0) >> (63 - h))


GENMASK = GENMASK_ULL  # unsigned long is 64 bits on arm64


def _shift_of(mask):
    m = int(mask)
    if m == 0:
        raise ValueError("FIELD_GET/FIELD_PREP with an empty mask")
    return (m & -m).bit_length() - 1


def FIELD_GET(mask, reg):
    """(typeof(mask))((reg & mask) >> shift(mask)); mask must be a constant."""
    mask = mask if isinstance(mask, Word) else convert(mask, u64)
    return convert((reg & mask) >> _shift_of(mask), mask.ctype)


def FIELD_PREP(mask, val):
    """((typeof(_mask))(_val) << __bf_shf(_mask)) & (_mask)
    (include/linux/bitfield.h): val is converted to the mask's type first,
    then shifted, so FIELD_PREP(GENMASK_ULL(56, 55), level) with an int
    level shifts a u64, never an int by 55."""
    mask = mask if isinstance(mask, Word) else convert(mask, u64)
    return (convert(as_word(val), mask.ctype) << _shift_of(mask)) & mask


# ---- sizes (include/linux/sizes.h) ---------------------------------------------
# Up to SZ_2G these are bare hex literals, so C types them by value: int up
# to SZ_1G, unsigned int for SZ_2G (0x80000000 does not fit an int), the
# type cint.literal_type gives.  They are Words, not Python ints, so that
# SZ_2G + SZ_2G wraps at 32 bits as in C instead of being added by Python.
# From SZ_4G on they are _AC(..., ULL): unsigned long long.
globals().update({name: Word(literal_type(v), v) for name, v in eras.SIZES_INT})
globals().update({name: u64(v) for name, v in eras.SIZES_ULL})


# ---- min/max (include/linux/minmax.h, kernel.h before 5.10) -----------------------
def _same_type(what, x, y):
    # the kernel's type check ((void)(&_x == &_y), later __types_ok): the
    # translator refuses a mismatch with file:line; a hand-written revision
    # is stopped here
    tx, ty = as_word(x).ctype, as_word(y).ctype
    if tx != ty:
        raise TypeError(f"{what}() of {tx.name} and {ty.name}: the kernel's type check refuses it (use {what}_t)")


def min(x, y):
    """x < y ? x : y, each evaluated once, typed as that ?: (the usual
    arithmetic conversions: min of two u8 is an int)."""
    _same_type("min", x, y)
    return select(x < y, x, y)


def max(x, y):
    _same_type("max", x, y)
    return select(x > y, x, y)


def min_t(type, x, y):
    """min of x and y both converted to `type` first."""
    x, y = convert(x, type), convert(y, type)
    return select(x < y, x, y)


def max_t(type, x, y):
    x, y = convert(x, type), convert(y, type)
    return select(x > y, x, y)


# ---- alignment (include/linux/align.h, math.h; kernel.h in older trees) -----------
def _mask_of(x, a):
    # (typeof(x))(a) - 1: a in x's type, then minus the int 1
    return convert(a, as_word(x).ctype) - 1


def ALIGN(x, a):
    """((x) + m) & ~m with m = (typeof(x))(a) - 1: x rounded up to a power of two a."""
    m = _mask_of(x, a)
    return (x + m) & ~m


def ALIGN_DOWN(x, a):
    """ALIGN((x) - ((a) - 1), a): rounded down, typed as x - (a - 1)."""
    return ALIGN(x - (as_word(a) - 1), a)


def ARRAY_SIZE(arr):
    """sizeof(arr) / sizeof((arr)[0]): a size_t (the translator writes the constant itself)."""
    return u64(len(arr))


def IS_ALIGNED(x, a):
    """((x) & ((typeof(x))(a) - 1)) == 0, an int."""
    return (x & _mask_of(x, a)) == 0


def _round_mask(x, y):
    # __round_mask(x, y): (typeof(x))((y) - 1)
    return convert(as_word(y) - 1, as_word(x).ctype)


def round_up(x, y):
    """((x - 1) | __round_mask(x, y)) + 1 (y a power of two)."""
    return ((x - 1) | _round_mask(x, y)) + 1


def round_down(x, y):
    """x & ~__round_mask(x, y) (y a power of two)."""
    return x & ~_round_mask(x, y)

# ---- VTCR_EL2 (kvm_arm.h before the 2025/26 sysreg conversion) ---------------
VTCR_EL2_TG0_SHIFT = 14
VTCR_EL2_TG0_MASK = u64(3) << 14
VTCR_EL2_TG0_4K = u64(0) << 14
VTCR_EL2_TG0_16K = u64(2) << 14
VTCR_EL2_TG0_64K = u64(1) << 14

# ---- TLBI (asm/tlbflush.h) -----------------------------------------------------
TLBI_TTL_MASK = GENMASK_ULL(47, 44)
TLBI_TTL_TG_4K = 1
TLBI_TTL_TG_16K = 2
TLBI_TTL_TG_64K = 3

# ---- page-table bits ----------------------------------------------------------
PTE_VALID = BIT(0)
KVM_PGTABLE_PROT_SW0 = BIT(55)
KVM_PGTABLE_PROT_SW1 = BIT(56)
KVM_PGTABLE_PROT_SW2 = BIT(57)
KVM_PGTABLE_PROT_SW3 = BIT(58)
KVM_NV_GUEST_MAP_SZ = KVM_PGTABLE_PROT_SW1 | KVM_PGTABLE_PROT_SW0

# ---- ID registers, for kvm_has_feat(kvm, ID_AA64MMFR2_EL1, TTL, IMP) -------
ID_AA64MMFR2_EL1 = "ID_AA64MMFR2_EL1"
TTL = "TTL"
IMP = "IMP"
NI = "NI"


# ---- out-parameters --------------------------------------------------------------
class Ref:
    """A local whose address is taken: `kvm_pte_t pte;` then `&pte`."""

    def __init__(self, ctype, init=None):
        self.ctype = ctype
        self._val = None if init is None else convert(init, ctype)

    @property
    def val(self):
        if self._val is None:
            raise Uninitialised(f"read of an uninitialised {self.ctype.name}")
        return self._val

    @val.setter
    def val(self, x):
        self._val = convert(x, self.ctype)


# ---- functions on kernel objects ---------------------------------------------------
def kvm_s2_mmu_to_kvm(mmu):
    return mmu.kvm


def lockdep_assert_held_write(lock):
    lock.assert_held_write()


def kvm_has_feat(kvm, reg, field, val):
    """Does the VM's (sanitised) ID register advertise at least `val`?"""
    return kvm.has_feat(reg, field, val)


def kvm_pgtable_get_leaf(pgt, addr, ptep, level):
    """Walk `pgt` to the entry mapping `addr` (the leaf, or the invalid entry
    where the walk stopped); store it in *ptep and its level in *level.
    Returns 0, or a negative errno (e.g. -ERANGE beyond the input range)."""
    ret, pte, lvl = pgt.get_leaf(convert(addr, u64))
    if ret == 0:                # on error *ptep and *level are left alone
        if ptep is not None and ptep is not NULL:
            ptep.val = pte
        if level is not None and level is not NULL:
            level.val = lvl
    return convert(ret, s32)


KVM_PGTABLE_LAST_LEVEL = 3


def runtime_constant(ctype):
    """A kernel macro whose value is the running world's, not a constant of
    this module: the translator emits `NAME()` for it (nvtlbi/c/translator.py),
    so a proof reads the symbolic host's and a replay the concrete one's."""
    def mark(f):
        f.__runtime_ctype__ = ctype
        return f
    return mark


@runtime_constant(s32)
def PAGE_SHIFT():
    """CONFIG_ARM64_PAGE_SHIFT (arch/arm64/include/asm/page-def.h): the host's,
    an int; 12, 14 or 16, left open by the symbolic engine."""
    return _hooks().page_shift_word()


@runtime_constant(unsigned_long)
def PAGE_SIZE():
    """_AC(1, UL) << PAGE_SHIFT: the host's page, the level-3 granule of its stage 2."""
    return unsigned_long(_hooks().granule_size(3))


def kvm_granule_size(level):
    """Bytes one host stage-2 entry maps at `level` (a function of the host's
    PAGE_SHIFT, which the symbolic engine leaves open)."""
    return _hooks().granule_size(level)


def __unmap_stage2_range(mmu, start, size):
    """arch/arm64/kvm/mmu.c __unmap_stage2_range, which both unmap entry
    points of every era reach (kvm_stage2_unmap_range, the NV series'
    kvm_unmap_stage2_range), with its lock assertion and its two warnings:

    - lockdep_assert_held_write(&kvm->mmu_lock) (assert_spin_locked while
      mmu_lock was a spinlock, before 5.15): a caller that unmaps without
      mmu_lock held for write is a lockdep failure, as it is in the kernel,
      even when nothing it calls first asserts the lock.

    - WARN_ON(size & ~PAGE_MASK): a size that is not whole host pages
      (present since the pre-kvm_pgtable unmap_stage2_range).  The walk
      still unmaps whole pages: kvm_pgtable_walk aligns the start down and
      the end up to PAGE_SIZE, as mmu.unmap_range does with whole leaves.
    - WARN_ON(stage2_apply_range(...)): the walk goes in chunks of
      kvm_granule_size(KVM_PGTABLE_MIN_BLOCK_LEVEL) from `start` and stops at
      the first chunk _kvm_pgtable_walk refuses with -ERANGE: one whose
      start or end is past BIT(pgt->ia_bits).  The chunks below the limit
      are unmapped first (the limit, at least 2^32, is chunk-aligned), so
      what is removed below the limit is the same; the refusal only warns.
      (NV v2's pre-kvm_pgtable walk, Feb 2020, has no such check; its
      ranges stay below a limit of at least 2^32 only for IPAs below it.)

    Sources: mmu.c of the kvm_pgtable era (archive ids 22419578, 91042642),
    of the NV series before it (407296448); hyp/pgtable.c _kvm_pgtable_walk
    (209512387); nested S2s take ia_bits = kvm_get_pa_bits(kvm)
    (init_nested_s2_mmu, N1_nested_3949706.txt:48)."""
    lockdep_assert_held_write(kvm_s2_mmu_to_kvm(mmu).mmu_lock)
    start, size = convert(start, u64), convert(size, u64)
    end = start + size
    # both WARN_ONs' values are ignored: warn_if records them on a symbolic
    # path without splitting it
    _hooks().warn_if((size & (PAGE_SIZE() - 1)) != 0, UNMAP_SIZE_WARN)
    limit = u64(1) << convert(mmu.pgt.ia_bits, u64)
    _hooks().warn_if((start > limit) | (end > limit), UNMAP_RANGE_WARN)
    mmu.unmap_range(start, size)


# the two WARN_ONs of __unmap_stage2_range, named as a report shows them
UNMAP_SIZE_WARN = "arch/arm64/kvm/mmu.c __unmap_stage2_range: WARN_ON(size & ~PAGE_MASK) (not whole host pages)"
UNMAP_RANGE_WARN = ("arch/arm64/kvm/mmu.c __unmap_stage2_range: WARN_ON(stage2_apply_range(...)) "
                    "(-ERANGE: the range ends past BIT(pgt->ia_bits), the shadow S2's input range)")


def kvm_stage2_unmap_range(mmu, start, size, may_block):
    __unmap_stage2_range(mmu, start, size)


# ---- function definitions ------------------------------------------------------------
def kfunc(fn):
    """Give a Python function C's calling convention: arguments annotated
    with a C type are converted on entry, the result to the return type."""
    sig = inspect.signature(fn)
    conv = {n: p.annotation for n, p in sig.parameters.items() if isinstance(p.annotation, CType)}
    ret = sig.return_annotation if isinstance(sig.return_annotation, CType) else None

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError as e:      # C would not compile the call: never an outcome
            raise _outcome.CallMismatch(fn, len(args) + len(kwargs), f"{fn.__name__}{sig}: {e}") from None
        for n, t in conv.items():
            bound.arguments[n] = convert(bound.arguments[n], t)
        r = fn(*bound.args, **bound.kwargs)
        return convert(_outcome.check_integer(fn, r), ret) if ret is not None else r

    wrapper.__kfunc__ = True
    return wrapper


# ---- the TLBI handlers' world (all eras) ---------------------------------------------
# Older revisions read the vCPU's registers, gate the TTL on a host capability,
# walk the shadow S2 in software and look MMUs up by VTTBR; these are the
# names they use.  Each is answered by the object passed in.
VTCR_EL2 = "VTCR_EL2"
VTTBR_EL2 = "VTTBR_EL2"
HCR_EL2 = "HCR_EL2"
HCR_VM = u64(1) << 0
ARM64_HAS_ARMv8_4_TTL = "ARM64_HAS_ARMv8_4_TTL"
PTE_AF = BIT(10)
EFAULT = 14
ERANGE = 34


def vcpu_read_sys_reg(vcpu, reg):
    return vcpu.read_sys_reg(reg)


def cpus_have_const_cap(cap):
    return _hooks().host_cap(cap)


cpus_have_final_cap = cpus_have_const_cap


def lookup_s2_mmu(kvm, vttbr, hcr):
    """The shadow MMU for this VTTBR and HCR_EL2.VM, or NULL."""
    return kvm.lookup_s2_mmu(vttbr, hcr)


# ---- the range TLBI's world (RIPAS2E1*: impl/tlbi_range.py) --------------------------
VTTBR_CNP_BIT = BIT(0)


def __TLBI_RANGE_PAGES(num, scale):
    """asm/tlbflush.h: (unsigned long)(num + 1) << (5 * scale + 1), the pages
    a range operand's NUM and SCALE describe."""
    return unsigned_long(num + 1) << (5 * scale + 1)


def get_vmid(vttbr):
    """The VMID field of a VTTBR_EL2 value, a u16: bits [63:48].  The kernel
    masks it to kvm_get_vmid_bits() (8 or 16); this is the 16-bit host's
    (with 8 bits, VMIDs differing above bit 7 alias: more MMUs match, never
    fewer)."""
    return u16(FIELD_GET(GENMASK_ULL(63, 48), vttbr))


def kvm_s2_mmu_valid(mmu):
    """A shadow MMU in use: KVM marks a free one by setting the CnP bit of
    its tlb_vttbr, which no guest VTTBR it caches has (it is masked off)."""
    return not (mmu.tlb_vttbr & VTTBR_CNP_BIT)


def sys_insn(op0, op1, crn, crm, op2):
    """asm/sysreg.h sys_insn (= sys_reg): the instruction's encoding."""
    return u32((op0 << 19) | (op1 << 16) | (crn << 12) | (crm << 8) | (op2 << 5))


def kvm_supported_tlbi_ipas2_op(vcpu, encoding):
    """kvm_nested.h: a range form needs FEAT_TLBIRANGE in the VM, an nXS form
    FEAT_XS.  The worlds are a VM with FEAT_TLBIRANGE issuing the IS forms
    (the operand's op: impl/tlbi_range.SYS_TLBI_*), so it is supported."""
    return True


def undef_access(vcpu, p, r):
    """sys_regs.c: inject UNDEF for the trapped access.  Unreachable in the
    worlds (kvm_supported_tlbi_ipas2_op is true): an error if reached."""
    raise NotImplementedError("undef_access: an UNDEF for an unsupported TLBI is not modelled")


class tlbi_info:
    """union tlbi_info (sys_regs.c), the members the range path uses:
    `tlbi_info(range=(start, size))` is the compound literal
    `&(union tlbi_info){ .range = { .start = start, .size = size } }`,
    read as info.range.start / info.range.size (u64 each)."""

    class _range:
        def __init__(self, start, size):
            self.start, self.size = convert(start, u64), convert(size, u64)

    def __init__(self, range=None):
        self.range = None if range is None else tlbi_info._range(*range)


def kvm_s2_mmu_iterate_by_vmid(kvm, vmid, fn):
    for mmu in kvm.mmus_by_vmid(vmid):
        fn(mmu)


def spin_lock(lock):
    lock.acquire_write()


def spin_unlock(lock):
    lock.release_write()


write_lock, write_unlock = spin_lock, spin_unlock


class kvm_s2_trans:
    """struct kvm_s2_trans, zero-initialised as the early callers declare it.
    Field types as arch/arm64/include/asm/kvm_nested.h declares them
    (phys_addr_t output, unsigned long block_size, int level, u32 esr,
    u64 upper_attr; the writable/readable bools are not read here)."""

    def __init__(self):
        self.output = u64(0)
        self.block_size = u64(0)
        self.upper_attr = u64(0)
        self.level = c_int(0)
        self.esr = u32(0)


def kvm_walk_shadow_s2(mmu, addr, out):
    """The early revisions' software walk of the shadow S2 (the nested
    walker run on the host tables): fills *out for a valid leaf with AF set,
    else fails with -EFAULT and leaves *out alone."""
    ret, pte, lvl = mmu.pgt.get_leaf(convert(addr, u64))
    # computed without branching: the caller only sees *out and the result
    ok = (ret == 0) & ((pte & PTE_VALID) != 0) & ((pte & PTE_AF) != 0)
    out.upper_attr = select(ok, pte & GENMASK_ULL(63, 50), out.upper_attr)
    out.level = select(ok, c_int(lvl), out.level)
    return convert(select(ok, 0, select(ret != 0, ret, -EFAULT)), s32)


def kvm_unmap_stage2_range(mmu, start, size):
    __unmap_stage2_range(mmu, start, size)


# ---- the VNCR pseudo-TLB's world (FEAT_NV2: impl/vncr.py) ---------------------------
# The guest hypervisor's TLBIs that reach kvm_handle_s1e2_tlbi, as
# sys_insn(op0, op1, CRn, CRm, op2) encodings (arch/arm64/include/asm/sysreg.h):
# op0 = 1; CRn 8, or 9 for the nXS forms (FEAT_XS); CRm by shareability:
# 7 / 3 / 1 (local / IS / OS) for the single-address and ALL forms, 6 / 2 / 5 for
# the range forms (ARM DDI 0487 M.a.a C5.5, the TLBI encodings); sys_insn above.


_TLBI_OPS = {"ALLE2": (4, 0), "VAE2": (4, 1), "VALE2": (4, 5), "VMALLE1": (0, 0), "VAE1": (0, 1),
             "ASIDE1": (0, 2), "VAAE1": (0, 3), "VALE1": (0, 5), "VAALE1": (0, 7)}
_TLBI_ROPS = {"RVAE2": (4, 1), "RVALE2": (4, 5), "RVAE1": (0, 1), "RVAAE1": (0, 3), "RVALE1": (0, 5),
              "RVAALE1": (0, 7)}


def _tlbi_encodings():
    out = {}
    for ops, crms in ((_TLBI_OPS, {"": 7, "IS": 3, "OS": 1}), (_TLBI_ROPS, {"": 6, "IS": 2, "OS": 5})):
        for name, (op1, op2) in ops.items():
            for dom, crm in crms.items():
                for crn, xs in ((8, ""), (9, "NXS")):
                    out[f"OP_TLBI_{name}{dom}{xs}"] = sys_insn(1, op1, crn, crm, op2)
    return out


TLBI_ENCODINGS = _tlbi_encodings()
globals().update(TLBI_ENCODINGS)
TLBIR_ASID_MASK = GENMASK_ULL(63, 48)

# enum { TLBI_ALL, TLBI_VA, TLBI_VAA, TLBI_ASID } of struct s1e2_tlbi_scope
TLBI_ALL, TLBI_VA, TLBI_VAA, TLBI_ASID = 0, 1, 2, 3


class _Struct:
    """A C struct whose fields convert on assignment, as C assignment does;
    zero-initialised (`= {}`)."""
    FIELDS: dict = {}

    def __init__(self, **kw):
        for f, t in self.FIELDS.items():
            object.__setattr__(self, f, convert(kw.get(f, 0), t))

    def __setattr__(self, name, value):
        if name not in self.FIELDS:
            raise AttributeError(f"struct {type(self).__name__} has no field {name}")
        object.__setattr__(self, name, convert(value, self.FIELDS[name]))


class s1e2_tlbi_scope(_Struct):
    """struct s1e2_tlbi_scope (nested.c): an enum type, u16 asid, u64 va, u64 size."""
    FIELDS = {"type": s32, "asid": u16, "va": u64, "size": u64}


class FieldRef:
    """`&s->field` handed to a function taking a pointer: writes go to the field."""

    def __init__(self, obj, name):
        self.obj, self.name = obj, name

    @property
    def val(self):
        return getattr(self.obj, self.name)

    @val.setter
    def val(self, x):
        setattr(self.obj, self.name, x)


def sign_extend64(value, index):
    """include/linux/bitops.h: (s64)(value << (63 - index)) >> (63 - index)."""
    shift = u8(63 - index)
    return convert(u64(value) << shift, s64) >> shift


def kvm_for_each_vcpu(kvm):
    """kvm_for_each_vcpu(i, vcpu, kvm): (i, vcpu) over the VM's online vCPUs
    (`for i, vcpu in kvm_for_each_vcpu(kvm):`); unsigned long i."""
    for i, vcpu in enumerate(kvm.vcpus):
        yield Word(u64, i), vcpu


FIX_VNCR = 1024     # enum fixed_addresses: FIX_VNCR_END + NR_CPUS; its value is ours (any constant)


def vncr_fixmap(c):
    """arch/arm64/include/asm/fixmap.h: the fixmap slot of CPU c's VNCR page."""
    return FIX_VNCR - c


def clear_fixmap(idx):
    """Unmap a fixmap slot (here: recorded by the world's hooks)."""
    _hooks().clear_fixmap(idx)


ID_AA64MMFR4_EL1 = "ID_AA64MMFR4_EL1"
NV_frac = "NV_frac"
NV2_ONLY = "NV2_ONLY"
