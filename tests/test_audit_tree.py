"""`nvtlbi audit [SERIES] --tree LINUX`: the audited functions as they stand
in a kernel checkout, or after a series applied to it in memory.  The
trees are built in tmp_path from our own fixtures (tests/c/), laid out as
a kernel tree; the posts of ../shared are copied into tmp_path only at
test time, never into the repository."""

import difflib
import json
import os
import re
import shutil

import pytest

from nvtlbi import cli
from nvtlbi.c import pipeline
from nvtlbi.model import assumptions as AS
from nvtlbi.model import properties as P
from nvtlbi.model.matrix import matrix

C = os.path.join(os.path.dirname(__file__), "c")
POSTS = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "posts")
NESTED = "arch/arm64/kvm/nested.c"
FAST = ["--granule", "4K", "--jobs", "1"]
FULL = bool(os.environ.get("NVTLBI_FULL"))


def c(name):
    return os.path.join(C, name)


def kernel_tree(tmp_path, files, name="linux"):
    """A directory laid out like a kernel tree: {path in the tree: file to copy}
    plus the header stand-ins of tests/c/include."""
    root = tmp_path / name
    for sub in ("asm", "linux"):
        shutil.copytree(os.path.join(C, "include", sub), root / ("arch/arm64/include" if sub == "asm" else "include")
                        / sub)
    for rel, src in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, root / rel)
    return str(root)


def body(source):
    """A translated revision's code, without its first line (which names
    the input), the comments that cite input lines (FILE:LINE) and the
    loops' names (c_loop('FILE:LINE'))."""
    return re.sub(r"[ \t]*#.*|c_loop\('[^']*'\)", "", source.split("\n", 1)[1])


def audit_json(capsys, argv):
    code = cli.main(["audit", "--json", *argv])
    return code, json.loads(capsys.readouterr().out)


def verdicts(doc):
    (rev,) = doc["revisions"]
    return {r["id"].split("-", 1)[1]: r["verdict"] for r in rev["results"]}


def error_of(capsys, argv):
    code = cli.main(["audit", *argv, "--translate-only"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("nvtlbi: error: "), (code, err)
    return err


def line_of(path, text):
    with open(path) as f:
        return next(i + 1 for i, t in enumerate(f.read().split("\n")) if t.startswith(text))


# ---- the tree as it stands -------------------------------------------------------------------------
def test_tree_is_audited_as_its_file(tmp_path, capsys):
    tree = kernel_tree(tmp_path, {NESTED: c("nested_v2024.c"), "arch/arm64/kvm/mmu.c": c("stubs.h")})
    tr = pipeline.translate(None, tree=tree)
    assert body(tr.source) == body(pipeline.translate(c("nested_v2024.c")).source)
    head = line_of(c("nested_v2024.c"), "static u8 get_guest_mapping_ttl")
    assert tr.origins["get_guest_mapping_ttl"].startswith(f"{NESTED}:{head}-")
    # the same verdicts as the file audited directly, each naming the kernel file:line (one level, the
    # cheapest: the tree only changes where the code is read from; every level: NVTLBI_FULL=1)
    argv = FAST + ["--property", "P2", "--hint", "nohint"] + ([] if FULL else ["--level", "1"])
    code, doc = audit_json(capsys, ["--tree", tree, *argv])
    code_file, doc_file = audit_json(capsys, [c("nested_v2024.c"), *argv])
    assert code == code_file == 0 and verdicts(doc) == verdicts(doc_file) and verdicts(doc)
    assert doc["revisions"][0]["origins"]["ttl_to_size"].startswith(f"{NESTED}:")


def test_broken_function_in_the_tree_is_a_replayed_counterexample(tmp_path, capsys):
    # a missing break: 4K level 1 falls through to the 2M case
    tree = kernel_tree(tmp_path, {NESTED: c("broken_fallthrough.c")})
    code, doc = audit_json(capsys, ["--tree", tree, *FAST, "--property", "P2", "--hint", "nohint"])
    (rev,) = doc["revisions"]
    cex = [r for r in rev["results"] if r["verdict"] == "COUNTEREXAMPLE"]
    assert code == 1 and rev["verdict"] == "COUNTEREXAMPLE" and cex
    assert all(r["counterexample"]["replayed"] for r in cex)
    assert rev["origins"]["compute_tlb_inval_range"].startswith(f"{NESTED}:")


def test_caller_in_another_file_of_the_tree_is_audited(tmp_path):
    caller = tmp_path / "caller.c"
    with open(c("with_caller.c")) as f:
        text = f.read()
    caller.write_text(text[text.index("\n/* Per-MMU callback"):])
    tree = kernel_tree(tmp_path, {NESTED: c("nested_v2024.c"), "arch/arm64/kvm/sys_regs.c": str(caller)})
    tr = pipeline.translate(None, tree=tree)
    assert tr.origins["s2_mmu_unmap_ipa"].startswith("arch/arm64/kvm/sys_regs.c:")
    assert body(tr.source) == body(pipeline.translate(c("with_caller.c")).source)


def test_definitions_in_two_files_of_the_tree_are_an_error_naming_both(tmp_path, capsys):
    other = tmp_path / "other.c"
    with open(c("nested_v2024.c")) as f:
        text = f.read()
    a = text.index("unsigned long compute_tlb_inval_range")
    other.write_text(text[a:])
    tree = kernel_tree(tmp_path, {NESTED: c("nested_v2024.c"), "arch/arm64/kvm/other.c": str(other)})
    err = error_of(capsys, ["--tree", tree])
    first = line_of(c("nested_v2024.c"), "unsigned long compute_tlb_inval_range")
    assert "compute_tlb_inval_range is defined twice" in err
    assert "arch/arm64/kvm/other.c:1" in err and f"{NESTED}:{first}" in err, err


# ---- a series applied to the tree ------------------------------------------------------------------
def test_mbox_applied_to_the_tree_names_the_patches(tmp_path, capsys):
    tree = kernel_tree(tmp_path, {NESTED: c("nested_stage0.c")})
    before = open(os.path.join(tree, NESTED)).read()
    tr = pipeline.translate(c("series.mbox"), tree=tree)
    # the result is the series' final file, nested_v2024.c (make_fixtures.py)
    assert body(tr.source) == body(pipeline.translate(c("nested_v2024.c")).source)
    assert open(os.path.join(tree, NESTED)).read() == before           # the tree is not touched
    assert "[PATCH 2/2]" in tr.origins["get_guest_mapping_ttl"] and "[PATCH 1/2]" not in \
        tr.origins["get_guest_mapping_ttl"]
    assert "[PATCH 1/2]" in tr.origins["ttl_to_size"] and "[PATCH 2/2]" not in tr.origins["ttl_to_size"]
    assert "[PATCH 1/2]" in tr.origins["compute_tlb_inval_range"] and "[PATCH 2/2]" in \
        tr.origins["compute_tlb_inval_range"]
    head = line_of(c("nested_v2024.c"), "unsigned long compute_tlb_inval_range")
    assert tr.origins["compute_tlb_inval_range"].startswith(f"{NESTED}:{head}-")   # its line after the series


def format_patch(tmp_path, stages):
    """A directory as `git format-patch` writes one, made here from our own
    fixtures with difflib: a cover letter without a diff, then one patch
    per step between consecutive stages."""
    out = tmp_path / "series"
    out.mkdir()
    (out / "0000-cover-letter.patch").write_text("From 0 Mon Sep 17 00:00:00 2001\nSubject: [PATCH 0/2] cover\n\n"
                                                 "Two steps.\n")
    texts = [open(c(s)).read() for s in stages]
    for n, (old, new) in enumerate(zip(texts, texts[1:]), 1):
        diff = "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True), f"a/{NESTED}",
                                            f"b/{NESTED}", n=3))
        (out / f"{n:04d}-step-{n}.patch").write_text(
            f"From {n:040x} Mon Sep 17 00:00:00 2001\nFrom: Fixture <f@nvtlbi.invalid>\n"
            f"Subject: [PATCH {n}/{len(texts) - 1}] step {n}\n\n---\n"
            f"diff --git a/{NESTED} b/{NESTED}\nindex 1..2 100644\n{diff}-- \n2.43.0\n")
    return str(out)


def test_format_patch_directory_is_a_series(tmp_path, capsys):
    series = format_patch(tmp_path, ["nested_stage0.c", "nested_stage1.c", "broken_nocheck.c"])
    tree = kernel_tree(tmp_path, {NESTED: c("nested_stage0.c")})
    tr = pipeline.translate(series, tree=tree)
    assert body(tr.source) == body(pipeline.translate(c("broken_nocheck.c")).source)
    assert "'[PATCH 2/2] step 2' (" in tr.origins["get_guest_mapping_ttl"]
    assert any("0000-cover-letter.patch:1: no diff" in n for n in tr.notes)
    # the report says which patch changed each function, in text, --json and --report
    report = tmp_path / "r.md"
    code, doc = audit_json(capsys, [series, "--tree", tree, *FAST, "--property", "P2", "--hint", "nohint",
                                    "--report", str(report)])
    (rev,) = doc["revisions"]
    assert code == 1 and rev["verdict"] == "COUNTEREXAMPLE"      # the range check after the tag is missing
    assert "0002-step-2.patch:1)" in rev["origins"]["get_guest_mapping_ttl"]
    assert f"{NESTED}:" in report.read_text() and "changed by '[PATCH 2/2] step 2'" in report.read_text()


def test_a_removal_is_the_change_of_its_function(tmp_path):
    # a patch that only removes a line (the lockdep assertion) changes get_guest_mapping_ttl alone
    with open(c("nested_v2024.c")) as f:
        text = f.read()
    gone = "\tlockdep_assert_held_write(&kvm_s2_mmu_to_kvm(mmu)->mmu_lock);\n"
    assert text.count(gone) == 1
    (tmp_path / "removed.c").write_text(text.replace(gone, ""))
    series = format_patch(tmp_path, ["nested_v2024.c", str(tmp_path / "removed.c")])
    tree = kernel_tree(tmp_path, {NESTED: c("nested_v2024.c")})
    tr = pipeline.translate(series, tree=tree)
    assert "changed by '[PATCH 1/1] step 1'" in tr.origins["get_guest_mapping_ttl"]
    assert all(tr.origins[n].endswith("not changed by the series") for n in ("ttl_to_size", "compute_tlb_inval_range"))


def test_single_patch_on_the_tree(tmp_path):
    tree = kernel_tree(tmp_path, {NESTED: c("nested_stage1.c")})
    tr = pipeline.translate(c("0002-probe.patch"), tree=tree)
    assert body(tr.source) == body(pipeline.translate(c("nested_v2024.c")).source)
    assert tr.origins["ttl_to_size"].endswith("not changed by the series")


def test_hunk_that_does_not_apply_names_the_patch_and_the_tree_file(tmp_path, capsys):
    # 0002 applies to stage 1, whose compute_tlb_inval_range v2026 does not have
    tree = kernel_tree(tmp_path, {NESTED: c("nested_v2026.c")})
    err = error_of(capsys, [c("0002-probe.patch"), "--tree", tree])
    hunk = line_of(c("0002-probe.patch"), "@@")
    assert f"{c('0002-probe.patch')}:{hunk}: hunk does not apply to {NESTED} in the tree" in err, err


def test_patch_of_a_file_the_tree_lacks(tmp_path, capsys):
    tree = kernel_tree(tmp_path, {"arch/arm64/kvm/mmu.c": c("stubs.h")})
    err = error_of(capsys, [c("0002-probe.patch"), "--tree", tree])
    assert f"{NESTED}: no such file in the tree" in err and c("0002-probe.patch") + ":" in err, err


# ---- usage errors ------------------------------------------------------------------------------------
def test_usage_errors(tmp_path, capsys):
    tree = kernel_tree(tmp_path, {NESTED: c("nested_v2024.c")})
    assert "--tree and --base cannot be combined" in error_of(capsys, ["--tree", tree, "--base", c("nested_stage1.c")])
    assert "--tree and --base-revision cannot be combined" in \
        error_of(capsys, [c("0002-probe.patch"), "--tree", tree, "--base-revision", "upstream"])
    assert "not a revision" in error_of(capsys, ["upstream", "--tree", tree])
    missing = str(tmp_path / "nowhere")
    assert error_of(capsys, ["--tree", missing]) == f"nvtlbi: error: {missing}: --tree: no such directory"
    bare = tmp_path / "bare"
    (bare / "arch/arm64").mkdir(parents=True)
    assert "not a kernel tree: it has no arch/arm64/kvm/" in error_of(capsys, ["--tree", str(bare)])
    assert "--tree: not a directory" in error_of(capsys, ["--tree", c("nested_v2024.c")])
    assert "cannot read" in error_of(capsys, [str(tmp_path / "none.mbox"), "--tree", tree])
    assert "no unified diff found" in error_of(capsys, [c("nested_v2024.c"), "--tree", tree])
    empty = kernel_tree(tmp_path, {"arch/arm64/kvm/mmu.c": c("stubs.h")}, name="empty")
    err = error_of(capsys, ["--tree", empty])
    assert "ttl_to_size, get_guest_mapping_ttl, compute_tlb_inval_range: not defined in" in err, err


# ---- the public record -----------------------------------------------------------------------------
@pytest.mark.skipif(not os.path.isdir(POSTS), reason="../shared/posts is not present")
def test_tree_of_posted_files_has_the_verdicts_of_upstream(tmp_path, capsys, prove):
    tree = kernel_tree(tmp_path, {NESTED: os.path.join(POSTS, "N1_nested_3949706.txt"),
                                  "arch/arm64/kvm/sys_regs.c": os.path.join(POSTS, "S_sys_regs_260119377.txt")})
    # the granule with the fewest levels, every hint and property of its level 3 (the cheapest to prove;
    # the tree only changes where the code is read from); every level: NVTLBI_FULL=1
    fast = ["--granule", "64K", "--jobs", "1"] + ([] if FULL else ["--level", "3"])
    code, doc = audit_json(capsys, ["--tree", tree, *fast])
    origins = doc["revisions"][0]["origins"]
    assert origins["s2_mmu_unmap_ipa"].startswith("arch/arm64/kvm/sys_regs.c:")
    assert all(origins[n].startswith(f"{NESTED}:") for n in ("ttl_to_size", "compute_tlb_inval_range"))
    # upstream's verdicts: its 64K proofs as proofs/test_upstream.py reads them (conftest.py, prove: proved
    # once in the process, one xdist group with those); NVTLBI_FULL=1: upstream's own audit
    if FULL:
        code_up, doc_up = audit_json(capsys, ["upstream", *fast])
        assert code_up == 1
        up = verdicts(doc_up)
    else:
        up = {f"64K-L{c.level}-{c.hint}-{p}": r.verdict for c in matrix(AS.enabled()) if c.shift == 16
              and c.level == 3 for p, r in prove("upstream", c).items() if p in P.ISOLATION}
    # upstream fails P4 in every cell, only with the known findings of model/findings.py (its unmap's WARN_ONs)
    assert code == 1 and verdicts(doc) == up and len(verdicts(doc)) > 10
    groups = doc["revisions"][0]["counterexample_groups"]
    assert groups and all(g["property"] == "P4" and g["known_finding"] for g in groups)
