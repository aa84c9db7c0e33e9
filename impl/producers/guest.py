"""guest: the guest hypervisor's own change of its VTCR_EL2.

VTCR_EL2 is a VNCR-backed register (EL2_REG_VNCR(VTCR_EL2, ...),
../shared/posts/S_sys_regs_260119377.txt:3265): under NV2 the guest's write
is a store to its VNCR page, with no trap, so no KVM code runs.  The
transition is that store alone; no shadow MMU and no shadow entry changes.
What it can break is only vtcr-current (the running MMU's tlb_vtcr against
the register), and that is restored because the write happens in the guest
hypervisor's context, and entering the nested guest again picks the MMU
for the new value (get_s2_mmu_nested, impl/producers/mmu.py)."""

from nvtlbi.impl.kernel import *  # noqa: F401,F403
from nvtlbi.impl.producers.mm import *  # noqa: F401,F403


@kfunc
def guest_write_vtcr(vcpu, val: u64):
    __vcpu_assign_sys_reg(vcpu, VTCR_EL2, val)
