// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvtlbi test fixture (ours, kernel style): const lookup tables (file scope
 * and local) indexed by a run-time value, sizeof and ARRAY_SIZE, and the
 * bit macros on constant masks of every shape.  harness_arrays.c runs them
 * compiled by gcc with -fsanitize=bounds trapping (an out-of-bounds index is
 * reported as "ub"); tests/test_audit_arrays.py runs their translation.
 */

static const u64 arr_sizes[] = { SZ_4K, SZ_16K, SZ_64K, SZ_2M, SZ_1G };

/* an index of a file-scope table: out of bounds for (a & 7) >= 5 */
static u64 arr_file(u64 a, u64 b)
{
	return arr_sizes[a & 7] + b;
}

/* a local table with fewer initialisers than elements (the rest are zero), a signed index */
static u64 arr_local(u64 a, u64 b)
{
	static const u8 shifts[6] = { 12, 14, 16, 21 };
	int i = (int)(b & 7) - 1;

	return (a & 0xff) + shifts[i] * 1000;
}

/* the element type converts the initialisers: -1 is 0xffff in a u16 table */
static u64 arr_convert(u64 a, u64 b)
{
	const u16 t[] = { -1, 0x12345, SZ_64K - 1 };
	s32 r = t[a % 3];

	return r + (b & 1);
}

/* sizeof of types, arrays and expressions; ARRAY_SIZE */
static u64 arr_sizeof(u64 a, u64 b)
{
	u8 c = a;
	u64 r = sizeof(u8) + 10 * sizeof(u16) + 100 * sizeof(u32) + 1000 * sizeof(u64);

	r += 10000 * sizeof(int) + 100000 * sizeof(unsigned long) + 1000000 * sizeof(long long);
	r ^= sizeof(arr_sizes) << 24 | ARRAY_SIZE(arr_sizes) << 32 | sizeof(c) << 40 | sizeof(c + 1) << 44;
	r += sizeof(arr_sizes[0]) * b;
	BUILD_BUG_ON(ARRAY_SIZE(arr_sizes) != 5);
	return r - (sizeof(int) - a);
}

/* a loop over a table, bounded by its size */
static u64 arr_search(u64 a, u64 b)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(arr_sizes); i++) {
		if ((a & 0x7fffffff) < arr_sizes[i])
			return i;
	}
	return b;
}

/* the bit macros on constant masks: literals, BIT, shifted, GENMASK of every width */
static u64 arr_bits(u64 a, u64 b)
{
	u64 r = FIELD_PREP(0xf0, a) ^ FIELD_GET(0x3000UL, b);

	r += FIELD_GET(BIT(5), a) + FIELD_PREP(BIT_ULL(63), b);
	r ^= FIELD_PREP(0xffu << 8, a) + FIELD_GET(GENMASK(63, 0), b);
	r += FIELD_GET(GENMASK_ULL(0, 0), a) ^ FIELD_PREP(GENMASK(31, 31), b);
	r ^= FIELD_GET(TLBI_TTL_MASK, a) << 1 | FIELD_PREP(TLBI_TTL_MASK, b);
	r += IS_ALIGNED(a, BIT(b & 15)) + 2 * IS_ALIGNED(b, SZ_2M) + 4 * IS_ALIGNED((u32)a, 1u << 31);
	return r;
}
