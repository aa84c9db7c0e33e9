// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvtlbi test fixture (ours, kernel style): get_guest_mapping_ttl written
 * with a for loop over the guest granule's block sizes, smallest first,
 * instead of a goto; each probe that finds no tagged leaf continues with
 * the next size.  Audited on top of the bundled upstream revision
 * (--base-revision upstream).  At most 3 iterations (4K: 4K, 2M, 1G), so
 * --unwind 2 leaves the 4K case UNKNOWN.
 */

static u8 get_guest_mapping_ttl(struct kvm_s2_mmu *mmu, u64 addr)
{
	u64 tmp = addr, sz, vtcr = mmu->tlb_vtcr;
	kvm_pte_t pte;
	u8 ttl, level;
	int i, sizes;

	lockdep_assert_held_write(&kvm_s2_mmu_to_kvm(mmu)->mmu_lock);

	switch (vtcr & VTCR_EL2_TG0_MASK) {
	case VTCR_EL2_TG0_4K:
		ttl = (TLBI_TTL_TG_4K << 2);
		sizes = 3;
		break;
	case VTCR_EL2_TG0_16K:
		ttl = (TLBI_TTL_TG_16K << 2);
		sizes = 2;
		break;
	case VTCR_EL2_TG0_64K:
	default:		/* reserved encodings behave as 64K */
		ttl = (TLBI_TTL_TG_64K << 2);
		sizes = 2;
		break;
	}

	for (i = 0; i < sizes; i++) {
		switch (vtcr & VTCR_EL2_TG0_MASK) {
		case VTCR_EL2_TG0_4K:
			sz = i == 0 ? SZ_4K : i == 1 ? SZ_2M : SZ_1G;
			break;
		case VTCR_EL2_TG0_16K:
			sz = i == 0 ? SZ_16K : SZ_32M;
			break;
		default:
			sz = i == 0 ? SZ_64K : SZ_512M;
			break;
		}

		tmp &= ~(sz - 1);
		if (kvm_pgtable_get_leaf(mmu->pgt, tmp, &pte, NULL))
			continue;
		if (!(pte & PTE_VALID))
			continue;
		level = FIELD_GET(KVM_NV_GUEST_MAP_SZ, pte);
		if (!level)
			continue;

		ttl |= level;
		/* the tagged block must still cover the IPA we were asked about */
		sz = ttl_to_size(ttl);
		if (addr < (tmp + sz))
			return ttl;
		break;
	}

	return 0;
}
