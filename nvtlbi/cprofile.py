"""Vocabulary profiles: what the kernel macros and constants meant in a
given era, for C translated by `nvtlbi audit`.

impl.kernel is the 2024 vocabulary.  A profile states, in Python over that
vocabulary, the definitions that differ in its era (`overrides`), which TTL
gate names it expects, and the text markers that identify it in an input.
Every name a translated function uses must be a local, a translated
function, or a name of impl.kernel / the profile: anything else is an
error, never a guess.
"""

from dataclasses import dataclass, field

from impl import kernel


@dataclass(frozen=True)
class Profile:
    name: str
    era: str
    description: str
    overrides: dict = field(default_factory=dict)    # name -> Python expression over impl.kernel
    markers: tuple = ()                              # substrings that select this profile
    bundled_era_of: tuple = ()                       # bundled revisions written in this era

    def names(self):
        return set(n for n in dir(kernel) if not n.startswith("_")) | set(self.overrides)


PROFILES = {p.name: p for p in [
    Profile(
        "v2020", "2020-2023 (v2 .. v11 of the NV series)",
        "VTCR_EL2_TG0_* are shifted TCR values; the guest TTL is trusted when the host has "
        "ARM64_HAS_ARMv8_4_TTL (cpus_have_const_cap, later cpus_have_final_cap)",
        markers=("cpus_have_const_cap", "cpus_have_final_cap"),
        bundled_era_of=("r0_baseline", "r1a_ttl_hostcap", "r1b_swwalk", "r1f_ttl_names", "r2a_trust_ttl",
                        "r2b_get_leaf", "r3_tlb_vtcr"),
    ),
    Profile(
        "v2024", "2024-2025 (\"Shadow stage-2 page table handling\" and later)",
        "VTCR_EL2_TG0_MASK = 3 << 14 with shifted VTCR_EL2_TG0_{4K=0<<14, 64K=1<<14, 16K=2<<14}; "
        "the TTL gate is kvm_has_feat(kvm, ID_AA64MMFR2_EL1, TTL, IMP); "
        "KVM_NV_GUEST_MAP_SZ = KVM_PGTABLE_PROT_SW1 | KVM_PGTABLE_PROT_SW0 (bits 56:55)",
        markers=("kvm_has_feat",),
        bundled_era_of=("upstream", "r4_kvm_has_feat"),
    ),
    Profile(
        "v2026", "after the VTCR_EL2 sysreg conversion (Dec 2025)",
        "VTCR_EL2_TG0_MASK = GENMASK(15, 14) with *unshifted* enum values "
        "VTCR_EL2_TG0_{4K=0b00, 64K=0b01, 16K=0b10}, read with FIELD_GET(VTCR_EL2_TG0_MASK, vtcr); "
        "otherwise as v2024",
        overrides={"VTCR_EL2_TG0_MASK": "GENMASK_ULL(15, 14)", "VTCR_EL2_TG0_4K": "u64(0)",
                   "VTCR_EL2_TG0_64K": "u64(1)", "VTCR_EL2_TG0_16K": "u64(2)"},
        markers=("FIELD_GET(VTCR_EL2_TG0_MASK",),
        bundled_era_of=("r6_vtcr_sysreg", "r7_walk_flags"),
    ),
]}

DEFAULT = "v2024"


def detect(text):
    """The profile the input's own text selects, and why."""
    squeezed = "".join(text.split())
    for name in ("v2026", "v2020", "v2024"):
        for m in PROFILES[name].markers:
            if "".join(m.split()) in squeezed:
                return PROFILES[name], f"the input uses {m}"
    return PROFILES[DEFAULT], "nothing era-specific in the input: default"


def era_of_bundled(revname):
    for p in PROFILES.values():
        if revname in p.bundled_era_of:
            return p.name
    return None


def describe():
    return "\n".join(f"{p.name}: {p.era}\n    {p.description}" for p in PROFILES.values())
