"""The proofs can fail: broken revisions and dropped assumptions give
counterexamples that replay on impl/, and impossible cases are VACUOUS."""

import pytest

from nvtlbi.model import findings

from nvtlbi.impl import revision as REV
from nvtlbi.model.env import Case
from nvtlbi.model.replay import from_counterexample, run
from nvtlbi.model.verdict import COUNTEREXAMPLE, PROVED, VACUOUS
from nvtlbi import cli
from tests.revisions import NOCHECK, NOLOOKUP, SMALLFALLBACK, TTL_SHIFT



def _replays(r, spec):
    assert r.verdict == COUNTEREXAMPLE, (r.id, r.verdict)
    cex = r.counterexample
    assert cex["replayed"], cex["replay"]
    sc = from_counterexample(cex)
    out = run(sc, REV.load(spec))
    assert out.stale, "no stale shadow leaf survived the concrete TLBI"
    # the stale leaf belongs to T, the translation the TLBI had to remove
    assert any(o.base == cex["T"][0] and o.level == cex["level"] for *_, o in out.stale)


@pytest.mark.parametrize("spec,case", [
    (NOCHECK, Case(12, 2, "nohint")),         # no `addr < tmp + sz` check
    (NOCHECK, Case(12, 2, "nofeat")),
    (SMALLFALLBACK, Case(12, 1, "nohint")),   # 2M fallback for a 1G block
], ids=["nocheck-4K-L2-nohint-P2", "nocheck-4K-L2-nofeat-P2", "smallfallback-4K-L1-nohint-P2"])
def test_broken_revision_gets_counterexample(prove, spec, case):
    _replays(prove(spec, case, props=("P2",))["P2"], spec)


def test_an_oversized_shift_of_a_guest_ttl_is_undefined_behaviour(prove):
    """ttl_shift computes a 16K level-1 TTL's size as unsigned int 1 << 36:
    C's undefined behaviour, a counterexample that replays (the reserved TTL
    is the guest's).  Given z3's meaning of the shift (0, upstream's value
    there) the symbolic path went on as upstream's, and only the per-run
    replay refused it, blaming the revision (exit 2)."""
    r = prove(TTL_SHIFT, Case(14, 2, "reserved"), props=("P1",))["P1"]
    assert r.verdict == COUNTEREXAMPLE and r.counterexample["replayed"], r
    assert "UndefinedBehaviour: shift of u32" in r.counterexample["error"] and r.counterexample["ttl"] == 0b1001


@pytest.mark.parametrize("drop,case", [
    ("bbm", Case(12, 2, "nohint")),
    ("bbm", Case(16, 2, "nofeat")),
    ("no-lpa2", Case(12, 0, "nohint")),
    ("no-lpa2", Case(14, 1, "noinfo")),
    ("no-lpa2", Case(16, 1, "match")),
], ids=["drop-bbm-4K-L2-nohint-P2", "drop-bbm-64K-L2-nofeat-P2", "drop-no-lpa2-4K-L0-nohint-P2",
        "drop-no-lpa2-16K-L1-noinfo-P2", "drop-no-lpa2-64K-L1-match-P2"])
def test_dropped_assumption_gets_counterexample(prove, drop, case):
    _replays(prove("upstream", case, (drop,), props=("P2",))["P2"], "upstream")


# one granule and level each, where dropping the assumption is known to bite (4K L2: a
# smaller translation inside T; 16K L1: the block): the whole matrix only costs time
@pytest.mark.parametrize("drop,granule,level", [("bbm", "4K", "2"), ("no-lpa2", "16K", "1")],
                         ids=["bbm-4K", "no-lpa2-16K"])
def test_cli_prove_exits_1_when_an_assumption_is_dropped(capsys, drop, granule, level):
    code = cli.main(["prove", "--drop", drop, "--granule", granule, "--level", level, "--hint", "nohint",
                     "--property", "P2", "--jobs", "1"])
    out = capsys.readouterr().out
    assert code == 1
    assert "COUNTEREXAMPLE" in out and "replayed on impl/" in out and "MODEL BUG" not in out


def test_lpa2_level_is_vacuous_under_no_lpa2(prove):
    r = prove("upstream", Case(12, 0, "nohint"), props=("P2",))["P2"]
    assert r.verdict == VACUOUS
    assert set(r.contradicting) == {"no-lpa2", "leaf-level"}


def test_upstream_holds_without_the_assumptions_it_does_not_need(prove):
    """Dropping granule-order changes nothing for upstream: the proof does
    not rest on it (nor does a proof by `match` rest on the shadow tags)."""
    r = prove("upstream", Case(12, 2, "nohint"), ("granule-order",), props=("P2",))["P2"]
    assert r.verdict == "PROVED"
    assert "tag-truth" not in prove("upstream", Case(12, 2, "match"))["P2"].rests_on


@pytest.mark.parametrize("case", [Case(12, 2, "nohint"), Case(14, 3, "nofeat"), Case(16, 3, "nohint")],
                         ids=["nolookup-4K-L2-nohint-P5", "nolookup-16K-L3-nofeat-P5", "nolookup-64K-L3-nohint-P5"])
def test_precision_fails_without_the_lookup(prove, case):
    """P5 is not vacuous for the look-up cases: a revision that never looks
    in the shadow S2 over-invalidates, concretely, while staying safe."""
    rs = prove(NOLOOKUP, case)
    r = rs["P5"]
    assert r.verdict == COUNTEREXAMPLE, (r.id, r.verdict)
    assert r.counterexample["replayed"], r.counterexample["replay"]
    out = run(from_counterexample(r.counterexample), REV.load(NOLOOKUP))
    T = r.counterexample["T"]
    assert out.stale == [] and any(s > T[1] - T[0] for _, s, _ in out.ranges), out.ranges
    assert all(rs[p].verdict == PROVED for p in ("P1", "P2", "P3"))
    assert rs["P4"].verdict == PROVED or findings.explains(rs["P4"])     # the unmap's own WARNs (model/findings.py)


def test_precision_holds_without_the_lookup_when_the_ttl_names_T(prove):
    assert prove(NOLOOKUP, Case(12, 2, "match"))["P5"].verdict == PROVED
