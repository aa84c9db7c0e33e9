"""Cheap evidence first (model/evidence.py): broken revisions fail on
generated worlds, each failure replays through the normal replay path;
upstream fails only with the known findings; one seed, one result."""

import os

from nvtlbi.impl import revision as REV
from nvtlbi.model import evidence as E
from nvtlbi.model import findings, ops
from nvtlbi.model import replay as R
from nvtlbi.model import vncr_replay as VR
from nvtlbi.model.env import Case
from tests.revisions import NOCHECK as NOCHECK_PATH, SMALLFALLBACK

OP = ops.op(None)
NOCHECK = NOCHECK_PATH
BUDGET = E.Budget(worlds=60, seconds=60)


def _rev(spec):
    return REV.load(spec, OP.caller)


def _replays_again(rev, cex):
    ok, why, _, _ = R.replay(dict(cex), rev)
    return ok


def test_nocheck_fails_concretely_and_the_counterexample_replays():
    rev = _rev(NOCHECK)
    r = E.hunt(rev, [Case(12, 2, "nohint")], tuple(OP.isolation), budget=BUDGET)
    assert r is not None and r.property == "P2" and r.counterexample["replayed"]
    assert r.counterexample["evidence"] == E.FOUND and _replays_again(rev, r.counterexample)
    # the same world on upstream satisfies P2: the failure is nocheck's
    assert not _replays_again(_rev("upstream"), r.counterexample)


def test_smallfallback_fails_concretely():
    rev = _rev(SMALLFALLBACK)
    r = E.hunt(rev, [Case(12, 1, "nohint")], ("P2",), budget=BUDGET)
    assert r is not None and r.counterexample["replayed"] and _replays_again(rev, r.counterexample)


def test_upstream_fails_only_with_known_findings():
    # the 16K cases in the suite (every case: NVTLBI_FULL=1)
    rev = _rev("upstream")
    for case in [c for c in OP.matrix(()) if os.environ.get("NVTLBI_FULL") or c.shift == 14]:
        for p, cex in E.search(rev, case, tuple(OP.isolation), budget=E.Budget(worlds=15, seconds=60)).items():
            assert findings.of(cex, p) is not None, (case, p, cex.get("error"))


def test_same_seed_same_result():
    rev = _rev(NOCHECK)
    case = Case(12, 2, "nohint")
    a = E.search(rev, case, tuple(OP.isolation), seed=0, budget=BUDGET)
    b = E.search(rev, case, tuple(OP.isolation), seed=0, budget=BUDGET)
    assert a and a == b
    c = E.search(rev, case, tuple(OP.isolation), seed=1, budget=BUDGET)
    assert c != a       # another seed draws other worlds


def test_a_hit_that_does_not_replay_is_no_evidence(monkeypatch):
    """The replay is the only judge: with replays broken, nothing is found."""
    def no_replay(cex, rev, dropped=()):
        cex["replayed"] = False
        cex["replay"] = "MODEL BUG: (broken on purpose)"
    monkeypatch.setattr(R, "attach_cex", no_replay)
    assert E.hunt(_rev(NOCHECK), [Case(12, 2, "nohint")], tuple(OP.isolation), budget=BUDGET) is None


# ---- the VNCR op's generator (model/vncr_worlds.py) ---------------------------------------
VNCR = ops.op("vncr")
VNCR_BROKEN = os.path.join(os.path.dirname(__file__), "revisions", "vncr")


def _vncr(spec):
    return REV.load(spec, VNCR.caller)


def test_vncr_broken_start_only_fails_V1_concretely():
    """The start-only compare (tests/revisions/vncr/broken_start_only.py)
    leaves a cached block a range TLBI starting inside it must remove: found
    on generated worlds, replayed; upstream keeps V1 on that world (its own
    V1 finding, the top-of-VA wrap, is left out as mutation leaves it out)."""
    rev, up = _vncr(os.path.join(VNCR_BROKEN, "broken_start_only.py")), _vncr("upstream")
    r = E.hunt(rev, [Case(12, 2, k) for k in ("va", "rva")], ("V1",), budget=BUDGET, op=VNCR,
               keep=lambda c, p: not VR.violates(c, up))
    assert r is not None and r.property == "V1", r
    c = r.counterexample
    assert c["replayed"] and c["evidence"] == E.FOUND and c["survived"], c
    assert VR.violates(c, rev) and not VR.violates(c, up)
    # the top-of-VA wrap, which upstream shares, is found too
    r = E.hunt(rev, [Case(12, 2, "va")], ("V1",), budget=E.Budget(worlds=300, seconds=60), op=VNCR,
               keep=lambda c, p: VR.violates(c, up))
    assert r is not None and r.counterexample["replayed"], r


def test_vncr_keeps_on_ipa_fails_V2_concretely():
    rev = _vncr(os.path.join(VNCR_BROKEN, "keeps_on_ipa.py"))
    r = E.hunt(rev, [Case(16, 3, "ipa")], ("V2",), budget=BUDGET, op=VNCR)
    assert r is not None and r.property == "V2" and r.counterexample["replayed"], r


def test_vncr_worlds_are_worlds_upstream_is_proved_on():
    """Where proofs/test_vncr.py proves upstream (V1 for TLBI ASID and ALL,
    V2 on the IPA path at 64K, V3 everywhere), no drawn world breaks it: a
    draw outside the symbolic world's assumptions would (the two tests above
    show the same stream finds real failures)."""
    rev = _vncr("upstream")
    cases = [Case(16, L, k) for L in (2, 3) for k in ("asid", "all", "ipa")]
    assert E.hunt(rev, cases, ("V1", "V2", "V3"), budget=E.Budget(worlds=150, seconds=120), op=VNCR) is None


def test_vncr_same_seed_same_world():
    import random
    a = VNCR.draw(random.Random("s"), Case(14, 2, "rva"), ())
    b = VNCR.draw(random.Random("s"), Case(14, 2, "rva"), ())
    assert a == b and a != VNCR.draw(random.Random("t"), Case(14, 2, "rva"), ())


def test_vncr_asid_any_fails_V5_concretely():
    """Precision (V5) on generated worlds: a TLBI by ASID that drops the
    pseudo-TLB of another address space (tests/revisions/vncr/asid_any.py)
    is found and replayed; upstream drops nothing there."""
    rev = _vncr(os.path.join(VNCR_BROKEN, "asid_any.py"))
    r = E.hunt(rev, [Case(16, 3, "asid")], ("V1", "V5"), budget=BUDGET, op=VNCR)
    assert r is not None and r.property == "V5", r
    c = r.counterexample
    assert c["replayed"] and c["imprecise"] and not VR.violates(c, _vncr("upstream")), c


# ---- the range op's generator (model/range_worlds.py) -------------------------------------
RANGE = ops.op("ripas2e1")


def test_range_broken_num_fails_R1_concretely():
    """NUM << (5*SCALE+1) pages without the +1 (tests/revisions/ripas2e1/
    broken_num.py): NUM=0 unmaps nothing; found on generated worlds,
    replayed; upstream keeps R1 on that world."""
    rev = REV.load(os.path.join(os.path.dirname(__file__), "revisions", "ripas2e1", "broken_num.py"), RANGE.caller)
    up = REV.load("upstream", RANGE.caller)
    r = E.hunt(rev, [Case(14, 3, "nolevel")], ("R1",), budget=BUDGET, op=RANGE)
    assert r is not None and r.property == "R1" and r.counterexample["replayed"], r
    assert not RANGE.violates(r.counterexample, up)


def test_range_worlds_are_worlds_upstream_is_proved_on():
    """Where upstream is proved (R1 and R3 in every case; R2 where TLBI
    excuses C; R5 precision), no drawn world breaks it: a draw outside the
    symbolic world's assumptions would.  R2's partial-overlap finding and
    R4's known WARN_ONs are upstream's own (docs/findings.md)."""
    up = REV.load("upstream", RANGE.caller)
    cases = [c for c in RANGE.matrix(()) if c.shift == 14]
    assert E.hunt(up, cases, ("R1", "R3", "R5"), budget=E.Budget(worlds=40, seconds=120), op=RANGE) is None
    hit = E.hunt(up, [Case(14, 2, "match")], ("R2",), budget=E.Budget(worlds=200, seconds=120), op=RANGE)
    assert hit is not None and hit.counterexample["replayed"], hit     # the stream reaches the finding
