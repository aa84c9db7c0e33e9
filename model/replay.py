"""Counterexamples made concrete: from the solver's answer (in domain terms)
to a scenario of guest stage-2 changes, nested-guest accesses that fault in
shadow leaves, and the TLBI; replayed on impl/ with the architecture's
oracle (impl/oracle.py) deciding whether a stale shadow leaf survived.

A counterexample that does not replay is reported as a model bug."""

import os
from dataclasses import dataclass, field

from nvtlbi.impl import granule as G
from nvtlbi.impl import oracle, tlbi
from nvtlbi.impl.cint import Word, u64
from nvtlbi.impl.nested import GuestS2, Translation, VM, handle_s2_off_fault, handle_shadow_fault, new_mmu
from nvtlbi.impl.outcome import C_OUTCOMES
from nvtlbi.impl.revision import RevisionError
from nvtlbi.model import properties as P
from nvtlbi.model import steps as S
from nvtlbi.model import userfault


@dataclass
class Scenario:
    shift: int
    host_shift: int
    lpa2: bool
    feat_ttl: bool
    tlb_vtcr: int
    val: int
    prop: str
    steps: list = field(default_factory=list)    # ("map", Translation) | ("access", ipa)
    expected_ranges: list = field(default_factory=list)

    @property
    def ipa(self):
        return tlbi.ipa_of(self.val)

    @property
    def ttl(self):
        return tlbi.ttl_of(self.val)


@dataclass
class Outcome:
    ranges: list
    probes: list
    stale: list
    leaves_before: list
    leaves_after: list
    error: str | None = None
    faults: list = field(default_factory=list)
    warnings: list = field(default_factory=list)    # WARN_ON sites
    raised: str | None = None          # the C outcome's exception class, if the run ended in one

    def violates(self, scenario):
        """Does the concrete run break the property (by the architecture's
        oracle)?  The property's registry entry (model/properties.py) holds
        its concrete check (model/violation.py)."""
        return P.prop(scenario.prop).violated(self, scenario)


def _shift(name):
    return G.GRANULES[name]


def from_counterexample(cex, host_blocks=None):
    """host_blocks: fault each shadow leaf in at the model's host level
    (a host block where the model has one), not as a host page.  None: the
    world the counterexample's replay recorded (its "host_blocks", written
    by say(); host pages if it has none), so that whoever rebuilds a
    replayed counterexample (render, regress, mutation) rebuilds the world
    that replayed."""
    if host_blocks is None:
        host_blocks = bool(cex.get("host_blocks", False))
    g, h = _shift(cex["granule"]), _shift(cex["host_granule"])
    sc = Scenario(g, h, cex["lpa2"], cex["feat_ttl"], cex["tlb_vtcr"], cex["val"], cex["property"],
                  expected_ranges=[(b, e - b, m) for b, e, m in cex["ranges"]])
    sc.host_blocks = host_blocks
    sc.host_ttl = cex["host_ttl"]
    sc.vcpu_vtcr = cex["vcpu_vtcr"]
    sc.ia_bits = cex.get("ia_bits", 48)
    sc.s2off = any(p["mmu"] == 1 for p in cex["probes"]) or any(m == 1 for *_, m in cex["ranges"])
    page = 1 << h
    T = Translation(g, cex["level"], cex["T"][0], cex["T"][0])
    sc.T = T
    # what the shadow S2 must show: the revision's probes, and (P5) the
    # model's view of the IPA aligned down to each block size
    reads = cex["probes"] + cex.get("seeds", [])
    probe_pages = {p["addr"] & ~(page - 1) for p in reads if p["mmu"] == 0}
    hits = {T: []}          # translation -> [(addr, af)] of tagged probes inside it
    for p in reads:
        if p["mmu"] == 0 and p["ret"] == 0 and p["valid"] and p["tag"]:
            size = G.level_size(g, p["guest_level"])
            C = Translation(g, p["guest_level"], p["addr"] & ~(size - 1), p["addr"] & ~(size - 1))
            hsize = G.level_size(h, p["host_level"]) if host_blocks else None
            if (p["addr"], p["af"], hsize) not in hits.setdefault(C, []):
                hits[C].append((p["addr"], p["af"], hsize))
    sc.steps.append(("map", T))
    if cex["property"] == "P2":
        # the model's page where a leaf of T survives (model/properties.py);
        # a counterexample stored before it named one: a page of our choice
        s = cex.get("stale")
        if s is None:
            s = _stale_point(T, sc.expected_ranges, probe_pages, page, 1 << sc.ia_bits)
        if s is not None:
            sc.steps.append(("access", s))
    for C, where in hits.items():
        sc.steps += ([] if C == T else [("map", C)]) + [step for hit in where for step in _touch(*hit)]
    return sc


def _touch(addr, af, hsize=None):
    """Fault a shadow leaf in at addr (a host block of hsize if given); age
    it (AF cleared) if the model's was old."""
    fault = ("access", addr) if hsize is None else ("access-block", (addr, hsize))
    return [fault] + ([] if af else [("age", addr)])


def _stale_point(T, ranges, avoid, page, limit):
    """A host page inside T and below the VM's IPA size, outside every
    unmapped range, that no probe reads."""
    ranges = [(b, s) for b, s, m in ranges if m == 0]
    candidates = [T.base, T.base + T.size - page, limit - page]
    for b, s in ranges:
        candidates += [b + s, b - page]
    for c in candidates:
        c &= ~(page - 1)
        if T.base <= c < min(T.base + T.size, limit) and c not in avoid and \
                not any(b <= c < b + s for b, s in ranges):
            return c
    return None


class RecordingPgt:
    """Wraps the shadow page table to record the probes the revision makes."""

    def __init__(self, pgt):
        self.pgt, self.probes = pgt, []

    def get_leaf(self, addr):
        ret, pte, lvl = self.pgt.get_leaf(addr)
        self.probes.append((int(addr), ret.value(), int(pte), lvl.value()))
        return ret, pte, lvl

    def __getattr__(self, item):
        return getattr(self.pgt, item)


class ModelPtePgt:
    """The built shadow table answering each address the model probed with
    the model's whole PTE: the bits the model leaves free (it states only a
    leaf's valid bit, AF and level tag [56:55]) as the solver chose them."""

    def __init__(self, pgt, ptes):
        self.pgt, self.ptes = pgt, ptes

    def get_leaf(self, addr):
        ret, pte, lvl = self.pgt.get_leaf(addr)
        want = self.ptes.get(int(addr))
        if want is not None and ret.value() == 0:
            pte = Word(u64, want)
        return ret, pte, lvl

    def __getattr__(self, item):
        return getattr(self.pgt, item)


def _free_bits_explain(sc, d, rev, symbolic):
    """[(addr, model's PTE, built PTE)] when the revision, given the model's
    whole PTEs at the addresses it probed, computes what the symbolic path
    did: then it read PTE bits the model leaves free, not something outside
    its C inputs.  Else None."""
    ptes = {p["addr"]: p["pte"] for p in d["probes"] if p["mmu"] == 0 and p["ret"] == 0 and "pte" in p}
    try:
        world = build(sc)
        built = {a: int(world.mmu.pgt.get_leaf(a)[1]) for a in ptes}
        differ = [(a, v, built[a]) for a, v in sorted(ptes.items()) if v != built[a]]
        if not differ:
            return None
        world.mmu.pgt = ModelPtePgt(world.mmu.pgt, ptes)
        out = execute(sc, world, rev)
    except Exception:       # noqa: BLE001 -- only an explanation: the divergence is raised all the same
        return None
    again = ([tuple(r) for r in out.ranges], [a for a, *_ in out.probes], out.raised, len(out.warnings))
    return differ if again == symbolic else None


def run(sc, rev):
    return execute(sc, build(sc), rev)


@dataclass
class World:
    vm: object
    mmu: object             # the S2-enabled MMU holding T
    faults: list


def build(sc):
    """The concrete world the scenario describes, before the TLBI (an
    exception here means the scenario cannot be built: not the revision's)."""
    guest = GuestS2(sc.shift, sc.lpa2)
    vm = VM(feat_ttl=sc.feat_ttl, host_ttl=getattr(sc, "host_ttl", True))
    ia_bits = getattr(sc, "ia_bits", 48)
    mmu = new_mmu(vm, guest, sc.host_shift, ia_bits=ia_bits, keep_invalid_tags=getattr(sc, "keep_invalid_tags", False))
    mmu.guest_vtcr = Word(u64, sc.tlb_vtcr)
    vm.vcpu.sys_regs["VTCR_EL2"] = getattr(sc, "vcpu_vtcr", guest.vtcr)
    if getattr(sc, "s2off", False):
        new_mmu(vm, guest, sc.host_shift, s2_enabled=False, ia_bits=ia_bits)
    faults = []
    for kind, arg in sc.steps:
        fault = S.step(kind).run(mmu, guest, arg)
        if fault is not None:
            faults.append(fault)
    return World(vm, mmu, faults)


def execute(sc, world, rev):
    """The TLBI on the built world, with the revision."""
    vm, mmu, faults = world.vm, world.mmu, world.faults
    before = list(mmu.shadow_leaves())
    rec = RecordingPgt(mmu.pgt)
    mmu.pgt = rec
    error, warnings, kind = None, [], None
    try:
        warnings = tlbi.run(vm, sc.val, rev)
        if warnings:
            error = f"WARN_ON at {warnings[0]}"
    except C_OUTCOMES as e:     # a BUG(), undefined behaviour, ...: the outcome
        error, kind = f"{type(e).__name__}: {e}", type(e).__name__
    except Exception as e:      # not C's doing: never "replayed" (model/userfault.py)
        raise userfault.classify(e, rev) from e
    finally:
        mmu.pgt = rec.pgt
    stale = oracle.stale_leaves(mmu, sc.ipa, sc.ttl, sc.feat_ttl, sc.lpa2)
    ranges = [(b, s, i) for i, m in enumerate(vm.mmus) for b, s in m.unmapped]
    return Outcome(ranges, rec.probes, stale, before, list(mmu.shadow_leaves()), error, faults, warnings, kind)


def has_host_blocks(cex):
    """Does the model put a shadow leaf the scenario faults in at a host
    level above the host page (a host block)?  Only then is the world of
    host blocks another world than that of host pages."""
    h = _shift(cex["host_granule"])
    return any(p["mmu"] == 0 and p["ret"] == 0 and p["valid"] and p["tag"] and "host_level" in p
               and G.level_size(h, p["host_level"]) > 1 << h for p in cex["probes"] + cex.get("seeds", []))


def replay(cex, rev):
    """(replayed?, why, scenario, outcome).  The counterexample is replayed
    in the world the model describes: first with every shadow leaf a host
    page (the world of every replay before the model gave host levels), and
    if that does not replay, with each leaf a host block at the model's host
    level where the model has one (a failure can depend on it: a revision
    reading the shadow leaf's own level).  The scenario says which world
    (sc.host_blocks).  A counterexample whose replay recorded a world (a
    cached one) is replayed in that world only."""
    if "host_blocks" in cex:
        worlds = (bool(cex["host_blocks"]),)
    else:
        worlds = (False, True) if has_host_blocks(cex) else (False,)
    first = None
    for host_blocks in worlds:
        got = _replay_in(cex, rev, host_blocks)
        if got[0]:
            return got
        first = first or got
    if len(worlds) > 1:
        ok, why, sc, out = first
        return ok, f"{why} (with host pages; nor with host blocks at the model's host levels: {got[1]})", sc, out
    return first


def _replay_in(cex, rev, host_blocks):
    try:
        sc = from_counterexample(cex, host_blocks)
        world = build(sc)
    except Exception as e:
        return False, f"scenario cannot be built concretely: {type(e).__name__}: {e}", None, None
    out = execute(sc, world, rev)   # the revision's failure that is not C's is an error, raised
    if "error" not in cex and [tuple(r) for r in out.ranges] != sc.expected_ranges:
        return False, f"concrete range {_ranges(out.ranges)} differs from the model's {_ranges(sc.expected_ranges)}", sc, out
    if not out.violates(sc):
        return False, f"the concrete run satisfies {sc.prop}", sc, out
    if host_blocks:
        return True, "replayed on impl/ with host blocks at the model's host levels: the property fails concretely", sc, out
    return True, "replayed on impl/: the property fails concretely", sc, out


def attach_cex(cex, rev, dropped=()):
    """Replay one counterexample (a result's, or one of its further causes)
    and say in it whether it replayed, and in which world."""
    ok, why, sc, _ = replay(cex, rev)
    say(cex, ok, why, dropped, host_blocks=ok and sc.host_blocks)


def say(cex, ok, why, dropped=(), host_blocks=False):
    """Write a replay's outcome into the counterexample, as every op reports
    it: replayed, NOT REPLAYED with assumptions dropped, else a MODEL BUG.
    host_blocks: it replayed with host blocks at the model's host levels,
    recorded as "host_blocks": true (absent: host pages) for whoever
    rebuilds its scenario (from_counterexample)."""
    cex["replayed"] = ok
    if host_blocks:
        cex["host_blocks"] = True
    else:
        cex.pop("host_blocks", None)
    if ok:
        cex["replay"] = why
    elif dropped:
        # with assumptions off, the model may ask for states KVM never builds
        cex["replay"] = (f"NOT REPLAYED: {why}; the scenario may need a state the concrete "
                         f"machinery never builds (dropped: {', '.join(dropped)})")
    else:
        cex["replay"] = f"MODEL BUG: {why}"


def _ranges(rs):
    return ", ".join(f"[{b:#x}, {b + s:#x})" + (" in the S2-off MMU" if m else "") for b, s, m in rs) or "none"


def cover(witness):
    """Does the obligation's case really occur?  Build the witness concretely:
    the guest maps T, the nested guest touches the IPA (a shadow leaf of T
    appears), and the operand's hint is classified by the concrete oracle."""
    g, h = _shift(witness["granule"]), _shift(witness["host_granule"])
    T = Translation(g, witness["level"], witness["T"][0], witness["T"][0])
    ipa = witness["ipa"]
    guest = GuestS2(g, witness["lpa2"])
    vm = VM(feat_ttl=witness["feat_ttl"])
    mmu = new_mmu(vm, guest, h)
    guest.map(T.base, T.level, T.oa)
    got = handle_shadow_fault(mmu, guest, ipa, force_pte=True)
    if got != T:
        return False, f"the nested access at {ipa:#x} did not fault in T ({got})"
    if not any(o == T and b <= ipa < b + s for b, s, _, _, o in mmu.shadow_leaves()):
        return False, "no shadow leaf of T contains the IPA"
    case = oracle.hint_case(tlbi.ttl_of(witness["val"]), witness["feat_ttl"], witness["lpa2"], T)
    if case != witness["hint"]:
        return False, f"the operand is a {case} case, not {witness['hint']}"
    return True, "case occurs concretely"


# ---- proved code = executed code: the explored paths, run on impl/ ------------------
@dataclass
class PathCheck:
    """What replaying one model per explored path on impl/ showed."""
    checked: int = 0                  # paths whose model was built and ran with the same outcome
    unbuildable: list = field(default_factory=list)    # why a path's model could not be built

    def as_dict(self):
        return {"paths_checked": self.checked, "paths_unbuildable": len(self.unbuildable),
                "unbuildable": self.unbuildable[:5]}


def path_scenario(d):
    """The world one path's model describes (from_counterexample without a
    property: no stale point is added)."""
    sc = from_counterexample(d | {"property": None}, host_blocks=True)
    sc.s2off = sc.s2off or d.get("s2off", False)
    sc.s2off_tlb_vtcr = d.get("s2off_tlb_vtcr")
    return sc


def _s2off_world(mmu, sc, probes):
    """The stage-2-off context as the model has it: its VTCR, and its
    (untagged, 1:1) shadow leaves where the model's probes find one."""
    mmu.guest_vtcr = Word(u64, sc.s2off_tlb_vtcr)
    for p in probes:
        if p["mmu"] == 1 and p["ret"] == 0 and p["valid"] and "host_level" in p:
            size = G.level_size(sc.host_shift, p["host_level"])
            handle_s2_off_fault(mmu, p["addr"], vma_pagesize=size)
            if not p["af"]:
                mmu.pgt.clear_af(p["addr"])


def _world_differs(world, reads):
    """The first shadow-S2 read of the model that the built world answers
    differently (ret; for a valid leaf its AF, tag and level), or None."""
    for p in reads:
        if p["mmu"] >= len(world.vm.mmus):
            return f"the model reads a shadow MMU #{p['mmu']} the world lacks"
        ret, pte, lvl = world.vm.mmus[p["mmu"]].pgt.get_leaf(p["addr"])
        got = {"ret": ret.value(), "valid": int(pte) & 1, "tag": int(pte) >> 55 & 3}
        want = {"ret": p["ret"], "valid": p["valid"], "tag": p["tag"]} if p["ret"] == 0 else dict(got, ret=p["ret"])
        if got["ret"] == 0 and got["valid"]:
            got |= {"af": int(pte) >> 10 & 1, "host_level": lvl.value()}
            want |= {k: p.get(k) for k in ("af", "host_level")}
        if got != want:
            return f"the model's shadow S2 at {p['addr']:#x} (MMU #{p['mmu']}) is {want}, the built one {got}"
    return None


def check_path(d, rev, path_error, warnings, invalid_tags=False):
    """Replay one path's model `d` (model/describe.py's describe with the path) on
    impl/.  None if the concrete run has the path's outcome; a reason string
    if the world the model asks for cannot be built; raises a RevisionError
    if the revision does something else concretely than on the path."""
    try:
        sc = path_scenario(d)
        sc.keep_invalid_tags = invalid_tags
        world = build(sc)
        if sc.s2off and sc.s2off_tlb_vtcr is not None:
            _s2off_world(world.vm.mmus[1], sc, d["probes"])
    except Exception as e:
        return f"the world cannot be built: {type(e).__name__}: {e}"
    why = _world_differs(world, d["probes"] + d.get("seeds", []))
    if why is not None:
        return why
    out = execute(sc, world, rev)
    symbolic = ([tuple(r) for r in sc.expected_ranges], [p["addr"] for p in d["probes"] if p["mmu"] == 0],
                path_error and type(path_error).__name__, len(warnings))
    concrete = ([tuple(r) for r in out.ranges], [a for a, *_ in out.probes], out.raised, len(out.warnings))
    if symbolic != concrete:
        raise RevisionError(_divergence(rev, d, symbolic, concrete, _free_bits_explain(sc, d, rev, symbolic)))
    return None


def _show(o):
    ranges, probes, raised, warns = o
    return (f"range {_ranges(ranges)}, probes {', '.join(f'{a:#x}' for a in probes) or 'none'}"
            + (f", {raised}" if raised else "") + (f", {warns} WARN_ON" if warns else ""))


def _divergence(rev, d, symbolic, concrete, free_bits=None):
    import inspect
    entry = next(getattr(rev.module, n) for n in ("handle_ipas2e1is", "s2_mmu_unmap_ipa", "compute_tlb_inval_range")
                 if callable(getattr(rev.module, n, None)))
    entry = inspect.unwrap(entry)
    lines, first = inspect.getsourcelines(entry)
    line = first + next((i for i, s in enumerate(lines) if s.lstrip().startswith("def ")), 0)
    return (f"{userfault._where(os.path.realpath(entry.__code__.co_filename), line)}: the revision behaves differently on concrete input than on "
            f"the symbolic path the proof explored ({d['granule']} T at L{d['level']}, operand {d['val']:#x}, "
            f"tlb_vtcr {d['tlb_vtcr']:#x}): symbolically {_show(symbolic)}; concretely on impl/ {_show(concrete)}. "
            + (_free_bits_text(free_bits) if free_bits else
               "A revision must compute from its C inputs only (no type inspection, state kept between calls "
               "or randomness); nothing it proves would hold of the code that runs"))


def _free_bits_text(free_bits):
    shown = ", ".join(f"at {a:#x} {m:#x} where impl/'s leaf is {b:#x} (bits {m ^ b:#x} differ)" for a, m, b in free_bits)
    return ("Given the model's whole shadow PTEs (" + shown + ") impl/ computes what the symbolic path did: the "
            "revision reads bits of a shadow PTE that nvtlbi's model leaves free (it states only a leaf's valid "
            "bit, AF and level tag [56:55]), such as software bits [58:57], which KVM's shadow leaves never set; "
            "nvtlbi cannot decide such a revision (its model of these bits is missing), which is not the "
            "revision's fault")
