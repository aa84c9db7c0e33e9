"""r1f_ttl_names: v8 rework of ttl_to_size, otherwise r1b.

Provenance: "[PATCH v8 55/69] KVM: arm64: nv: Add handling of FEAT_TTL TLB
invalidation", Marc Zyngier, 31 Jan 2023,
Message-Id 20230131092504.2880505-56-maz@kernel.org (REVISIONS.md R1f).

Behaviour: ttl_to_size switches on (ttl >> 2) & 3 with the TLBI_TTL_TG_*
names; compute_tlb_inval_range and the caller are unchanged (host-cap gate,
vCPU VTCR fallback with BUG(), two MMUs with a cumulative base).  The v8
shadow-probe patch was not found; it is taken to match v7 (r1b).  A change
of form: `nvtlbi diff r1b_swwalk r1f_ttl_names` should find no difference.
Written by us."""

from nvtlbi.impl.kernel_2020 import *  # noqa: F401,F403


@kfunc
def ttl_to_size(ttl: u8) -> unsigned_int:
    level = c_int(ttl & 3)
    gran = c_int((ttl >> 2) & 3)
    max_size = unsigned_int(0)

    if gran == TLBI_TTL_TG_4K:
        if level == 1:
            max_size = unsigned_int(SZ_1G)
        elif level == 2:
            max_size = unsigned_int(SZ_2M)
        elif level == 3:
            max_size = unsigned_int(SZ_4K)
    elif gran == TLBI_TTL_TG_16K:
        if level == 2:
            max_size = unsigned_int(SZ_32M)
        elif level == 3:
            max_size = unsigned_int(SZ_16K)
    elif gran == TLBI_TTL_TG_64K:
        if level == 2:
            max_size = unsigned_int(SZ_512M)
        elif level == 3:
            max_size = unsigned_int(SZ_64K)
    return max_size


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
