"""--cross-check: every query is re-solved by Bitwuzla from z3's SMT-LIB2
export; the two agree on the bundled obligations, and a disagreement (here
a second solver that answers wrong on purpose) is a hard error naming the
obligation."""

import pytest
import z3

from nvtlbi.model import crosscheck as X
from nvtlbi.model.engine import CrossCheckError, Engine
from nvtlbi import cli, proving

FAST = ["--granule", "16K", "--hint", "match", "--property", "P2", "--jobs", "1", "--no-coverage"]


@pytest.fixture
def restore():
    yield
    X.uninstall()


def test_export_is_standard_smtlib():
    x = z3.BitVec("x", 8)
    s = z3.Solver()
    s.add(z3.And([x == 3]), z3.Or([x > 1]))
    text = X.smt2(s, [])
    assert "(and (=" not in text and "(or (bv" not in text
    assert X.bitwuzla_solve(text) == "sat"
    s.add(x == 4)
    assert X.bitwuzla_solve(X.smt2(s, [])) == "unsat"


def test_bitwuzla_agrees_on_obligations(capsys, restore):
    assert cli.main(["prove", "--cross-check"] + FAST) == 0
    assert "PROVED" in capsys.readouterr().out
    # the tally over the workers (the queries run there, not in this process)
    assert proving.CROSS["agreed"] >= 20  # cover, branch and property queries of 2 cases
    assert Engine.on_check is None    # the flag does not outlive its command


def test_disagreement_is_a_hard_error_naming_the_obligation(capsys, restore):
    wrong = lambda text: "unsat" if X.bitwuzla_solve(text) == "sat" else "sat"
    X.install(wrong)
    code = cli.main(["prove"] + FAST)
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert err.startswith("nvtlbi: error: upstream-16K-L") and "the solvers disagree" in err


def test_unknown_is_never_counted_as_agreement():
    X.stats.agreed = X.stats.unchecked = 0
    X.compare("o", "sat", "unknown")
    X.compare("o", "unknown", "unsat")
    assert (X.stats.agreed, X.stats.unchecked) == (0, 2)
    with pytest.raises(CrossCheckError, match="o: z3 says sat, bitwuzla says unsat"):
        X.compare("o", "sat", "unsat")
