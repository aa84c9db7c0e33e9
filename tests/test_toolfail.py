"""A failure of the tool is never a verdict (issue 10, items 3 and 6).

Only what C makes of the revision's own code (impl/outcome.py's C_OUTCOMES:
BUG(), undefined behaviour, an uninitialised read, a lockdep failure) ends a
path with a verdict.  A calling-convention mismatch, a non-integer return, a
Python error of the glue or of the revision is one error line and exit 2, in
the symbolic run, in the replay and in `diff`; and a revision that does
something else concretely than on the paths the proof explored is an error,
never PROVED."""

import json
import os

import pytest
import z3

from nvtlbi.impl import revision as REV
from nvtlbi.impl.outcome import C_OUTCOMES, InternalError
from nvtlbi.model.engine import Engine
from nvtlbi.model.session import Session
from nvtlbi import cli
from tests.revisions import HERE

BAD = os.path.join(HERE, "bad")
FAST = ["--granule", "16K", "--hint", "nohint", "--property", "P1", "--jobs", "1", "--no-coverage"]
SHARED = os.environ.get("NVTLBI_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "shared"))


def _bad(name):
    return os.path.join(BAD, f"{name}.py")


def _line_of(path, needle):
    with open(path) as f:
        return next(i for i, line in enumerate(f, 1) if needle in line)


def _one_error_line(capsys):
    out = capsys.readouterr()
    err = out.err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in out.err + out.out, out.err
    assert "COUNTEREXAMPLE" not in out.out and "PROVED" not in out.out, out.out
    return err


# -- class 4: a calling-convention mismatch or a Python error is no counterexample ---------------
@pytest.mark.parametrize("name,needle,says", [
    # nvtlbi's caller passes (mmu, val) to an older era's (vcpu, mmu, val): the definition is named
    ("oldsig", "def compute_tlb_inval_range", "does not take the 2 arguments of its call"),
    ("oldsig_plain", "def compute_tlb_inval_range", "does not take the 2 arguments of its call"),
    ("handler_arity", "def handle_ipas2e1is", "does not take the 2 arguments of its call"),
    # a non-integer where C returns a value
    ("returns_none", "def compute_tlb_inval_range", "returned None (NoneType), not a C integer"),
    ("returns_float", "def compute_tlb_inval_range", "(float), not a C integer"),
    ("returns_str", "def ttl_to_size", "returned 'SZ_1G' (str), not a C integer"),
    # the revision's call of the vocabulary with a wrong arity: the call is named
    ("getleaf5", "kvm_pgtable_get_leaf(mmu.pgt", "takes 4 positional arguments but 5 were given"),
    # Python errors raised in nvtlbi's code on behalf of the revision's line
    ("unmodelled", "vcpu_read_sys_reg(vcpu, \"SCTLR_EL2\")", "NotImplementedError: vcpu_read_sys_reg(SCTLR_EL2) is not modelled"),
    ("pyassert", "assert not", "AssertionError: NS bit set"),
    ("bigliteral", "unsigned_long(1 << 64)", "OverflowError"),
])
def test_tool_failure_is_an_error_not_a_counterexample(capsys, name, needle, says):
    path = _bad(name)
    assert cli.main(["prove", "--revision", path] + FAST) == 2
    err = _one_error_line(capsys)
    assert err.startswith(f"nvtlbi: error: {path}:{_line_of(path, needle)}: "), err
    assert says in err, err


def test_diff_with_a_tool_failure_is_an_error(capsys):
    assert cli.main(["diff", "upstream", _bad("returns_none"), "--granule", "16K"]) == 2
    err = _one_error_line(capsys)
    assert "returned None" in err and "EQUIVALENT" not in err and "DIFFERENT" not in err


def test_replay_of_a_tool_failure_is_never_replayed():
    """The replay hits the same mismatch: an error, not "replayed on impl/"."""
    from nvtlbi.model import replay as R
    cex = {"granule": "16K", "host_granule": "4K", "lpa2": False, "feat_ttl": True, "host_ttl": True,
           "tlb_vtcr": 2 << 14, "vcpu_vtcr": 2 << 14, "val": 0, "level": 3, "T": [0, 1 << 14],
           "property": "P1", "probes": [], "ranges": [], "error": "TypeError: missing a required argument"}
    with pytest.raises(REV.RevisionError, match="does not take the 2 arguments"):
        R.replay(cex, REV.load(_bad("oldsig")))


def _engine_outcome(exc):
    engine = Engine([], Session())

    def program():
        raise exc

    return list(engine.paths(program, lambda: None))


@pytest.mark.parametrize("cls", C_OUTCOMES, ids=lambda c: c.__name__)
def test_c_outcomes_end_a_path(cls):
    (path,) = _engine_outcome(cls("x"))
    assert isinstance(path.error, cls)


@pytest.mark.parametrize("exc", [TypeError("x"), AttributeError("x"), AssertionError("x"), ValueError("x"),
                                 NotImplementedError("x"), z3.Z3Exception("x")],
                         ids=lambda e: type(e).__name__)
def test_other_exceptions_leave_the_engine(exc):
    with pytest.raises(type(exc)):
        _engine_outcome(exc)


def test_a_glue_failure_is_an_internal_error(capsys, monkeypatch):
    """A failure with no line of the revision on the stack is nvtlbi's: one
    line naming nvtlbi's file:line, never a counterexample."""
    from nvtlbi.model import env

    # a bug of the glue: impl/kernel.py's kvm_s2_mmu_iterate_by_vmid calls
    # the symbolic VM with arguments its method does not take
    monkeypatch.setattr(env.SymKVM, "mmus_by_vmid", env.SymKVM.has_feat)
    assert cli.main(["prove"] + FAST) == 2
    err = _one_error_line(capsys)
    line = _line_of(os.path.join(HERE, "..", "..", "impl", "kernel.py"), "for mmu in kvm.mmus_by_vmid(vmid)")
    assert err.startswith(f"nvtlbi: error: impl/kernel.py:{line}: internal error: TypeError:"), err
    assert "nvtlbi bug" in err
    with pytest.raises(InternalError):
        cli.main(["prove", "--debug"] + FAST)


def test_a_lockdep_failure_stays_a_verdict(capsys):
    """lockdep is C's (the kernel's) outcome: a handler that does not take
    mmu_lock gets counterexamples, replayed on impl/."""
    assert cli.main(["prove", "--revision", os.path.join(HERE, "nolock.py"), "--json"] + FAST) == 1
    doc = json.loads(capsys.readouterr().out)
    cexs = [r["counterexample"] for r in doc["results"] if r["verdict"] == "COUNTEREXAMPLE"]
    assert cexs and all(c["error"].startswith("LockdepFailure") and c["replayed"] for c in cexs), cexs


# -- item 6: proved code = executed code ---------------------------------------------------------
@pytest.mark.parametrize("name", ["typeinspect", "globalstate", "randomness"])
def test_symbolic_concrete_divergence_is_an_error(capsys, name):
    """Each is PROVED symbolically; run concretely it computes another range."""
    path = _bad(name)
    opts = ["--granule", "16K", "--property", "P1", "--jobs", "1", "--no-coverage"]
    assert cli.main(["prove", "--revision", path] + opts) == 2
    err = _one_error_line(capsys)
    assert err.startswith(f"nvtlbi: error: {path}:{_line_of(path, 'def compute_tlb_inval_range')}: "), err
    assert "behaves differently on concrete input" in err and "symbolically range" in err


def test_proved_results_say_what_was_replayed(capsys):
    assert cli.main(["prove", "--json", "--granule", "16K", "--hint", "match", "--property", "P1", "--property",
                     "P2", "--property", "P3", "--jobs", "1"]) == 0
    doc = json.loads(capsys.readouterr().out)
    for r in doc["results"]:
        c = r["concrete"]
        assert c["witness"] == "case occurs concretely"
        assert c["paths_checked"] > 0 and c["paths_unbuildable"] == len(c["unbuildable"]) == 0


def test_unbuildable_paths_are_counted_not_checked(capsys):
    """Without stable-pgt the model may read one address twice with two
    answers: no concrete shadow S2 does that.  Such paths are counted and
    named in --json, not counted as checked."""
    assert cli.main(["prove", "--json", "--drop", "stable-pgt", "--granule", "16K", "--hint", "nohint",
                     "--property", "P1", "--jobs", "1", "--no-coverage"]) == 0
    doc = json.loads(capsys.readouterr().out)
    c = [r["concrete"] for r in doc["results"]]
    assert any(x["paths_unbuildable"] > 0 for x in c), c
    assert all(len(x["unbuildable"]) == min(5, x["paths_unbuildable"]) for x in c)


# -- the real posts (when ../shared is present) ---------------------------------------------------
POST = os.path.join(SHARED, "posts", "R1f_v8_55.txt")


@pytest.mark.skipif(not os.path.exists(POST), reason="../shared/posts is not present")
def test_real_post_gets_no_counterexample_from_a_python_exception(capsys):
    """v8 55/69 defines compute_tlb_inval_range(vcpu, mmu, val).  Whatever
    nvtlbi makes of it (an error, or verdicts once its era's caller runs it),
    no counterexample may rest on a Python exception of the glue."""
    code = cli.main(["audit", POST, "--base-revision", "r1f_ttl_names", "--json", "--granule", "4K",
                     "--hint", "nohint", "--jobs", "1", "--no-coverage"])
    out = capsys.readouterr()
    if code == 2 and not out.out.strip():
        assert len(out.err.strip().splitlines()) == 1
        return
    c_names = {c.__name__ for c in C_OUTCOMES}
    for rev in json.loads(out.out)["revisions"]:
        for r in rev["results"]:
            error = (r.get("counterexample") or {}).get("error") or ""
            assert not error or error.startswith("WARN_ON") or error.split(":")[0] in c_names, (r["id"], error)


def test_a_revision_reading_pte_bits_the_model_leaves_free_is_told_so(capsys):
    """tests/c/sw_bits.c takes the level from bits [57:56]: the model lets
    bit 57 be set, impl/'s shadow leaves (as KVM's) never have it, so the
    symbolic path and its concrete run differ; the error says that the
    model's own PTEs explain it, not that the C is nondeterministic."""
    path = os.path.join(HERE, "..", "c", "sw_bits.c")
    assert cli.main(["audit", path, "--granule", "4K", "--level", "1", "--hint", "nohint", "--property", "P1",
                     "--jobs", "1", "--no-coverage", "--no-cache"]) == 2
    err = _one_error_line(capsys)
    assert "behaves differently on concrete input" in err
    assert "reads bits of a shadow PTE that nvtlbi's model leaves free" in err, err
