"""The public history as bundled revisions: provenance, audit verdicts with
the assumptions they rest on, semantic diffs, reviewer-readable
counterexamples and generated regression tests."""

import json
import os
import re
import subprocess
import sys

import pytest

from nvtlbi.impl import revision as REV
from nvtlbi import cli

HISTORY = ["r0_baseline", "r1a_ttl_hostcap", "r1b_swwalk", "r1f_ttl_names", "r2a_trust_ttl",
           "r2b_get_leaf", "r3_tlb_vtcr", "r4_kvm_has_feat", "upstream", "r6_vtcr_sysreg", "r7_walk_flags"]


@pytest.mark.parametrize("name", HISTORY)
def test_bundled_revision_has_provenance(name):
    assert name in REV.bundled()
    doc = REV.load(name).module.__doc__
    assert re.search(r"Message-I[dD]s? [\w.+-]+@[\w.-]+", doc), "no Message-Id"
    assert re.search(r"\b20\d\d\b", doc), "no date"


def _audit(capsys, *argv):
    code = cli.main(["audit", "--json", "--jobs", "1", *argv])
    return code, json.loads(capsys.readouterr().out)


def test_audit_finds_the_reachable_bug_and_names_the_input(capsys):
    code, doc = _audit(capsys, "r2b_get_leaf", "--granule", "64K", "--hint", "nohint")
    rev, = doc["revisions"]
    assert code == 1 and rev["verdict"] == "COUNTEREXAMPLE"
    p4 = [r for r in rev["results"] if r["property"] == "P4"]
    assert p4 and all(r["verdict"] == "COUNTEREXAMPLE" for r in p4)
    # one counterexample per cause: the BUG() on TG0 0b11 is shown beside the
    # unmap's known -ERANGE WARN (model/findings.py), never hidden behind it
    for r in p4:
        shown = {c["error"].split(":")[0]: c for c in [r["counterexample"]] + r["causes"]}
        assert set(shown) == {"KernelBug", "WARN_ON at arch/arm64/kvm/mmu.c __unmap_stage2_range"}, shown
        bug = shown["KernelBug"]
        assert bug["replayed"] and bug["tg0"] == 0b11
    kinds = {(g["kind"].split(":")[0], g["known_finding"]) for g in rev["counterexample_groups"]}
    assert kinds == {("KernelBug", None), ("WARN_ON at arch/arm64/kvm/mmu.c __unmap_stage2_range", "unmap-range-warn")}


def test_audit_reports_what_a_proof_rests_on(capsys):
    code, doc = _audit(capsys, "upstream", "r1b_swwalk", "--granule", "16K", "--level", "3", "--hint", "match",
                       "--property", "P2")
    up, r1b = doc["revisions"]
    assert code == 0 and up["verdict"] == r1b["verdict"] == "PROVED"
    # the early revision reads the vCPU's VTCR_EL2: it needs the guest not to have changed it
    assert "vtcr-current" in r1b["rests_on"] and "vtcr-current" not in up["rests_on"]


def test_audit_report_markdown(tmp_path, capsys):
    out = tmp_path / "r.md"
    code = cli.main(["audit", "r2a_trust_ttl", "--granule", "16K", "--hint", "nofeat", "--property", "P2",
                     "--jobs", "1", "--report", str(out)])
    text = out.read_text()
    assert code == 1
    assert "## `r2a_trust_ttl`: COUNTEREXAMPLE" in text and "Message-Id 20230405154008" in text
    assert "Scenario for `r2a_trust_ttl-16K-L" in text and "STALE (survived)" in text
    # the group's sentence in domain terms: what was unmapped and what T is
    assert re.search(r"fails in \d+ obligations, e\.g\. `r2a_trust_ttl-16K-L\d-nofeat-P2`: IPA 0x[0-9a-f]+ with .* "
                     r"unmaps \[0x[0-9a-f]+, 0x[0-9a-f]+\) .* but T is 16K L\d", text), text


def test_diff_equivalent_for_a_change_of_form(capsys):
    assert cli.main(["diff", "r2b_get_leaf", "r3_tlb_vtcr", "--granule", "16K", "--jobs", "1"]) == 0
    assert "EQUIVALENT" in capsys.readouterr().out


def test_diff_shows_a_distinguishing_input(capsys):
    assert cli.main(["diff", "r4_kvm_has_feat", "r2b_get_leaf", "--granule", "16K", "--jobs", "1"]) == 1
    out = capsys.readouterr().out
    assert "DIFFERENT" in out and "r4_kvm_has_feat      unmaps" in out and "r2b_get_leaf         unmaps" in out


def test_generated_regression_test_fails_on_the_bug_and_passes_on_a_fix(tmp_path, capsys):
    test = tmp_path / "test_regression.py"
    code = cli.main(["cex", "--revision", "r2b_get_leaf", "--granule", "4K", "--hint", "nofeat",
                     "--property", "P2", "--jobs", "1", "--pytest", str(test)])
    assert code == 1 and test.exists()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root)
    run = lambda extra: subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
                                       cwd=tmp_path, env=dict(env, **extra), capture_output=True, text=True)
    broken = run({})
    assert broken.returncode == 1, broken.stdout
    assert "stale shadow leaves survived" in broken.stdout
    fixed = run({"NVTLBI_REVISION": "upstream"})
    assert fixed.returncode == 0, fixed.stdout


def test_generated_regression_test_builds_the_vm_ipa_size(tmp_path, capsys):
    """The scenario's IPA size (the shadow S2's ia_bits) is part of it: upstream's
    range WARN_ON (unmap-range-warn) fires only past a 32-bit IPA space, and a
    test built with the default 48 bits passed while the bug was present."""
    test = tmp_path / "test_ia_bits.py"
    code = cli.main(["cex", "--granule", "4K", "--level", "2", "--hint", "nohint", "--property", "P4",
                     "--jobs", "1", "--no-cache", "--pytest", str(test)])
    assert code == 1 and "IPA size 32 bits" in capsys.readouterr().out
    ns = {}
    exec(compile(test.read_text(), str(test), "exec"), ns)
    with pytest.raises(AssertionError, match="stage2_apply_range"):
        ns["test_upstream_4k_l2_nohint_p4"]()


def test_a_regression_test_of_p5_is_refused_before_any_work(tmp_path, capsys):
    """The generated test has no check of P5 (it was a KeyError, an internal error)."""
    test = tmp_path / "test_p5.py"
    assert cli.main(["cex", "--revision", "tests/revisions/nolookup.py", "--granule", "4K", "--property", "P5",
                     "--jobs", "1", "--pytest", str(test)]) == 2
    assert "--pytest: regression tests check P1, P2, P3, P4 (not P5)" in capsys.readouterr().err
    assert not test.exists()


def test_no_regression_test_of_a_counterexample_that_does_not_replay(tmp_path, capsys):
    """Without tag-truth the model's lying tag is no state impl/ builds: the
    counterexample is NOT REPLAYED, and a test of it passed while the bug was
    there.  None is written; the exit status stays 2."""
    test = tmp_path / "test_not_replayed.py"
    code = cli.main(["cex", "--drop", "tag-truth", "--granule", "16K", "--level", "2", "--hint", "nohint",
                     "--property", "P2", "--jobs", "1", "--no-cache", "--pytest", str(test)])
    out = capsys.readouterr().out
    assert code == 2 and "NOT REPLAYED" in out, out
    assert f"no regression test written to {test}" in out and not test.exists()
