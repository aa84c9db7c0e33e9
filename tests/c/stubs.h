/*
 * nvtlbi gcc harness: the kernel vocabulary as plain C, written for nvtlbi
 * (not kernel headers).  Force-included before a fixture so that gcc
 * compiles the same C that `nvtlbi audit` translates.  Build with
 * -DSYSREG_VTCR for the v2026 profile (unshifted VTCR_EL2_TG0_* values).
 */
#ifndef NVTLBI_STUBS_H
#define NVTLBI_STUBS_H

#include <stdint.h>
#include <stddef.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int32_t s32;
typedef int64_t s64;
typedef u64 kvm_pte_t;

/* sizes are plain int constants, as in the kernel's sizes.h */
#define SZ_4K		0x00001000
#define SZ_16K		0x00004000
#define SZ_64K		0x00010000
#define SZ_2M		0x00200000
#define SZ_32M		0x02000000
#define SZ_512M		0x20000000
#define SZ_1G		0x40000000

#define BIT(n)			(1UL << (n))
#define GENMASK_ULL(h, l)	((~0ULL << (l)) & (~0ULL >> (63 - (h))))
/* the field's value, typed like the mask */
#define FIELD_GET(mask, reg)	((typeof(mask))(((reg) & (mask)) >> __builtin_ctzll(mask)))

#ifdef SYSREG_VTCR
#define VTCR_EL2_TG0_MASK	GENMASK_ULL(15, 14)
#define VTCR_EL2_TG0_4K		0UL
#define VTCR_EL2_TG0_64K	1UL
#define VTCR_EL2_TG0_16K	2UL
#else
#define VTCR_EL2_TG0_MASK	(3UL << 14)
#define VTCR_EL2_TG0_4K		(0UL << 14)
#define VTCR_EL2_TG0_64K	(1UL << 14)
#define VTCR_EL2_TG0_16K	(2UL << 14)
#endif

#define TLBI_TTL_MASK		GENMASK_ULL(47, 44)
#define TLBI_TTL_TG_4K		1
#define TLBI_TTL_TG_16K		2
#define TLBI_TTL_TG_64K		3

#define PTE_VALID		BIT(0)
#define KVM_PGTABLE_PROT_SW0	BIT(55)
#define KVM_PGTABLE_PROT_SW1	BIT(56)
#define KVM_NV_GUEST_MAP_SZ	(KVM_PGTABLE_PROT_SW1 | KVM_PGTABLE_PROT_SW0)

struct kvm {
	int mmu_lock;
	int has_ttl;		/* does the VM advertise FEAT_TTL? */
};

struct kvm_s2_mmu {
	u64 tlb_vtcr;
	struct kvm *kvm;
	void *pgt;
};

#define kvm_s2_mmu_to_kvm(mmu)			((mmu)->kvm)
#define lockdep_assert_held_write(l)		do { (void)(l); } while (0)
#define kvm_has_feat(kvm, reg, field, lim)	((kvm)->has_ttl)

/* the host capability gate of the older revisions, and BUG() */
#define ARM64_HAS_ARMv8_4_TTL			1
extern int nvtlbi_host_ttl;
#define cpus_have_final_cap(cap)		(nvtlbi_host_ttl)
#define cpus_have_const_cap(cap)		(nvtlbi_host_ttl)
extern void nvtlbi_bug(void) __attribute__((noreturn));
#define BUG()					nvtlbi_bug()

extern int nvtlbi_warnings;
#define WARN_ON(c) ({ int __w = !!(c); if (__w) nvtlbi_warnings++; __w; })

/* implemented by the harness from the page-table state it was given */
int kvm_pgtable_get_leaf(void *pgt, u64 addr, kvm_pte_t *ptep, s8 *level);

/*
 * IS_ENABLED() for the conditional fixtures, in #if only: an option is
 * defined as 1 (-DCONFIG_X) or not at all, and an undefined identifier is 0
 * in #if (C11 6.10.1p4).
 */
#define IS_ENABLED(option) ((option) + 0)

#endif
