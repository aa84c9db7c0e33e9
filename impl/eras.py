"""Eras of the kernel vocabulary: what each name a revision (or posted C)
uses meant at a given time, and the source that says so.

A kernel name keeps its spelling while its meaning changes.  The case that
decides verdicts is `struct kvm_s2_mmu`'s `vtcr`: until the NV series v10
(2023) it was the guest hypervisor's VTCR_EL2 cached in the shadow MMU; from
fe49fd940e22 ("KVM: arm64: Move VTCR_EL2 into struct s2_mmu", Oct 2023) it
is the VTCR_EL2 KVM programs for that stage 2 itself (the host's page size,
the shadow S2's input size), and the guest's value moved to `tlb_vtcr`.  A
2024 revision that reads `mmu->vtcr` for the guest's granule is wrong
whenever the host and guest granules differ; reading it as `tlb_vtcr` would
prove it.

So every name has a meaning per era, and a name with no stated meaning in
the era of the code being run is an error (EraError), never a default:
  - ERAS: the eras, each with its vocabulary module and where it starts;
  - FIELDS: struct fields a revision reads, per era: which attribute of our
    objects (concrete or symbolic) holds that meaning;
  - NAMES: the macros, constants and helpers, per era, with their source.
The era of the running revision is scoped with `running(era)` (a context
variable: the concrete world and the symbolic environment read it the same
way, and it never outlives the revision's call)."""

import contextlib
import contextvars
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple


class EraError(Exception):
    """A name used with no stated meaning in the era of the code using it."""


@dataclass(frozen=True)
class Era:
    name: str
    span: str
    vocabulary: str             # the module a revision of this era imports with *
    source: str                 # what starts the era
    description: str
    markers: tuple = ()         # C text that selects this era (nvtlbi/c/era.py)
    bundled: tuple = ()         # bundled revisions written in this era
    start: str = ""             # ISO date of the post that starts the era (the date in its Message-Id)


ERAS = {e.name: e for e in [
    Era("v2020", "Feb 2020 - Apr 2023 (NV series v2 .. v10)", "nvtlbi.impl.kernel_2020",
        "NV series v2, 20200211174938.27809-1-maz@kernel.org",
        "VTCR_EL2_TG0_* are shifted TCR values; the guest TTL is trusted when the host has "
        "ARM64_HAS_ARMv8_4_TTL (cpus_have_const_cap, later cpus_have_final_cap); mmu->vtcr is the "
        "guest's VTCR_EL2 cached in the shadow MMU (v9); there is no mmu->tlb_vtcr",
        markers=("cpus_have_const_cap", "cpus_have_final_cap"),
        bundled=("r0_baseline", "r1a_ttl_hostcap", "r1b_swwalk", "r1f_ttl_names", "r2a_trust_ttl",
                 "r2b_get_leaf"),
        start="2020-02-11"),
    Era("v2023", "Oct 2023 - Jan 2024 (NV series v11)", "nvtlbi.impl.kernel_2023",
        "fe49fd940e22 KVM: arm64: Move VTCR_EL2 into struct s2_mmu (20231012205108.3937270-1-maz@kernel.org)",
        "as v2020, but mmu->vtcr is the shadow stage 2's own VTCR_EL2 (host page size) and the guest's "
        "VTCR_EL2 is mmu->tlb_vtcr",
        markers=("tlb_vtcr",),
        bundled=("r3_tlb_vtcr",),
        start="2023-10-12"),
    Era("v2024", "2024 - 2025 (\"Shadow stage-2 page table handling\" and later)", "nvtlbi.impl.kernel",
        "Shadow stage-2 page table handling v1, 20240409175448.3507472-1-maz@kernel.org",
        "VTCR_EL2_TG0_MASK = 3 << 14 with shifted VTCR_EL2_TG0_{4K=0<<14, 64K=1<<14, 16K=2<<14}; "
        "the TTL gate is kvm_has_feat(kvm, ID_AA64MMFR2_EL1, TTL, IMP); "
        "KVM_NV_GUEST_MAP_SZ = KVM_PGTABLE_PROT_SW1 | KVM_PGTABLE_PROT_SW0 (bits 56:55); "
        "mmu->vtcr is the shadow stage 2's own VTCR_EL2, mmu->tlb_vtcr the guest's",
        markers=("kvm_has_feat",),
        bundled=("upstream", "r4_kvm_has_feat"),
        start="2024-04-09"),
    Era("v2026", "after the VTCR_EL2 sysreg conversion (Dec 2025)", "nvtlbi.impl.kernel_2026",
        "a035001dea37 arm64: Convert VTCR_EL2 to sysreg infratructure (20251210173024.561160-4-maz@kernel.org)",
        "VTCR_EL2_TG0_MASK = GENMASK(15, 14) with *unshifted* enum values "
        "VTCR_EL2_TG0_{4K=0b00, 64K=0b01, 16K=0b10}, read with FIELD_GET(VTCR_EL2_TG0_MASK, vtcr); "
        "otherwise as v2024",
        markers=("FIELD_GET(VTCR_EL2_TG0_MASK",),
        bundled=("r6_vtcr_sysreg", "r7_walk_flags"),
        start="2025-12-10"),
]}
ORDER = list(ERAS)              # oldest first
ALL = tuple(ORDER)


def since(era: str) -> Tuple[str, ...]:
    return tuple(ORDER[ORDER.index(era):])


def until(era: str) -> Tuple[str, ...]:
    return tuple(ORDER[:ORDER.index(era) + 1])


# ---- struct fields ----------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    struct: str
    name: str
    attr: str               # the attribute of our objects that holds this meaning
    meaning: str
    source: str


_V9 = "NV v9 35/50, 20230405154008.3552854-36-maz@kernel.org (compute_tlb_inval_range reads mmu->vtcr)"
_MOVE = ("fe49fd940e22 Move VTCR_EL2 into struct s2_mmu, 20231012205108.3937270-1-maz@kernel.org: "
         "kvm_init_ipa_range sets mmu->vtcr = kvm_get_vtcr(mmfr0, mmfr1, phys_shift), also for nested MMUs")
_TLB = "NV v11 36/43, 20231120131027.854038-37-maz@kernel.org (the guest's VTCR renamed mmu->tlb_vtcr)"

# (struct, field) -> {era: Field}
FIELDS: Dict[Tuple[str, str], Dict[str, Field]] = {}


def _field(struct: str, name: str, attr: str, meaning: str, source: str, eras: Iterable[str]) -> None:
    for e in eras:
        FIELDS.setdefault((struct, name), {})[e] = Field(struct, name, attr, meaning, source)


_field("kvm_s2_mmu", "vtcr", "guest_vtcr",
       "the guest hypervisor's VTCR_EL2, cached when the shadow MMU was set up", _V9, until("v2020"))
_field("kvm_s2_mmu", "vtcr", "host_vtcr",
       "the VTCR_EL2 of this shadow stage 2 itself: TG0 is the host's PAGE_SIZE, T0SZ its input size",
       _MOVE, since("v2023"))
_field("kvm_s2_mmu", "tlb_vtcr", "guest_vtcr",
       "the guest hypervisor's VTCR_EL2, cached when the shadow MMU was set up", _TLB, since("v2023"))
_field("kvm_s2_mmu", "tlb_vttbr", "guest_vttbr",
       "the guest hypervisor's VTTBR_EL2 (CnP masked off) this shadow MMU caches; CnP set: the MMU is free",
       "arch/arm64/kvm/nested.c get_s2_mmu_nested, kvm_init_nested_s2_mmu (N3_nested_96575923.txt:703, :725)",
       since("v2024"))
_field("kvm", "arch", "arch", "struct kvm_arch: nested_mmus[] and nested_mmus_size",
       "arch/arm64/include/asm/kvm_host.h struct kvm_arch", since("v2024"))
_field("kvm_s2_mmu", "pgt", "pgt", "the shadow stage-2 page table (struct kvm_pgtable *)",
       "arch/arm64/include/asm/kvm_host.h struct kvm_s2_mmu", ALL)
_field("kvm", "mmu_lock", "mmu_lock", "the lock of every stage 2 of the VM (rwlock from 5.15)",
       "include/linux/kvm_host.h struct kvm", ALL)
_field("kvm_vcpu", "kvm", "kvm", "the VM of the vCPU", "include/linux/kvm_host.h struct kvm_vcpu", ALL)
_field("tlbi_info", "ipa", "ipa", "the by-IPA member of union tlbi_info", f"{_V9} (s2_mmu_unmap_stage2_ipa)", ALL)
_field("tlbi_info", "addr", "addr", "info->ipa.addr: the TLBI operand", f"{_V9} (s2_mmu_unmap_stage2_ipa)", ALL)
_field("sys_reg_params", "regval", "regval", "p->regval: the value the guest wrote (the TLBI operand)",
       "arch/arm64/kvm/sys_regs.h struct sys_reg_params; NV v2 63/94 handle_ipas2e1is reads p->regval; "
       "handle_ripas2e1is (S_sys_regs_260119377.txt:3560)",
       until("v2020") + since("v2024"))
for _f in ("Op0", "Op1", "CRn", "CRm", "Op2"):
    _field("sys_reg_params", _f, _f, f"p->{_f}: a field of the trapped instruction's encoding (sys_insn)",
           "arch/arm64/kvm/sys_regs.h struct sys_reg_params; handle_ripas2e1is's sys_insn(p->Op0, ...) "
           "(S_sys_regs_260119377.txt:3547)", since("v2024"))
_field("tlbi_info", "range", "range", "the range member of union tlbi_info: .start and .size (u64 each)",
       "arch/arm64/kvm/sys_regs.c union tlbi_info (S_sys_regs_260119377.txt:3476); s2_mmu_unmap_range",
       since("v2024"))
_field("tlbi_info", "start", "start", "info->range.start: the first IPA of the range",
       "arch/arm64/kvm/sys_regs.c union tlbi_info (S_sys_regs_260119377.txt:3478)", since("v2024"))
_field("tlbi_info", "size", "size", "info->range.size: the range's size in bytes",
       "arch/arm64/kvm/sys_regs.c union tlbi_info (S_sys_regs_260119377.txt:3479)", since("v2024"))
for _f, _m in (("output", "output address of the guest translation"), ("block_size", "its size"),
               ("upper_attr", "its upper attributes"), ("level", "its level"), ("esr", "the fault syndrome")):
    _field("kvm_s2_trans", _f, _f, _m, "NV series: arch/arm64/include/asm/kvm_nested.h struct kvm_s2_trans", ALL)

# the VNCR pseudo-TLB (struct vncr_tlb, nested.c; impl/vncr.py's world)
_VT = "arch/arm64/kvm/nested.c struct vncr_tlb (N3_nested_96575923.txt:20)"
for _f, _m in (("vncr_tlb", "vcpu->arch.vncr_tlb: the vCPU's VNCR pseudo-TLB (NULL before its first run)"),):
    _field("kvm_vcpu_arch", _f, _f, _m, "arch/arm64/include/asm/kvm_host.h struct kvm_vcpu_arch", since("v2024"))
_field("kvm_vcpu", "arch", "arch", "struct kvm_vcpu_arch of the vCPU", "arch/arm64/include/asm/kvm_host.h",
       since("v2024"))
for _f, _m in (("valid", "the entry is in use"), ("gva", "the guest's VNCR_EL2 (a guest EL2&0 VA)"),
               ("wi", "the stage-1 walk's info (wi.pgshift: its granule)"),
               ("wr", "the stage-1 walk's result (pa, level, nG, asid)"),
               ("cpu", "the CPU whose fixmap maps the page, -1 if none"), ("hpa", "the host page of wr.pa")):
    _field("vncr_tlb", _f, _f, _m, _VT, since("v2024"))
_field("s1_walk_info", "pgshift", "pgshift", "the stage-1 granule's page shift (12, 14 or 16)",
       "arch/arm64/include/asm/kvm_nested.h struct s1_walk_info", since("v2024"))
for _f, _m in (("pa", "the output address (IPA) of the VA"), ("level", "the level of the leaf"),
               ("nG", "the leaf is not global"), ("asid", "the ASID it was walked with")):
    _field("s1_walk_result", _f, _f, _m, "arch/arm64/include/asm/kvm_nested.h struct s1_walk_result",
           since("v2024"))
for _f, _m in (("type", "TLBI_ALL, TLBI_VA, TLBI_VAA or TLBI_ASID"), ("asid", "the TLBI's ASID"),
               ("va", "the first VA of the scope"), ("size", "the scope's size in bytes")):
    _field("s1e2_tlbi_scope", _f, _f, _m, "arch/arm64/kvm/nested.c struct s1e2_tlbi_scope (N3:859)",
           since("v2024"))


def field_names(era: str) -> Dict[str, Field]:
    """{field name: Field} with a meaning in `era` (any struct)."""
    return {name: by[era] for (struct, name), by in FIELDS.items() if era in by}


# ---- the running era --------------------------------------------------------------
_RUNNING: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar("nvtlbi_era", default=None)


@contextlib.contextmanager
def running(era: str) -> Iterator[None]:
    """Scope the era of the revision being run (concrete or symbolic)."""
    if era not in ERAS:
        raise EraError(f"no such era {era!r} (have: {', '.join(ERAS)})")
    token = _RUNNING.set(era)
    try:
        yield
    finally:
        _RUNNING.reset(token)


def current() -> Optional[str]:
    return _RUNNING.get()


def write_field(obj: object, struct: str, name: str, value: Any) -> None:
    """obj->name = value, the field meaning what the running era says."""
    era = current()
    f = FIELDS.get((struct, name), {}).get(era) if era is not None else None
    if f is None:
        raise EraError(f"{struct}->{name} written with no meaning in era {era}")
    setattr(obj, f.attr, value)


def read_field(obj: object, struct: str, name: str) -> Any:
    """obj->name, with the meaning the running era gives it."""
    # Any: a field is a C word (concrete or symbolic, impl/cint.py) or a
    # kernel object (the page table, the VM), in the concrete or symbolic world
    era = current()
    if era is None:
        # only a revision reads kernel fields; our own code uses the
        # attribute that holds the meaning it wants
        raise EraError(f"{struct}->{name} read outside a revision's run: no era to give it a meaning")
    f = FIELDS.get((struct, name), {}).get(era)
    if f is None:
        eras = ", ".join(FIELDS.get((struct, name), {})) or "none"
        raise EraError(f"{struct}->{name} has no meaning in era {era} (it has one in: {eras})")
    return getattr(obj, f.attr)


class KvmS2Mmu:
    """The era-dependent fields of struct kvm_s2_mmu, for the concrete and
    the symbolic MMU alike: each has `guest_vtcr` and `host_vtcr`."""

    @property
    def vtcr(self) -> Any:            # a C word, concrete or symbolic
        return read_field(self, "kvm_s2_mmu", "vtcr")

    # the MMU producer (impl/producers/mmu.py) sets them when it recycles an
    # MMU (each setter follows its getter: mypy reads a property only so)
    @property
    def tlb_vtcr(self) -> Any:        # a C word, concrete or symbolic
        return read_field(self, "kvm_s2_mmu", "tlb_vtcr")

    @tlb_vtcr.setter
    def tlb_vtcr(self, value: Any) -> None:
        write_field(self, "kvm_s2_mmu", "tlb_vtcr", value)

    @property
    def tlb_vttbr(self) -> Any:       # a C word, concrete or symbolic
        return read_field(self, "kvm_s2_mmu", "tlb_vttbr")

    @tlb_vttbr.setter
    def tlb_vttbr(self, value: Any) -> None:
        write_field(self, "kvm_s2_mmu", "tlb_vttbr", value)


# ---- names: macros, constants, helpers, types ---------------------------------------
@dataclass(frozen=True)
class Name:
    name: str
    meaning: str
    source: str
    eras: tuple = ALL
    changed: dict = field(default_factory=dict)    # era -> meaning there, where it differs


_BITS = "include/linux/bits.h"
_MINMAX = "include/linux/minmax.h (kernel.h before 5.10)"
# include/linux/sizes.h, (name, bytes): SZ_1 .. SZ_2G are bare hex literals, SZ_4G on _AC(..., ULL)
# (impl/kernel.py defines them from these lists)
SIZES_INT = [(f"SZ_{n}{u}", n << s) for u, s in (("", 0), ("K", 10), ("M", 20))
             for n in (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)] + [("SZ_1G", 1 << 30), ("SZ_2G", 2 << 30)]
SIZES_ULL = [(f"SZ_{n}G", n << 30) for n in (4, 8, 16, 32)] + [("SZ_1T", 1 << 40), ("SZ_64T", 64 << 40)]
_SIZES = "include/linux/sizes.h"
_LANG = "nvtlbi: how a C construct is written in a revision (docs/writing-a-revision.md)"
_KVM_ARM = "arch/arm64/include/asm/kvm_arm.h (aliases of the TCR_TG0_* values)"
_SYSREG = "arch/arm64/tools/sysreg, Sysreg VTCR_EL2 (a035001dea37, 20251210173024.561160-4-maz@kernel.org)"
_TLBFLUSH = "arch/arm64/include/asm/tlbflush.h (FEAT_TTL support, 2020)"
_PGT = "arch/arm64/include/asm/kvm_pgtable.h"
_NESTED = "arch/arm64/include/asm/kvm_nested.h"
_HAS_FEAT = "kvm_has_feat(): 'KVM: arm64: Add feature checking helpers' (2024); Shadow S2 v1 13/16 uses it"
_CONST_CAP = "cpus_have_const_cap(): removed in 2024 ('arm64: Remove cpus_have_const_cap()', v6.8)"
_R1A = "NV v2 63/94, 20200211174938.27809-64-maz@kernel.org"
_R1B = "NV v2 64/94, 20200211174938.27809-65-maz@kernel.org"
_R2A = "NV v9 35/50, 20230405154008.3552854-36-maz@kernel.org"
_R2B = "NV v9 36/50, 20230405154008.3552854-37-maz@kernel.org"
_R3 = "NV v11 35/43, 20231120131027.854038-36-maz@kernel.org"
_R3B = "NV v11 36/43, 20231120131027.854038-37-maz@kernel.org"
_R4 = "Shadow S2 v1 13/16, 20240409175448.3507472-14-maz@kernel.org"
_C11 = "Shadow S2 v3 11/16, 20240614144552.2773592-12-maz@kernel.org"
_VNCR = "arch/arm64/kvm/nested.c (N3_nested_96575923.txt)"
_TLBI_NAMES = [f"OP_TLBI_{n}{d}{x}" for n in ("ALLE2", "VAE2", "VALE2", "VMALLE1", "VAE1", "ASIDE1", "VAAE1",
                                               "VALE1", "VAALE1", "RVAE2", "RVALE2", "RVAE1", "RVAAE1", "RVALE1",
                                               "RVAALE1") for d in ("", "IS", "OS") for x in ("", "NXS")]
_R7 = "walk flags v5 1/5, 20260612162354.73378-2-jackabt.amazon@gmail.com"

NAMES = {n.name: n for n in [
    # the language of revisions (not kernel names: how C is written in Python)
    *[Name(t, f"the C type {c}", _LANG) for t, c in (
        ("u8", "u8"), ("u16", "u16"), ("u32", "u32"), ("u64", "u64"), ("s32", "s32"), ("s64", "s64"),
        ("unsigned_int", "unsigned int"), ("unsigned_long", "unsigned long (64 bits on arm64)"),
        ("c_int", "int"), ("kvm_pte_t", "kvm_pte_t (u64)"), ("phys_addr_t", "phys_addr_t (u64)"))],
    Name("NULL", "the null pointer", _LANG),
    Name("Ref", "a local whose address is taken (&x)", _LANG),
    Name("kfunc", "a C function: arguments and result converted to their declared types", _LANG),
    Name("ERA", "the era of this vocabulary (impl/eras.py)", _LANG),
    # include/asm-generic/bug.h, bits.h, bitfield.h, sizes.h
    Name("BUG", "stop the kernel", "include/asm-generic/bug.h"),
    Name("WARN_ON", "warn (host log splat) if the condition holds; returns it", "include/asm-generic/bug.h"),
    Name("BIT", "1UL << n", _BITS), Name("BIT_ULL", "1ULL << n", _BITS),
    Name("GENMASK", "bits h..l set (unsigned long)", _BITS), Name("GENMASK_ULL", "bits h..l set (u64)", _BITS),
    Name("FIELD_GET", "(reg & mask) >> shift(mask), typed as mask", "include/linux/bitfield.h"),
    Name("FIELD_PREP", "(val << shift(mask)) & mask", "include/linux/bitfield.h"),
    Name("WARN_ON_ONCE", "WARN_ON that splats once per site; returns the condition (every run is a first call, "
         "so it warns whenever the condition holds)", "include/asm-generic/bug.h"),
    Name("BUILD_BUG_ON", "compile-time check: a constant false compiles to nothing; a true or non-constant "
         "condition does not compile (refused at translation)", "include/linux/build_bug.h (bug.h before 4.13)"),
    Name("likely", "!!(x) as __builtin_expect's long; a branch hint with no other meaning",
         "include/linux/compiler.h"),
    Name("unlikely", "!!(x) as __builtin_expect's long; a branch hint with no other meaning",
         "include/linux/compiler.h"),
    *[Name(s, f"{v:#x} bytes ({'int' if v < 1 << 31 else 'unsigned int'}: a bare hex literal)", _SIZES)
      for s, v in SIZES_INT],
    *[Name(s, f"{v:#x} bytes (unsigned long long: _AC(..., ULL))", _SIZES) for s, v in SIZES_ULL],
    # include/linux/minmax.h (in kernel.h before 5.10), align.h, math.h
    Name("min", "the smaller of x, y (each evaluated once), typed as x < y ? x : y; x and y must have the same "
         "type (the kernel's type check; a mismatch is refused at translation: use min_t)", _MINMAX),
    Name("max", "the larger of x, y, as min", _MINMAX),
    Name("min_t", "min of x and y both converted to the type given first", _MINMAX),
    Name("max_t", "max of x and y both converted to the type given first", _MINMAX),
    Name("ALIGN", "x rounded up to a power of two a: (x + m) & ~m with m = (typeof(x))(a) - 1",
         "include/linux/align.h (kernel.h before 5.11; __ALIGN_KERNEL, include/uapi/linux/const.h)"),
    Name("ALIGN_DOWN", "ALIGN(x - (a - 1), a): x rounded down to a power of two a",
         "include/linux/align.h (kernel.h before 5.11)"),
    Name("IS_ALIGNED", "((x) & ((typeof(x))(a) - 1)) == 0, an int", "include/linux/align.h (kernel.h before 5.11)"),
    Name("round_up", "((x - 1) | (typeof(x))(y - 1)) + 1: x rounded up to a power of two y",
         "include/linux/math.h (kernel.h before 5.16)"),
    Name("round_down", "x & ~(typeof(x))(y - 1): x rounded down to a power of two y",
         "include/linux/math.h (kernel.h before 5.16)"),
    Name("ARRAY_SIZE", "the number of elements of a const array (sizeof(arr) / sizeof((arr)[0])), a size_t; "
         "taken at translation", "include/linux/array_size.h (kernel.h before 6.7)"),
    # VTCR_EL2.TG0: shifted TCR aliases until the sysreg conversion, then unshifted enum values
    Name("VTCR_EL2_TG0_MASK", "VTCR_EL2.TG0, bits [15:14]", _KVM_ARM,
         changed={"v2026": f"GENMASK(15, 14) ({_SYSREG})"}),
    *[Name(f"VTCR_EL2_TG0_{g}", f"TG0 = {g} granule, shifted into place ({v} << 14)", _KVM_ARM,
           changed={"v2026": f"TG0 = {g} granule, the unshifted field value {v} ({_SYSREG})"})
      for g, v in (("4K", 0), ("64K", 1), ("16K", 2))],
    Name("VTCR_EL2_TG0_SHIFT", "14, where TG0 sits in VTCR_EL2", _SYSREG, eras=("v2026",)),
    # TLBI operand
    Name("TLBI_TTL_MASK", "the TTL field of a TLBI by-IPA operand, bits [47:44]", _TLBFLUSH),
    *[Name(f"TLBI_TTL_TG_{g}", f"TTL[3:2] value for the {g} granule ({v})", _TLBFLUSH)
      for g, v in (("4K", 1), ("16K", 2), ("64K", 3))],
    # page-table bits
    Name("PTE_VALID", "descriptor bit 0, valid", "arch/arm64/include/asm/pgtable-hwdef.h"),
    Name("PTE_AF", "descriptor bit 10, access flag", "arch/arm64/include/asm/pgtable-hwdef.h"),
    *[Name(f"KVM_PGTABLE_PROT_SW{i}", f"software bit {55 + i} of a stage-2 descriptor", _PGT) for i in range(4)],
    Name("KVM_NV_GUEST_MAP_SZ", "shadow PTE bits [56:55]: the guest level of the translation the leaf caches",
         f"{_NESTED}; used in {_R1B}"),
    # the TTL gate
    Name("kvm_has_feat", "does the VM's sanitised ID register advertise at least the value", _HAS_FEAT,
         eras=since("v2024")),
    *[Name(n, f"{m} (an argument of kvm_has_feat)", _HAS_FEAT, eras=since("v2024"))
      for n, m in (("ID_AA64MMFR2_EL1", "the ID register"), ("TTL", "its TTL field"),
                   ("IMP", "the value 'implemented'"), ("NI", "the value 'not implemented'"))],
    Name("cpus_have_const_cap", "does the host CPU have the capability", f"{_R1A}; {_CONST_CAP}",
         eras=until("v2023")),
    Name("cpus_have_final_cap", "does the host CPU have the capability (after finalisation)",
         f"arch/arm64/include/asm/cpufeature.h; used in {_R3B}"),
    Name("ARM64_HAS_ARMv8_4_TTL", "the host capability FEAT_TTL", f"arch/arm64/tools/cpucaps; used in {_R1A}"),
    # shadow stage 2
    Name("kvm_pgtable_get_leaf", "walk a stage 2 to the entry mapping an address: *ptep, *level; 0 or -errno",
         f"{_PGT}; used in {_R2B}",
         changed={"v2026": f"as before, with a walk-flags argument from {_R7}"}),
    Name("KVM_PGTABLE_WALK_SHARED", "walk flag: a shared (lockless) walk", f"{_PGT}; used in {_R7}",
         eras=("v2026",)),
    Name("KVM_PGTABLE_LAST_LEVEL", "3, the last level of a stage-2 walk",
         f"{_PGT} ('KVM: arm64: Convert translation level parameter to s8', LPA2, late 2023)",
         eras=since("v2024")),
    Name("kvm_granule_size", "bytes one host stage-2 entry maps at a level", _PGT),
    Name("PAGE_SHIFT", "the host's page shift (12, 14 or 16; open in proofs)", "arch/arm64/include/asm/page-def.h"),
    Name("PAGE_SIZE", "the host's page size, an unsigned long (open in proofs)", "arch/arm64/include/asm/page-def.h"),
    Name("kvm_s2_mmu_to_kvm", "the VM a stage-2 MMU belongs to", "arch/arm64/include/asm/kvm_mmu.h"),
    Name("lockdep_assert_held_write", "assert a lock is held for write", "include/linux/lockdep.h"),
    Name("kvm_stage2_unmap_range", "unmap a range of a stage 2 (may_block)", f"arch/arm64/kvm/mmu.c; used in {_C11}",
         eras=since("v2024")),
    Name("kvm_unmap_stage2_range", "unmap a range of a stage 2 (the NV series' name)",
         f"NV series, arch/arm64/kvm/mmu.c; used in {_R1A} .. {_R3}", eras=until("v2023")),
    Name("kvm_s2_mmu_iterate_by_vmid", "call fn on every shadow MMU with the VMID",
         "NV series, arch/arm64/kvm/nested.c (the per-MMU TLBI callers of sys_regs.c)"),
    Name("VTTBR_CNP_BIT", "VTTBR_EL2.CnP, bit 0; set in a free shadow MMU's tlb_vttbr",
         "arch/arm64/include/asm/kvm_arm.h; arch/arm64/kvm/nested.c", eras=since("v2024")),
    Name("get_vmid", "the VMID of a VTTBR_EL2 value (bits [63:48], a u16; 16-bit VMID host)",
         f"{_NESTED}", eras=since("v2024")),
    Name("kvm_s2_mmu_valid", "is the shadow MMU in use (CnP clear in its tlb_vttbr)", _NESTED,
         eras=since("v2024")),
    Name("__TLBI_RANGE_PAGES", "(unsigned long)(num + 1) << (5 * scale + 1): the pages of a range TLBI operand",
         "arch/arm64/include/asm/tlbflush.h (TLBI RANGE support, Zhenyu Ye, 2020)", eras=since("v2024")),
    Name("sys_insn", "the encoding of a system instruction from Op0, Op1, CRn, CRm, Op2 (as sys_reg: "
         "Op0 << 19 | Op1 << 16 | CRn << 12 | CRm << 8 | Op2 << 5)", "arch/arm64/include/asm/sysreg.h",
         eras=since("v2024")),
    Name("kvm_supported_tlbi_ipas2_op", "is the trapped TLBI by IPA one the VM supports (range forms: FEAT_TLBIRANGE; "
         "nXS forms: FEAT_XS); the worlds model a VM with FEAT_TLBIRANGE, so true for (R)IPAS2(L)E1IS",
         "arch/arm64/include/asm/kvm_nested.h", eras=since("v2024")),
    Name("undef_access", "inject an UNDEF into the guest for the trapped access and return false; never reached in "
         "the modelled worlds (kvm_supported_tlbi_ipas2_op is true there): reaching it is an error, not a verdict",
         "arch/arm64/kvm/sys_regs.c", eras=since("v2024")),
    Name("tlbi_info", "union tlbi_info: what a per-MMU TLBI callback is handed (.range.start/.size, .ipa.addr)",
         "arch/arm64/kvm/sys_regs.c union tlbi_info (S_sys_regs_260119377.txt:3476)", eras=since("v2024")),
    Name("lookup_s2_mmu", "the shadow MMU for a VTTBR_EL2 and HCR_EL2.VM, or NULL", f"NV series; used in {_R1A}"),
    Name("kvm_s2_trans", "struct kvm_s2_trans: a guest stage-2 translation (value local)", _NESTED),
    Name("kvm_walk_shadow_s2", "the early NV series' software walk of the shadow S2", _R1B, eras=("v2020",)),
    # the vCPU and its locks
    Name("vcpu_read_sys_reg", "the vCPU's current value of a system register", "arch/arm64/include/asm/kvm_host.h"),
    *[Name(r, f"the sysreg index {r}", "arch/arm64/include/asm/kvm_host.h enum vcpu_sysreg")
      for r in ("VTCR_EL2", "VTTBR_EL2", "HCR_EL2")],
    Name("HCR_VM", "HCR_EL2.VM, stage 2 enabled", "arch/arm64/include/asm/kvm_arm.h"),
    Name("spin_lock", "take kvm->mmu_lock (a spinlock until 5.15)", f"used in {_R1A}", eras=("v2020",)),
    Name("spin_unlock", "release kvm->mmu_lock (a spinlock until 5.15)", f"used in {_R1A}", eras=("v2020",)),
    Name("write_lock", "take kvm->mmu_lock for write (an rwlock from 5.15)", "include/linux/rwlock.h"),
    Name("write_unlock", "release kvm->mmu_lock", "include/linux/rwlock.h"),
    # the VNCR pseudo-TLB (FEAT_NV2): nested.c invalidate_vncr_va, kvm_invalidate_vncr_ipa
    Name("sys_insn", "the encoding of a system instruction (op0, op1, CRn, CRm, op2)",
         "arch/arm64/include/asm/sysreg.h", eras=since("v2024")),
    *[Name(n, "the sys_insn encoding of TLBI " + n[len("OP_TLBI_"):], "arch/arm64/include/asm/sysreg.h",
           eras=since("v2024")) for n in _TLBI_NAMES],
    Name("TLBIR_ASID_MASK", "bits [63:48] of a TLBI operand: the ASID", "arch/arm64/include/asm/tlbflush.h",
         eras=since("v2024")),
    *[Name(n, "a value of s1e2_tlbi_scope.type", _VNCR + ":859", eras=since("v2024"))
      for n in ("TLBI_ALL", "TLBI_VA", "TLBI_VAA", "TLBI_ASID")],
    Name("s1e2_tlbi_scope", "struct s1e2_tlbi_scope: the scope of a stage-1 EL2 TLBI (type, u16 asid, u64 va, "
         "u64 size)", _VNCR + ":859", eras=since("v2024")),
    Name("FieldRef", "&s->field handed to a function taking a pointer", _LANG),
    Name("sign_extend64", "sign-extend a u64 from bit index (an s64)", "include/linux/bitops.h"),
    Name("kvm_for_each_vcpu", "iterate over the VM's online vCPUs", "include/linux/kvm_host.h"),
    Name("FIX_VNCR", "the fixmap slot base of the per-CPU VNCR pages", "arch/arm64/include/asm/fixmap.h",
         eras=since("v2024")),
    Name("vncr_fixmap", "the fixmap slot of a CPU's VNCR page (FIX_VNCR - cpu)", "arch/arm64/include/asm/fixmap.h",
         eras=since("v2024")),
    Name("clear_fixmap", "unmap a fixmap slot", "arch/arm64/include/asm/fixmap.h", eras=since("v2024")),
    *[Name(n, f"{m} (an argument of kvm_has_feat)", _HAS_FEAT, eras=since("v2024"))
      for n, m in (("ID_AA64MMFR4_EL1", "the ID register"), ("NV_frac", "its NV_frac field"),
                   ("NV2_ONLY", "the value 'FEAT_NV2 only'"))],
    Name("EFAULT", "errno 14", "include/uapi/asm-generic/errno-base.h"),
    Name("ERANGE", "errno 34", "include/uapi/asm-generic/errno-base.h"),
]}


def names(era: str) -> List[str]:
    """The names with a meaning in `era`: what its vocabulary module exports."""
    return sorted(n for n, v in NAMES.items() if era in v.eras)


def meaning(name: str, era: str) -> Optional[str]:
    n = NAMES.get(name)
    if n is None or era not in n.eras:
        return None
    return n.changed.get(era, n.meaning)
