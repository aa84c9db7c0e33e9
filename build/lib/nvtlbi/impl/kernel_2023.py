"""The kernel vocabulary of the NV series v11 (Nov 2023), after
fe49fd940e22 moved VTCR_EL2 into struct kvm_s2_mmu: `mmu.vtcr` is now the
shadow stage 2's own VTCR_EL2 (the host's page size) and the guest's is
`mmu.tlb_vtcr`.  Otherwise as the v2020 vocabulary (impl/eras.py has each
name's meaning and source)."""

from nvtlbi.impl import eras
from nvtlbi.impl.kernel import *  # noqa: F401,F403
from nvtlbi.impl.kernel import cpus_have_const_cap, kvm_unmap_stage2_range  # noqa: F401

ERA = "v2023"
__all__ = eras.names(ERA)
