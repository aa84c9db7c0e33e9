"""The end-to-end theorem: in every reachable state, after the emulation of a
guest TLBI, no shadow leaf of any MMU of the VMID still maps a guest
translation that the TLBI had to remove.

It is not proved by one query but composed from three proofs, each run:
  (a) the invariant: the shadow-state assumptions that the producers keep
      (model/invariants.py) hold in the initial state, and every modelled
      transition (a `Transition` below: the fault today) preserves each of
      them: its preservation obligations are PROVED;
  (b) the op's isolation obligations (STATEMENTS: P1-P3 for ipas2e1) are
      PROVED for the TLBI revision, under the default assumptions;
  (c) every assumption the proofs of (a) and (b) rest on (the unsat cores
      the prover reports as `rests_on`) is either an invariant of (a) or an
      entry of the trusted list (TRUSTED), which says why it stays trusted.
      Every transition KVM makes on the shadow state is either modelled in
      (a) or trusted in the same list.
Why the composition is sound: by (a), by induction on the number of
transitions, every reachable state satisfies the invariant; in such a
state, (c) says every assumption of (b) holds (the trusted ones by their
reasons); so (b)'s properties hold of the TLBI run in that state, and P1-P3
say the range it unmaps covers the IPA and the whole translation T the TLBI
had to remove (rounded out to host pages), on each shadow MMU of the VMID.

The verdict: PROVED only when (a), (b) and (c) all hold; COUNTEREXAMPLE
when a proof of (a) or (b) has one that replays on impl/; otherwise
UNKNOWN, naming the missing piece (an assumption neither proved nor
trusted, a transition neither modelled nor trusted, an obligation not
PROVED).

The transitions are model/transitions.py's registry, the one `nvtlbi
invariants` proves: each names its invariants (its obligations), its
prover and its replay.  Every candidate of the invariant (an assumption some
transition's obligations cover, except those a transition establishes
rather than preserves: transitions.ESTABLISHED) needs a PROVED obligation
of every transition, or the theorem names the one missing.  Each
transition's `facts` (what its symbolic world takes as a fact of the case)
are reported as trusted."""

from dataclasses import asdict, dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from nvtlbi.impl import granule as G
from nvtlbi.impl.assumptions import BY_NAME
from nvtlbi.model import invariants as I
from nvtlbi.model import transitions as T
from nvtlbi.model.verdict import COUNTEREXAMPLE, PROVED, UNKNOWN


# ---- what the theorem says, per op ----------------------------------------------------
@dataclass(frozen=True)
class Statement:
    op: str
    tlbi: str                   # the guest TLBIs it is about
    properties: Tuple[str, ...]  # the op's obligations that, together, say "nothing stale survives"
    why: str                    # why those properties are the statement
    known: Dict[str, str] = field(default_factory=dict)    # property -> the known finding about upstream
    # what must not survive (an MMU with a pending unmap is emptied before any
    # vCPU runs on it: model/transitions.py's `window` entries)
    left: str = "no shadow leaf of any MMU of the VMID still maps a guest translation"


STATEMENTS = {s.op: s for s in [
    Statement("ipas2e1", "a guest TLBI IPAS2E1*", ("P1", "P2", "P3"),
              "P1: the range contains the IPA; P2: it contains the guest translation T the TLBI had to remove, "
              "rounded out to host pages; P3: it is a well-formed range (the unmap removes exactly it)"),
    Statement("ripas2e1", "a guest TLBI RIPAS2E1*", ("R1", "R2", "R3"),
              "R1: every address of the range is unmapped on every shadow MMU of the VMID; R2: so is every "
              "cached guest translation that overlaps it; R3: each unmapped range is well-formed",
              {"R2": "a range over part of a guest block leaves the rest of the block's shadow pages "
                     "(J1.1.3.449; docs/findings.md)"}),
    Statement("vncr", "a guest TLBI of the EL2&0 regime (the VNCR pseudo-TLB)", ("V1", "V3"),
              "V1: the TLBI drops every vCPU's cached VNCR translation it covers; V3: a dropped one has its "
              "fixmap slot cleared",
              {"V1": "the topmost VA block is never dropped by a TLBI by VA, a range TLBI never drops an "
                     "upper-half page, LPA2 blocks have size 0 (docs/findings.md)"},
              "no vCPU's VNCR pseudo-TLB still holds a translation"),
]}


def statement(op: str) -> Statement:
    try:
        return STATEMENTS[op]
    except KeyError:
        raise KeyError(f"no end-to-end statement for op {op!r} (have: {', '.join(STATEMENTS)})") from None


def sentence(op: str) -> str:
    st = statement(op)
    return (f"in every reachable state, after the emulation of {st.tlbi}, {st.left} that the TLBI had to "
            f"remove")


# ---- the trusted list ---------------------------------------------------------------------
GUEST, ARCH, KVM_LIMITS, LOCKING, API, FRAME, RUN_LOOP, NOT_YET = (
    "the guest's obligation", "architecture", "KVM's ID-register limits", "locking", "API fact",
    "frame argument", "run-loop argument", "KVM code not yet written as a producer")


@dataclass(frozen=True)
class Trust:
    name: str       # an assumption (impl/assumptions.py) or a transition (KVM_TRANSITIONS)
    kind: str       # one of the kinds above
    reason: str


TRUSTED = [
    Trust("bbm", GUEST, "the guest must break a mapping and invalidate before it makes an overlapping one "
                        "(ARM DDI 0487 D8.17.1); KVM hides FEAT_BBM from NV guests, so no level-2 relaxation"),
    Trust("no-lpa2", ARCH, "the nested walker has no LPA2 block levels, VTCR_EL2.DS is RES0 for the guest "
                           "(limit_nv_id_reg)"),
    Trust("leaf-level", ARCH, "a guest stage-2 leaf sits at a leaf level of its granule (ARM DDI 0487 Tables "
                              "D8-16, D8-26, D8-35); the nested walker rejects other blocks"),
    Trust("granule-order", KVM_LIMITS, "limit_nv_id_reg advertises only guest granules >= PAGE_SIZE"),
    Trust("stable-pgt", LOCKING, "the range is computed under mmu_lock held for write "
                                 "(lockdep_assert_held_write): the shadow S2 does not change meanwhile"),
    Trust("get-leaf-ret", API, "kvm_pgtable_get_leaf returns 0 or -ERANGE (hyp/pgtable.c)"),
    Trust("get-leaf-range", NOT_YET, "the shadow S2's input size is the VM's IPA size (kvm_init_stage2_mmu) and "
                                     "leaves stay below it: the fault's host backing size is an input of its "
                                     "world, and the cap that keeps a block inside the input range "
                                     "(fault_supports_stage2_huge_mapping, the map walker at the start level) "
                                     "is not modelled; impl/nested.py applies it concretely"),
    Trust("vtcr-current", RUN_LOOP, T.ESTABLISHED["vtcr-current"]),
    # the ways the shadow state changes that are not modelled as transitions
    Trust("guest-s2-change", FRAME, "a guest map or unmap edits the guest stage 2, not a shadow entry: each P "
                                    "reads only the shadow entry and the translation it cached (docs/invariants.md)"),
    Trust("leaf-attr-update", FRAME, "write-protecting (kvm_pgtable_stage2_wrprotect) and ageing "
                                     "(kvm_pgtable_stage2_test_clear_young) a shadow leaf change only its "
                                     "permission and access bits (stage2_update_leaf_attrs), never its validity, "
                                     "tag or address: each P reads only those and the cached translation"),
    Trust("vcpu-put", FRAME, "kvm_vcpu_put_hw_mmu drops the vCPU's reference (refcnt) and its hw_mmu: no entry, "
                             "tlb_vttbr, tlb_vtcr or pending_unmap changes, and vtcr-stable reads only those"),
]


# ---- the transitions ----------------------------------------------------------------------
# Every way KVM (or the guest) changes the shadow state: each is modelled
# (model/transitions.py) or trusted (TRUSTED).
KVM_TRANSITIONS = ("fault", "unmap", "recycle", "pending-unmap", "vtcr-write", "guest-s2-change",
                   "leaf-attr-update", "vcpu-put")


def invariant_names(transitions=None) -> List[str]:
    """The assumptions the modelled transitions prove preserved: the
    invariant (an established property, transitions.ESTABLISHED, is not)."""
    out: List[str] = []
    for t in transitions or T.TRANSITIONS:
        for i in t.invariants:
            if i not in out and i not in T.ESTABLISHED:
                out.append(i)
    return out


def producers_for(producer) -> Dict[str, object]:
    """{transition: producer} for every transition a producer file of its
    kind implements (an `mmu` file is the recycle and the pending unmap)."""
    return {t.name: producer for t in T.of_kind(producer.kind)}


# ---- the evidence, and the judgement ------------------------------------------------------
@dataclass
class Preservation:
    transition: str
    id: str
    invariant: str
    verdict: str
    rests_on: List[str]
    reason: str = ""
    trace: List[str] = field(default_factory=list)      # a counterexample replayed as events on impl/
    replayed: List[str] = field(default_factory=list)   # the assumptions it breaks on impl/


@dataclass
class Evidence:
    granules: List[str]                         # the guest granules in scope
    initial: Dict[str, bool]                    # "4K-host4K" -> the initial state satisfies the invariant
    preservation: List[Preservation]
    op_results: list                            # [Result] of the op's statement properties
    stopped: int = 0                            # obligations of (a) not run: it stopped at a failure


def preservation(granules: Optional[Sequence[str]] = None, producers: Optional[Dict[str, object]] = None,
                 transitions=None, session=None, stop=False, pairs=None,
                 prove=None) -> Tuple[Dict[str, bool], List[Preservation], int]:
    """(a)'s proofs, run: the initial state of every granule pair in scope,
    and every preservation obligation of every modelled transition, each
    counterexample replayed on impl/.  `producers`: {transition: Producer}
    replacing the bundled ones.  `stop`: no obligation after the first that
    is not PROVED (the theorem fails anyway); the third value counts those
    not run.  `pairs`: only these "GUEST-hostHOST" pairs.  `prove`: the
    prover of one obligation, prove(transition, producer, ob) (default: the
    transition's; a caller may share proofs through it).

    The initial state (kvm_init_stage2_mmu, kvm_init_nested_s2_mmu): an
    empty shadow S2 (every entry 0) whose MMU has CnP set.  No entry is
    valid or tagged, so each per-entry P holds (vtcr-stable's too: it is
    about valid entries); I.initial_holds checks the empty table."""
    from nvtlbi.impl import producers as PR
    producers = producers or {}
    initial: Dict[str, bool] = {}
    out: List[Preservation] = []
    seen: set = set()
    prove = prove or (lambda t, p, ob: t.prove(p, ob, session))
    bundled: Dict[str, object] = {}
    todo = [(t, producers.get(t.name) or bundled.setdefault(t.producer, PR.load(t.producer)), ob)
            for t in transitions or T.TRANSITIONS for ob in t.obligations(granules)
            if pairs is None or ob.shift is None or pair(ob) in pairs]
    for n, (t, p, ob) in enumerate(todo):
        if stop and any(x.verdict != PROVED for x in out):
            return initial, out, len(todo) - n
        if ob.shift is not None and pair(ob) not in seen:       # a pair-free obligation has no initial state
            seen.add(pair(ob))
            initial[pair(ob)] = bool(I.initial_holds(ob.shift, ob.host))
        o = prove(t, p, ob)
        pr = Preservation(t.name, o.id, ob.invariant, o.verdict, list(o.rests_on), o.reason)
        if o.verdict == COUNTEREXAMPLE:
            events, broken, _ = t.replay(o.counterexample, p, ob.shift, ob.host)
            pr.trace, pr.replayed = list(events), [f"{name}: {d}" for name, d in broken]
        out.append(pr)
    return initial, out, 0


def pair(ob) -> str:
    """"GUEST-hostHOST" of an obligation; "any" for one proved for every pair."""
    return "any" if ob.shift is None else f"{G.name(ob.shift)}-host{G.name(ob.host)}"


@dataclass
class Theorem:
    op: str
    statement: str
    verdict: str
    scope: str
    invariant: List[str]                        # the assumptions proved inductive in (a)
    theorems: List[str]                         # assumptions the proofs rest on that (a) proved
    trusted: List[Dict[str, str]]               # assumptions and transitions taken from the trusted list
    missing: List[str]                          # each piece that stops a PROVED, one line each
    counts: Dict[str, str]                      # "a", "b": "n/m PROVED"

    def as_json(self):
        return asdict(self)

    def exit_status(self) -> int:
        return {PROVED: 0, COUNTEREXAMPLE: 1}.get(self.verdict, 2)


def judge(op: str, ev: Evidence, trusted: Sequence[Trust] = TRUSTED, transitions=None,
          scope: str = "") -> Theorem:
    """The theorem's verdict from the evidence: see the module's docstring."""
    st = statement(op)
    transitions = transitions or T.TRANSITIONS
    trust = {t.name: t for t in trusted}
    missing, cex = [], False

    # (a) the invariant: the largest set of candidates that hold initially,
    # whose obligations (for every modelled transition) are PROVED, and whose
    # proofs rest only on the set itself (the induction hypothesis), trusted
    # entries and the case
    candidates = invariant_names(transitions)
    by_inv: Dict[str, List[Preservation]] = {i: [p for p in ev.preservation if p.invariant == i] for i in candidates}
    ok = {i for i in candidates if by_inv[i]}
    for p in ev.preservation:
        if p.verdict != PROVED:
            ok.discard(p.invariant)
            cex |= p.verdict == COUNTEREXAMPLE and bool(p.replayed)
            why = (f"; replayed on impl/: {'; '.join(p.replayed)}" if p.replayed else
                   " (it does not break the assumption on impl/: MODEL BUG)" if p.verdict == COUNTEREXAMPLE else "")
            missing.append(f"(a) {p.id}: {p.verdict}{' ' + p.reason if p.reason else ''}{why}")
    if ev.stopped:
        missing.append(f"(a) {ev.stopped} preservation obligations not run (stopped at the first failure)")
    for t in transitions if not ev.stopped else ():
        # every candidate, and what the transition establishes (vtcr-current)
        framed = dict(t.frame) | dict(t.window)
        for i in candidates + [i for i in t.invariants if i not in candidates]:
            if i in framed and i not in t.invariants:
                continue                        # trusted: reported in `trusted` below
            if not any(p.transition == t.name and p.invariant == i for p in ev.preservation):
                ok.discard(i)
                missing.append(f"(a) transition {t.name} has no preservation obligation for {i}")
    bad_init = [k for k, v in ev.initial.items() if not v]
    if bad_init:
        ok.clear()
        missing.append(f"(a) the initial state breaks the invariant ({', '.join(bad_init)})")
    # what the transitions establish rather than preserve: its proof must
    # rest on the invariant and trusted entries, as the invariant's do
    for i in sorted({i for t in transitions for i in t.invariants} & set(T.ESTABLISHED)):
        base = {n for p in ev.preservation if p.invariant == i for n in p.rests_on} - {"case", i}
        loose = sorted(n for n in base if n not in ok and n not in trust)
        if loose:
            missing.append(f"(a) {i}'s proof rests on {', '.join(loose)}: neither in the invariant nor trusted")
    changed = True
    while changed:
        changed = False
        for i in sorted(ok):
            base = {n for p in by_inv[i] for n in p.rests_on} - {"case"}
            loose = sorted(n for n in base if n not in ok and n not in trust)
            if loose:
                ok.discard(i)
                changed = True
                missing.append(f"(a) {i}'s preservation rests on {', '.join(loose)}: neither in the invariant "
                               f"nor trusted")
    for name in KVM_TRANSITIONS:
        if not any(t.name == name for t in transitions) and name not in trust:
            missing.append(f"(a) transition {name} is neither modelled nor trusted")

    # (b) the op's obligations
    rs = [r for r in ev.op_results if r.property in st.properties]
    if not rs:
        missing.append(f"(b) no obligation of {', '.join(st.properties)} in scope")
    for r in rs:
        if r.verdict != PROVED or r.exit_status() != 0:
            replayed = r.verdict == COUNTEREXAMPLE and r.exit_status() == 1
            cex |= replayed
            # a finding is known of the merged code only: another revision failing there is news
            known = st.known.get(r.property) if replayed and r.revision == "upstream" else None
            missing.append(f"(b) {r.id}: {r.verdict}" + (f" {r.reason}" if r.reason else "")
                           + (f" (known finding about the kernel: {known})" if known else ""))

    # (c) what the proofs rest on
    rests = sorted({n for r in rs if r.verdict == PROVED for n in r.rests_on} - {"case"}
                   | {n for p in ev.preservation if p.invariant in ok for n in p.rests_on} - {"case"})
    theorems = [n for n in rests if n in ok]
    used_trust = [n for n in rests if n not in ok and n in trust]
    for n in rests:
        if n not in ok and n not in trust:
            why = " (a candidate of the invariant whose proof did not hold)" if n in candidates else ""
            missing.append(f"(c) the proofs rest on {n}{why}: neither proved in (a) nor trusted")
    trusted_out = [asdict(trust[n]) | {"what": "assumption"} for n in used_trust]
    trusted_out += [asdict(trust[n]) | {"what": "transition"} for n in KVM_TRANSITIONS
                    if not any(t.name == n for t in transitions) and n in trust]
    trusted_out += [{"name": t.name, "kind": "fact of the case", "reason": f, "what": "case fact"}
                    for t in transitions for f in t.facts]
    trusted_out += [{"name": f"{t.name} keeps {i}", "kind": FRAME, "reason": why, "what": "frame"}
                    for t in transitions for i, why in t.frame if i in candidates and i not in t.invariants]
    trusted_out += [{"name": f"{t.name} breaks {i} only on an MMU it leaves pending", "kind": RUN_LOOP,
                     "reason": why, "what": "window"}
                    for t in transitions for i, why in t.window if i in candidates and i not in t.invariants]

    n_a = sum(p.verdict == PROVED for p in ev.preservation)
    n_b = sum(r.verdict == PROVED for r in rs)
    verdict = PROVED if not missing else COUNTEREXAMPLE if cex else UNKNOWN
    return Theorem(op, sentence(op), verdict, scope, sorted(ok, key=candidates.index), theorems, trusted_out,
                   missing, {"a": f"{n_a}/{len(ev.preservation)} PROVED", "b": f"{n_b}/{len(rs)} PROVED"})


def untrust(names: Sequence[str], trusted: Sequence[Trust] = TRUSTED) -> List[Trust]:
    """The trusted list without `names` (KeyError naming the first that is not in it)."""
    have = {t.name for t in trusted}
    for n in names:
        if n not in have:
            raise KeyError(n)
    return [t for t in trusted if t.name not in names]


def check_registry():
    """Every trusted entry names a registered assumption or a KVM transition
    (a misspelt entry would trust nothing and hide a missing proof)."""
    bad = [t.name for t in TRUSTED if t.name not in BY_NAME and t.name not in KVM_TRANSITIONS]
    if bad:
        raise ValueError(f"trusted entries that name no assumption or transition: {', '.join(bad)}")


check_registry()


# ---- running it (the CLI proves the op's matrix through the proof cache instead) ----------
def op_results(op: str, rev, granules: Optional[Sequence[str]] = None, levels: Optional[Sequence[int]] = None,
               drop: Sequence[str] = (), session=None) -> list:
    """(b)'s proofs, run in this process: the statement's properties of
    every case of the op's matrix in scope."""
    from nvtlbi.model import assumptions as AS
    from nvtlbi.model import ops
    from nvtlbi.model.prover import prove_level
    o = ops.op(op)
    groups: Dict[Tuple[int, int], List[str]] = {}
    for c in o.matrix(AS.enabled(drop), hints=o.cases):
        if (granules is None or c.granule in granules) and (levels is None or c.level in levels):
            groups.setdefault((c.shift, c.level), []).append(c.hint)
    out = []
    for (shift, level), hints in groups.items():
        out += prove_level(rev, shift, level, hints, props=statement(op).properties, drop=tuple(drop),
                           session=session, op=o)
    return out


def scope_text(op: str, granules: Optional[Sequence[str]], levels: Optional[Sequence[int]],
               pairs: Optional[Sequence[str]] = None) -> str:
    gs = ", ".join(granules) if granules else "every guest granule"
    hs = f"the transitions' obligations on {', '.join(pairs)} only" if pairs else "each with every host granule <= it"
    ls = f"levels {', '.join(map(str, levels))} only" if levels else "every level"
    return f"{gs} ({hs}), {ls}, every operand case of {op}"


def prove(op: str, rev, granules=None, levels=None, producers=None, trusted: Sequence[Trust] = TRUSTED,
          drop: Sequence[str] = (), session=None) -> Theorem:
    """The theorem for `op` and the TLBI revision `rev` (loaded), in scope."""
    initial, pres, stopped = preservation(granules, producers, session=session)
    ev = Evidence(list(granules or G.GRANULES), initial, pres, op_results(op, rev, granules, levels, drop, session),
                  stopped)
    return judge(op, ev, trusted, scope=scope_text(op, granules, levels))


@dataclass
class Trace:
    """A preservation counterexample as events replayed on impl/."""
    transition: str
    id: str
    invariant: str
    shift: Optional[int]            # None: a counterexample of a pair-free obligation
    host: Optional[int]
    counterexample: dict
    events: List[str]
    broken: List[Tuple[str, str]]       # (assumption, detail) the state breaks on impl/ right after the fault
    stale: list                         # the shadow leaves of the broken translation left after the TLBI


def first_trace(producers: Dict[str, object], granules=None, wanted: Optional[str] = None,
                transitions=None, session=None) -> Tuple[Optional[Trace], List[str]]:
    """(the first preservation counterexample, or the one with id `wanted`,
    replayed as events; the ids of the obligations proved on the way).  A
    transition not in `producers` runs its bundled producer."""
    from nvtlbi.impl import producers as PR
    passed: List[str] = []
    for t in transitions or T.TRANSITIONS:
        p = producers.get(t.name) or PR.load(t.producer)
        for ob in t.obligations(granules):
            if wanted is not None and ob.id != wanted:
                continue
            o = t.prove(p, ob, session)
            if o.verdict != COUNTEREXAMPLE:
                passed.append(f"{o.id}: {o.verdict}" + (f" {o.reason}" if o.reason else ""))
                continue
            events, broken, stale = t.replay(o.counterexample, p, ob.shift, ob.host)
            return Trace(t.name, o.id, ob.invariant, ob.shift, ob.host, o.counterexample, list(events),
                         list(broken), list(stale)), passed
    return None, passed


def obligation_ids(granules=None, transitions=None) -> List[str]:
    return [ob.id for t in transitions or T.TRANSITIONS for ob in t.obligations(granules)]
