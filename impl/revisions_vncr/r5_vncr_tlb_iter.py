"""r5_vncr_tlb_iter (vncr): upstream with both walks over the vCPUs going
through kvm_for_each_vncr_tlb, which skips a vCPU whose pseudo-TLB is not
allocated yet or not valid: invalidate_vncr_va gains the NULL check
kvm_invalidate_vncr_ipa had.

Provenance:
- kvm_for_each_vncr_tlb, kvm_invalidate_vncr_ipa, invalidate_vncr_va:
  "[PATCH] KVM: arm64: Add kvm_for_each_vncr_tlb() helper", Marc Zyngier,
  Sun 7 Jun 2026, Message-Id 20260607175745.297793-1-maz@kernel.org (archive
  id 60381388190, the stable@ copy; Reported-by Hyunwoo Kim, Fixes:
  4ffa72ad8f37, Cc: stable).
- everything else: upstream.py (N3_nested_96575923.txt), unchanged.

Written in the vocabulary of impl.kernel; comments are ours.  The macro is an
`if` inside kvm_for_each_vcpu; it is written out in each loop (a helper
generator would hide the loop from the engine's branch accounting).
"""

from nvtlbi.impl.kernel import *  # noqa: F401,F403

from nvtlbi.impl.revisions_vncr.upstream import (compute_s1_tlbi_range, invalidate_vncr,  # noqa: F401
                                                 kvm_handle_s1e2_tlbi, pgshift_level_to_ttl, ttl_to_size)


@kfunc
def kvm_invalidate_vncr_ipa(kvm, start: u64, end: u64):
    lockdep_assert_held_write(kvm.mmu_lock)

    if not kvm_has_feat(kvm, ID_AA64MMFR4_EL1, NV_frac, NV2_ONLY):
        return

    for i, vcpu in kvm_for_each_vcpu(kvm):
        vt = vcpu.arch.vncr_tlb
        if not (vt and vt.valid):       # kvm_for_each_vncr_tlb
            continue

        ipa_size = u64(ttl_to_size(pgshift_level_to_ttl(vt.wi.pgshift, vt.wr.level)))
        ipa_start = u64(vt.wr.pa & ~(ipa_size - 1))
        ipa_end = u64(ipa_start + ipa_size)

        if ipa_end <= start or ipa_start >= end:
            continue

        invalidate_vncr(vt)


def invalidate_vncr_va(kvm, scope):
    lockdep_assert_held_write(kvm.mmu_lock)

    for i, vcpu in kvm_for_each_vcpu(kvm):
        vt = vcpu.arch.vncr_tlb
        if not (vt and vt.valid):       # kvm_for_each_vncr_tlb: the NULL check is new here
            continue

        va_size = u64(ttl_to_size(pgshift_level_to_ttl(vt.wi.pgshift, vt.wr.level)))
        va_start = u64(vt.gva & ~(va_size - 1))
        va_end = u64(va_start + va_size)

        if scope.type == TLBI_ALL:
            pass
        elif scope.type == TLBI_VA:
            if va_end <= scope.va or va_start >= (scope.va + scope.size):
                continue
            if vt.wr.nG and vt.wr.asid != scope.asid:
                continue
        elif scope.type == TLBI_VAA:
            if va_end <= scope.va or va_start >= (scope.va + scope.size):
                continue
        elif scope.type == TLBI_ASID:
            if not vt.wr.nG or vt.wr.asid != scope.asid:
                continue

        invalidate_vncr(vt)
