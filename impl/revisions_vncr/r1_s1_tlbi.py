"""r1_s1_tlbi (vncr): the VNCR pseudo-TLB's invalidation as first posted and
merged, spring 2025.

Provenance:
- kvm_invalidate_vncr_ipa, invalidate_vncr, pgshift_level_to_ttl: "[PATCH v3
  11/17] KVM: arm64: nv: Handle VNCR_EL2 invalidation from MMU notifiers",
  Marc Zyngier, 23 Apr 2025, Message-Id 20250423151508.2961768-12-maz@kernel.org
  (archive id 42818717573; two more copies of the same hunk: 10359706071,
  42872729899).
- struct s1e2_tlbi_scope, invalidate_vncr_va, compute_s1_tlbi_range,
  kvm_handle_s1e2_tlbi: "[PATCH v3 13/17] KVM: arm64: nv: Add S1 TLB
  invalidation primitive for VNCR_EL2", 23 Apr 2025, Message-Id
  20250423151508.2961768-14-maz@kernel.org (archive id 43085332773); the same
  body in v4 13/17, 14 May 2025, Message-Id 20250514103501.2225951-14-maz@kernel.org
  (archive id 43092891289), merged as 4ffa72ad8f37 (the Fixes: tag of
  20260607175745.297793-1-maz@kernel.org names it).
- decode_range_tlbi: v3 05/17 of the same series (ML-RANGE), as upstream's.

What differs from upstream (impl/revisions_vncr/upstream.py), each later fixed:
- both block starts are `addr & (size - 1)`, the offset in the block, not
  `addr & ~(size - 1)` (fixed by 5b9c1beaa1fd, Sep 2025: r3_va_mask -> upstream);
- a TLBI by VA takes `val << 12` as the VA: the ASID and TTL fields land in
  bits [63:56] and bit 48 is not sign-extended (fixed by 667304740537, May
  2025: r3_va_mask);
- kvm_handle_s1e2_tlbi calls invalidate_vncr_va without mmu_lock, whose
  lockdep assertion then fires (fixed by beab7d058309, May 2025: r2_mmu_lock);
- invalidate_vncr_va has no NULL check (as upstream; fixed in r5_vncr_tlb_iter).

Written in the vocabulary of impl.kernel from reading those; comments are
ours.  The switch of compute_s1_tlbi_range is one test per group of
fallthrough case labels, as in upstream.py.
"""

from nvtlbi.impl.kernel import *  # noqa: F401,F403

from nvtlbi.impl.revisions_vncr.upstream import (_ALL, _ASID, _RVA, _RVAA, _VA, _VAA,  # noqa: F401
                                                 decode_range_tlbi, invalidate_vncr, pgshift_level_to_ttl,
                                                 ttl_to_size)


@kfunc
def kvm_invalidate_vncr_ipa(kvm, start: u64, end: u64):
    lockdep_assert_held_write(kvm.mmu_lock)

    if not kvm_has_feat(kvm, ID_AA64MMFR4_EL1, NV_frac, NV2_ONLY):
        return

    for i, vcpu in kvm_for_each_vcpu(kvm):
        vt = vcpu.arch.vncr_tlb

        # the MMU notifier can run before a vCPU's first run (no pseudo-TLB)
        if not vt:
            continue

        if not vt.valid:
            continue

        ipa_size = u64(ttl_to_size(pgshift_level_to_ttl(vt.wi.pgshift, vt.wr.level)))
        ipa_start = u64(vt.wr.pa & (ipa_size - 1))     # the offset in the block, not its start
        ipa_end = u64(ipa_start + ipa_size)

        if ipa_end <= start or ipa_start >= end:
            continue

        invalidate_vncr(vt)


def invalidate_vncr_va(kvm, scope):
    lockdep_assert_held_write(kvm.mmu_lock)

    for i, vcpu in kvm_for_each_vcpu(kvm):
        vt = vcpu.arch.vncr_tlb

        if not vt.valid:                # no NULL check
            continue

        va_size = u64(ttl_to_size(pgshift_level_to_ttl(vt.wi.pgshift, vt.wr.level)))
        va_start = u64(vt.gva & (va_size - 1))          # the offset in the block, not its start
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


def compute_s1_tlbi_range(vcpu, inst, val, scope):
    # as upstream's but for the VA of a TLBI by VA: the operand shifted, its
    # ASID and TTL bits kept above the VA, no sign extension
    if inst in _ALL:
        scope.type = TLBI_ALL
    elif inst in _VA:
        scope.type = TLBI_VA
        scope.size = ttl_to_size(FIELD_GET(TLBI_TTL_MASK, val))
        if not scope.size:
            scope.size = SZ_1G
        scope.va = (val << 12) & ~(scope.size - 1)
        scope.asid = FIELD_GET(TLBIR_ASID_MASK, val)
    elif inst in _ASID:
        scope.type = TLBI_ASID
        scope.asid = FIELD_GET(TLBIR_ASID_MASK, val)
    elif inst in _VAA:
        scope.type = TLBI_VAA
        scope.size = ttl_to_size(FIELD_GET(TLBI_TTL_MASK, val))
        if not scope.size:
            scope.size = SZ_1G
        scope.va = (val << 12) & ~(scope.size - 1)
    elif inst in _RVA:
        scope.type = TLBI_VA
        scope.va = decode_range_tlbi(val, FieldRef(scope, "size"), FieldRef(scope, "asid"))
    elif inst in _RVAA:
        scope.type = TLBI_VAA
        scope.va = decode_range_tlbi(val, FieldRef(scope, "size"), NULL)


def kvm_handle_s1e2_tlbi(vcpu, inst, val):
    scope = s1e2_tlbi_scope()

    compute_s1_tlbi_range(vcpu, inst, val, scope)
    # mmu_lock is not taken: invalidate_vncr_va's lockdep assertion fires
    invalidate_vncr_va(vcpu.kvm, scope)
