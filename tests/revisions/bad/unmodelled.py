"""Broken on purpose: reads a register the model does not have
(vcpu_read_sys_reg of SCTLR_EL2); nvtlbi's limit, never a verdict."""

from nvtlbi.impl.revisions.upstream import ttl_to_size, get_guest_mapping_ttl, compute_tlb_inval_range  # noqa: F401
from nvtlbi.impl.kernel import *  # noqa: F401,F403
from nvtlbi.impl import tlbi


def handle_ipas2e1is(vcpu, val):
    if vcpu_read_sys_reg(vcpu, "SCTLR_EL2") & 1:
        return
    tlbi.handle_ipas2e1is(vcpu, val, lambda mmu, v: tlbi.s2_mmu_unmap_ipa(mmu, v, compute_tlb_inval_range))
