"""The kernel vocabulary of the NV series v2 .. v10 (Feb 2020 - Apr 2023).

What differs from the 2024 vocabulary (impl.kernel), each with its source in
impl/eras.py: the TTL is gated on the host capability (cpus_have_const_cap,
cpus_have_final_cap), the unmap is kvm_unmap_stage2_range, mmu_lock is taken
with spin_lock in the oldest posts, the early shadow probe is the software
walk kvm_walk_shadow_s2, and `mmu.vtcr` is the guest's VTCR_EL2 (there is no
`tlb_vtcr` yet).  kvm_has_feat does not exist."""

from nvtlbi.impl import eras
from nvtlbi.impl.kernel import *  # noqa: F401,F403
from nvtlbi.impl.kernel import (cpus_have_const_cap, kvm_unmap_stage2_range, kvm_walk_shadow_s2,  # noqa: F401
                         spin_lock, spin_unlock)

ERA = "v2020"
__all__ = eras.names(ERA)
