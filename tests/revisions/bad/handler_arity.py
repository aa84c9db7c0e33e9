"""Broken on purpose: a TLBI handler that does not take (vcpu, val)."""

from nvtlbi.impl.revisions.upstream import ttl_to_size, get_guest_mapping_ttl, compute_tlb_inval_range  # noqa: F401
from nvtlbi.impl.kernel import *  # noqa: F401,F403


def handle_ipas2e1is(vcpu):
    return None
