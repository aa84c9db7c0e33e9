"""The command line of the range op (--op ripas2e1): `prove` runs to the
end of its text and JSON reports, exit status 1 for upstream's R2
counterexample (the finding), drawn in domain terms; and a broken decode's
R1 counterexample names the page left mapped."""

import json
import os

import pytest

from nvtlbi import cli

OP = ["--op", "ripas2e1", "--jobs", "1"]
BROKEN = os.path.join(os.path.dirname(__file__), "revisions", "ripas2e1", "broken_num.py")


def test_prove_text_report_runs_to_the_end(capsys):
    # one granule and level (of C), every case and default property of it
    assert cli.main(["prove", "--granule", "64K", "--level", "2"] + OP) == 1
    out = capsys.readouterr().out
    assert out.startswith("op ripas2e1; revision upstream")
    line = next(x for x in out.splitlines() if x.startswith("COUNTEREXAMPLE upstream-64K-L2-nolevel-R2:"))
    # the operand, the range, the cached guest translation and the leaf that survived
    for part in ("TG=64K, SCALE=", "NUM=", "TTL 0b", "range [0x", "cached guest 64K L2 translation [0x",
                 "survived: MMU #", "replayed on impl/"):
        assert part in line, (part, line)
    assert "non-vacuity: " in out and "executed: " in out and "branch coverage " in out
    assert "wall time" in out.splitlines()[-1]


def test_prove_json_says_the_op(capsys):
    # 16K L2, where the guest has blocks (L3 pages, PROVED: proofs/test_ripas2e1.py upstream-16K-L3-match-R2;
    # both levels with NVTLBI_FULL=1)
    level = [] if os.environ.get("NVTLBI_FULL") else ["--level", "2"]
    assert cli.main(["prove", "--json", "--granule", "16K", "--hint", "match", "--property", "R2"] + level + OP) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["op"] == "ripas2e1" and doc["coverage"]["sides"] > 0
    cex = [r for r in doc["results"] if r["verdict"] == "COUNTEREXAMPLE"]
    assert {r["level"] for r in cex} == {2}, cex          # 16K blocks are L2; L3 pages are PROVED
    c = cex[0]["counterexample"]
    assert c["op"] == "ripas2e1" and c["replayed"] and c["stale"] and "TG=16K" in c["operand"]


def test_broken_decode_R1_names_the_page_left_mapped(capsys):
    assert cli.main(["prove", "--revision", BROKEN, "--granule", "16K", "--hint", "nolevel",
                     "--property", "R1"] + OP) == 1
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("COUNTEREXAMPLE broken_num-16K-L3-nolevel-R1:"))
    assert "still mapped: MMU #" in line and "host page 0x" in line, line


def test_cex_draws_a_range_scenario(capsys):
    assert cli.main(["cex", "--granule", "16K", "--level", "2", "--hint", "match", "--property", "R2"] + OP) == 1
    out = capsys.readouterr().out
    for part in ("counterexample upstream-16K-L2-match-R2:", "TLBI RIPAS2E1IS Xt=", "cached guest translation C: 16K L2",
                 "must remove it whole", "STALE (survived)", "stale: shadow leaf", "replayed on impl/"):
        assert part in out, (part, out)
    assert cli.main(["cex", "--pytest", "x.py", "--granule", "16K"] + OP) == 2
    assert "--pytest: regression tests are generated for op ipas2e1 only" in capsys.readouterr().err


def test_diff_range_revisions(capsys):
    # the inline decode and decode_range_tlbi: the same behaviour; the broken
    # decode differs, shown in domain terms
    assert cli.main(["diff", "upstream", "inline_decode", "--granule", "16K"] + OP) == 0
    assert "=> EQUIVALENT" in capsys.readouterr().out
    assert cli.main(["diff", "upstream", BROKEN, "--granule", "16K", "--json"] + OP) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["op"] == "ripas2e1" and doc["results"][0]["verdict"] == "DIFFERENT"
    assert cli.main(["diff", "upstream", BROKEN, "--granule", "16K"] + OP) == 1
    out = capsys.readouterr().out
    assert "TLBI RIPAS2E1IS Xt=" in out and "on MMU #" in out and "they differ in: ranges" in out, out


def test_audit_bundled_range_revisions(capsys):
    assert cli.main(["audit", "--json", "--granule", "16K", "--level", "2", "--hint", "match", "--property", "R2"]
                    + OP) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["op"] == "ripas2e1"
    assert [r["revision"] for r in doc["revisions"]] == ["inline_decode", "upstream"]
    for r in doc["revisions"]:
        assert r["verdict"] == "COUNTEREXAMPLE"
        g = r["counterexample_groups"][0]
        assert g["property"] == "R2" and "TLBI RIPAS2E1IS TG=16K" in g["example"] and "survived" in g["example"]


def test_mutate_a_range_revision(capsys):
    assert cli.main(["mutate", "--only", "m024", "--granule", "16K", "--json"] + OP) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["op"] == "ripas2e1" and doc["results"][0]["verdict"] == "KILLED", doc


@pytest.mark.skipif(not os.environ.get("NVTLBI_FULL"), reason="minutes of solving: NVTLBI_FULL=1 runs it")
def test_selfcheck_a_range_revision(capsys):
    assert cli.main(["selfcheck", "upstream", "--granule", "64K", "--sample", "1", "--json"] + OP) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["op"] == "ripas2e1" and doc["ok"], doc
    lines = doc["revisions"][0]["lines"]
    assert any("of the counterexamples replay on impl/" in x for x in lines), lines
    assert any("mutation sample of 1" in x for x in lines), lines


def test_crosscheck_text_of_an_empty_conjunction():
    # a range property over no unmapped range is z3.And([]), printed as a
    # bare `and`, which Bitwuzla rejects (found by selfcheck --op ripas2e1)
    from nvtlbi.model.crosscheck import standard
    assert standard("(assert (not and))\n(assert (or (and x)))") == "(assert (not true))\n(assert x)"


POST = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "posts", "S_sys_regs_260119377.txt")


def test_audit_posted_range_handler(capsys, tmp_path, prove_op):
    """The posted handle_ripas2e1is and s2_mmu_unmap_range, translated against
    the era's vocabulary (kvm_s2_mmu_iterate_by_vmid, in nested.c, from the
    bundled upstream): EQUIVALENT to inline_decode, and R2 fails as there."""
    import pytest
    if not os.path.exists(POST):
        pytest.skip("../shared/posts is not there")
    emit = tmp_path / "posted.py"
    assert cli.main(["audit", POST, "--base-revision", "upstream", "--translate-only", "--emit", str(emit)] + OP) == 0
    src = emit.read_text()
    assert "def _c_handle_ripas2e1is(vcpu, p, r):" in src and "def s2_mmu_unmap_range(mmu, info):" in src
    assert "adopt('upstream', 'kvm_s2_mmu_iterate_by_vmid', globals(), 'nvtlbi.impl.revisions_ripas2e1')" in src
    capsys.readouterr()
    # the level of C where R2 fails (16K blocks are L2; NVTLBI_FULL=1: every level)
    level = [] if os.environ.get("NVTLBI_FULL") else ["--level", "2"]
    assert cli.main(["audit", POST, "--base-revision", "upstream", "--against", "inline_decode", "--granule", "16K",
                     "--json"] + level + OP) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["op"] == "ripas2e1" and doc["against"]["op"] == "ripas2e1"
    assert {r["verdict"] for r in doc["against"]["results"]} == {"EQUIVALENT"}
    rev = doc["revisions"][0]
    groups = rev["counterexample_groups"]
    # R2: the partial overlap (docs/findings.md); R4: only the unmap's WARN_ONs, known findings
    assert rev["verdict"] == "COUNTEREXAMPLE" and {g["property"] for g in groups} == {"R2", "R4"}
    assert all(g["known_finding"] for g in groups if g["property"] == "R4")
    # the same verdicts, obligation by obligation, as the bundled inline_decode; in the suite, as
    # upstream's 16K L2 proofs (EQUIVALENT to inline_decode: test_diff_range_revisions), which
    # proofs/test_ripas2e1.py reads from the same cache (conftest.py, prove_op; one xdist group)
    verdicts = lambda r: {(x["level"], x["hint"], x["property"]): x["verdict"] for x in r["results"]}
    if os.environ.get("NVTLBI_FULL"):
        assert cli.main(["audit", "inline_decode", "--granule", "16K", "--json"] + level + OP) == 1
        bundled = verdicts(json.loads(capsys.readouterr().out)["revisions"][0])
    else:
        bundled = {(2, hint, prop): r.verdict for (hint, prop), r in prove_op("ripas2e1", "upstream", 14, 2).items()}
    assert verdicts(rev) == bundled


def test_posted_range_handler_needs_its_iterator():
    import pytest
    if not os.path.exists(POST):
        pytest.skip("../shared/posts is not there")
    assert cli.main(["audit", POST, "--translate-only"] + OP) == 2
