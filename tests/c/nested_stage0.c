// SPDX-License-Identifier: GPL-2.0-only
/*
 * nvtlbi test fixture, written for nvtlbi in kernel style (not kernel
 * source).  The three functions that size the invalidation of a guest
 * TLBI IPAS2E1*, as of the 2024 vocabulary: shifted VTCR_EL2_TG0_*
 * values, the TTL hint trusted only if the VM advertises FEAT_TTL.
 */

#include <linux/bitfield.h>
#include <linux/kvm_host.h>

#include <asm/kvm_nested.h>

/* Not audited; present so that the extractor must skip it. */
static int count_valid(u64 *ptes, int n)
{
	int i, c = 0;

	for (i = 0; i < n; i++)
		c += ptes[i] & 1;
	return c;
}

