"""The command line: JSON shape, exit statuses, and one-line errors for
what a user can get wrong."""

import os
import json

import pytest

from nvtlbi import cli
from tests.revisions import NOCHECK, NOLOOKUP

FAST = ["--granule", "16K", "--hint", "match", "--jobs", "1"]


def test_prove_json(capsys):
    # exit 1: upstream's P4 cells are the known unmap findings (model/findings.py)
    assert cli.main(["prove", "--json"] + FAST) == 1
    doc = json.loads(capsys.readouterr().out)
    r = doc["results"][0]
    assert {"revision", "granule", "level", "hint", "property", "verdict", "seconds"} <= set(r)
    assert {(x["level"], x["property"]) for x in doc["results"]} == {
        (lvl, p) for lvl in (2, 3) for p in ("P1", "P2", "P3", "P4")}
    assert all(x["verdict"] == "PROVED" and x["witness"] for x in doc["results"] if x["property"] != "P4")
    assert all(x["verdict"] == "COUNTEREXAMPLE" and x["counterexample"]["replayed"]
               for x in doc["results"] if x["property"] == "P4")


def test_tiny_resource_limit_is_unknown_not_proved(capsys):
    code = cli.main(["prove", "--rlimit", "1", "--granule", "4K", "--hint", "nohint", "--jobs", "1"])
    out = capsys.readouterr().out
    assert code == 2 and "UNKNOWN" in out and "PROVED 0" not in out


@pytest.mark.parametrize("body,msg", [
    ("def ttl_to_size(ttl):\n    return 0\n", "revision lacks compute_tlb_inval_range (or a handle_ipas2e1is)"),
    ("x = (\n", "syntax error"),
    ("import nonexistent_module_xyz\n", "import failed: ModuleNotFoundError"),
])
def test_bad_revision_file(tmp_path, capsys, body, msg):
    f = tmp_path / "rev.py"
    f.write_text(body)
    assert cli.main(["prove", "--revision", str(f)] + FAST) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"nvtlbi: error: {f}:") and msg in err and len(err.splitlines()) == 1


def test_unknown_assumption_and_revision(capsys):
    assert cli.main(["prove", "--drop", "nonsense"] + FAST) == 2
    assert "no such assumption" in capsys.readouterr().err
    assert cli.main(["prove", "--revision", "nonsense"] + FAST) == 2
    assert "no bundled revision" in capsys.readouterr().err


def test_cex_draws_the_scenario(capsys):
    code = cli.main(["cex", "--revision", NOCHECK, "--granule", "4K", "--hint", "nohint",
                     "--property", "P2", "--jobs", "1"])
    out = capsys.readouterr().out
    assert code == 1
    for part in ("TLBI IPAS2E1IS", "cached guest translation T", "probes made by the revision",
                 "range unmapped", "STALE (survived)", "stale: shadow leaf"):
        assert part in out, part


def test_cex_draws_an_imprecision_in_domain_terms(capsys):
    """P5 on a revision without the look-up: the range against T, and the
    tagged leaf of T KVM could have read."""
    # the solver's minimised scenario (a concrete world first would draw other addresses)
    code = cli.main(["cex", "--revision", NOLOOKUP, "--property", "P5", "--granule", "4K", "--hint", "nohint",
                     "--jobs", "1", "--no-concrete"])
    out = capsys.readouterr().out
    assert code == 1
    assert "imprecise: [0x0, 0x40000000) (1G) is 512x T's size" in out
    assert "KVM could know T: a tagged shadow leaf of T maps 0x0" in out
    assert "replayed on impl/" in out


def test_a_closed_stdout_is_one_line_not_an_internal_error():
    """`nvtlbi ... | head`: the reader leaves.  Not nvtlbi's bug (no "internal
    error"), but not every verdict was printed: one line, exit status 2."""
    import subprocess
    import sys
    r, w = os.pipe()
    os.close(r)             # the reader is gone before the first write
    try:
        p = subprocess.run([sys.executable, "-m", "nvtlbi.cli", "assumptions"], stdout=w,
                           stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(w)
    assert p.returncode == 2
    assert p.stderr.strip() == "nvtlbi: output stopped: the reader of stdout closed it"


def test_a_counterexample_that_does_not_replay_is_shown_as_a_model_bug(capsys, monkeypatch):
    """The replay broken on purpose: the solver's counterexample of NOCHECK
    then claims nothing about the code, so neither the matrix nor the
    summary may call it a COUNTEREXAMPLE, and the exit status is 2."""
    from nvtlbi.model import replay as R

    def no_replay(cex, rev, dropped=()):
        R.say(cex, False, "(broken on purpose)")
    monkeypatch.setattr(R, "attach_cex", no_replay)
    code = cli.main(["prove", "--revision", NOCHECK, "--granule", "4K", "--level", "2", "--hint", "nohint",
                     "--property", "P2", "--jobs", "1", "--no-cache"])
    out = capsys.readouterr().out
    assert code == 2
    assert "MODEL BUG: 1  (1 obligations)" in out and "COUNTEREXAMPLE" not in out, out
