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
/* the rest of sizes.h, for expressions.c: bare hex up to 2G, ULL after */
#define SZ_1		0x00000001
#define SZ_2		0x00000002
#define SZ_4		0x00000004
#define SZ_8		0x00000008
#define SZ_16		0x00000010
#define SZ_32		0x00000020
#define SZ_64		0x00000040
#define SZ_128		0x00000080
#define SZ_256		0x00000100
#define SZ_512		0x00000200
#define SZ_1K		0x00000400
#define SZ_2K		0x00000800
#define SZ_8K		0x00002000
#define SZ_32K		0x00008000
#define SZ_128K		0x00020000
#define SZ_256K		0x00040000
#define SZ_512K		0x00080000
#define SZ_1M		0x00100000
#define SZ_4M		0x00400000
#define SZ_8M		0x00800000
#define SZ_16M		0x01000000
#define SZ_64M		0x04000000
#define SZ_128M		0x08000000
#define SZ_256M		0x10000000
#define SZ_2G		0x80000000
#define SZ_4G		0x100000000ULL
#define SZ_8G		0x200000000ULL
#define SZ_16G		0x400000000ULL
#define SZ_32G		0x800000000ULL
#define SZ_1T		0x10000000000ULL
#define SZ_64T		0x400000000000ULL

/* min/max: each argument evaluated once; the pointer comparison is the old type check */
#define min(x, y)	({ typeof(x) __a = (x); typeof(y) __b = (y); (void)(&__a == &__b); __a < __b ? __a : __b; })
#define max(x, y)	({ typeof(x) __a = (x); typeof(y) __b = (y); (void)(&__a == &__b); __a > __b ? __a : __b; })
#define min_t(t, x, y)	({ t __a = (x); t __b = (y); __a < __b ? __a : __b; })
#define max_t(t, x, y)	({ t __a = (x); t __b = (y); __a > __b ? __a : __b; })

/* alignment to a power of two, the mask typed like x */
#define __nvtlbi_align_mask(x, m)	(((x) + (m)) & ~(m))
#define ALIGN(x, a)		__nvtlbi_align_mask(x, (typeof(x))(a) - 1)
#define ALIGN_DOWN(x, a)	ALIGN((x) - ((a) - 1), (a))
#define IS_ALIGNED(x, a)	(((x) & ((typeof(x))(a) - 1)) == 0)
#define __nvtlbi_round_mask(x, y)	((typeof(x))((y) - 1))
#define round_up(x, y)		((((x) - 1) | __nvtlbi_round_mask(x, y)) + 1)
#define round_down(x, y)	((x) & ~__nvtlbi_round_mask(x, y))

#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)
/* as the kernel's: a call the optimiser must remove, or the build fails */
#define BUILD_BUG_ON(c)		do { extern void __nvtlbi_build_bug(void) \
					__attribute__((error("BUILD_BUG_ON failed"))); \
				if (c) __nvtlbi_build_bug(); } while (0)

#define ARRAY_SIZE(arr)		(sizeof(arr) / sizeof((arr)[0]))
#define BIT(n)			(1UL << (n))
#define BIT_ULL(n)		(1ULL << (n))
#define GENMASK(h, l)		((~0UL << (l)) & (~0UL >> (63 - (h))))
#define GENMASK_ULL(h, l)	((~0ULL << (l)) & (~0ULL >> (63 - (h))))
/* the field's value, typed like the mask */
#define FIELD_GET(mask, reg)	((typeof(mask))(((reg) & (mask)) >> __builtin_ctzll(mask)))
/* val shifted in its own type, then typed like the mask */
#define FIELD_PREP(mask, val)	(((typeof(mask))(val) << __builtin_ctzll(mask)) & (mask))

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
/* one query is one call: every WARN_ON_ONCE is a first (impl/kernel.py) */
#define WARN_ON_ONCE(c) WARN_ON(c)

/* implemented by the harness from the page-table state it was given */
int kvm_pgtable_get_leaf(void *pgt, u64 addr, kvm_pte_t *ptep, s8 *level);

/*
 * IS_ENABLED() for the conditional fixtures, in #if only: an option is
 * defined as 1 (-DCONFIG_X) or not at all, and an undefined identifier is 0
 * in #if (C11 6.10.1p4).
 */
#define IS_ENABLED(option) ((option) + 0)

#endif
