/*
 * nvtlbi gcc harness for expressions.c: each input line "NAME a b" (hex
 * 64-bit patterns) is answered with "result warnings" (the result as a
 * 64-bit pattern, signed results sign-extended), or "bug warnings" if
 * BUG() was reached.
 */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

int nvtlbi_warnings;
static jmp_buf on_bug;

void nvtlbi_bug(void)
{
	longjmp(on_bug, 1);
}

#include "expressions.c"

#define U(f) { #f, f, 0 }
#define S(f) { 0, 0, 0, #f, f }

static const struct {
	const char *name;
	u64 (*u)(u64, u64);
	int pad;
	const char *sname;
	int (*s)(u64, u64);
} funcs[] = {
	U(expr_cond_type), U(expr_cond_lazy), U(expr_sizes), U(expr_minmax), U(expr_align), U(expr_bits),
	S(expr_cond_nested), S(expr_cond_bug), S(expr_hints),
};

int main(void)
{
	char name[32];
	unsigned long long a, b;
	volatile unsigned long long r;
	unsigned int i;

	while (scanf("%31s %llx %llx", name, &a, &b) == 3) {
		nvtlbi_warnings = 0;
		if (setjmp(on_bug)) {
			printf("bug %d\n", nvtlbi_warnings);
			continue;
		}
		for (i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++) {
			if (funcs[i].name && !strcmp(name, funcs[i].name)) {
				r = funcs[i].u(a, b);
				break;
			}
			if (funcs[i].sname && !strcmp(name, funcs[i].sname)) {
				r = (long long)funcs[i].s(a, b);
				break;
			}
		}
		if (i == sizeof(funcs) / sizeof(funcs[0]))
			return 2;
		printf("%llx %d\n", r, nvtlbi_warnings);
	}
	return 0;
}
