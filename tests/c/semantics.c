// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvtlbi test fixture (ours, kernel style): small functions exercising the
 * C semantics the translator must reproduce.  harness_sem.c runs them
 * compiled by gcc; tests/test_audit_gcc.py runs their translation.
 */

/* integer promotion: u8 - u8 is an int, possibly negative, then widened */
static u64 sem_promote(u8 a, u8 b)
{
	return a - b;
}

/* unsigned int arithmetic wraps at 32 bits before it is widened */
static u64 sem_wrap32(unsigned int a, unsigned int b)
{
	unsigned int r = a * 3 + b;

	return r;
}

/* int against unsigned int compares as unsigned */
static int sem_cmp(int a, unsigned int b)
{
	return (a < b) + 2 * (a == -1) + 4 * (b > a);
}

/* a shift is typed by its promoted left operand */
static u64 sem_shift(u32 x, u8 n)
{
	u64 wide = (u64)x << (n & 31);
	u64 narrow = x << (n & 31);
	int small = (u8)x << 4;

	return wide ^ (narrow << 1) ^ small;
}

/* assignment and compound assignment convert to the left type */
static u8 sem_narrow(u64 x)
{
	u8 y = x;

	y += 200;
	y <<= 1;
	y |= x >> 60;
	return y;
}

/* fallthrough, grouped labels, and default between cases */
static int sem_switch(int x)
{
	int r = 0;

	switch (x & 7) {
	case 1:
		r += 1;
	case 2:
		r += 2;
		break;
	case 3:
	case 4:
		r = 7;
	default:
		r ^= 5;
		break;
	case 6:
		r = 100;
	}
	return r;
}

/* goto back to a label */
static int sem_goto(u64 x)
{
	int n = 0;

again:
	n++;
	x >>= 1;
	if (x & 1)
		goto again;
	if (n > 64)
		return -1;
	return n;
}

/* signed division and remainder truncate towards zero */
static long sem_div(long a, long b)
{
	if (b == 0 || b == -1)
		return 0;
	return a / b + (a % b) * 1000;
}

/* && || ! yield int 0/1; casts truncate or sign-extend */
static u64 sem_logic(u64 a, u64 b)
{
	int t = a && !b;
	int o = (a & 1) || (b & 2);
	u16 h = (u16)a;
	long s = (long)(int)b;

	return t + 2 * o + h + s;
}

/* literal types: decimal, hex and suffixed */
static u64 sem_literals(u32 x)
{
	u64 a = x + 4294967295;
	u64 b = x + 0xffffffff;
	u64 c = x + 1UL;
	u64 d = x - 1U;

	return a ^ (b << 1) ^ (c << 2) ^ (d << 3);
}
