// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvtlbi test fixture, written for nvtlbi in kernel style (not kernel
 * source).  The three functions that size the invalidation of a guest
 * TLBI IPAS2E1*, in the style of NV v2 .. v8 (sys_regs.c): shifted VTCR_EL2_TG0_*
 * values, the TTL hint trusted if the host has FEAT_TTL, BUG() on
 * an unknown granule.
 */

#include <linux/bitfield.h>
#include <linux/kvm_host.h>

#include <asm/kvm_nested.h>

/* Not audited; present so that the extractor must skip it. */
static int count_valid(u64 *ptes, int n)
{
	int i, c = 0;

	for (i = 0; i < n; i++)
		c += ptes[i] & 1;
	return c;
}

/* Size of the block named by a TTL value (granule in [3:2], level in [1:0]). */
static unsigned int ttl_to_size(u8 ttl)
{
	int level = ttl & 3;
	int gran = (ttl >> 2) & 3;
	unsigned int max_size = 0;

	switch (gran) {
	case TLBI_TTL_TG_4K:
		switch (level) {
		case 0:
			break;
		case 1:
			max_size = SZ_1G;
			break;
		case 2:
			max_size = SZ_2M;
			break;
		case 3:
			max_size = SZ_4K;
			break;
		}
		break;
	case TLBI_TTL_TG_16K:
		switch (level) {
		case 0:
		case 1:
			break;
		case 2:
			max_size = SZ_32M;
			break;
		case 3:
			max_size = SZ_16K;
			break;
		}
		break;
	case TLBI_TTL_TG_64K:
		switch (level) {
		case 0:
		case 1:		/* would be 4TB with 52-bit IPAs */
			break;
		case 2:
			max_size = SZ_512M;
			break;
		case 3:
			max_size = SZ_64K;
			break;
		}
		break;
	default:		/* TTL[3:2] == 0: nothing known */
		break;
	}

	return max_size;
}

static unsigned long compute_tlb_inval_range(struct kvm_vcpu *vcpu,
					     struct kvm_s2_mmu *mmu, u64 val)
{
	unsigned long max_size;
	u8 ttl = 0;

	/* the hint is only trusted when the host implements FEAT_TTL */
	if (cpus_have_const_cap(ARM64_HAS_ARMv8_4_TTL))
		ttl = FIELD_GET(GENMASK_ULL(47, 44), val);

	max_size = ttl_to_size(ttl);

	if (!max_size) {
		u64 vtcr = vcpu_read_sys_reg(vcpu, VTCR_EL2);

		switch (vtcr & VTCR_EL2_TG0_MASK) {
		case VTCR_EL2_TG0_4K:
			max_size = SZ_1G;
			break;
		case VTCR_EL2_TG0_16K:
			max_size = SZ_32M;
			break;
		case VTCR_EL2_TG0_64K:
			max_size = SZ_512M;
			break;
		default:
			BUG();
		}
	}

	WARN_ON(!max_size);
	return max_size;
}

/*
 * The NV v2 .. v8 IPAS2E1 handler: both shadow MMUs of the guest's VTTBR
 * (stage 2 on and off), the base aligned in place, so the alignment of the
 * first MMU is kept for the second.
 */
static bool handle_ipas2e1is(struct kvm_vcpu *vcpu, struct sys_reg_params *p,
			     const struct sys_reg_desc *r)
{
	u64 vttbr = vcpu_read_sys_reg(vcpu, VTTBR_EL2);
	struct kvm_s2_mmu *mmu;
	u64 base_addr;
	unsigned long max_size;

	base_addr = (p->regval & GENMASK_ULL(35, 0)) << 12;

	spin_lock(&vcpu->kvm->mmu_lock);

	mmu = lookup_s2_mmu(vcpu->kvm, vttbr, HCR_VM);
	if (mmu) {
		max_size = compute_tlb_inval_range(vcpu, mmu, p->regval);
		base_addr &= ~(max_size - 1);
		kvm_unmap_stage2_range(mmu, base_addr, max_size);
	}

	mmu = lookup_s2_mmu(vcpu->kvm, vttbr, 0);
	if (mmu) {
		max_size = compute_tlb_inval_range(vcpu, mmu, p->regval);
		base_addr &= ~(max_size - 1);
		kvm_unmap_stage2_range(mmu, base_addr, max_size);
	}

	spin_unlock(&vcpu->kvm->mmu_lock);

	return true;
}
