"""The history of the range TLBI (ripas2e1) and VNCR (vncr) paths as bundled
revisions (model/history.py): each has provenance; each fails exactly the
findings the registry lists where they show (the prover runs at each
finding's cell); a fix (a finding the older revision lists and the newer
does not) is a DIFFERENT diff at that cell whose distinguishing input fails
the older revision by the finding's cause and not the newer; and a change
hidden inside a finding both fail is a DIFFERENT diff too.

Cost: a proof explores every operand case of its level at once, 8-16 CPU
seconds for most VNCR revisions, so the suite proves the cheap ones at their
cells (r1_s1_tlbi, whose TLBI paths end at lockdep, and inline_decode at 4K
L2) and checks every fix by its diff (under a second each); NVTLBI_FULL=1
proves every revision at every granule and level of each finding's operand
case (docs/user-guide.md has the whole runs' times)."""

import functools
import os
import re

import pytest

from nvtlbi.impl import revision as REV
from nvtlbi.model import assumptions as AS
from nvtlbi.model import equiv
from nvtlbi.model import findings as KNOWN
from nvtlbi.model import history as H
from nvtlbi.model import ops
from nvtlbi.model.env import Case
from nvtlbi.model.prover import prove_level
from nvtlbi.model.verdict import COUNTEREXAMPLE

FULL = bool(os.environ.get("NVTLBI_FULL"))
OPS = ("ripas2e1", "vncr")


@functools.lru_cache(maxsize=None)
def _prove(op, name, shift, level):
    """The findings' operand cases at one level, in one proof (it explores
    every case at once, then checks each)."""
    o = ops.op(op)
    cases = sorted({f.cell[2] for f in H.findings_of(op)})
    props = tuple(sorted({f.prop for f in H.findings_of(op)}))
    return {(r.hint, r.property): r
            for r in prove_level(REV.load(name, o.caller), shift, level, cases, props=props, op=o)}


def shows(finding, result):
    """Is `result` a replayed counterexample of `finding`'s cause?"""
    if result.verdict != COUNTEREXAMPLE:
        return False
    if finding.cause == "known":
        return bool(KNOWN.explains(result))
    if finding.cause == "stale":
        c = result.counterexample
        return bool(c.get("replayed")) and not c.get("error")
    return any(c.get("replayed") and finding.cause in (c.get("error") or "")
               for c in [result.counterexample] + list(result.causes))


def _cells(finding):
    """Where to look for the finding: its cell; NVTLBI_FULL=1: every granule
    and level of its operand case, but those another finding of the same
    property and case is confined to (model/history.Finding.only)."""
    if not FULL:
        return [finding.cell]
    o = ops.op(finding.op)
    if finding.only:
        allowed = set(finding.only)
    else:
        taken = {sl for f in H.findings_of(finding.op) if f.only and (f.prop, f.cell[2]) ==
                 (finding.prop, finding.cell[2]) for sl in f.only}
        allowed = {(c.shift, c.level) for c in o.matrix(AS.enabled())} - taken
    return [(c.shift, c.level, c.hint) for c in o.matrix(AS.enabled(), [finding.cell[2]])
            if (c.shift, c.level) in allowed]


@pytest.mark.parametrize("op", OPS)
def test_every_bundled_revision_is_in_the_history(op):
    have = set(REV.bundled_of(ops.op(op).caller))
    listed = [s.name for s in H.of_op(op)]
    assert len(listed) == len(set(listed)) and set(listed) == have, (sorted(have), listed)
    assert all(n in H.BY_NAME and H.BY_NAME[n].op == op for s in H.of_op(op) for n in s.fails)


@pytest.mark.parametrize("step", H.HISTORY, ids=[f"{s.op}-{s.name}" for s in H.HISTORY])
def test_revision_has_provenance(step):
    doc = REV.load(step.name, ops.op(step.op).caller).module.__doc__
    assert "Provenance" in doc
    assert re.search(r"Message-Id [\w.+-]+@[\w.-]+|N3_nested_\d+\.txt|S_sys_regs_\d+\.txt", doc), "no source"
    assert re.search(r"\b20\d\d\b", doc), "no date"


# proved in the suite: the revisions whose exploration is cheap (see the docstring)
CHEAP = {("vncr", "r1_s1_tlbi"): ("V4-lockdep", "V2-block-offset", "V1-va", "V1-rva"),
         ("ripas2e1", "inline_decode"): ("R2-partial-block",)}
CHECKS = [(s, f) for s in H.HISTORY for f in H.findings_of(s.op)
          if FULL or f.name in CHEAP.get((s.op, s.name), ())]


@pytest.mark.parametrize("step,finding", CHECKS, ids=[f"{s.op}-{s.name}-{f.name}" for s, f in CHECKS])
def test_fails_exactly_the_listed_findings(step, finding):
    """Listed: a replayed counterexample of the finding's cause at its cell
    (FULL: at some cell of its operand case).  Not listed (a fixed or a
    not-yet-broken revision): none of that cause at any cell checked."""
    seen = [(shift, level, case) for shift, level, case in _cells(finding)
            if shows(finding, _prove(step.op, step.name, shift, level)[case, finding.prop])]
    if finding.name in step.fails:
        assert seen, f"{step.name} no longer fails {finding.name} at {_cells(finding)}"
    else:
        assert not seen, f"{step.name} fails {finding.name} at {seen}, which the history says it does not"


PAIRS = [(a, b) for ops_ in OPS for a, b in zip(H.of_op(ops_), H.of_op(ops_)[1:]) if b.differs]


@pytest.mark.parametrize("prev,step", PAIRS, ids=[f"{b.op}-{a.name}-{b.name}" for a, b in PAIRS])
def test_change_inside_a_finding_is_a_difference(prev, step):
    """The change shows in a diff where both revisions fail the same findings
    ("=": the change is one of form, EQUIVALENT)."""
    o = ops.op(step.op)
    same = step.differs == "="
    case = o.any_case(16) if same and o.any_case else Case(16, 3, step.differs)
    a, b = (REV.load(n, o.caller) for n in (prev.name, step.name))
    r = equiv.diff_case(a, b, case, op=o)
    assert r.verdict == (equiv.EQUIVALENT if same else equiv.DIFFERENT), (r.verdict, r.reason, r.example)


FIXES = [(a, b, H.BY_NAME[n]) for o_ in OPS for a, b in zip(H.of_op(o_), H.of_op(o_)[1:])
         for n in a.fails if n not in b.fails]


def _fails_by(finding, side):
    """Does one side of a diff example end by the finding's cause?  A diff
    names a C outcome in words (model/equiv.py: "lockdep failure",
    "undefined behaviour (NULL pointer dereference: ...)")."""
    assert finding.cause not in ("stale", "known"), finding
    words = {"LockdepFailure": "lockdep"}.get(finding.cause, finding.cause)
    return words.lower() in (side.get("error") or "").lower()


@pytest.mark.parametrize("prev,step,finding", FIXES, ids=[f"{b.op}-{a.name}-{b.name}-{f.name}" for a, b, f in FIXES])
def test_fix_is_a_difference_where_the_older_failed(prev, step, finding):
    """A fixed revision does not fail where the older did: on the input the
    diff finds at the finding's cell, the older revision shows the finding's
    cause and the newer does not (for a stale entry: the diff compares only
    where the architecture obliges the invalidation, and the newer revision
    ends without error: the obliged entry is kept by the older and dropped
    by the newer)."""
    o = ops.op(step.op)
    a, b = (REV.load(n, o.caller) for n in (prev.name, step.name))
    stale = finding.cause == "stale"
    r = equiv.diff_case(a, b, Case(*finding.cell), op=o, obliged_only=stale)
    assert r.verdict == equiv.DIFFERENT, (r.verdict, r.reason)
    ex = r.example
    if stale:
        # the obliged entry (vCPU 0's; model/vncr_env.VncrEnv.state: valid after, then fixmap
        # cleared, per vCPU) survives the older revision and not the newer
        assert "ranges" in ex["differs"] and not ex["a"].get("error") and not ex["b"].get("error"), ex
        assert ex["a"]["state"][0] and not ex["b"]["state"][0], (ex["a"], ex["b"])
    else:
        assert _fails_by(finding, ex["a"]) and not _fails_by(finding, ex["b"]), (ex["a"], ex["b"])
