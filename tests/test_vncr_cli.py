"""The command line of the VNCR op (--op vncr), one granule, one level, one
kind each (the op's paths are many): `cex` draws the cached VNCR
translations, the TLBI and what survived; `diff` shows each revision's
pseudo-TLB states; `audit` and `mutate` say the op in their --json."""

import json
import os

import pytest

from nvtlbi import cli
from nvtlbi.model import ops

OP = ["--op", "vncr", "--jobs", "1", "--granule", "64K"]
BROKEN = os.path.join(os.path.dirname(__file__), "revisions", "vncr", "broken_start_only.py")


@pytest.mark.parametrize("how", ["concrete", pytest.param("solver", marks=pytest.mark.skipif(
    not os.environ.get("NVTLBI_FULL"), reason="minutes of solving: NVTLBI_FULL=1 runs it"))])
def test_cex_draws_the_pseudo_tlb_scenario(capsys, how):
    # upstream: an entry at the top of the VA space, TLBI VAE2IS with a
    # reserved TTL: scope.va + SZ_1G wraps to 0 and the entry survives; found
    # on generated worlds in a second (model/vncr_worlds.py), or by the solver
    extra = ["--no-concrete"] if how == "solver" else []
    assert cli.main(["cex", "--level", "3", "--hint", "va", "--property", "V1"] + OP + extra) == 1
    out = capsys.readouterr().out
    for part in ("counterexample upstream-64K-L3-va-V1:", "the invalidation: TLBI VAE2IS VA=0xffff",
                 "cached VNCR translations (struct vncr_tlb) before it:", "stage-1 64K level-3 leaf (0x10000 bytes)",
                 "must be dropped: the TLBI matches it", "vCPU 0: STALE (survived)", "replayed on impl/",
                 "found by concrete testing" if how == "concrete" else "found by the solver"):
        assert part in out, (part, out)


def test_diff_shows_each_revisions_pseudo_tlbs(capsys):
    assert cli.main(["diff", "upstream", BROKEN, "--json"] + OP) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["op"] == "vncr" and doc["results"][0]["verdict"] == "DIFFERENT"
    ex = doc["results"][0]["example"]
    assert ex["op"] == "vncr" and ex["level"] in (2, 3)
    assert cli.main(["diff", "upstream", BROKEN] + OP) == 1
    out = capsys.readouterr().out
    assert "the invalidation: TLBI" in out or "the invalidation: KVM unmaps" in out, out
    assert "vCPU 0: VNCR_EL2 VA 0x" in out and "they differ in: " in out and "=> DIFFERENT" in out, out


def test_equiv_compares_the_pseudo_tlb_state():
    # a revision that drops nothing on an IPA unmap differs from upstream in
    # the pseudo-TLB state alone (no error, no WARN): the state is compared
    from nvtlbi.impl import revision as REV
    from nvtlbi.model import equiv, ops
    from nvtlbi.model.env import Case
    o = ops.op("vncr")
    up = REV.load("upstream", o.caller)
    d = equiv.diff_case(up, up, Case(16, 3, "ipa"), op=o)
    assert d.verdict == equiv.EQUIVALENT, d
    src = os.path.join(os.path.dirname(__file__), "revisions", "vncr", "keeps_on_ipa.py")
    d = equiv.diff_case(up, REV.load(src, o.caller), Case(16, 3, "ipa"), op=o)
    assert d.verdict == equiv.DIFFERENT and d.example["differs"] == ["ranges"], d
    assert d.example["a"]["state"] != d.example["b"]["state"], d.example


@pytest.mark.skipif(not os.environ.get("NVTLBI_FULL"), reason="minutes of solving: NVTLBI_FULL=1 runs it")
def test_audit_bundled_vncr_revision(capsys):
    # named: a bare `audit --op vncr` audits the whole history (model/history.py), whose older revisions fail V2
    assert cli.main(["audit", "upstream", "--json", "--level", "3", "--hint", "ipa", "--property", "V2"] + OP) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["op"] == "vncr"
    assert [r["revision"] for r in doc["revisions"]] == ["upstream"]
    assert {x["verdict"] for x in doc["revisions"][0]["results"]} == {"PROVED"}


def test_mutate_a_vncr_mutant(capsys):
    # m088 inverts the alignment mask of the TLBI VA scope: no longer aligned
    # down; killed on a generated world before any solving, replayed
    assert cli.main(["mutate", "--only", "m088", "--json"] + OP) == 0
    doc = json.loads(capsys.readouterr().out)
    r = doc["results"][0]
    assert doc["op"] == "vncr" and r["verdict"] == "KILLED" and r["by"] == "V1", doc
    assert "found by concrete testing, replayed" in r["evidence"], r


# ---- the posted nested.c (issue 13): audited through the op's required functions -------
POST = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "posts", "N3_nested_96575923.txt")
LEVEL3 = ["--level", "3", "--no-coverage"]


def _needs_post():
    if not os.path.exists(POST):
        pytest.skip("../shared/posts is not there")


def _verdicts(rev):
    return {(x["level"], x["hint"], x["property"]): x["verdict"] for x in rev["results"]}


def test_audit_posted_vncr_code(capsys, prove_op):
    """kvm_handle_s1e2_tlbi and kvm_invalidate_vncr_ipa of the post (our
    harness's nvtlbi_vncr_event is no kernel name: its default runs them),
    with decode_range_tlbi, which lives in kvm_nested.h, adopted from the
    bundled upstream and said so: the same verdicts, obligation by
    obligation, as the bundled revision (64K L3, a TLBI by VA (its V1 and V4 findings)
    and KVM's IPA unmap; NVTLBI_FULL=1: every level and kind)."""
    _needs_post()
    level = [] if os.environ.get("NVTLBI_FULL") else LEVEL3 + ["--hint", "va", "--hint", "ipa"]
    assert cli.main(["audit", POST, "--translate-only"] + OP) == 2       # decode_range_tlbi: no base given
    capsys.readouterr()
    assert cli.main(["audit", POST, "--base-revision", "upstream", "--json"] + level + OP) == 1
    rev = json.loads(capsys.readouterr().out)["revisions"][0]
    origins = rev["origins"]
    assert origins["decode_range_tlbi"] == "bundled vncr revision upstream"
    for n in ("kvm_handle_s1e2_tlbi", "compute_s1_tlbi_range", "invalidate_vncr_va", "kvm_invalidate_vncr_ipa",
              "invalidate_vncr", "pgshift_level_to_ttl", "ttl_to_size", "tlbi_va_s1_to_va"):
        assert "N3_nested_96575923.txt:" in origins[n], n
    # the bundled revision's verdicts: its proofs of 64K L3 as proofs/test_vncr.py reads them (conftest.py,
    # prove_op: proved once in the process, in one xdist group with those); NVTLBI_FULL=1: its whole audit
    if os.environ.get("NVTLBI_FULL"):
        assert cli.main(["audit", "upstream", "--json"] + level + OP) == 1
        bundled = _verdicts(json.loads(capsys.readouterr().out)["revisions"][0])
    else:
        o = ops.op("vncr")      # every property, as proofs/test_vncr.py asks (the same cached proof); V5 on request
        bundled = {(3, hint, prop): r.verdict
                   for (hint, prop), r in prove_op("vncr", "upstream", 16, 3, props=tuple(o.properties)).items()
                   if hint in ("va", "ipa") and prop in o.isolation}
    assert _verdicts(rev) == bundled
    # upstream's findings (V1: the wrapped scope of a VA at the top; V4: the NULL vncr_tlb) are there
    assert {v for v in _verdicts(rev).values()} == {"PROVED", "COUNTEREXAMPLE"}


def _translated(path, tmp_path, name):
    from nvtlbi.impl import revision as REV
    from nvtlbi.model import ops
    emit = tmp_path / f"{name}.py"
    assert cli.main(["audit", str(path), "--base-revision", "upstream", "--translate-only", "--emit", str(emit)]
                    + OP) == 0
    return REV.load(str(emit), ops.op("vncr").caller)


def test_posted_vncr_code_equivalent_and_broken(tmp_path):
    """The translated post is EQUIVALENT to the bundled upstream on 64K L3 by
    VA and by IPA; with kvm_invalidate_vncr_ipa's invalidate_vncr() removed
    (a tmp copy of the post), the IPA case is DIFFERENT: the entry survives."""
    _needs_post()
    from nvtlbi.impl import revision as REV
    from nvtlbi.model import equiv, ops
    from nvtlbi.model.env import Case
    o = ops.op("vncr")
    up = REV.load("upstream", o.caller)
    posted = _translated(POST, tmp_path, "posted")
    for kind in ("va", "ipa"):
        d = equiv.diff_case(up, posted, Case(16, 3, kind), op=o)
        assert d.verdict == equiv.EQUIVALENT, (kind, d)
    lines = open(POST).read().split("\n")
    at = next(i for i in range(len(lines)) if lines[i].startswith("static void kvm_invalidate_vncr_ipa("))
    drop = next(i for i in range(at, len(lines)) if lines[i].strip() == "invalidate_vncr(vt);")
    lines[drop] = lines[drop].replace("invalidate_vncr(vt);", ";")
    broken = tmp_path / "N3_broken.txt"
    broken.write_text("\n".join(lines))
    d = equiv.diff_case(up, _translated(broken, tmp_path, "broken"), Case(16, 3, "ipa"), op=o)
    assert d.verdict == equiv.DIFFERENT and d.example["differs"] == ["ranges"], d


def test_posted_vncr_constructs_not_modelled_are_refused(tmp_path, capsys):
    """A guard() of a lock class nvtlbi does not model, and a use of the
    post's macro it cannot expand for sure: exit 2, one line naming file:line."""
    _needs_post()
    text = open(POST).read()
    for old, new, what in (("guard(write_lock)(&vcpu->kvm->mmu_lock);", "guard(spinlock)(&vcpu->kvm->mmu_lock);",
                            "guard() of a lock class"),
                           ("scope->va = tlbi_va_s1_to_va(val) & ~(scope->size - 1);\n\t\tscope->asid",
                            "scope->va = tlbi_va_s1_to_va(val,\n val) & ~(scope->size - 1);\n\t\tscope->asid",
                            "macro tlbi_va_s1_to_va")):
        assert old in text, old
        bad = tmp_path / "N3_bad.txt"
        bad.write_text(text.replace(old, new, 1))
        capsys.readouterr()
        assert cli.main(["audit", str(bad), "--base-revision", "upstream", "--translate-only"] + OP) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"{bad}:" in err[0] and what in err[0], err


def test_a_write_the_invalidation_does_not_make_is_refused():
    """vt->cpu written by a revision run first: upstream, run second on the
    same world, kept the fixmap slot (DIFFERENT, nvtlbi's own doing); run
    first, EQUIVALENT.  Refused, naming the line, in either order."""
    import pytest
    from nvtlbi.impl import revision as REV
    from nvtlbi.model import equiv, ops
    from nvtlbi.model.env import Case
    o = ops.op("vncr")
    mine = REV.load(os.path.join(os.path.dirname(__file__), "revisions", "vncr", "cpu_reset.py"), o.caller)
    with pytest.raises(REV.RevisionError, match=r"cpu_reset.py:\d+: .*writes vt->cpu"):
        equiv.diff_case(mine, REV.load("upstream", o.caller), Case(16, 3, "ipa"), op=o)
