"""r1a_ttl_hostcap: first TTL support, no shadow probe.

Provenance: "[PATCH v2 63/94] arm64: KVM: nv: Add handling of ARMv8.4-TTL TLB
invalidation", Marc Zyngier, 11 Feb 2020,
Message-Id 20200211174938.27809-64-maz@kernel.org (REVISIONS.md R1a).

Behaviour: the operand's TTL is read only if the *host* has FEAT_TTL; with no
size, fall back on the vCPU's current VTCR_EL2 granule (BUG() on an unknown
TG0); WARN_ON(!max_size).  The caller aligns one base_addr in place for both
MMUs it looks up, so the alignment accumulates.  Written by us."""

from nvtlbi.impl.kernel_2020 import *  # noqa: F401,F403


@kfunc
def ttl_to_size(ttl: u8) -> unsigned_int:
    level = c_int(ttl & 3)
    max_size = unsigned_int(0)
    gran = ttl >> 2
    if gran == 1:                       # 4K
        if level == 1:
            max_size = unsigned_int(SZ_1G)
        elif level == 2:
            max_size = unsigned_int(SZ_2M)
        elif level == 3:
            max_size = unsigned_int(SZ_4K)
    elif gran == 2:                     # 16K
        if level == 2:
            max_size = unsigned_int(SZ_32M)
        elif level == 3:
            max_size = unsigned_int(SZ_16K)
    elif gran == 3:                     # 64K; no 52-bit IPA, so no level 1
        if level == 2:
            max_size = unsigned_int(SZ_512M)
        elif level == 3:
            max_size = unsigned_int(SZ_64K)
    return max_size


@kfunc
def compute_tlb_inval_range(vcpu, mmu, val: u64) -> unsigned_long:
    max_size = unsigned_long(0)

    if cpus_have_const_cap(ARM64_HAS_ARMv8_4_TTL):
        ttl = u8(FIELD_GET(GENMASK_ULL(47, 44), val))
        max_size = unsigned_long(ttl_to_size(ttl))

    if not max_size:
        vtcr = u64(vcpu_read_sys_reg(vcpu, VTCR_EL2))
        tg = vtcr & VTCR_EL2_TG0_MASK
        if tg == VTCR_EL2_TG0_4K:
            max_size = unsigned_long(SZ_1G)
        elif tg == VTCR_EL2_TG0_16K:
            max_size = unsigned_long(SZ_32M)
        elif tg == VTCR_EL2_TG0_64K:
            max_size = unsigned_long(SZ_512M)     # 52-bit PA would need more
        else:
            BUG()

    WARN_ON(not max_size)
    return max_size


@kfunc
def handle_ipas2e1is(vcpu, val: u64):
    kvm = vcpu.kvm
    vttbr = u64(vcpu_read_sys_reg(vcpu, VTTBR_EL2))
    base_addr = u64((val & GENMASK_ULL(35, 0)) << 12)

    spin_lock(kvm.mmu_lock)
    mmu = lookup_s2_mmu(kvm, vttbr, HCR_VM)
    if mmu:      # nvtlbi: dead-ok (modelled: the MMU holding T exists; with none, nothing is cached)
        max_size = unsigned_long(compute_tlb_inval_range(vcpu, mmu, val))
        base_addr &= ~(max_size - 1)             # in place: kept for the next MMU
        kvm_unmap_stage2_range(mmu, base_addr, max_size)
    mmu = lookup_s2_mmu(kvm, vttbr, 0)
    if mmu:
        max_size = unsigned_long(compute_tlb_inval_range(vcpu, mmu, val))
        base_addr &= ~(max_size - 1)
        kvm_unmap_stage2_range(mmu, base_addr, max_size)
    spin_unlock(kvm.mmu_lock)
