"""Reproducible verdicts: a counterexample's and a witness's values are a
function of the obligation, not of `--jobs` or of what the process proved
before (z3 numbers terms in creation order, and its models follow those
numbers); and every `--json` names the solver versions that produced it."""

import json

from impl import revision as REV
from model.obligation import prove_level
from nvtlbi import cli

# 16K then 64K, so that with --jobs 1 the 64K counterexample is found in a
# process that has already proved 16K, while with --jobs 2 a worker may
# start on it fresh (on main the 64K-L2 values differed).
RESTRICTED = ["--drop", "bbm", "--granule", "16K", "--granule", "64K", "--hint", "nohint",
              "--property", "P2", "--no-coverage", "--json"]


def _values(capsys, jobs):
    code = cli.main(["prove"] + RESTRICTED + ["--jobs", str(jobs)])
    doc = json.loads(capsys.readouterr().out)
    return code, {r["id"]: (r["verdict"], r["counterexample"], r["witness"]) for r in doc["results"]}


def test_counterexample_values_do_not_depend_on_jobs(capsys):
    code1, one = _values(capsys, 1)
    code2, two = _values(capsys, 2)
    assert code1 == code2 == 1
    assert any(v == "COUNTEREXAMPLE" for v, _, _ in one.values())
    for oid in one:
        assert one[oid] == two[oid], oid


def _cex(rs):
    return [(r.id, r.verdict, r.counterexample, r.witness, r.rests_on) for r in rs]


def test_an_obligation_s_values_do_not_depend_on_what_the_process_proved_before():
    """The cause, without the worker pool: the same obligation proved in a
    process that proved another one first."""
    rev = REV.load("upstream")
    first = prove_level(rev, 16, 2, ["nohint"], props=("P2",), drop=("bbm",))       # 64K L2
    prove_level(rev, 14, 2, ["nohint"], props=("P2",), drop=("bbm",))               # 16K L2
    again = prove_level(rev, 16, 2, ["nohint"], props=("P2",), drop=("bbm",))
    assert first[0].verdict == "COUNTEREXAMPLE"
    assert _cex(first) == _cex(again)
