/*
 * nvtlbi gcc harness for compute_tlb_inval_range(): one query per input
 * line,
 *   vtcr has_ttl val limit n  base0 size0 pte0 ... base(n-1) size(n-1) pte(n-1)
 * (hex), answered with "max_size warnings", or "bug warnings" if BUG()
 * was reached.  has_ttl also stands for the host capability.  The shadow S2 is the list of
 * leaves; an address not covered reads as an invalid entry, and one at or
 * above `limit` fails with -ERANGE, like a walk beyond the IPA range.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

#include FIXTURE

#define MAX_LEAVES 64

struct state {
	u64 limit;
	int n;
	u64 base[MAX_LEAVES], size[MAX_LEAVES], pte[MAX_LEAVES];
};

int nvtlbi_warnings;
int nvtlbi_host_ttl;
static jmp_buf on_bug;

void nvtlbi_bug(void)
{
	longjmp(on_bug, 1);
}

int kvm_pgtable_get_leaf(void *pgt, u64 addr, kvm_pte_t *ptep, s8 *level)
{
	struct state *st = pgt;
	int i;

	if (addr >= st->limit)
		return -34;
	for (i = 0; i < st->n; i++) {
		if (addr - st->base[i] < st->size[i]) {
			*ptep = st->pte[i];
			return 0;
		}
	}
	*ptep = 0;
	return 0;
}

int main(void)
{
	unsigned long long vtcr, val, limit;
	int has_ttl, n, i;

	while (scanf("%llx %d %llx %llx %d", &vtcr, &has_ttl, &val, &limit, &n) == 5) {
		struct state st = { .limit = limit, .n = n };
		struct kvm kvm = { .has_ttl = has_ttl };
		struct kvm_s2_mmu mmu = { .tlb_vtcr = vtcr, .kvm = &kvm, .pgt = &st };
		unsigned long max_size;

		if (n > MAX_LEAVES)
			return 2;
		for (i = 0; i < n; i++) {
			unsigned long long b, s, p;

			if (scanf("%llx %llx %llx", &b, &s, &p) != 3)
				return 2;
			st.base[i] = b;
			st.size[i] = s;
			st.pte[i] = p;
		}
		nvtlbi_warnings = 0;
		nvtlbi_host_ttl = has_ttl;
		if (setjmp(on_bug)) {
			printf("bug %d\n", nvtlbi_warnings);
			continue;
		}
		max_size = compute_tlb_inval_range(&mmu, val);
		printf("%lx %d\n", max_size, nvtlbi_warnings);
	}
	return 0;
}
