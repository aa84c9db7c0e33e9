"""inline_decode (ripas2e1): the range TLBI handler before decode_range_tlbi,
with the operand decoded in the handler itself (same arithmetic).

Provenance:
- handle_ripas2e1is: first posted as "[PATCH 15/16] KVM: arm64: nv: Add
  handling of range-based TLBI operations", Marc Zyngier, 9 Apr 2024,
  Message-Id 20240409175448.3507472-16-maz@kernel.org (archive id 28342231822;
  the per-MMU callback is named s2_mmu_unmap_stage2_range there, and a VM
  without FEAT_TLBIRANGE gets kvm_inject_undefined, later undef_access:
  archive id 20306496730); the same decode and walk as merged, in
  arch/arm64/kvm/sys_regs.c as in S_sys_regs_260119377.txt:3544 (the decode
  inline; 20250423151508.2961768-6-maz@kernel.org, archive id 42812606986,
  later moved it into decode_range_tlbi, impl/revisions_ripas2e1/upstream.py,
  and `nvtlbi diff --op ripas2e1 inline_decode upstream` finds them EQUIVALENT).
- kvm_s2_mmu_iterate_by_vmid: introduced by "[PATCH 07/16] KVM: arm64: nv:
  Handle TLB invalidation targeting L2 stage-1", 9 Apr 2024, Message-Id
  20240409175448.3507472-8-maz@kernel.org (archive id 29139021260); the same
  body in every later copy seen (28598310917, 42277564777, 42208634308,
  1383644381) and in N3.
- s2_mmu_unmap_range: arch/arm64/kvm/sys_regs.c (S_sys_regs_260119377.txt:3491).
- kvm_s2_mmu_iterate_by_vmid: arch/arm64/kvm/nested.c (N3_nested_96575923.txt:592), unchanged since it was posted (above).
- __TLBI_RANGE_PAGES: arch/arm64/include/asm/tlbflush.h.

Written in the vocabulary of impl.kernel from reading those; comments are
ours.  The trap's kvm_supported_tlbi_ipas2_op check (an UNDEF for a VM without
FEAT_TLBIRANGE) is outside: this is the handler once the op is supported.
"""

from nvtlbi.impl.kernel import *  # noqa: F401,F403


from nvtlbi.impl.revisions_ripas2e1.upstream import kvm_s2_mmu_iterate_by_vmid, s2_mmu_unmap_range  # noqa: F401


def handle_ripas2e1is(vcpu, val):
    vttbr = u64(vcpu_read_sys_reg(vcpu, VTTBR_EL2))

    # the TTL (bits [38:37]) is not read: only the described range is used
    tg = u64(FIELD_GET(GENMASK(47, 46), val))
    scale = u64(FIELD_GET(GENMASK(45, 44), val))
    num = u64(FIELD_GET(GENMASK(43, 39), val))
    base = u64(val & GENMASK(36, 0))

    if tg == 1:
        shift = c_int(12)
    elif tg == 2:
        shift = c_int(14)
    else:                               # case 3 and default: reserved 0b00 as 64K
        shift = c_int(16)

    base <<= shift
    range = u64(__TLBI_RANGE_PAGES(num, scale) << shift)

    kvm_s2_mmu_iterate_by_vmid(vcpu.kvm, get_vmid(vttbr), tlbi_info(range=(base, range)), s2_mmu_unmap_range)
    return True
