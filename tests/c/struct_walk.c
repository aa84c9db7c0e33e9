// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvtlbi test fixture (ours, kernel style): the early NV series' probe by
 * software walk of the shadow S2, written with a struct kvm_s2_trans value
 * local reset by a compound literal before each walk and a do-while over
 * the guest granule's block sizes.  v2020 vocabulary (vcpu_read_sys_reg,
 * kvm_walk_shadow_s2); audited on the bundled r1b_swwalk.
 */

u8 get_guest_mapping_ttl(struct kvm_vcpu *vcpu, struct kvm_s2_mmu *mmu, u64 addr)
{
	u64 tmp = addr, sz = 0, vtcr = vcpu_read_sys_reg(vcpu, VTCR_EL2);
	struct kvm_s2_trans out;
	u8 ttl, level = 0;

	switch (vtcr & VTCR_EL2_TG0_MASK) {
	case VTCR_EL2_TG0_4K:
		ttl = (1 << 2);
		break;
	case VTCR_EL2_TG0_16K:
		ttl = (2 << 2);
		break;
	case VTCR_EL2_TG0_64K:
		ttl = (3 << 2);
		break;
	default:
		BUG();
	}

	do {
		/* the next block size of the granule, 0 past the largest */
		switch (vtcr & VTCR_EL2_TG0_MASK) {
		case VTCR_EL2_TG0_4K:
			sz = sz < SZ_4K ? SZ_4K : sz < SZ_2M ? SZ_2M : sz < SZ_1G ? SZ_1G : 0;
			break;
		case VTCR_EL2_TG0_16K:
			sz = sz < SZ_16K ? SZ_16K : sz < SZ_32M ? SZ_32M : 0;
			break;
		default:
			sz = sz < SZ_64K ? SZ_64K : sz < SZ_512M ? SZ_512M : 0;
			break;
		}
		if (!sz)
			return 0;

		tmp &= ~(sz - 1);
		out = (struct kvm_s2_trans) { };
		kvm_walk_shadow_s2(mmu, tmp, &out);
		level = FIELD_GET(KVM_NV_GUEST_MAP_SZ, out.upper_attr);
	} while (!level);

	ttl |= level;
	sz = ttl_to_size(ttl);
	if (addr < (tmp + sz))
		return ttl;

	return 0;
}
