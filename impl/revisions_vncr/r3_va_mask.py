"""r3_va_mask (vncr): r2_mmu_lock with the VA of a TLBI by VA taken as
upstream takes it, `tlbi_va_s1_to_va`: bits [43:0] of the operand shifted to
VA[55:12] and sign-extended from bit 48 (the ASID and TTL fields no longer in
the VA).

Provenance:
- tlbi_va_s1_to_va, compute_s1_tlbi_range: "[PATCH] KVM: arm64: Mask out
  non-VA bits from TLBI VA* on VNCR invalidation", Marc Zyngier, Sun 25 May
  2025 (thread summary in archive id 19271423449), merged as 667304740537
  (shortlogs in archive ids 66444956879, 66501395020; in the KVM/arm64 6.16
  fixes pull, archive id 42972271336).  The mail's Message-Id and diff are
  not in the stored corpus; the macro as merged is the one upstream has
  (N3_nested_96575923.txt:919), imported here from upstream.py.
- everything else: r2_mmu_lock / r1_s1_tlbi, unchanged (the block starts are
  still `addr & (size - 1)`; 5b9c1beaa1fd fixes them in Sep 2025, which gives
  upstream.py).

Written in the vocabulary of impl.kernel; comments are ours.
"""

from nvtlbi.impl.kernel import *  # noqa: F401,F403

from nvtlbi.impl.revisions_vncr.r1_s1_tlbi import invalidate_vncr_va, kvm_invalidate_vncr_ipa  # noqa: F401
from nvtlbi.impl.revisions_vncr.r2_mmu_lock import kvm_handle_s1e2_tlbi  # noqa: F401
from nvtlbi.impl.revisions_vncr.upstream import compute_s1_tlbi_range, tlbi_va_s1_to_va  # noqa: F401
