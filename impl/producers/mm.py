"""The vocabulary of the shadow-state producers (impl/producers/): the names
the nested part of the stage-2 fault path uses beyond an IPAS2E1 revision's
era vocabulary (impl/kernel.py), each answered by the object passed in, so
that one producer module runs on a concrete PageTable (impl/pgtable.py) and
against the symbolic shadow state (model/invariants.py) alike.

A producer does `from nvtlbi.impl.kernel import *` and
`from nvtlbi.impl.producers.mm import *`.  Every name here is listed in
NAMES with its meaning and source; `__all__` is exactly that list."""

from nvtlbi.impl.cint import convert, s32, u64
from nvtlbi.impl.kernel import BIT, kvm_granule_size, runtime_constant, unsigned_long

_PGT_H = "arch/arm64/include/asm/kvm_pgtable.h"
_PGT_C = "arch/arm64/kvm/hyp/pgtable.c"
_PGTABLE_H = "arch/arm64/include/asm/pgtable-hwdef.h"
_MMU_C = "arch/arm64/kvm/mmu.c"
_MMU_H = "arch/arm64/include/asm/kvm_mmu.h"
_ARM_H = "arch/arm64/include/asm/kvm_host.h"

# name -> (meaning, source)
NAMES = {
    "PMD_SIZE": ("bytes a host level-2 entry maps (2M, 32M, 512M for 4K, 16K, 64K pages)", _PGTABLE_H),
    "PUD_SIZE": ("bytes a host level-1 entry maps (1G, 64G, 4T)", _PGTABLE_H),
    "KVM_PGTABLE_PROT_X": ("prot: executable, BIT(0)", _PGT_H),
    "KVM_PGTABLE_PROT_W": ("prot: writable, BIT(1)", _PGT_H),
    "KVM_PGTABLE_PROT_R": ("prot: readable, BIT(2)", _PGT_H),
    "KVM_PTE_LEAF_ATTR_HI_SW": ("the software bits [58:55] of a leaf, GENMASK(58, 55)", _PGT_C),
    "EINVAL": ("errno 22", "include/uapi/asm-generic/errno-base.h"),
    "EAGAIN": ("errno 11", "include/uapi/asm-generic/errno-base.h"),
    "kvm_pgtable_stage2_map": ("install a leaf of `size` at addr mapping phys with prot; prot's software "
                               "bits are copied into the PTE (stage2_set_prot_attr)", _PGT_C),
    "kvm_pgtable_stage2_relax_perms": ("add permissions to the existing leaf at addr; -EINVAL if prot has "
                                       "software bits, so the PTE keeps its own", _PGT_C),
    "transparent_hugepage_adjust": ("the backing size after THP: PMD_SIZE when a THP backs the page, else "
                                    "PAGE_SIZE (the host's answer, an input of the fault)", _MMU_C),
    # the page-table walk the unmap producer (impl/producers/unmap.py) runs
    "kvm_pgtable_walk": ("visit the entries of [addr, addr + size) with walker->cb: each entry where the walk "
                         "stops (a leaf or an invalid entry) as a LEAF visit, whole even if only partly inside",
                         _PGT_C),
    "kvm_pgtable_walker": ("struct kvm_pgtable_walker: .cb(ctx, visit), .arg, .flags", _PGT_H),
    "KVM_PGTABLE_WALK_LEAF": ("walker flag: visit leaf (and invalid) entries, BIT(0)", _PGT_H),
    "kvm_pte_valid": ("the PTE's valid bit, bit 0", _PGT_C),
    "kvm_pte_table": ("a valid table descriptor: below the last level, bits [1:0] == 0b11", _PGT_C),
    "kvm_clear_pte": ("WRITE_ONCE(*ptep, 0): the entry becomes 0, every bit of it (the level tag too)", _PGT_C),
    # the shadow MMU's lifecycle (impl/producers/mmu.py)
    "atomic_read": ("the value of an atomic_t (mmu->refcnt)", "include/linux/atomic.h"),
    "atomic_inc": ("add one to an atomic_t", "include/linux/atomic.h"),
    "atomic_set": ("set an atomic_t", "include/linux/atomic.h"),
    "KVM_REQ_NESTED_S2_UNMAP": ("vCPU request: empty the hw_mmu if its unmap is pending", _ARM_H),
    "kvm_make_request": ("raise a request on a vCPU (handled before it next enters the guest)",
                         "include/linux/kvm_host.h"),
    "kvm_check_request": ("test and clear a vCPU request", "include/linux/kvm_host.h"),
    "kvm_phys_size": ("bytes of the MMU's input range: BIT(mmu->pgt->ia_bits)", _MMU_H),
    "__vcpu_assign_sys_reg": ("store a vCPU's EL2 register (for VTCR_EL2 under NV2: the guest's own store to "
                              "its VNCR page, no trap)", _ARM_H),
}


@runtime_constant(unsigned_long)
def PMD_SIZE():
    return unsigned_long(kvm_granule_size(2))


@runtime_constant(unsigned_long)
def PUD_SIZE():
    return unsigned_long(kvm_granule_size(1))


KVM_PGTABLE_PROT_X = BIT(0)
KVM_PGTABLE_PROT_W = BIT(1)
KVM_PGTABLE_PROT_R = BIT(2)
KVM_PTE_LEAF_ATTR_HI_SW = (~u64(0) << 55) & (~u64(0) >> 5)
EINVAL = 22
EAGAIN = 11


def kvm_pgtable_stage2_map(pgt, addr, size, phys, prot, memcache, flags):
    return convert(pgt.stage2_map(convert(addr, u64), convert(size, u64), convert(phys, u64),
                                  convert(prot, u64)), s32)


def kvm_pgtable_stage2_relax_perms(pgt, addr, prot, flags):
    return convert(pgt.stage2_relax_perms(convert(addr, u64), convert(prot, u64)), s32)


class kvm_pgtable_walker:
    def __init__(self, cb, arg=None, flags=0):
        self.cb, self.arg, self.flags = cb, arg, flags


KVM_PGTABLE_WALK_LEAF = BIT(0)


def kvm_pgtable_walk(pgt, addr, size, walker):
    """The walk itself is the page table's (a concrete PageTable visits
    every entry of the range; the symbolic shadow state visits the one entry
    of its case); each visit calls the producer's walker->cb(ctx, visit)
    with ctx.old, ctx.level, ctx.addr and ctx.ptep."""
    return convert(pgt.walk(convert(addr, u64), convert(size, u64), walker), s32)


def kvm_pte_valid(pte):
    return (convert(pte, u64) & u64(1)) != 0


def kvm_pte_table(pte, level):
    return (convert(level, s32) < 3) & ((convert(pte, u64) & u64(3)) == 3)


def kvm_clear_pte(ptep):
    ptep.write(u64(0))


def atomic_read(v):
    return convert(v.counter, s32)


def atomic_inc(v):
    v.counter = convert(v.counter, s32) + 1


def atomic_set(v, i):
    v.counter = convert(i, s32)


KVM_REQ_NESTED_S2_UNMAP = "KVM_REQ_NESTED_S2_UNMAP"


def kvm_make_request(req, vcpu):
    vcpu.requests.add(req)


def kvm_check_request(req, vcpu):
    if req in vcpu.requests:
        vcpu.requests.discard(req)
        return True
    return False


def kvm_phys_size(mmu):
    return u64(1) << convert(mmu.pgt.ia_bits, u64)


def __vcpu_assign_sys_reg(vcpu, reg, val):
    vcpu.sys_regs[reg] = convert(val, u64)


def transparent_hugepage_adjust(kvm, memslot, hva, pfnp, ipap):
    return unsigned_long(memslot.thp_size())


__all__ = sorted(NAMES)
