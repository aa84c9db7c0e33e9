// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvtlbi test fixture, written for nvtlbi in kernel style (not kernel
 * source).  One input holding the code of two ops, as sys_regs.c does:
 * the per-MMU callback of a TLBI IPAS2E1* (op ipas2e1) and the handler of
 * a TLBI RIPAS2E1* with its per-MMU callback (op ripas2e1).  What they call
 * and this file lacks (compute_tlb_inval_range, decode_range_tlbi,
 * kvm_s2_mmu_iterate_by_vmid) comes from --base-revision.
 */

#include <linux/kvm_host.h>

#include <asm/kvm_nested.h>

/* IPAS2E1: drop the block around one IPA; the size comes from the TTL or the shadow S2 */
static void s2_mmu_unmap_ipa(struct kvm_s2_mmu *mmu, const union tlbi_info *info)
{
	unsigned long size;
	u64 ipa;

	/* the operand holds IPA[47:12] in its bits [35:0] */
	ipa = (info->ipa.addr & GENMASK_ULL(35, 0)) << 12;
	size = compute_tlb_inval_range(mmu, info->ipa.addr);
	ipa &= ~(size - 1);

	kvm_stage2_unmap_range(mmu, ipa, size, true);
}

/* RIPAS2E1: the decoded range, on one shadow MMU */
static void s2_mmu_unmap_range(struct kvm_s2_mmu *mmu, const union tlbi_info *info)
{
	kvm_stage2_unmap_range(mmu, info->range.start, info->range.size, true);
}

/*
 * Unlike s2_mmu_unmap_ipa() above, the range form needs no
 * compute_tlb_inval_range(): the operand says how much to drop.
 */
static bool handle_ripas2e1is(struct kvm_vcpu *vcpu, struct sys_reg_params *p,
			      const struct sys_reg_desc *r)
{
	u64 vttbr = vcpu_read_sys_reg(vcpu, VTTBR_EL2);
	u64 start, size;

	start = decode_range_tlbi(p->regval, &size, NULL);

	kvm_s2_mmu_iterate_by_vmid(vcpu->kvm, get_vmid(vttbr),
				   &(union tlbi_info) {
					   .range = {
						   .start = start,
						   .size = size,
					   },
				   },
				   s2_mmu_unmap_range);
	return true;
}
