"""nvtlbi selfcheck on a small slice (16K L2, one mutant): every check
reported, exit 0; and a FAILED when a check fails."""

import re

from nvtlbi.model import crosscheck as X
from nvtlbi import cli

ARGS = ["selfcheck", "upstream", "--granule", "16K", "--level", "2", "--hint", "match", "--sample", "1", "--jobs", "1"]


def test_selfcheck_summary(capsys):
    assert cli.main(ARGS) == 0
    out = capsys.readouterr().out
    # upstream's P4 cells are the known unmap findings (model/findings.py), replayed
    assert re.search(r"obligations: COUNTEREXAMPLE \d+, PROVED \d+ \(\d+ of the counterexamples replay on "
                     r"impl/: the revision's bugs; \d+ are only known findings about the kernel: unmap-range-warn", out)
    for part in ("non-vacuity:", "branch coverage", "cross-check (bitwuzla):",
                 "0 disagreed", "mutation sample of 1", "1/1 classified", "selfcheck: OK"):
        assert part in out, part


def test_selfcheck_fails_when_the_second_solver_gives_up(capsys, monkeypatch):
    monkeypatch.setattr(X, "bitwuzla_solve", lambda text: "unknown")
    assert cli.main(ARGS) == 2      # every query unchecked: not a pass
    assert "selfcheck: FAILED" in capsys.readouterr().out
