// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvtlbi test fixture (ours, kernel style): loops (for, while, do-while,
 * break, continue, a switch inside a loop) and struct value locals
 * (initialisers, compound-literal resets, fields, &local to a helper that
 * fills it).  harness_loops.c runs them compiled by gcc;
 * tests/test_audit_loops.py runs their translation.
 */

/* for with continue and break: sums the set bits of a below bit b & 63 */
static u64 loop_for(u64 a, u64 b)
{
	u64 r = 0;
	int i;

	for (i = 0; i < 64; i++) {
		if (i == (b & 63))
			break;
		if (!(a & BIT_ULL(i)))
			continue;
		r += i;
	}
	return r ^ ((u64)i << 32);
}

/* while, with a declaration scoped to the loop body */
static u64 loop_while(u64 a, u64 b)
{
	u64 n = 0;

	while (a && n < (b & 15)) {
		u64 low = a & -a;

		a &= ~low;
		n++;
	}
	return a + n;
}

/* do-while runs its body once before testing; continue goes to the test */
static u64 loop_do(u64 a, u64 b)
{
	u32 x = a;
	int steps = 0;

	do {
		steps++;
		if (x & 1) {
			x >>= 1;
			continue;
		}
		x = x * 3 + (u32)b;
	} while (x > 7 && steps < 20);
	return ((u64)steps << 32) | x;
}

/* a switch inside a loop: its break ends the case, a continue the iteration */
static u64 loop_switch(u64 a, u64 b)
{
	u64 r = 0;
	unsigned int i;

	for (i = 0, r = b & 0xff; i < 16; i++, a >>= 4) {
		switch (a & 3) {
		case 0:
			continue;
		case 1:
			r += i;
			break;
		case 2:
			r ^= a;
			if (r & 1)
				break;
			r <<= 1;
			break;
		default:
			r--;
		}
		if (r > (b | 1))
			break;
	}
	return r;
}

/* a loop that ends on a condition only, for the unwinding bound */
static u64 loop_count(u64 a, u64 b)
{
	u64 n = 0;

	while (a > b) {
		a >>= 1;
		n++;
	}
	return n;
}

/* fill a struct through a pointer, as a walker fills its result */
static void trans_fill(struct kvm_s2_trans *t, u64 a)
{
	t->upper_attr = a & GENMASK_ULL(63, 50);
	t->level = a & 3;
	t->output |= a << 12;
}

/* struct value locals: initialisers, resets, field reads and writes */
static u64 struct_local(u64 a, u64 b)
{
	struct kvm_s2_trans out = { .level = 7, .output = b };
	struct kvm_s2_trans copy;
	u64 r;

	r = out.level + out.output + out.esr;
	trans_fill(&out, a);
	r ^= out.upper_attr + out.output + out.level;
	copy = out;
	out = (struct kvm_s2_trans) { };
	out.level -= 1;
	out.esr = b;
	r += out.level + copy.level + FIELD_GET(GENMASK_ULL(56, 55), copy.upper_attr);
	out = (struct kvm_s2_trans) { .block_size = SZ_2M };
	r += out.block_size + out.esr;
	return r;
}
