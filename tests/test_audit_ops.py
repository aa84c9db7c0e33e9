"""`nvtlbi audit FILE` without --op (issue 13): the ops whose functions the
posted C defines (nvtlbi.c.ops.ops_in), each audited as if --op named it.
One op found: the report of `--op OP`, its first line saying where the op
was found; several: one report per op (--json: a list of the per-op
documents); none: the ipas2e1 translation's error; --op: as before."""

import json
import os

import pytest

from nvtlbi import cli
from nvtlbi.c import ops as C_OPS
from nvtlbi.model import ops

HERE = os.path.dirname(__file__)
TWO = os.path.join(HERE, "c", "two_ops.c")          # our own: s2_mmu_unmap_ipa and handle_ripas2e1is
POSTS = os.path.join(HERE, "..", "..", "shared", "posts")
BASE = ["--base-revision", "upstream"]
# one granule, level and case each op has, one property each: seconds
QUICK = ["--granule", "16K", "--level", "3", "--hint", "match", "--jobs", "1", "--no-coverage"]
CALLERS = [o.caller for o in ops.OPS.values()]


def _post(name):
    path = os.path.join(POSTS, name)
    if not os.path.exists(path):
        pytest.skip("../shared/posts is not there")
    return path


def _ripas2e1_only(tmp_path):
    """two_ops.c with its IPAS2E1 callback under a dead #if 0 (its name is
    still mentioned, in a comment and that dead text)."""
    text = open(TWO).read()
    head = "/* IPAS2E1: drop the block"
    end = "/* RIPAS2E1: the decoded range"
    assert head in text and end in text
    text = text.replace(head, "#if 0\n" + head).replace(end, "#endif\n\n" + end)
    f = tmp_path / "ripas_only.c"
    f.write_text(text)
    return str(f)


def test_ops_in_reads_definitions_not_mentions(tmp_path):
    assert C_OPS.ops_in(TWO, CALLERS) == [("ipas2e1", ["s2_mmu_unmap_ipa"]), ("ripas2e1", ["handle_ripas2e1is"])]
    # dead under #if 0; named in a comment and called: neither is a definition
    assert C_OPS.ops_in(_ripas2e1_only(tmp_path), CALLERS) == [("ripas2e1", ["handle_ripas2e1is"])]
    calls = tmp_path / "calls.c"
    calls.write_text("/* handle_ripas2e1is and compute_tlb_inval_range are elsewhere */\n"
                     "static void caller(struct kvm_vcpu *vcpu, u64 val)\n{\n"
                     "\tcompute_tlb_inval_range(NULL, val);\n\tkvm_invalidate_vncr_ipa(vcpu->kvm, 0, 0);\n}\n")
    assert C_OPS.ops_in(str(calls), CALLERS) == []
    # the 2024 IPAS2E1 handler iterates over the MMUs: not what the ipas2e1 audit translates
    it = tmp_path / "iterates.c"
    it.write_text("static bool handle_ipas2e1is(struct kvm_vcpu *vcpu, struct sys_reg_params *p,\n"
                  "\t\t\t     const struct sys_reg_desc *r)\n{\n"
                  "\tkvm_s2_mmu_iterate_by_vmid(vcpu->kvm, 0, NULL, s2_mmu_unmap_ipa);\n\treturn true;\n}\n")
    assert C_OPS.ops_in(str(it), CALLERS) == []


def test_one_op_found_is_audited_as_if_named(tmp_path, capsys):
    f = _ripas2e1_only(tmp_path)
    assert cli.main(["audit", f, "--translate-only"] + BASE) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"op ripas2e1 (found in {f}: handle_ripas2e1is)", out
    assert f"  handle_ripas2e1is        {f}:" in "\n".join(out)
    # the proof: the single-op JSON document of --op ripas2e1, and where the op was found
    assert cli.main(["audit", f, "--json", "--property", "R1"] + BASE + QUICK) == 0
    found = json.loads(capsys.readouterr().out)
    assert cli.main(["audit", f, "--json", "--property", "R1", "--op", "ripas2e1"] + BASE + QUICK) == 0
    named = json.loads(capsys.readouterr().out)
    assert found["op"] == "ripas2e1" and found["found"] == [{"input": f, "functions": ["handle_ripas2e1is"]}]
    assert "found" not in named
    verdicts = lambda d: [(r["level"], r["hint"], r["property"], r["verdict"]) for r in d["revisions"][0]["results"]]
    assert verdicts(found) == verdicts(named) == [(3, "match", "R1", "PROVED")]


def test_one_op_found_in_a_post(capsys):
    post = _post("N1_nested_3949706.txt")
    assert cli.main(["audit", post, "--translate-only"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"op ipas2e1 (found in {post}: ttl_to_size, get_guest_mapping_ttl, compute_tlb_inval_range)"
    assert cli.main(["audit", post, "--translate-only", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert isinstance(doc, dict) and doc["op"] == "ipas2e1" and doc["found"][0]["input"] == post


@pytest.mark.parametrize("name,found", [
    # sys_regs.c holds the 2024 per-MMU callback of IPAS2E1 beside the range handler
    ("S_sys_regs_260119377.txt", [("ipas2e1", "s2_mmu_unmap_ipa"), ("ripas2e1", "handle_ripas2e1is")]),
    ("N3_nested_96575923.txt", [("ipas2e1", "ttl_to_size, get_guest_mapping_ttl, compute_tlb_inval_range"),
                                ("vncr", "kvm_handle_s1e2_tlbi, kvm_invalidate_vncr_ipa")]),
])
def test_several_ops_found_in_a_post(capsys, name, found):
    post = _post(name)
    assert cli.main(["audit", post, "--translate-only"] + BASE) == 0
    out = capsys.readouterr().out.splitlines()
    assert [x for x in out if x.startswith("op ")] == [f"op {o} (found in {post}: {fs})" for o, fs in found]
    assert cli.main(["audit", post, "--translate-only", "--json"] + BASE) == 0
    docs = json.loads(capsys.readouterr().out)
    assert [d["op"] for d in docs] == [o for o, _ in found]


def test_several_ops_in_one_input(tmp_path, capsys):
    """two_ops.c: one report per op, each of its own functions; --json a
    list; the exit status of the worst.  Its range callback broken (it
    unmaps nothing): the ripas2e1 report fails R1, and so does the audit."""
    props = ["--property", "P1", "--property", "R1"]
    assert cli.main(["audit", TWO] + props + BASE + QUICK) == 0
    out = capsys.readouterr().out
    heads = [x for x in out.splitlines() if x.startswith("op ")]
    assert heads == [f"op ipas2e1 (found in {TWO}: s2_mmu_unmap_ipa)",
                     f"op ripas2e1 (found in {TWO}: handle_ripas2e1is)"]
    assert out.count("audit of 1 revision(s), 1 obligations") == 2, out
    assert out.index("s2_mmu_unmap_ipa         ") < out.index(heads[1]) < out.index("handle_ripas2e1is        ")
    broken = tmp_path / "two_ops_broken.c"
    text = open(TWO).read()
    call = "\tkvm_stage2_unmap_range(mmu, info->range.start, info->range.size, true);\n"
    assert call in text
    broken.write_text(text.replace(call, "\t/* nothing unmapped */\n"))
    assert cli.main(["audit", str(broken), "--json"] + props + BASE + QUICK) == 1
    docs = json.loads(capsys.readouterr().out)
    assert [(d["op"], d["revisions"][0]["verdict"]) for d in docs] == [("ipas2e1", "PROVED"),
                                                                        ("ripas2e1", "COUNTEREXAMPLE")]
    assert all(d["found"][0]["input"] == str(broken) for d in docs)


def test_several_ops_need_options_of_each_and_one_output(tmp_path, capsys):
    # a --property of one op only: refused before any proof, not the other op's whole matrix
    assert cli.main(["audit", TWO, "--property", "R1"] + BASE + QUICK) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--property R1: none is of op ipas2e1" in err[0] and "--op" in err[0], err
    assert cli.main(["audit", TWO, "--translate-only", "--emit", str(tmp_path / "x.py")] + BASE) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--emit takes one op" in err[0] and "ipas2e1, ripas2e1" in err[0], err


def test_no_op_found_is_ipas2e1_error(tmp_path, capsys):
    f = tmp_path / "helper.c"
    f.write_text("static int helper(int x)\n{\n\treturn x + 1;\n}\n")
    assert cli.main(["audit", str(f), "--translate-only"] + BASE) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"nvtlbi: error: {f}:1: none of ttl_to_size, "), err
    assert cli.main(["audit", str(f), "--translate-only"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"nvtlbi: error: {f}:1: the input does not contain "), err


def test_explicit_op_is_unchanged(capsys):
    # --op names the op audited: nothing detected, nothing said of it
    assert cli.main(["audit", TWO, "--translate-only", "--op", "ripas2e1"] + BASE) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"translated from {TWO}: ") and "op ipas2e1" not in out and "s2_mmu_unmap_ipa" not in out
    assert cli.main(["audit", TWO, "--translate-only", "--json", "--op", "ipas2e1"] + BASE) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["op"] == "ipas2e1" and "found" not in doc and "handle_ripas2e1is" not in json.dumps(doc)
