"""upstream (ripas2e1): the range TLBI handler with the operand decoded by
decode_range_tlbi, and the per-MMU walk of nested.c.

Provenance:
- decode_range_tlbi: "[PATCH v3 05/17] KVM: arm64: nv: Move TLBI range
  decoding to a helper", Marc Zyngier, 23 Apr 2025,
  Message-Id 20250423151508.2961768-6-maz@kernel.org (arch/arm64/include/asm/kvm_nested.h);
  handle_ripas2e1is calls it from then on (ARCH_FACTS.md ML-RANGE).
- s2_mmu_unmap_range: arch/arm64/kvm/sys_regs.c (S_sys_regs_260119377.txt:3491).
- kvm_s2_mmu_iterate_by_vmid: arch/arm64/kvm/nested.c (N3_nested_96575923.txt:592).
- __TLBI_RANGE_PAGES: arch/arm64/include/asm/tlbflush.h.

Written in the vocabulary of impl.kernel from reading those; comments are
ours.  The trap's kvm_supported_tlbi_ipas2_op check (an UNDEF for a VM without
FEAT_TLBIRANGE) is outside: this is the handler once the op is supported.
"""

from nvtlbi.impl.kernel import *  # noqa: F401,F403


@kfunc
def decode_range_tlbi(val: u64, range, asid) -> u64:
    # TG picks the unit of BaseADDR and of the range; the reserved 0b00 is
    # taken as 64K like 0b11 (the kernel's IMPDEF choice)
    tg = u64(FIELD_GET(GENMASK(47, 46), val))

    if tg == 1:
        shift = c_int(12)
    elif tg == 2:
        shift = c_int(14)
    else:                               # case 3 and default
        shift = c_int(16)

    base = u64((val & GENMASK(36, 0)) << shift)

    if asid is not NULL:        # nvtlbi: dead-ok (handle_ripas2e1is passes NULL; the stage-1 range ops of the VNCR path do not)
        asid.val = FIELD_GET(TLBIR_ASID_MASK, val)

    scale = u64(FIELD_GET(GENMASK(45, 44), val))
    num = u64(FIELD_GET(GENMASK(43, 39), val))
    range.val = __TLBI_RANGE_PAGES(num, scale) << shift

    return base


@kfunc
def kvm_s2_mmu_iterate_by_vmid(kvm, vmid: u16, info, tlbi_callback):  # type: ignore[valid-type]
    # every shadow MMU in use whose cached VMID is the guest's, under
    # mmu_lock for write
    write_lock(kvm.mmu_lock)

    i = c_int(0)
    while i < kvm.arch.nested_mmus_size:
        mmu = kvm.arch.nested_mmus[i]
        i += 1                          # the for loop's i++, taken before `continue`
        if not kvm_s2_mmu_valid(mmu):
            continue
        if vmid == get_vmid(mmu.tlb_vttbr):
            tlbi_callback(mmu, info)

    write_unlock(kvm.mmu_lock)


def s2_mmu_unmap_range(mmu, info):
    # the whole described range, in this MMU's shadow stage 2
    kvm_stage2_unmap_range(mmu, info.range.start, info.range.size, True)


def handle_ripas2e1is(vcpu, val):
    vttbr = u64(vcpu_read_sys_reg(vcpu, VTTBR_EL2))
    range = Ref(u64)

    # the TTL (bits [38:37]) is not read: only the described range is used
    base = u64(decode_range_tlbi(val, range, NULL))

    kvm_s2_mmu_iterate_by_vmid(vcpu.kvm, get_vmid(vttbr),
                               tlbi_info(range=(base, range.val)), s2_mmu_unmap_range)
    return True
