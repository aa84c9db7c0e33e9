"""A deliberately broken VNCR invalidation (test revision, not history):
invalidate_vncr_va compares the scope against the start of the cached
translation only, ignoring its size, so a TLBI whose scope starts inside a
cached block (a TTL hint naming a smaller level, a range starting in the
block) leaves it.  V1 must fail with a replayed counterexample."""

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

        if scope.type == TLBI_VA or scope.type == TLBI_VAA:
            # the bug: only the start of the cached block is tested
            if va_start < scope.va or va_start >= (scope.va + scope.size):
                continue
            if scope.type == TLBI_VA and vt.wr.nG and vt.wr.asid != scope.asid:
                continue
        elif scope.type == TLBI_ASID:
            if not vt.wr.nG or vt.wr.asid != scope.asid:
                continue

        invalidate_vncr(vt)


def kvm_handle_s1e2_tlbi(vcpu, inst, val):
    scope = s1e2_tlbi_scope()
    compute_s1_tlbi_range(vcpu, inst, val, scope)
    write_lock(vcpu.kvm.mmu_lock)
    invalidate_vncr_va(vcpu.kvm, scope)
    write_unlock(vcpu.kvm.mmu_lock)
