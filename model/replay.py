"""Counterexamples made concrete: from the solver's answer (in domain terms)
to a scenario of guest stage-2 changes, nested-guest accesses that fault in
shadow leaves, and the TLBI; replayed on impl/ with the architecture's
oracle (impl/oracle.py) deciding whether a stale shadow leaf survived.

A counterexample that does not replay is reported as a model bug."""

from dataclasses import dataclass, field

from impl import granule as G
from impl import oracle, tlbi
from impl.cint import Word, u64
from impl.kernel import KernelBug
from impl.nested import GuestS2, Translation, VM, handle_shadow_fault, new_mmu


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
    error: str = None
    faults: list = field(default_factory=list)

    def _tagged_leaf_of(self, T, scenario):
        """Before the TLBI, a tagged shadow leaf maps the IPA aligned down to
        a block size of the granule no larger than T."""
        where = [scenario.ipa & ~(size - 1) for size in
                 (G.level_size(T.shift, l) for l in G.guest_leaf_levels(T.shift)) if size <= T.size]
        return any(b <= a < b + s and (pte >> 55) & 3 for a in where for b, s, _, pte, _ in self.leaves_before)

    def violates(self, scenario):
        """Does the concrete run break the property (by the architecture's
        oracle)?  A failed run counts as model/properties.holds counts a
        path that fails: BUG() and WARN_ON break P4 only, and any other
        exception breaks the range properties (tests/test_one_definition.py
        checks the two agree)."""
        warned = self.error is not None and self.error.startswith("WARN_ON at")
        bug = self.error is not None and self.error.startswith(f"{KernelBug.__name__}:")
        if scenario.prop == "P4":
            return bug or warned
        if bug:
            return False            # no range computed: P4's failure, not this property's
        if self.error is not None and not warned:
            return True             # undefined behaviour or a crash of the revision itself
        if not self.ranges:
            return True             # a run that unmaps nothing fails every range property, as in holds()
        if scenario.prop == "P2":
            return bool(self.stale)
        if scenario.prop == "P1":
            return not self.ranges or not all(b <= scenario.ipa < b + s for b, s, _ in self.ranges)
        if scenario.prop == "P5":
            T = scenario.T
            mine = [(b, s) for b, s, m in self.ranges if m == 0]
            largest = G.level_size(T.shift, min(G.guest_leaf_levels(T.shift, scenario.lpa2)))
            if any(s > largest for _, s in mine):
                return True
            case = oracle.hint_case(scenario.ttl, scenario.feat_ttl, scenario.lpa2, T)
            informed = case == "match" or (case in ("nohint", "nofeat") and self._tagged_leaf_of(T, scenario))
            return informed and (not mine or any((b, s) != (T.base, T.size) for b, s in mine))
        if scenario.prop == "P3":
            return not self.ranges or any(s == 0 or s & (s - 1) or b + s > 1 << 64 for b, s, _ in self.ranges)
        raise ValueError(scenario.prop)


def _shift(name):
    return G.GRANULES[name]


def from_counterexample(cex):
    g, h = _shift(cex["granule"]), _shift(cex["host_granule"])
    sc = Scenario(g, h, cex["lpa2"], cex["feat_ttl"], cex["tlb_vtcr"], cex["val"], cex["property"],
                  expected_ranges=[(b, e - b, m) for b, e, m in cex["ranges"]])
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
            if (p["addr"], p["af"]) not in hits.setdefault(C, []):
                hits[C].append((p["addr"], p["af"]))
    sc.steps.append(("map", T))
    if cex["property"] == "P2":
        s = _stale_point(T, sc.expected_ranges, probe_pages, page, 1 << sc.ia_bits)
        if s is not None:
            sc.steps.append(("access", s))
    for C, where in hits.items():
        sc.steps += ([] if C == T else [("map", C)]) + [step for hit in where for step in _touch(*hit)]
    return sc


def _touch(addr, af):
    """Fault a shadow leaf in at addr; age it (AF cleared) if the model's was old."""
    return [("access", addr)] + ([] if af else [("age", addr)])


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


def run(sc, rev):
    guest = GuestS2(sc.shift, sc.lpa2)
    vm = VM(feat_ttl=sc.feat_ttl, host_ttl=getattr(sc, "host_ttl", True))
    ia_bits = getattr(sc, "ia_bits", 48)
    mmu = new_mmu(vm, guest, sc.host_shift, ia_bits=ia_bits)
    mmu.guest_vtcr = Word(u64, sc.tlb_vtcr)
    vm.vcpu.sys_regs["VTCR_EL2"] = getattr(sc, "vcpu_vtcr", guest.vtcr)
    if getattr(sc, "s2off", False):
        new_mmu(vm, guest, sc.host_shift, s2_enabled=False, ia_bits=ia_bits)
    faults = []
    for kind, arg in sc.steps:
        if kind == "map":
            guest.map(arg.base, arg.level, arg.oa)
        elif kind == "age":
            mmu.pgt.clear_af(arg)
        else:
            faults.append((arg, handle_shadow_fault(mmu, guest, arg, force_pte=True)))
    before = list(mmu.shadow_leaves())
    rec = RecordingPgt(mmu.pgt)
    mmu.pgt = rec
    error = None
    try:
        warnings = tlbi.run(vm, sc.val, rev)
        if warnings:
            error = f"WARN_ON at {warnings[0]}"
    except Exception as e:      # a BUG(), undefined behaviour, ...: the outcome
        error = f"{type(e).__name__}: {e}"
    finally:
        mmu.pgt = rec.pgt
    stale = oracle.stale_leaves(mmu, sc.ipa, sc.ttl, sc.feat_ttl, sc.lpa2)
    ranges = [(b, s, i) for i, m in enumerate(vm.mmus) for b, s in m.unmapped]
    return Outcome(ranges, rec.probes, stale, before, list(mmu.shadow_leaves()), error, faults)


def replay(cex, rev):
    """(replayed?, why, scenario, outcome)"""
    try:
        sc = from_counterexample(cex)
        out = run(sc, rev)
    except Exception as e:
        return False, f"scenario cannot be built concretely: {type(e).__name__}: {e}", None, None
    if "error" not in cex and [tuple(r) for r in out.ranges] != sc.expected_ranges:
        return False, f"concrete range {_ranges(out.ranges)} differs from the model's {_ranges(sc.expected_ranges)}", sc, out
    if not out.violates(sc):
        return False, f"the concrete run satisfies {sc.prop}", sc, out
    return True, "replayed on impl/: the property fails concretely", sc, out


def attach(result, rev, dropped=()):
    ok, why, _, _ = replay(result.counterexample, rev)
    result.counterexample["replayed"] = ok
    if ok:
        result.counterexample["replay"] = why
    elif dropped:
        # with assumptions off, the model may ask for states KVM never builds
        result.counterexample["replay"] = (f"NOT REPLAYED: {why}; the scenario may need a state the concrete "
                                           f"machinery never builds (dropped: {', '.join(dropped)})")
    else:
        result.counterexample["replay"] = f"MODEL BUG: {why}"


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
