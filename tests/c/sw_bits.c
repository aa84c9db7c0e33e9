// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvtlbi test fixture, written for nvtlbi in kernel style (not kernel
 * source).  It reads the level tag one bit too high, from [57:56]:
 * KVM never sets bit 57 in a shadow leaf, but nvtlbi's model leaves it free.  The three functions that size the invalidation of a guest
 * TLBI IPAS2E1*, as of the 2024 vocabulary: shifted VTCR_EL2_TG0_*
 * values, the TTL hint trusted only if the VM advertises FEAT_TTL.
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

/*
 * Recover a TTL from the shadow S2: probe the IPA aligned to each block
 * size of the guest granule in turn and use the level tag of the first
 * valid leaf that has one.
 */
static u8 get_guest_mapping_ttl(struct kvm_s2_mmu *mmu, u64 addr)
{
	u64 tmp, sz = 0, vtcr = mmu->tlb_vtcr;
	kvm_pte_t pte;
	u8 ttl, level;

	lockdep_assert_held_write(&kvm_s2_mmu_to_kvm(mmu)->mmu_lock);

	switch (vtcr & VTCR_EL2_TG0_MASK) {
	case VTCR_EL2_TG0_4K:
		ttl = (TLBI_TTL_TG_4K << 2);
		break;
	case VTCR_EL2_TG0_16K:
		ttl = (TLBI_TTL_TG_16K << 2);
		break;
	case VTCR_EL2_TG0_64K:
	default:		/* reserved encodings behave as 64K */
		ttl = (TLBI_TTL_TG_64K << 2);
		break;
	}

	tmp = addr;

again:
	/* next block size up for this granule; 0 once we run out */
	switch (vtcr & VTCR_EL2_TG0_MASK) {
	case VTCR_EL2_TG0_4K:
		if (sz < SZ_4K)
			sz = SZ_4K;
		else if (sz < SZ_2M)
			sz = SZ_2M;
		else if (sz < SZ_1G)
			sz = SZ_1G;
		else
			sz = 0;
		break;
	case VTCR_EL2_TG0_16K:
		if (sz < SZ_16K)
			sz = SZ_16K;
		else if (sz < SZ_32M)
			sz = SZ_32M;
		else
			sz = 0;
		break;
	case VTCR_EL2_TG0_64K:
	default:
		if (sz < SZ_64K)
			sz = SZ_64K;
		else if (sz < SZ_512M)
			sz = SZ_512M;
		else
			sz = 0;
		break;
	}

	if (sz == 0)
		return 0;

	tmp &= ~(sz - 1);
	if (kvm_pgtable_get_leaf(mmu->pgt, tmp, &pte, NULL))
		goto again;
	if (!(pte & PTE_VALID))
		goto again;
	level = FIELD_GET(GENMASK_ULL(57, 56), pte);
	if (!level)
		goto again;

	ttl |= level;

	/* the tagged block must still cover the IPA we were asked about */
	sz = ttl_to_size(ttl);
	if (addr < (tmp + sz))
		return ttl;

	return 0;
}

unsigned long compute_tlb_inval_range(struct kvm_s2_mmu *mmu, u64 val)
{
	struct kvm *kvm = kvm_s2_mmu_to_kvm(mmu);
	unsigned long max_size;
	u8 ttl;

	ttl = FIELD_GET(TLBI_TTL_MASK, val);

	if (!ttl || !kvm_has_feat(kvm, ID_AA64MMFR2_EL1, TTL, IMP)) {
		/* no usable hint in the operand: ask the shadow S2 */
		u64 addr = (val & GENMASK_ULL(35, 0)) << 12;
		ttl = get_guest_mapping_ttl(mmu, addr);
	}

	max_size = ttl_to_size(ttl);

	if (!max_size) {
		/* largest block the guest granule can map */
		switch (mmu->tlb_vtcr & VTCR_EL2_TG0_MASK) {
		case VTCR_EL2_TG0_4K:
			max_size = SZ_1G;
			break;
		case VTCR_EL2_TG0_16K:
			max_size = SZ_32M;
			break;
		case VTCR_EL2_TG0_64K:
		default:
			max_size = SZ_512M;
			break;
		}
	}

	WARN_ON(!max_size);
	return max_size;
}
