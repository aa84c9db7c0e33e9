"""Mutation testing of the whole chain: every mutant of a revision
(model/mutants.py) ends in one class, with its evidence.  "Behaves the
same" is model/equiv.py's: the unmapped ranges per MMU in order, how many
WARN_ONs fire, BUG(), errors (undefined behaviour, uninitialised reads,
lockdep) and mmu_lock on return.

The classes, with their meanings, are the registry CLASSES below
(docs/trusting-verdicts.md's table is generated from it).  A property
obligation kills a mutant only with a counterexample that replays on
impl/: the chain engine -> properties -> replay caught it.  P4 is what
kills a mutant that makes a WARN_ON fire or reach BUG(), and P5 (precision)
one that only over-invalidates.

The score counts KILLED + EQUIVALENT + EXCUSED + SAFE over all but
STILLBORN; every mutant of a sound chain is explained, so 100 % is the
target."""

import os
import tempfile
import time
from dataclasses import dataclass, field

from nvtlbi.impl import revision as REV
from nvtlbi.impl import granule as G
from nvtlbi.impl import tlbi
from nvtlbi.impl.cint import Word, u64
from nvtlbi.impl.nested import VM, GuestS2, new_mmu
from nvtlbi.model import assumptions as AS
from nvtlbi.model import evidence
from nvtlbi.model import findings
from nvtlbi.model import replay as R
from nvtlbi.model import same_function as SF
from nvtlbi.model.env import Case
from nvtlbi.model.equiv import DIFFERENT, EQUIVALENT, diff_case, outcome_text
from nvtlbi.model.prover import prove_case, prove_level
from nvtlbi.model.session import Limits, Session
from nvtlbi.model.verdict import COUNTEREXAMPLE, PROVED



@dataclass(frozen=True)
class MutantClass:
    name: str
    meaning: str

    def __str__(self):
        return self.name


CLASSES = [MutantClass(*c) for c in [
    ("KILLED", "an obligation of the mutant (P1-P5, R1-R5, V1-V5) has a counterexample that replays on `impl/` "
               "(the concrete oracle sees the failure), is not a known finding about the kernel "
               "(`model/findings.py`), and is not a failure the original has too (the same obligation with the "
               "same cause, unless the original passes on that counterexample's world); or, for the range and "
               "VNCR ops, on an input where the two differ the mutant breaks a property, replayed on `impl/`, "
               "that the original keeps; or the mutant loops without bound and a concrete run keeps probing the "
               "shadow S2 past 10,000 probes"),
    (EQUIVALENT, "`model/equiv.py` proves that it behaves as the original (ranges, WARN_ON, BUG(), errors, "
                 "mmu_lock: as `nvtlbi diff`) for every input and environment, on every granule; or, first, "
                 "`model/same_function.py` proves that the function it changes returns the original's value for "
                 "every value of its C arguments, with no other effect (the rest is the original's code)"),
    ("EXCUSED", "it differs, but `model/equiv.py` proves it behaves as the original except in the ranges of TLBIs "
                "the architecture does not oblige to remove T: a valid TTL that names another granule or level, "
                "where nothing is required of the range (C5.5.13). WARN_ON, BUG() and errors are compared there "
                "too, and there P1, P3 and P4 are PROVED (P4: or fails only with a known finding about the kernel)"),
    ("SAFE", "it differs where the TLBI is obliged, or lacks a WARN_ON, BUG() or error the original has (the "
             "distinguishing input is printed), but every obligation of the granules where it differs, P5 "
             "included, is PROVED, or fails only with a known finding about the kernel (`model/findings.py`) "
             "or as the original itself fails there (the same obligation, the same cause)"),
    ("STILLBORN", "it does not load or run (a user error); not scored"),
    ("UNEXPLAINED", "anything else (UNKNOWN, a counterexample that does not replay, a difference in mmu_lock on "
                    "return, which no obligation checks): a hole in the chain"),
]]
KILLED, _, EXCUSED, SAFE, STILLBORN, UNEXPLAINED = (c.name for c in CLASSES)
GRANULE_ORDER = (14, 16, 12)    # cheap granules first: most mutants die there
# upstream's longest path makes 23 symbolic branch decisions; a mutant
# beyond 4x that is looping, and waiting for the engine's general bound
# (400) costs minutes per mutant
MUTANT_MAX_DECISIONS = 100
PROBE_BUDGET = 10_000
# cheap evidence first (model/evidence.py): worlds per case, and no wall-time
# cap, so that a mutant's class and evidence do not depend on the machine's
# load (12 worlds per case cost about 3 s per granule)
CONCRETE = evidence.Budget(worlds=12, seconds=float("inf"))
# the VNCR op's worlds are a pseudo-TLB, not page tables: a run costs about a
# millisecond, and a mutant's slip often shows only at a block's start or
# the top 1G of the VA space, so it draws more of them (40 per case: 72 of
# upstream's 97 mutants die there, 69 with 12)
CONCRETE_BY_OP = {"vncr": evidence.Budget(worlds=40, seconds=float("inf")),
                  # the range op's worlds are a few milliseconds too (no shadow S2 walk)
                  "ripas2e1": evidence.Budget(worlds=40, seconds=float("inf"))}


class _Hang(Exception):
    pass


class _BudgetPgt:
    """The shadow S2 with a probe budget: a run that exceeds it is hanging."""

    def __init__(self, pgt):
        self.pgt, self.left = pgt, PROBE_BUDGET

    def get_leaf(self, addr):
        self.left -= 1
        if self.left < 0:
            raise _Hang()
        return self.pgt.get_leaf(addr)

    def __getattr__(self, item):
        return getattr(self.pgt, item)


def hangs(rev, shift):
    """Concrete evidence of non-termination: a TLBI without a hint on a VM
    whose shadow S2 is empty (nothing cached yet), IPA 0."""
    guest = GuestS2(shift)
    vm = VM(feat_ttl=True)
    mmu = new_mmu(vm, guest, 12)
    mmu.guest_vtcr = Word(u64, guest.vtcr)
    vm.vcpu.sys_regs["VTCR_EL2"] = guest.vtcr
    mmu.pgt = _BudgetPgt(mmu.pgt)
    try:
        tlbi.run(vm, tlbi.make_operand(0, 0), rev)
    except _Hang:
        return True
    except Exception:
        return False
    return False


@dataclass
class Classified:
    id: str
    line: int
    operator: str
    change: str
    verdict: str
    evidence: str
    seconds: float = 0.0
    example: dict | None = field(default=None, repr=False)
    by: str = ""        # KILLED: the property (P1-P5) or "loop"
    # the original's own failures this classification computed (_Baseline.by_case),
    # for the caller to hand to the mutants it classifies next (not a result)
    baseline: dict | None = field(default=None, repr=False)


def write(mutants, directory=None):
    """Mutant sources as files (revisions are loaded from files)."""
    directory = directory or tempfile.mkdtemp(prefix="nvtlbi-mutants-")
    paths = {}
    for m in mutants:
        paths[m.id] = os.path.join(directory, f"mutant_{m.id}.py")
        with open(paths[m.id], "w") as f:
            f.write(m.source)
    return paths


def classify(original, mutant, path, shifts=GRANULE_ORDER, limits=None, drop=(), op=None, concrete=True,
             levels=None, symbolic=True, baseline=None, same=True):
    """Classify one mutant (loaded from `path`) against the `original`
    revision spec, granule by granule; `op` (model/ops.py, default ipas2e1)
    names the world, the cases and the properties.  `concrete`: first run
    the mutant on generated worlds (model/evidence.py, every op's
    generator); a replayed failure that is not a known finding kills it
    before any symbolic work.  `symbolic` False: only that (None if the
    mutant survives it: the caller classifies the survivors).  `baseline`:
    the original's own failures other mutants' classifications computed
    (Classified.baseline), so that a run computes each about once.
    `levels` (None: every level): a slice, the diffs and the obligations at
    these levels only (of T, of C, of the VNCR S1 leaf: the op's level); a
    class found on a slice speaks of that slice.  `same`: first ask
    model/same_function.py whether the changed function returns the
    original's value for every argument (then EQUIVALENT, with no world
    drawn and no diff: the function and the rest are the original's)."""
    from nvtlbi.model import ops
    t0 = time.perf_counter()
    with Session(limits=limits or Limits(), max_decisions=MUTANT_MAX_DECISIONS):
        return _classify(original, mutant, path, shifts, drop, t0, ops.op(op), concrete,
                         tuple(levels) if levels else None, symbolic, baseline, same)


def _any_cases(op, shift, levels=None):
    """The cases a diff of one granule runs in: any level (or one per level
    of the slice), any hint.  The range op's any_case fixes one level: its
    revisions never read C, so a slice changes nothing there."""
    if op.any_case:
        return [op.any_case(shift)]
    return [Case(shift, None, "any")] if levels is None else [Case(shift, L, "any") for L in levels]


def _diff(orig, rev, op, shift, levels, drop, **kw):
    """The first difference over the slice's cases (EQUIVALENT if none)."""
    d = None
    for case in _any_cases(op, shift, levels):
        d = diff_case(orig, rev, case, drop=drop, op=op, **kw)
        if d.verdict != EQUIVALENT:
            return d
    return d


def _killed(rev, r, c=None, shared=False):
    """The evidence of a KILLED mutant: the obligation, and how its
    counterexample `c` (default: the first that replayed) replayed; `shared`:
    the original fails the same obligation for the same cause elsewhere, but
    passes on this world."""
    c = c or next(c for c in findings.unexplained(r) if c.get("replayed"))
    how = f"{c['replay']} ({c['evidence']})" if c.get("evidence") else c["replay"]
    if shared:
        how += f"; the original fails {r.property} too, but not on this world"
    return (f"{r.id.replace(rev.name, 'mutant', 1)}: {how}{getattr(r, 'note', '')}"
            + (f" ({c['error']})" if c.get("error") else ""))


def _cause(op, prop, c):
    """What a counterexample shows, as far as the baseline compares it: the
    property and, for an availability property (one with causes: P4, R4),
    the BUG()/WARN_ON site; for the others the kind of error that ended the
    path, or "range" (a WARN_ON on the way does not change what a range
    property says)."""
    e = c.get("error") or ""
    if op.properties[prop].causes is not None:
        return prop, e
    return prop, "range" if not e or e.startswith("WARN_ON at") else e.split(":")[0]


class _Baseline:
    """The original revision's own failures, per case: a mutant's
    counterexample kills it only if the original does not fail the same
    obligation for the same cause (a revision with real findings, such as
    the range op's R2 or the VNCR op's V1/V4, would otherwise have every
    mutant that keeps the finding counted as killed)."""

    def __init__(self, orig, op, drop, by_case=None):
        self.orig, self.op, self.drop, self.by_case = orig, op, drop, dict(by_case or {})

    def causes(self, case):
        key = (case.shift, case.level)
        if key not in self.by_case:
            # one exploration per (granule, level) serves every hint case; the
            # kinds of the original's failures need no replay
            rs = prove_level(self.orig, case.shift, case.level, self.op.cases, props=tuple(self.op.properties),
                             drop=self.drop, replay=False, op=self.op)
            by_hint = {}
            for r in rs:
                if r.verdict == COUNTEREXAMPLE:
                    by_hint.setdefault(r.hint, set()).update(_cause(self.op, r.property, c)
                                                             for c in [r.counterexample] + r.causes if c)
            self.by_case[key] = by_hint
        return self.by_case[key].get(case.hint, set())

    def fails_on(self, cex):
        """Does the original break the property on this concrete world too
        (the op's replay world: model/replay.py for ipas2e1)?"""
        if self.op.violates is not None:
            return self.op.violates(cex, self.orig)
        sc = R.from_counterexample(cex)
        try:
            out = R.execute(sc, R.build(sc), self.orig)
        except Exception:       # noqa: BLE001 -- the world or the original fails otherwise: not a shared failure
            return False
        return out.violates(sc)


def _original_runs(base, shifts, levels):
    """A mutant that does not run is STILLBORN only if the original runs:
    a revision that fails by itself (an exception of its own code) is the
    user's error, raised here naming its file:line, not a score of 100 % of
    no mutant.  Its obligations at one level of the first granule, which
    the baseline computes in any case (cached)."""
    cases = [c for c in base.op.matrix(AS.enabled(base.drop)) if c.shift == shifts[0]
             and (levels is None or c.level in levels)]
    if cases:
        base.causes(cases[0])


def _concretely(rev, op, shifts, enabled, drop, base, levels=None):
    """A COUNTEREXAMPLE result found on generated worlds (model/evidence.py)
    that replayed, is not a known finding about the kernel, and on whose
    world the original does not fail as well; or None."""
    keep = lambda cex, prop: findings.of(cex, prop) is None and not base.fails_on(cex)
    for shift in shifts:
        cases = [c for c in op.matrix(enabled) if c.shift == shift and (levels is None or c.level in levels)]
        r = evidence.hunt(rev, cases, tuple(op.properties), budget=CONCRETE_BY_OP.get(op.name, CONCRETE), drop=drop,
                          keep=keep, op=op)
        if r is not None:
            return r
    return None


def _same_functions(orig, rev, drop):
    """The evidence that `rev` is `orig` but for functions that each return
    the original's value for every value of their C arguments
    (model/same_function.py: one symbolic run of both versions, well under a
    second, where the whole diff takes 5-12 s); None when that cannot be said."""
    names = SF.changed(orig.path, rev.path)
    if not names or not all(SF.same_function(orig, rev, n, drop) for n in names):
        return None
    return (f"{', '.join(names)} returns the original's value for every value of its C arguments, with no "
            f"other effect (model/same_function.py); the rest of the revision is the original's code")


def _classify(original, mutant, path, shifts, drop, t0, op, concrete=True, levels=None, symbolic=True,
              baseline=None, same=True):
    base = None

    def done(verdict, evidence, example=None, by=""):
        return Classified(mutant.id, mutant.line, mutant.operator, mutant.change, verdict, evidence,
                          round(time.perf_counter() - t0, 2), example, by, base.by_case if base else None)

    try:
        rev = REV.load(path, op.caller)
        orig = REV.load(original, op.caller)
        enabled = AS.enabled(drop)
        base = _Baseline(orig, op, drop, baseline)
        if same and (proof := _same_functions(orig, rev, drop)) is not None:
            return done(EQUIVALENT, proof)
        if concrete:
            r = _concretely(rev, op, shifts, enabled, drop, base, levels)
            if r is not None:
                return done(KILLED, _killed(rev, r), by=r.property)
        if not symbolic:
            return None
        differing, unknown, known, shared = [], [], set(), set()
        for shift in shifts:
            d = _diff(orig, rev, op, shift, levels, drop)
            if d.verdict == EQUIVALENT:
                continue
            if d.verdict == "UNKNOWN" and "symbolic branches" in d.reason and (op.hangs or hangs)(rev, shift):
                how = (f"an empty shadow S2 and a TLBI without hint: more than {PROBE_BUDGET} probes"
                       if op.hangs is None else "two shadow MMUs of the VMID and a one-page range TLBI: nested_mmus[] "
                                                "read past the budget")
                return done(KILLED, f"{d.granule}: unbounded loop ({d.reason}); concretely, {how}, no return",
                            by="loop")
            if d.verdict != DIFFERENT:
                unknown.append(f"{d.granule}: {d.verdict} {d.reason}")
                continue
            differing.append((d.granule, d.example))
            cases = [c for c in op.matrix(enabled) if c.shift == shift and (levels is None or c.level in levels)]
            # one exploration per level for all its hint cases (as the
            # baseline and `prove` do), not one per case
            for level in sorted({c.level for c in cases}):
                hints = [c.hint for c in cases if c.level == level]
                for r in prove_level(rev, shift, level, hints, props=tuple(op.properties), drop=drop, op=op):
                    case = next(c for c in cases if c.level == level and c.hint == r.hint)
                    if r.verdict == COUNTEREXAMPLE and not r.counterexample.get("replayed"):
                        r = _replaying(rev, case, r, drop, op)
                    if r.verdict == COUNTEREXAMPLE:
                        # a known finding about the kernel's shared code (model/findings.py)
                        # kills no mutant: the original reaches it too; any other cause does
                        shown = findings.unexplained(r)
                        if not shown:
                            known.add(r.property)
                            continue
                        # the original's own failures (same obligation, same cause) kill nothing
                        # either, unless the original passes on the mutant's world (ops with
                        # their own replay: the range and VNCR ops, whose upstream has findings)
                        shown = [c for c in shown if _cause(op, r.property, c) not in base.causes(case)
                                 or (op.violates is not None and c.get("replayed") and not base.fails_on(c))]
                        if not shown:
                            shared.add(r.property)
                            continue
                        c = next((c for c in shown if c.get("replayed")), None)
                        if c is not None:
                            masked = _cause(op, r.property, c) in base.causes(case)
                            return done(KILLED, _killed(rev, r, c, masked), by=r.property)
                        unknown.append(f"{r.id}: {shown[0].get('replay')}")
                    elif r.verdict != PROVED:
                        unknown.append(f"{r.id}: {r.verdict} {r.reason}")
    except REV.RevisionError as e:
        if base is not None:
            _original_runs(base, shifts, levels)
        return done(STILLBORN, str(e).replace(path, f"mutant_{mutant.id}.py"))
    if unknown:
        return done(UNEXPLAINED, "; ".join(unknown))
    kill = _on_difference(op, orig, rev, differing)
    if kill is not None:
        return done(KILLED, kill[1], by=kill[0])
    if not differing:
        names = ", ".join({12: "4K", 14: "16K", 16: "64K"}[x] for x in sorted(shifts))
        names += f"; levels {', '.join(map(str, levels))} only" if levels else ""
        return done(EQUIVALENT, f"same behaviour (ranges, WARN_ON, BUG(), errors, mmu_lock) for every input "
                                f"and environment ({names})")
    where = []
    for g, _ in differing:
        d = _diff(orig, rev, op, G.GRANULES[g], levels, drop, obliged_only=True)
        if d.verdict == EQUIVALENT:
            continue
        if d.verdict != DIFFERENT:
            return done(UNEXPLAINED, f"{g}: obliged-only diff {d.verdict} {d.reason}")
        where.append((g, d.example))
    if not where:
        g, ex = differing[0]
        return done(EXCUSED, f"differs on {', '.join(x for x, _ in differing)} only where the TLBI is excused "
                             f"(e.g. {_example(g, ex)}); proven the same in every other respect (the ranges "
                             f"wherever the TLBI must remove T; WARN_ON, BUG(), errors and mmu_lock on every "
                             f"TLBI), and every obligation is PROVED{_but(known, shared)}", ex)
    for g, _ in where:
        # no obligation speaks of the lock: a mutant that leaves it held (the
        # next TLBI deadlocks) on any path is a hole, whatever else differs
        d = _diff(orig, rev, op, G.GRANULES[g], levels, drop, compare=("mmu_lock",))
        if d.verdict != EQUIVALENT:
            return done(UNEXPLAINED, f"{g}: differs in whether mmu_lock is held on return, which no obligation "
                                     f"checks ({d.verdict}" + (f": e.g. {_example(g, d.example)})" if d.example
                                                               else f" {d.reason})"), d.example)
    # the obliged-only diff's inputs: where an obligation can tell them apart
    kill = _on_difference(op, orig, rev, where)
    if kill is not None:
        return done(KILLED, kill[1], by=kill[0])
    g, ex = where[0]
    what = ex.get("differs") or ["ranges"]
    how = "where the TLBI is obliged" if what == ["ranges"] else f"in {', '.join(what)}"
    return done(SAFE, f"differs on {', '.join(x for x, _ in where)} {how} (e.g. {_example(g, ex)}) "
                      f"but every obligation there is PROVED{_but(known, shared)}", ex)


def _on_difference(op, orig, rev, differing):
    """(property, evidence) when, on an input where the two differ (a diff's
    example, a concrete world of the op), the mutant breaks a property that
    the original keeps, replayed on impl/: the symbolic counterexamples may
    all be ones the original shares (the range and VNCR ops' upstream have
    findings), this one is not.  None otherwise, and for ipas2e1 (its
    concrete evidence comes first: _concretely)."""
    if op.violates is None:
        return None
    for g, ex in differing:
        for prop in op.properties:
            world = dict(ex, property=prop)
            if op.violates(world, rev) and not op.violates(world, orig):
                return prop, (f"{g}: on the input where they differ ({_example(g, ex)}) the mutant breaks {prop} "
                              f"and the original does not, replayed on impl/")
    return None


def _but(known, shared=()):
    out = ""
    if known:
        out += (f" (but for the known findings about the kernel in {', '.join(sorted(known))}, model/findings.py, "
                f"which the original reaches too)")
    if shared:
        out += f" (but for the original's own failures of {', '.join(sorted(shared))}, with the same causes)"
    return out


def _example(g, ex):
    if "tlbi" in ex:            # the VNCR op's: the invalidation and the pseudo-TLBs (model/vncr_text.py)
        from nvtlbi.model import vncr_text
        return vncr_text.brief(g, ex)
    if "operand" in ex:         # the range op's: its operand in domain terms (model/range_replay.describe)
        mmu = lambda m: f" on MMU #{m}"
        return (f"{g} {ex['operand']}: original {outcome_text(ex['a'], mmu=mmu)}, "
                f"mutant {outcome_text(ex['b'], mmu=mmu)}")
    return (f"{g} IPA {ex['ipa']:#x} TTL {ex['ttl']:#06b}: original {outcome_text(ex['a'])}, "
            f"mutant {outcome_text(ex['b'])}")


def _replaying(rev, case, first, drop, op=None):
    """The first counterexample did not replay.  P2 is stated on the range
    while the host unmaps whole shadow leaves: with host pages larger than
    the range, a range too small for T can still remove T's only leaf.  Look
    for a counterexample on a 4K host (the smallest leaves), where a range
    smaller than T leaves a leaf of T behind; the replay stays the judge."""
    from nvtlbi.model import ops
    o = ops.op(op)

    class Pinned(o.make_env):  # type: ignore[name-defined,misc]
        def __init__(self, engine, c):
            super().__init__(engine, c)
            engine.assume(AS.CASE, self.host_shift == 12)

    again = prove_case(rev, case, props=(first.property,), drop=drop, make_env=Pinned, op=o)
    r = again[0] if again else first
    if r.verdict == COUNTEREXAMPLE and r.counterexample.get("replayed"):
        host = first.counterexample.get("host_granule")
        r.note = (f" (on a 4K host; the first counterexample, on a {host} host, did not replay: "
                  f"its host leaf covers T)")
        return r
    return first


def score(results):
    counted = [r for r in results if r.verdict != STILLBORN]
    explained = [r for r in counted if r.verdict != UNEXPLAINED]
    return len(explained), len(counted)


def counts(results):
    return {c.name: sum(r.verdict == c.name for r in results) for c in CLASSES}


def killed_by(results):
    """{property or "loop": how many mutants it killed}, in property order."""
    out = {}
    for r in sorted((r for r in results if r.verdict == KILLED), key=lambda r: r.by):
        out[r.by] = out.get(r.by, 0) + 1
    return out
