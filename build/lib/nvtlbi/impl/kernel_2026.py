"""The kernel vocabulary after the VTCR_EL2 sysreg conversion (kvmarm next,
Jan 2026): VTCR_EL2_TG0_* are the generated, *unshifted* enum values and
are compared against FIELD_GET(VTCR_EL2_TG0_MASK, vtcr); from Jun 2026
kvm_pgtable_get_leaf takes a walk-flags argument.  Everything else is
impl.kernel's."""

from nvtlbi.impl import eras
from nvtlbi.impl import kernel as _k
from nvtlbi.impl.kernel import *  # noqa: F401,F403
from nvtlbi.impl.kernel import GENMASK, convert, u64

ERA = "v2026"
__all__ = eras.names(ERA)

VTCR_EL2_TG0_SHIFT = 14

VTCR_EL2_TG0_MASK = GENMASK(15, 14)
VTCR_EL2_TG0_4K = u64(0b00)
VTCR_EL2_TG0_64K = u64(0b01)
VTCR_EL2_TG0_16K = u64(0b10)

KVM_PGTABLE_WALK_SHARED = 1 << 1


def kvm_pgtable_get_leaf(pgt, addr, ptep, level, flags=0):
    """As before; `flags` (walk flags) only matter for lockless walks, which
    the write-locked TLBI path never does."""
    return _k.kvm_pgtable_get_leaf(pgt, convert(addr, u64), ptep, level)
