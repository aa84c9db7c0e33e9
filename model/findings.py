"""Known findings about real kernel code: counterexamples nvtlbi reports
against upstream that are properties of the kernel, not of nvtlbi.  One
entry per finding, with its scenario and sources; `proofs/` asserts that
every counterexample of upstream is one of them (so a new failure, or a
finding that stops failing, is noticed), and docs say what each means.

Both entries are the two WARN_ONs of __unmap_stage2_range, which every
unmap of the IPAS2E1 and RIPAS2E1 emulations reaches (impl/kernel.py)."""

from dataclasses import dataclass

from nvtlbi.impl import kernel


@dataclass(frozen=True)
class Finding:
    name: str
    props: tuple        # the availability properties of the ops whose emulation reaches it
    warning: str        # the WARN site, as a counterexample's `error` names it
    scenario: str
    sources: str


FINDINGS = [
    Finding("unmap-size-warn", ("P4", "R4"), kernel.UNMAP_SIZE_WARN,
            "a VM that advertises FEAT_TTL, on 16K or 64K host pages, issues TLBI IPAS2E1 with a TTL naming a "
            "smaller granule (e.g. 0b0111, 4K level 3): ttl_to_size gives 4K and the unmap is not whole host pages; "
            "likewise a TLBI RIPAS2E1 with TG naming a granule smaller than the host's page",
            "arch/arm64/kvm/mmu.c __unmap_stage2_range (archive ids 22419578, 407296448)"),
    Finding("unmap-range-warn", ("P4", "R4"), kernel.UNMAP_RANGE_WARN,
            "a TLBI IPAS2E1 for an IPA at or above the VM's PARange (kvm_get_pa_bits, the nested shadow S2's "
            "ia_bits), or a TLBI RIPAS2E1 whose range ends above it, unmaps a range past BIT(pgt->ia_bits): the "
            "walk refuses it with -ERANGE and the unmap warns",
            "mmu.c __unmap_stage2_range (22419578); hyp/pgtable.c _kvm_pgtable_walk (209512387); "
            "nested.c init_nested_s2_mmu (N1_nested_3949706.txt:48)"),
]
BY_ERROR = {f"WARN_ON at {f.warning}": f for f in FINDINGS}


def of(cex, prop):
    """The known finding one replayed counterexample of property `prop` is, or None."""
    f = BY_ERROR.get((cex or {}).get("error") or "")
    return f if f is not None and prop in f.props and cex.get("replayed") else None


def explains(result):
    """The known findings a COUNTEREXAMPLE result is, one per cause it
    reports (model/prover.py lists each BUG()/WARN_ON site), or None when
    any of its causes is not a known finding or did not replay: then the
    result is a new failure."""
    found = [of(c, result.property) for c in [result.counterexample] + list(result.causes)]
    return found if found and all(found) else None


def unexplained(result):
    """The counterexamples of a result that are not known findings (all of
    them for a property without findings)."""
    return [c for c in [result.counterexample] + list(result.causes) if c and of(c, result.property) is None]
