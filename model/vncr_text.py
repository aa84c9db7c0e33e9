"""The VNCR op's counterexamples in domain terms, as text: one sentence (the
verdict summary, the audit's groups), the whole scenario (`nvtlbi cex`) drawn
from a replay on impl/ (model/vncr_replay.py), and the input two revisions
differ on (`nvtlbi diff`, `mutate`).  The op's entry (model/ops.py VNCR)
names these; the front end asks the entry."""

from nvtlbi.impl import granule as G
from nvtlbi.impl import vncr as V
from nvtlbi.model import vncr_props as VP
from nvtlbi.model import vncr_replay as VR
from nvtlbi.model.equiv import outcome_text


def sentence(r, c=None):
    """A counterexample of the VNCR op in one line: the invalidation, the
    cached pseudo-TLB entries, which survived, and the error if any."""
    c = c or r.counterexample
    if c.get("imprecise"):
        return (f"{c['tlbi']}; cached: {'; '.join(c['cached'])}; dropped without need: {'; '.join(c['imprecise'])}"
                + (f", {c['error']}" if c.get("error") else ""))
    return (f"{c['tlbi']}; cached: {'; '.join(c['cached'])}; survived: "
            f"{'; '.join(c.get('survived', [])) or 'none'}" + (f", {c['error']}" if c.get("error") else ""))


def _world(c):
    lpa2 = "FEAT_LPA2" if c["lpa2"] else "no FEAT_LPA2"
    return (f"guest EL2&0 stage 1 granule {c['granule']}, {lpa2}, TCR_EL2.DS={int(c['ds'])}, host granule "
            f"{c['host_granule']}")


def _slot(v):
    # the per-CPU fixmap slot holding the VNCR page while cpu != -1 (vncr_fixmap)
    return f"fixmap slot FIX_VNCR-{v['cpu']} on CPU {v['cpu']}" if v["cpu"] != -1 else "no fixmap slot (cpu -1)"


def _entry(j, v, c):
    if not v["alloc"]:
        return f"vCPU {j}: vncr_tlb NULL (the vCPU has not run yet)"
    if not v["valid"]:
        return f"vCPU {j}: vncr_tlb allocated, invalid (nothing cached)"
    size = G.level_size(G.GRANULES[c["granule"]], c["level"])
    return (f"vCPU {j}: VNCR_EL2 VA {v['gva']:#x} -> IPA {v['pa']:#x}, stage-1 {c['granule']} level-{c['level']} "
            f"leaf ({size:#x} bytes), {'non-global, ASID ' + hex(v['asid']) if v['nG'] else 'global (nG=0)'}, "
            f"{_slot(v)}")


def _must(j, v, c):
    if not (v["alloc"] and v["valid"]):
        return "nothing to drop"
    vt = V.cached(v["gva"], G.GRANULES[c["granule"]], c["level"], v["pa"], v["nG"], v["asid"], v["cpu"],
                  G.GRANULES.get(c["host_granule"], 12))
    if V.obliged(c["kind"], c["val"], vt, c["lpa2"], c["ds"], (c["start"], c["end"]),
                 G.GRANULES.get(c["host_granule"], 12)):
        why = ("its host page overlaps the unmapped IPAs" if c["kind"] == "ipa"
               else "the TLBI matches it (TLBIMatch, J1.1.3.449)")
        return f"must be dropped: {why}"
    return "need not be dropped"


def scenario(result, rev, dropped=()):
    """The scenario drawn as text, replayed on the revision."""
    c = result.counterexample
    kvm, vts = VR.build(c)
    out = VR.execute(c, (kvm, vts), rev)
    L = [f"counterexample {result.id}: {VP.PROPERTIES[c['property']].meaning} fails"]
    if dropped:
        L.append(f"  assumptions dropped: {', '.join(dropped)}")
    L.append(f"  {_world(c)}")
    L.append(f"  the invalidation: {c['tlbi']}")
    L.append("the vCPUs' cached VNCR translations (struct vncr_tlb) before it:")
    for j, v in enumerate(c["vts"]):
        L.append(f"  {_entry(j, v, c)}  -> {_must(j, v, c)}")
    L.append("scenario (replayed on impl/):")
    L.append("  1. vCPU 0 ran the guest hypervisor: KVM walked its EL2&0 stage 1 for VNCR_EL2 "
             "(kvm_translate_vncr) and cached the translation above")
    L.append(f"  2. {'KVM unmaps part of the VM' + chr(39) + 's IPA space (kvm_invalidate_vncr_ipa)' if c['kind'] == 'ipa' else 'vCPU 0 issues the TLBI; KVM traps it (kvm_handle_s1e2_tlbi)'}: "
             f"{c['tlbi']}")
    L.append("after it:")
    for j, (v, vt) in enumerate(zip(c["vts"], vts)):
        if vt is None or not v["valid"]:
            continue
        if j in out.stale:
            state = "STALE (survived): the vCPU keeps using a translation the architecture removed"
        elif j in out.fixmap_left:
            state = f"dropped, but {_slot(v)} KEPT: the host page stays mapped"
        elif j in out.imprecise:
            state = "DROPPED WITHOUT NEED (imprecise): the invalidation does not reach it (V5); the vCPU walks again"
        elif out.after[j]:
            state = "kept"
        else:
            state = "dropped" + (f", {_slot(v)} cleared" if v["cpu"] != -1 else "")
        L.append(f"  vCPU {j}: {state}")
    if out.error:
        L.append(f"the revision failed: {out.error}")
    L.append(c.get("replay") or "")
    return "\n".join(L)


def _side(side, c):
    """One revision's outcome: each cached entry kept or dropped (its fixmap
    slot), then WARN_ON, the C outcome that ended the path, the lock."""
    L = []
    for j, v in enumerate(c["vts"]):
        if side.get("state") is not None and v["alloc"] and v["valid"]:
            valid, cleared = side["state"][2 * j], side["state"][2 * j + 1]
            L.append(f"vCPU {j} {'kept' if valid else 'dropped'}"
                     + (f", fixmap slot {'cleared' if cleared else 'kept'}" if v["cpu"] != -1 and not valid else ""))
    rest = outcome_text({**side, "ranges": []})[len("unmaps nothing"):].lstrip(", ")
    rest = rest if L else rest.removeprefix("then ")
    return "; ".join(L) + (", " if L and rest else "") + rest if L or rest else "no cached translation, no effect"


def example(ex, a, b):
    """The input on which two VNCR revisions differ (model/equiv.py), as
    lines: the invalidation, the cached translations, each side's outcome."""
    L = [f"    {_world(ex)}", f"    the invalidation: {ex['tlbi']}"]
    L += [f"    {_entry(j, v, ex)}" for j, v in enumerate(ex["vts"])]
    for name, side in ((a, ex["a"]), (b, ex["b"])):
        L.append(f"    {name:<20} {_side(side, ex)}")
    what = ["the pseudo-TLB state" if d == "ranges" else d for d in ex.get("differs") or ["ranges"]]
    L.append(f"    they differ in: {', '.join(what)}")
    return L


def brief(g, ex):
    """The example in one line (model/mutation.py's evidence)."""
    return f"{g} {ex['tlbi']}: original {_side(ex['a'], ex)}, mutant {_side(ex['b'], ex)}"


def hangs(rev, shift):
    """A VNCR revision walks the vCPUs with kvm_for_each_vcpu, a bounded
    iterator in impl/kernel.py: no mutant can loop over them (a symbolic
    branch limit is then no evidence of a loop)."""
    return False

