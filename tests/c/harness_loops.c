/*
 * nvtlbi gcc harness for loops.c: each input line "NAME a b" (hex 64-bit
 * patterns) is answered with the result as a 64-bit pattern.
 */
#include <stdio.h>
#include <string.h>

/* the fields of struct kvm_s2_trans as nvtlbi's vocabulary types them */
struct kvm_s2_trans {
	u64 output;
	u64 block_size;
	u64 upper_attr;
	int level;
	u64 esr;
};

#include "loops.c"

#define F(f) { #f, f }

static const struct {
	const char *name;
	u64 (*f)(u64, u64);
} funcs[] = {
	F(loop_for), F(loop_while), F(loop_do), F(loop_switch), F(loop_count), F(struct_local),
};

int main(void)
{
	char name[32];
	unsigned long long a, b;
	unsigned int i;

	while (scanf("%31s %llx %llx", name, &a, &b) == 3) {
		for (i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++)
			if (!strcmp(name, funcs[i].name))
				printf("%llx\n", (unsigned long long)funcs[i].f(a, b));
	}
	return 0;
}
