/*
 * nvtlbi gcc harness for arrays.c: each input line "NAME a b" (hex 64-bit
 * patterns) is answered with the result as a 64-bit pattern, or "ub" when
 * an array index was out of bounds: built with -fsanitize=bounds
 * -fsanitize-trap=bounds, gcc's bounds check traps and the SIGILL handler
 * jumps back here.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

int nvtlbi_warnings;
static sigjmp_buf on_trap;

void nvtlbi_bug(void)
{
	siglongjmp(on_trap, 2);
}

static void trapped(int sig)
{
	siglongjmp(on_trap, 1);
}

#include "arrays.c"

static const struct {
	const char *name;
	u64 (*f)(u64, u64);
} funcs[] = {
	{ "arr_file", arr_file }, { "arr_local", arr_local }, { "arr_convert", arr_convert },
	{ "arr_sizeof", arr_sizeof }, { "arr_search", arr_search }, { "arr_bits", arr_bits },
};

int main(void)
{
	char name[32];
	unsigned long long a, b;
	volatile unsigned long long r;
	unsigned int i;
	int k;

	signal(SIGILL, trapped);
	signal(SIGTRAP, trapped);
	while (scanf("%31s %llx %llx", name, &a, &b) == 3) {
		k = sigsetjmp(on_trap, 1);
		if (k) {
			printf(k == 1 ? "ub\n" : "bug\n");
			fflush(stdout);
			continue;
		}
		for (i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++)
			if (!strcmp(name, funcs[i].name))
				break;
		if (i == sizeof(funcs) / sizeof(funcs[0]))
			return 2;
		r = funcs[i].f(a, b);
		printf("%llx\n", r);
	}
	return 0;
}
