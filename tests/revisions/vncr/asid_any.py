"""A deliberately imprecise VNCR invalidation (test revision, not history):
invalidate_vncr_va's TLBI-by-ASID arm tests only that the cached entry is
non-global, not that its ASID is the operand's, so a TLBI ASIDE1IS for one
address space drops the pseudo-TLB of every other.  Safe (the vCPU walks
VNCR_EL2 again), never stale: V1-V4 hold, V5 (precision) must fail with a
replayed counterexample."""

from nvtlbi.impl.kernel import *  # noqa: F401,F403
from nvtlbi.impl.revisions_vncr.upstream import (compute_s1_tlbi_range, invalidate_vncr,  # noqa: F401
                                                 kvm_invalidate_vncr_ipa, pgshift_level_to_ttl, ttl_to_size)


def invalidate_vncr_va(kvm, scope):
    lockdep_assert_held_write(kvm.mmu_lock)

    for i, vcpu in kvm_for_each_vcpu(kvm):
        vt = vcpu.arch.vncr_tlb

        if not vt or not vt.valid:
            continue

        va_size = u64(ttl_to_size(pgshift_level_to_ttl(vt.wi.pgshift, vt.wr.level)))
        va_start = u64(vt.gva & ~(va_size - 1))
        va_end = u64(va_start + va_size)

        if scope.type == TLBI_VA:
            if va_end <= scope.va or va_start >= (scope.va + scope.size):
                continue
            if vt.wr.nG and vt.wr.asid != scope.asid:
                continue
        elif scope.type == TLBI_VAA:
            if va_end <= scope.va or va_start >= (scope.va + scope.size):
                continue
        elif scope.type == TLBI_ASID:
            # the slip: the ASID compare is missing
            if not vt.wr.nG:
                continue

        invalidate_vncr(vt)


def kvm_handle_s1e2_tlbi(vcpu, inst, val):
    scope = s1e2_tlbi_scope()
    compute_s1_tlbi_range(vcpu, inst, val, scope)
    write_lock(vcpu.kvm.mmu_lock)
    invalidate_vncr_va(vcpu.kvm, scope)
    write_unlock(vcpu.kvm.mmu_lock)
