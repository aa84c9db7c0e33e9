"""--cross-check: every query is re-solved by Bitwuzla from z3's SMT-LIB2
export; the two agree on the bundled obligations, and a disagreement (here
a second solver that answers wrong on purpose) is a hard error naming the
obligation."""

import pytest
import z3

from nvtlbi.impl import revision as REV
from nvtlbi.model import crosscheck as X
from nvtlbi.model.engine import CrossCheckError
from nvtlbi.model.env import Case
from nvtlbi.model.prover import prove_case
from nvtlbi.model.session import CrossTally, Session
from nvtlbi import cli

FAST = ["--granule", "16K", "--hint", "match", "--property", "P2", "--jobs", "1", "--no-coverage"]


def test_export_is_standard_smtlib():
    x = z3.BitVec("x", 8)
    s = z3.Solver()
    s.add(z3.And([x == 3]), z3.Or([x > 1]))
    text = X.smt2(s, [])
    assert "(and (=" not in text and "(or (bv" not in text
    assert X.bitwuzla_solve(text) == "sat"
    s.add(x == 4)
    assert X.bitwuzla_solve(X.smt2(s, [])) == "unsat"


def test_bitwuzla_agrees_on_obligations(capsys):
    assert cli.main(["prove", "--cross-check", "--json"] + FAST) == 0
    out = __import__("json").loads(capsys.readouterr().out)
    assert {r["verdict"] for r in out["results"]} == {"PROVED"}
    # the tally over the workers (the queries run there, not in this process)
    assert out["cross_check"]["agreed"] >= 20  # cover, branch and property queries of 2 cases


def test_the_tally_is_the_sessions():
    """Counted in the session that asked for the check; another session (or
    none) counts nothing and re-solves nothing."""
    rev = REV.load("upstream")
    plain, crossed = Session(), Session(cross_check=True)
    prove_case(rev, Case(16, 3, "match"), props=("P2",), session=plain)
    prove_case(rev, Case(16, 3, "match"), props=("P2",), session=crossed)
    assert plain.tally == CrossTally() and crossed.tally.agreed >= 10


def test_disagreement_is_a_hard_error_naming_the_obligation(capsys, monkeypatch):
    right = X.bitwuzla_solve
    monkeypatch.setattr(X, "bitwuzla_solve", lambda text: "unsat" if right(text) == "sat" else "sat")
    code = cli.main(["prove", "--cross-check"] + FAST)
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert err.startswith("nvtlbi: error: upstream-16K-L") and "the solvers disagree" in err


def test_a_wrong_second_solver_of_the_session_is_caught():
    wrong = lambda text: "unsat" if X.bitwuzla_solve(text) == "sat" else "sat"
    with pytest.raises(CrossCheckError, match="upstream-64K-L3.*the solvers disagree"):
        prove_case(REV.load("upstream"), Case(16, 3, "match"), props=("P2",),
                   session=Session(cross_check=True, second=wrong))


def test_unknown_is_never_counted_as_agreement():
    tally = CrossTally()
    X.compare("o", "sat", "unknown", tally)
    X.compare("o", "unknown", "unsat", tally)
    assert (tally.agreed, tally.unchecked) == (0, 2)
    with pytest.raises(CrossCheckError, match="o: z3 says sat, bitwuzla says unsat"):
        X.compare("o", "sat", "unsat", tally)
