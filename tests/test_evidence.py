"""Cheap evidence first (model/evidence.py): broken revisions fail on
generated worlds, each failure replays through the normal replay path;
upstream fails only with the known findings; one seed, one result."""

import os

from nvtlbi.impl import revision as REV
from nvtlbi.model import evidence as E
from nvtlbi.model import findings, ops
from nvtlbi.model import replay as R
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
