// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvtlbi test fixture (ours, kernel style): ttl_to_size written with const
 * lookup tables of block sizes, one per granule, indexed by the TTL level
 * (file scope, as a kernel developer would hoist them).  Audited on top of
 * the bundled upstream revision (--base-revision upstream).  BROKEN on
 * purpose: the 4K level-1 entry is SZ_2M, not SZ_1G, so a 1G block is
 * invalidated only in its first 2M.
 */

/* bytes mapped by a block at TTL levels 0..3; 0: no block at that level */
static const u32 ttl_sizes_4k[] = { 0, SZ_2M, SZ_2M, SZ_4K };
static const u32 ttl_sizes_16k[] = { 0, 0, SZ_32M, SZ_16K };
static const u32 ttl_sizes_64k[4] = { 0, 0, SZ_512M, SZ_64K };

static unsigned int ttl_to_size(u8 ttl)
{
	int level = ttl & 3;
	int gran = (ttl >> 2) & 3;

	BUILD_BUG_ON(ARRAY_SIZE(ttl_sizes_4k) != 4 || sizeof(ttl_sizes_16k) != 4 * sizeof(u32));

	switch (gran) {
	case TLBI_TTL_TG_4K:
		return ttl_sizes_4k[level];
	case TLBI_TTL_TG_16K:
		return ttl_sizes_16k[level];
	case TLBI_TTL_TG_64K:
		return ttl_sizes_64k[level];
	default:		/* TTL[3:2] == 0: no size hint */
		return 0;
	}
}
