"""The symbolic environment's assumptions, read as predicates on a concrete
VM state (guest stage 2 + shadow MMU) between guest operations.  Used by the
tests to show that every state KVM's concrete machinery reaches satisfies
what the proofs assume."""

from impl import granule as G
from impl.nested import walk_nested_s2


def violations(mmu, guest):
    """[(assumption name, detail)] for every assumption the state breaks.
    The cached guest translations are the origins of the live shadow leaves
    (the shadow is KVM's virtual TLB for the nested guest)."""
    out = []
    leaves = list(mmu.shadow_leaves())
    if mmu.pgt.shift > guest.shift:
        out.append(("granule-order", f"host {G.name(mmu.pgt.shift)} > guest {G.name(guest.shift)}"))
    if G.shift_of_tg0(int(mmu.guest_vtcr) >> 14 & 3) != guest.shift:
        out.append(("vtcr-stable", f"tlb_vtcr TG0 does not decode to {G.name(guest.shift)}"))
    for base, size, level, pte, origin in leaves:
        tag = (pte >> 55) & 3
        if not tag and not guest.lpa2:
            out.append(("leaf-tagged", f"shadow leaf [{base:#x},+{size:#x}) carries no level tag"))
        if base + size > 1 << mmu.pgt.ia_bits:
            out.append(("get-leaf-range", f"shadow leaf [{base:#x},+{size:#x}) beyond the {mmu.pgt.ia_bits}-bit "
                                          f"input range"))
        if origin is None:
            out.append(("tag-truth", f"shadow leaf {base:#x} has no recorded guest translation"))
            continue
        if origin.level not in G.guest_leaf_levels(guest.shift, guest.lpa2):
            out.append(("leaf-level", f"{origin} is not a leaf level"))
        if tag and not (tag == origin.level and origin.base <= base and base + size <= origin.base + origin.size):
            out.append(("tag-truth", f"leaf [{base:#x},+{size:#x}) tag {tag} vs {origin}"))
        # after a completed BBM sequence, every cached translation is still in the guest tables
        if walk_nested_s2(guest, base) != origin:
            out.append(("bbm", f"leaf [{base:#x},+{size:#x}) outlived {origin}"))
    if not mmu.keep_invalid_tags:
        for base, size, level, d in mmu.pgt.annotations():
            out.append(("invalid-untagged", f"invalid entry [{base:#x},+{size:#x}) carries tag {(d >> 55) & 3}"))
    origins = {o for *_, o in leaves if o is not None}
    for a in origins:
        for b in origins:
            if a != b and a.overlaps(b):
                out.append(("bbm", f"overlapping cached translations {a} and {b}"))
    return out


def annotation_violations(mmu, guest):
    """invalid-tag-truth on a concrete state: every tagged invalid shadow entry
    lies inside the guest's current translation of the tagged level."""
    out = []
    for base, size, level, d in mmu.pgt.annotations():
        tag = (d >> 55) & 3
        t = walk_nested_s2(guest, base)
        if not (hasattr(t, "level") and t.level & 3 == tag and t.base <= base and base + size <= t.base + t.size):
            out.append(("invalid-tag-truth", f"annotation [{base:#x},+{size:#x}) tag {tag} vs {t}"))
    return out
