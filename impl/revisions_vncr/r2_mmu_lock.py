"""r2_mmu_lock (vncr): r1_s1_tlbi with kvm_handle_s1e2_tlbi taking mmu_lock
for write around invalidate_vncr_va.

Provenance:
- kvm_handle_s1e2_tlbi: "[PATCH] KVM: arm64: nv: Handle TLBI S1E2 for VNCR
  invalidation with mmu_lock held", Marc Zyngier, Wed 21 May 2025 (thread
  summary in archive id 19271423449; commit beab7d058309 in the shortlogs of
  archive ids 66653533024, 66770557441; 313e725a5795 in 66761090205).  The
  mail's Message-Id is not in the stored corpus; the change as merged is the
  lock guard upstream's kvm_handle_s1e2_tlbi has (N3_nested_96575923.txt:1044).
- everything else: r1_s1_tlbi (impl/revisions_vncr/r1_s1_tlbi.py), unchanged.

Written in the vocabulary of impl.kernel; comments are ours.
"""

from nvtlbi.impl.kernel import *  # noqa: F401,F403

from nvtlbi.impl.revisions_vncr.r1_s1_tlbi import (compute_s1_tlbi_range, invalidate_vncr_va,  # noqa: F401
                                                   kvm_invalidate_vncr_ipa)


def kvm_handle_s1e2_tlbi(vcpu, inst, val):
    scope = s1e2_tlbi_scope()

    compute_s1_tlbi_range(vcpu, inst, val, scope)

    # guard(write_lock)(&vcpu->kvm->mmu_lock): released at the end of scope
    write_lock(vcpu.kvm.mmu_lock)
    invalidate_vncr_va(vcpu.kvm, scope)
    write_unlock(vcpu.kvm.mmu_lock)
