"""r1b_swwalk: the first shadow probe, a software walk of the shadow S2.

Provenance: "[PATCH v2 64/94] arm64: KVM: nv: Invalidate TLBs based on shadow
S2 TTL-like information", Marc Zyngier, 11 Feb 2020,
Message-Id 20200211174938.27809-65-maz@kernel.org (REVISIONS.md R1b).  The
same algorithm is in v5 59/69 (20211129200150.351436-60-maz@kernel.org),
v6 54/64 (20220128121912.509006-55-maz@kernel.org) and v7 55/68
(20230112191927.1814989-56-maz@kernel.org), R1c-R1e: they change only the
host VTCR the walk uses and the lock flavour, which this model does not see.

Behaviour: granule from the vCPU's *current* VTCR_EL2 (BUG() on an unknown
TG0); probes by software walk (kvm_walk_shadow_s2): no explicit valid check,
a failed or access-flag-clear walk leaves upper_attr zero, so the level
reads 0; the guest TTL is trusted when the host has FEAT_TTL; the caller
aligns one base_addr cumulatively over two MMUs.  Written by us."""

from nvtlbi.impl.kernel_2020 import *  # noqa: F401,F403
from nvtlbi.impl.revisions.r1a_ttl_hostcap import ttl_to_size  # unchanged in this patch  # noqa: F401


@kfunc
def get_guest_mapping_ttl(vcpu, mmu, addr: u64) -> u8:
    sz = u64(0)
    vtcr = u64(vcpu_read_sys_reg(vcpu, VTCR_EL2))
    out = kvm_s2_trans()

    tg = vtcr & VTCR_EL2_TG0_MASK
    if tg == VTCR_EL2_TG0_4K:
        ttl = u8(1 << 2)
    elif tg == VTCR_EL2_TG0_16K:
        ttl = u8(2 << 2)
    elif tg == VTCR_EL2_TG0_64K:
        ttl = u8(3 << 2)
    else:
        BUG()

    tmp = u64(addr)

    while True:                         # again:
        tg = vtcr & VTCR_EL2_TG0_MASK
        if tg == VTCR_EL2_TG0_4K:
            if sz < SZ_4K:
                sz = u64(SZ_4K)
            elif sz < SZ_2M:
                sz = u64(SZ_2M)
            elif sz < SZ_1G:
                sz = u64(SZ_1G)
            else:
                sz = u64(0)
        elif tg == VTCR_EL2_TG0_16K:
            if sz < SZ_16K:
                sz = u64(SZ_16K)
            elif sz < SZ_32M:
                sz = u64(SZ_32M)
            else:
                sz = u64(0)
        elif tg == VTCR_EL2_TG0_64K:      # nvtlbi: dead-ok (the first switch BUG()s on a reserved TG0)
            if sz < SZ_64K:
                sz = u64(SZ_64K)
            elif sz < SZ_512M:
                sz = u64(SZ_512M)
            else:
                sz = u64(0)
        else:
            BUG()

        if sz == 0:
            return 0

        tmp &= ~(sz - 1)
        kvm_walk_shadow_s2(mmu, tmp, out)        # the result is not checked
        level = u8(FIELD_GET(GENMASK_ULL(56, 55), out.upper_attr))
        if not level:      # nvtlbi: dead-ok (tag 0 is an LPA2 level-0 block: leaf-tagged, no-lpa2)
            continue                    # goto again

        ttl |= level
        sz = u64(ttl_to_size(ttl))
        if addr < (tmp + sz):
            return ttl

        return 0


@kfunc
def compute_tlb_inval_range(vcpu, mmu, val: u64) -> unsigned_long:
    ttl = u8(0)
    if cpus_have_const_cap(ARM64_HAS_ARMv8_4_TTL):
        ttl = u8(FIELD_GET(GENMASK_ULL(47, 44), val))

    if not ttl:
        addr = u64((val & GENMASK_ULL(35, 0)) << 12)
        ttl = u8(get_guest_mapping_ttl(vcpu, mmu, addr))

    max_size = unsigned_long(ttl_to_size(ttl))

    if not max_size:
        vtcr = u64(vcpu_read_sys_reg(vcpu, VTCR_EL2))
        tg = vtcr & VTCR_EL2_TG0_MASK
        if tg == VTCR_EL2_TG0_4K:
            max_size = unsigned_long(SZ_1G)
        elif tg == VTCR_EL2_TG0_16K:
            max_size = unsigned_long(SZ_32M)
        elif tg == VTCR_EL2_TG0_64K:
            max_size = unsigned_long(SZ_512M)
        else:
            BUG()

    WARN_ON(not max_size)
    return max_size


@kfunc
def handle_ipas2e1is(vcpu, val: u64):
    kvm = vcpu.kvm
    vttbr = u64(vcpu_read_sys_reg(vcpu, VTTBR_EL2))

    spin_lock(kvm.mmu_lock)
    base_addr = u64((val & GENMASK_ULL(35, 0)) << 12)
    mmu = lookup_s2_mmu(kvm, vttbr, HCR_VM)
    if mmu:      # nvtlbi: dead-ok (modelled: the MMU holding T exists; with none, nothing is cached)
        max_size = unsigned_long(compute_tlb_inval_range(vcpu, mmu, val))
        base_addr &= ~(max_size - 1)
        kvm_unmap_stage2_range(mmu, base_addr, max_size)
    mmu = lookup_s2_mmu(kvm, vttbr, 0)
    if mmu:
        max_size = unsigned_long(compute_tlb_inval_range(vcpu, mmu, val))
        base_addr &= ~(max_size - 1)
        kvm_unmap_stage2_range(mmu, base_addr, max_size)
    spin_unlock(kvm.mmu_lock)
