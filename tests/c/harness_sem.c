/*
 * nvtlbi gcc harness for semantics.c: each input line "NAME a b" (hex
 * arguments, as 64-bit patterns) is answered with the result, converted
 * to a 64-bit pattern (signed results sign-extended).
 */
#include <stdio.h>
#include <string.h>

#include "semantics.c"

int main(void)
{
	char name[32];
	unsigned long long a, b, r;

	while (scanf("%31s %llx %llx", name, &a, &b) == 3) {
		if (!strcmp(name, "sem_promote"))
			r = sem_promote(a, b);
		else if (!strcmp(name, "sem_wrap32"))
			r = sem_wrap32(a, b);
		else if (!strcmp(name, "sem_cmp"))
			r = (long long)sem_cmp(a, b);
		else if (!strcmp(name, "sem_shift"))
			r = sem_shift(a, b);
		else if (!strcmp(name, "sem_narrow"))
			r = sem_narrow(a);
		else if (!strcmp(name, "sem_switch"))
			r = (long long)sem_switch(a);
		else if (!strcmp(name, "sem_goto"))
			r = (long long)sem_goto(a);
		else if (!strcmp(name, "sem_div"))
			r = sem_div(a, b);
		else if (!strcmp(name, "sem_logic"))
			r = sem_logic(a, b);
		else if (!strcmp(name, "sem_literals"))
			r = sem_literals(a);
		else
			return 2;
		printf("%llx\n", r);
	}
	return 0;
}
