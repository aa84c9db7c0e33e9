"""r0_baseline: the IPAS2E1 handler before any TTL logic (2019/2020 NV series).

Provenance: the handler body that "[PATCH v2 63/94] arm64: KVM: nv: Add
handling of ARMv8.4-TTL TLB invalidation" (Marc Zyngier, 11 Feb 2020,
Message-Id 20200211174938.27809-64-maz@kernel.org) replaces.

Behaviour: the size comes from the vCPU's *current* VTCR_EL2.TG0 alone (the
largest block: 1G, 32M, 512M; BUG() otherwise), held in an int; the IPA is
aligned down to it and unmapped in the MMU with this VTTBR and HCR_EL2.VM
set, then in the one with VM clear.  Written by us from the description."""

from nvtlbi.impl.kernel_2020 import *  # noqa: F401,F403


@kfunc
def handle_ipas2e1is(vcpu, val: u64):
    kvm = vcpu.kvm
    vttbr = u64(vcpu_read_sys_reg(vcpu, VTTBR_EL2))
    vtcr = u64(vcpu_read_sys_reg(vcpu, VTCR_EL2))

    tg = vtcr & VTCR_EL2_TG0_MASK
    if tg == VTCR_EL2_TG0_4K:
        max_size = c_int(SZ_1G)
    elif tg == VTCR_EL2_TG0_16K:
        max_size = c_int(SZ_32M)
    elif tg == VTCR_EL2_TG0_64K:
        max_size = c_int(SZ_512M)
    else:
        BUG()

    base_addr = u64((val & GENMASK_ULL(35, 0)) << 12)
    base_addr &= ~(max_size - 1)

    spin_lock(kvm.mmu_lock)
    mmu = lookup_s2_mmu(kvm, vttbr, HCR_VM)
    if mmu:      # nvtlbi: dead-ok (modelled: the MMU holding T exists; with none, nothing is cached)
        kvm_unmap_stage2_range(mmu, base_addr, max_size)
    mmu = lookup_s2_mmu(kvm, vttbr, 0)
    if mmu:
        kvm_unmap_stage2_range(mmu, base_addr, max_size)
    spin_unlock(kvm.mmu_lock)
