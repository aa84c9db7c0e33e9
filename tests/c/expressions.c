// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvtlbi test fixture (ours, kernel style): the expressions kernel C is
 * written with, beyond the statements of semantics.c: the conditional
 * operator, sizes.h, min/max, alignment, bits, branch hints, WARN_ON_ONCE
 * and BUILD_BUG_ON.  harness_expr.c runs them compiled by gcc;
 * tests/test_audit_expr.py runs their translation.
 */

/* ?: is typed by both arms (the usual arithmetic conversions), whichever is chosen */
static u64 expr_cond_type(u64 a, u64 b)
{
	u8 small = a;
	int neg = -1;
	unsigned int u = b;
	u64 r = (a & 1) ? neg : u;

	r ^= ((b & 2) ? small : (u8)b) << 20;
	r += (a > b) ? neg : b;
	r ^= (u64)((a & 8) ? neg : (s64)b) >> 3;
	return r;
}

/* ?: nested, and as a condition */
static int expr_cond_nested(u64 a, u64 b)
{
	int r = a < b ? (a == 0 ? 1 : 2) : (b == 0 ? 3 : 4);

	if (a & 4 ? b & 8 : b & 16)
		r += 10;
	return r;
}

/* only the chosen arm is evaluated: the other would shift by 64 or more */
static u64 expr_cond_lazy(u64 a, u64 b)
{
	u8 n = b;

	return n < 64 ? a << n : 0;
}

static int expr_bug(void)
{
	BUG();
	return 0;
}

/* only the chosen arm is evaluated: the other BUG()s */
static int expr_cond_bug(u64 a, u64 b)
{
	return a != b ? 1 : expr_bug();
}

/* sizes.h: int up to SZ_1G, unsigned int SZ_2G, unsigned long long from SZ_4G */
static u64 expr_sizes(u64 a, u64 b)
{
	int i = a;
	u64 r = (i < SZ_1G) + 2 * (i < SZ_2G) + 4 * ((u32)b < SZ_2G);

	r += SZ_2G + SZ_2G;
	r ^= SZ_1 | SZ_2 | SZ_4 | SZ_8 | SZ_16 | SZ_32 | SZ_64 | SZ_128 | SZ_256 | SZ_512;
	r += SZ_1K + SZ_2K + SZ_4K + SZ_8K + SZ_16K + SZ_32K + SZ_64K + SZ_128K + SZ_256K + SZ_512K;
	r ^= SZ_1M + SZ_2M + SZ_4M + SZ_8M + SZ_16M + SZ_32M + SZ_64M + SZ_128M + SZ_256M + SZ_512M;
	r += (a & SZ_4G) ? SZ_8G : SZ_16G;
	r ^= b % 3 == 0 ? SZ_32G : b % 3 == 1 ? SZ_1T : SZ_64T;
	r += SZ_1G + (SZ_4G - i);
	return r;
}

/* min/max of one type (an int for u8s), min_t/max_t converting first */
static u64 expr_minmax(u64 a, u64 b)
{
	u8 x = a, y = b;
	int s = a, t = b;
	u64 r = min(a, b) ^ (max(a, b) << 1);

	r += min(x, y) - max(x, y);
	r ^= max(s, t) ^ min(s, t);
	r += min_t(u32, a, b) + max_t(u8, a, b);
	r ^= min_t(int, a, b) + max_t(unsigned long, a, b);
	return r;
}

/* alignment: masks typed like x */
static u64 expr_align(u64 a, u64 b)
{
	u32 w = a;
	u8 c = b;
	u64 r = ALIGN(a, SZ_4K) ^ ALIGN_DOWN(b, SZ_2M);

	r += ALIGN(w, 1 << (b & 15)) + ALIGN_DOWN(w, 64);
	r ^= IS_ALIGNED(a, SZ_64K) + 2 * IS_ALIGNED(w, 16) + 4 * IS_ALIGNED(c, 4);
	r += round_up(a, SZ_16K) ^ round_down(b, 1UL << (a & 31));
	r ^= round_up(c, 8) ^ round_down(w, 256);
	return r;
}

/* bits and fields */
static u64 expr_bits(u64 a, u64 b)
{
	unsigned int lo = a & 31, hi = lo + (b & 31);
	u64 r = BIT(a & 63) ^ BIT_ULL(b & 63);

	r += GENMASK(hi, lo) ^ GENMASK_ULL(63, a & 63);
	r ^= FIELD_PREP(GENMASK(47, 44), b) | FIELD_PREP(GENMASK_ULL(15, 14), a & 3);
	r += FIELD_GET(GENMASK(55, 48), a);
	return r;
}

/* hints, WARN_ON_ONCE, compile-time checks */
static int expr_hints(u64 a, u64 b)
{
	int r = 0;

	BUILD_BUG_ON(SZ_4K != 4096);
	BUILD_BUG_ON(BIT(12) != SZ_4K);
	BUILD_BUG_ON(min(SZ_2M, SZ_1G) != SZ_2M || max_t(u64, SZ_4G, SZ_2G) != SZ_4G);
	BUILD_BUG_ON(!IS_ALIGNED(SZ_1G, SZ_2M) || (SZ_64T > SZ_1T ? 0 : 1));
	if (likely(a > b))
		r += 1;
	if (unlikely(!(a & 1)))
		r += 2;
	r += 4 * likely(b & 2) + 8 * unlikely(a);
	if (WARN_ON_ONCE(a == b))
		r += 16;
	return r;
}
