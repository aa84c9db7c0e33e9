"""Branch coverage under the assumptions: the sides of the revision's own
branches taken on feasible paths; a side no case takes is flagged dead
unless its line says `# nvtlbi: dead-ok (reason)`."""

from nvtlbi.impl import revision as REV
from nvtlbi.model import coverage as cov
from nvtlbi.model.env import Case
from nvtlbi.model.prover import prove_case
from nvtlbi.model.session import Session
from nvtlbi import trust
from tests.revisions import DEADBRANCH

CASES = [Case(14, 2, "match"), Case(14, 3, "nohint")]


def _taken(spec):
    rev = REV.load(spec)
    results = [r for c in CASES for r in prove_case(rev, c, props=("P1",), session=Session(coverage=True))]
    assert all(r.verdict == "PROVED" for r in results)
    return rev, [s for r in results for s in r.coverage]


def _line(path, needle):
    with open(path) as f:
        return next(i for i, line in enumerate(f, 1) if needle in line)


def test_unreachable_branch_is_flagged():
    rev, taken = _taken(DEADBRANCH)
    rep = cov.report(rev.path, taken)
    line = _line(DEADBRANCH, "if size > SZ_1G")
    assert [(s.line, side) for s, side in rep.unexpected] == [(line, "T")]
    assert "UNEXPECTEDLY DEAD: line %d true side of `size > SZ_1G`" % line in rep.line()


def test_reachable_branch_is_not_flagged(tmp_path):
    """The same revision with a test some path satisfies: no dead side."""
    live = tmp_path / "livebranch.py"
    with open(DEADBRANCH) as f:
        live.write_text(f.read().replace("if size > SZ_1G", "if size >= SZ_32M"))
    rev, taken = _taken(str(live))
    rep = cov.report(rev.path, taken)
    assert rep.dead == [] and rep.reached == rep.total == 2


def test_upstream_sides_and_dead_ok_marks():
    rev, taken = _taken("upstream")
    got = {tuple(s) for s in taken}
    probe_fail = _line(rev.path, "if kvm_pgtable_get_leaf(")
    assert {(probe_fail, "T"), (probe_fail, "F")} <= got
    # the 4K arm of the granule switch is not taken by 16K cases
    four_k = _line(rev.path, "if tg == VTCR_EL2_TG0_4K:\n")
    assert (four_k, "T") not in got


def test_a_dead_side_names_the_assumptions_that_rule_it_out(tmp_path):
    """Upstream's `if not level` skips untagged valid leaves; under
    leaf-tagged and no-lpa2 none exist.  Without its dead-ok mark the side
    is flagged with those two names; with leaf-tagged dropped it is live."""
    bare = tmp_path / "nomark.py"
    with open(REV.load("upstream").path) as f:
        bare.write_text("\n".join(l.split("#")[0].rstrip() if "if not level:" in l else l
                                  for l in f.read().splitlines()) + "\n")
    rev = REV.load(str(bare))

    def report(drop=()):
        rs = prove_case(rev, Case(12, 2, "nohint"), props=("P2",), drop=drop, session=Session(coverage=True))
        return trust.coverage_report(rs, rev)
    line = _line(str(bare), "if not level:")
    rep = report()
    flagged = [(s, side) for s, side in rep.unexpected if s.line == line]
    assert flagged and rep.reason(*flagged[0]) == "ruled out by leaf-tagged, no-lpa2", rep.line()
    assert not [s for s, _ in report(("leaf-tagged",)).dead if s.line == line]
