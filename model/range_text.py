"""The range op's counterexamples in domain terms, as text: one sentence
(the verdict summary, the audit's groups) and the whole scenario (`nvtlbi
cex`), drawn from a replay on impl/ (model/range_replay.py).  The op's
entry (model/ops.py RIPAS2E1) names these; the front end asks the entry."""

from nvtlbi.impl import granule as G
from nvtlbi.impl import tlbi_range as TR
from nvtlbi.impl.granule import hx, rng
from nvtlbi.impl.nested import Translation
from nvtlbi.model import range_props as RP
from nvtlbi.model.equiv import outcome_text
from nvtlbi.model import range_replay as RR


def ttl_text(op, lpa2=False):
    """The range TLBI's TTL field (bits [38:37]): a level or none."""
    if op.ttl == 0:
        return "TTL 0b00 (no level: any level)"
    if op.valid and TR.ttl_reserved(op.shift, op.ttl, lpa2):
        return f"TTL {op.ttl:#04b} (reserved for this granule: any level, ResTLBIRTTL)"
    return f"TTL {op.ttl:#04b} (level {op.ttl})"


def operand_text(val):
    op = TR.Operand.of(val)
    if not op.valid:
        return f"TG=0b00 (reserved: TLBIRange invalid, nothing required), SCALE={op.scale}, NUM={op.num}"
    return (f"TG={G.name(op.shift)}, SCALE={op.scale}, NUM={op.num}, {ttl_text(op)}: range "
            f"{rng(op.base, op.size)} = (NUM+1) * 2^(5*SCALE+1) pages of {G.name(op.shift)}")


def _mmus(c):
    vmid = c["vttbr"] >> 48
    return "; ".join(f"#{i} VTTBR {hx(t & ~1)} (VMID {t >> 48}{', CnP set: free' if t & 1 else ''}"
                     f"{', the guest' + chr(39) + 's VMID' if t >> 48 == vmid and not t & 1 else ''})"
                     for i, t in enumerate(c["mmus"]))


def sentence(r, c=None):
    """One line for a counterexample of the range op (`c`: one of the
    result's further causes; default its first counterexample)."""
    c = c or r.counterexample
    C0, C1 = c["C"]
    rngs = ", ".join(f"{rng(b, e - b)} on MMU #{m}" for b, e, m in c["ranges"]) or "nothing"
    line = (f"TLBI RIPAS2E1IS {operand_text(c['val'])} (guest VMID {c['vttbr'] >> 48}, host {c['host_granule']}, "
            f"IPA size {c['ia_bits']} bits): unmaps {rngs}; cached guest {c['granule']} L{c['level']} "
            f"translation {rng(C0, C1 - C0)} on MMU #{c['k']}")
    if c.get("error"):
        # a WARN_ON does not stop the unmap's other ranges: the leaves that
        # survived are still part of the story (R2 with the range's -ERANGE)
        line += f"; {c['error']}"
    if c.get("stale"):
        line += f"; survived: {'; '.join(c['stale'])}"
    if c.get("left"):
        line += f"; still mapped: {'; '.join(c['left'])}"
    return line


def scenario(result, rev, dropped=()):
    """The scenario drawn as text, replayed on the revision."""
    c = result.counterexample
    vm = RR.build(c)
    before = {i: list(m.shadow_leaves()) for i, m in enumerate(vm.mmus)}
    out = RR.execute(c, vm, rev)
    C0, C1 = c["C"]
    op = TR.Operand.of(c["val"])
    L = [f"counterexample {result.id}: {RP.PROPERTIES[c['property']].meaning} fails"]
    if dropped:
        L.append(f"  assumptions dropped: {', '.join(dropped)}")
    L.append(f"  guest S2 granule {c['granule']}, host granule {c['host_granule']}, shadow IPA size "
             f"{c['ia_bits']} bits")
    L.append(f"  guest VTTBR_EL2 {hx(c['vttbr'])} (VMID {c['vttbr'] >> 48}); shadow MMUs: {_mmus(c)}")
    L.append(f"  TLBI RIPAS2E1IS Xt={c['val']:#018x}: {operand_text(c['val'])}")
    must = TR.obliged(op, Translation(G.GRANULES[c['granule']], c['level'], C0, C0))
    L.append(f"  cached guest translation C: {c['granule']} L{c['level']} {rng(C0, C1 - C0)} on MMU #{c['k']}; "
             f"the TLBI {'must remove it whole (it overlaps the range: TLBIOp_RIPAS2, J1.1.3.449)' if must else 'need not remove it'}")
    L.append("scenario (replayed on impl/):")
    L.append(f"  1. guest maps {rng(C0, C1 - C0)} as one {c['granule']} level-{c['level']} entry of its stage 2")
    L.append(f"  2. the nested guest touches {hx(c['x'])}: shadow fault on MMU #{c['k']} maps one host "
             f"{c['host_granule']} page")
    L.append(f"  3. guest issues TLBI RIPAS2E1IS {c['val']:#x}")
    stale = {(i, b, s) for i, (b, s, *_) in out.stale}
    for i, leaves in before.items():
        L.append(f"shadow S2 of MMU #{i} before the TLBI:")
        after = {(b, s) for b, s, *_ in vm.mmus[i].shadow_leaves()}
        for b, s, lvl, pte, origin in leaves:
            state = "STALE (survived)" if (i, b, s) in stale else ("kept" if (b, s) in after else "unmapped")
            L.append(f"  leaf {rng(b, s)} L{lvl} from {origin}  -> {state}")
        if not leaves:
            L.append("  (empty)")
    L.append("range unmapped: " + (", ".join(f"{rng(b, s)} on MMU #{m}" for b, s, m in out.ranges) or "none"))
    if out.error:
        L.append(f"the revision failed: {out.error}")
    for i, (b, s, lvl, pte, origin) in out.stale:
        L.append(f"stale: shadow leaf {rng(b, s)} of MMU #{i} caches {origin}, which the TLBI had to remove: "
                 f"the nested guest still reaches it")
    for i, x in out.range_left:
        L.append(f"still mapped: host page {hx(x)} of the range on MMU #{i}")
    L.append(c.get("replay") or "")
    return "\n".join(L)



def example(ex, a, b):
    """The input on which two range revisions differ (model/equiv.py), as
    lines: the operand, the VMIDs, the shadow MMUs, each side's outcome."""
    L = [f"    TLBI RIPAS2E1IS Xt={ex['val']:#x}: {operand_text(ex['val'])}",
         f"    guest VTTBR_EL2 {hx(ex['vttbr'])} (VMID {ex['vttbr'] >> 48}); shadow MMUs: {_mmus(ex)}"]
    for name, side in ((a, ex["a"]), (b, ex["b"])):
        L.append(f"    {name:<20} {outcome_text(side, rng, lambda m: f' on MMU #{m}')}")
    L.append(f"    they differ in: {', '.join(ex.get('differs') or ['ranges'])}")
    return L
