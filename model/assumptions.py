"""The named environment assumptions.  Each has a one-line meaning and its
source; `nvtlbi prove --drop NAME` turns one off to see what breaks."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Assumption:
    name: str
    meaning: str
    source: str
    replaces: tuple = ()    # opt-in only: default assumptions it contradicts, dropped when it is on


ASSUMPTIONS = [
    Assumption("bbm",
               "the guest obeys break-before-make: cached guest translations that overlap are the same translation",
               "ARM DDI 0487 M.a.a D8.17.1 (RWHZWS); KVM hides FEAT_BBM from NV guests (limit_nv_id_reg)"),
    Assumption("no-lpa2",
               "no LPA2/52-bit guest stage-2 blocks (no 4K L0, 16K L1 or 64K L1 leaves)",
               "KVM nested walker first_block_level 4K=1, 16K/64K=2; guest VTCR_EL2.DS is RES0; TGRAN*_2 never 52_BIT (limit_nv_id_reg)"),
    Assumption("granule-order",
               "the guest stage-2 granule is at least the host page size",
               "limit_nv_id_reg advertises only TGRAN*_2 >= PAGE_SIZE (FEAT_GTG)"),
    Assumption("tag-truth",
               "a valid shadow leaf tagged with level l lies inside a cached guest translation of level l (same granule)",
               "user_mem_abort clamps the shadow leaf to kvm_s2_trans_size and ORs kvm_encode_nested_level; the relax-perms path keeps the tag"),
    Assumption("vtcr-stable",
               "mmu->tlb_vtcr is the VTCR_EL2 all the MMU's shadow entries were built under",
               "lookup_s2_mmu only reuses a context whose tlb_vtcr equals the guest's VTCR_EL2 (get_s2_mmu_nested)"),
    Assumption("leaf-level",
               "cached guest translations sit at leaf levels of their granule (LPA2 levels only if LPA2 is in use)",
               "ARM DDI 0487 M.a.a Tables D8-16, D8-26, D8-35; KVM nested walker rejects other blocks"),
    Assumption("stable-pgt",
               "the shadow S2 does not change while the range is computed: probes of one leaf see the same descriptor",
               "mmu_lock held for write (lockdep_assert_held_write in get_guest_mapping_ttl; kvm_s2_mmu_iterate_by_vmid)"),
    Assumption("vtcr-current",
               "the vCPU's current VTCR_EL2.TG0 is the one tlb_vtcr holds (the guest has not changed its granule since)",
               "not enforced by KVM: the guest may rewrite VTCR_EL2; only read by revisions that use vcpu_read_sys_reg(VTCR_EL2)"),
    Assumption("s2off-untagged",
               "shadow leaves of the stage-2-off context carry no level tag",
               "user_mem_abort encodes a level only for shadow-S2 faults (kvm_is_shadow_s2_fault / nested != NULL)"),
    Assumption("get-leaf-ret",
               "kvm_pgtable_get_leaf returns 0 or -ERANGE",
               "kvm_pgtable_get_leaf / kvm_pgtable_walk (arch/arm64/kvm/hyp/pgtable.c)"),
    Assumption("get-leaf-range",
               "kvm_pgtable_get_leaf fails (-ERANGE) exactly at addresses beyond the shadow S2's input size, "
               "which is the VM's IPA size, 32 to 52 bits",
               "kvm_pgtable_walk checks the walk against BIT(pgt->ia_bits); shadow S2s take the VM's IPA size "
               "(kvm_init_stage2_mmu); KVM_VM_TYPE_ARM_IPA_SIZE accepts 32..52"),
    Assumption("invalid-untagged",
               "an invalid shadow entry carries no level tag (bits [56:55] are 0)",
               "KVM clears a PTE to 0 when it unmaps (kvm_clear_pte); the level is ORed only into the prot of "
               "a valid leaf (user_mem_abort)"),
    Assumption("leaf-tagged",
               "every valid leaf of a shadow S2 carries a level tag (no LPA2 level-0 blocks, whose tag is 0)",
               "shadow S2 leaves are only made by user_mem_abort on a nested fault, which ORs "
               "kvm_encode_nested_level(nested) (levels 1-3 without LPA2); the relax-perms path keeps it"),
]

# Opt-in assumptions: on only for revisions that name them in ASSUMES.
OPT_IN = [
    Assumption("invalid-tag-truth",
               "an invalid shadow entry carrying level tag l lies inside a cached guest translation of level l "
               "(and, under bbm, is T's if it overlaps T)",
               "not in KVM: what the invalidtags fault/unmap path maintains (impl/nested.py keep_invalid_tags); "
               "needed only by revisions that read tags of invalid entries",
               replaces=("invalid-untagged",)),
]

BY_NAME = {a.name: a for a in ASSUMPTIONS + OPT_IN}
NAMES = [a.name for a in ASSUMPTIONS]


def enabled(drop=(), extra=()):
    """The default assumptions plus the opt-in ones in `extra`, minus `drop`."""
    unknown = [d for d in list(drop) + list(extra) if d not in BY_NAME]
    if unknown:
        raise KeyError(unknown[0])
    replaced = {r for e in extra for r in BY_NAME[e].replaces}
    return [n for n in NAMES + [e for e in extra if e not in NAMES] if n not in drop and n not in replaced]
