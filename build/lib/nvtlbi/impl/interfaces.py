"""What a revision sees, as types: the objects its kernel names reach.

A revision runs twice, on the concrete world (impl/nested.py, impl/pgtable.py)
and on the symbolic one (model/env.py).  Both must offer the same members,
or a revision would meet an AttributeError on one side only, which the
engine would report as the revision's failure.  These Protocols are that
contract; tests/test_types.py has mypy check both worlds against them and
the core interfaces (engine, session, registries) against their annotations.

Values are `Any`: a C word here is either an int-like concrete Word or a
Word over a Z3 term (impl/cint.py); their C type, not their Python type, is
what the kernel names care about."""

from typing import Any, Protocol


class Pgt(Protocol):
    """struct kvm_pgtable: what kvm_pgtable_get_leaf walks."""
    def get_leaf(self, addr: Any) -> Any: ...


class Lock(Protocol):
    """kvm->mmu_lock (an rwlock since 2024; spin_lock in the NV series)."""
    def acquire_write(self) -> None: ...
    def release_write(self) -> None: ...
    def assert_held_write(self) -> None: ...


class Kvm(Protocol):
    """struct kvm, as far as the TLBI path sees it."""
    @property
    def mmu_lock(self) -> Lock: ...

    def has_feat(self, reg: str, fld: str, val: str) -> Any: ...
    def lookup_s2_mmu(self, vttbr: Any, hcr: Any) -> Any: ...
    def mmus_by_vmid(self, vmid: Any) -> Any: ...


class S2Mmu(Protocol):
    """struct kvm_s2_mmu.  `vtcr` and `tlb_vtcr` are the kernel's names, whose
    meaning is per era (impl/eras.py); `guest_vtcr`/`host_vtcr` are ours and
    mean one thing in every era."""
    # read-only (properties): a world may hold a narrower type
    @property
    def kvm(self) -> Kvm: ...
    @property
    def pgt(self) -> Pgt: ...
    @property
    def guest_vtcr(self) -> Any: ...

    @property
    def host_vtcr(self) -> Any: ...
    @property
    def vtcr(self) -> Any: ...
    @property
    def tlb_vtcr(self) -> Any: ...
    def unmap_range(self, start: Any, size: Any) -> None: ...


class RevisionModule(Protocol):
    """A loaded revision module (impl/revision.py): its era and its entry
    point; the other functions (ttl_to_size, get_guest_mapping_ttl,
    s2_mmu_unmap_ipa, handle_ipas2e1is) are optional and looked up by name."""
    ERA: str

    def compute_tlb_inval_range(self, mmu: S2Mmu, val: Any) -> Any: ...


__all__ = ["Kvm", "Lock", "Pgt", "RevisionModule", "S2Mmu"]
