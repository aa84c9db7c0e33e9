"""A VNCR invalidation that also forgets the pseudo-TLB's CPU (test
revision, not history): invalidate_vncr sets vt->cpu = -1 after clearing
the fixmap slot.  A write the invalidation does not make upstream (it
writes vt->valid only) and no property or diff compares: refused, never
EQUIVALENT; and a diff's second revision must not run on it (upstream then
kept the fixmap slot, a DIFFERENT that was nvtlbi's own doing)."""

from nvtlbi.impl.kernel import *  # noqa: F401,F403
from nvtlbi.impl.revisions_vncr.upstream import (compute_s1_tlbi_range, invalidate_vncr_va,  # noqa: F401
                                                 kvm_handle_s1e2_tlbi, kvm_invalidate_vncr_ipa,
                                                 pgshift_level_to_ttl, ttl_to_size)


def invalidate_vncr(vt):
    vt.valid = False
    if vt.cpu != -1:
        clear_fixmap(vncr_fixmap(vt.cpu))
        vt.cpu = -1                     # the write
