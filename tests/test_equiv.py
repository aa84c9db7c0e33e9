"""Equivalence is the same behaviour (model/equiv.py): two revisions whose
ranges agree but whose WARN_ONs, BUG(), errors or mmu_lock differ are
DIFFERENT, with the effect named; a WARN_ON's file:line is not compared.
Each fixture (tests/revisions/) is upstream's ranges plus one slip that
only fires on a TLBI without a hint, so one granule, one level and the
`nohint` case keep these fast."""

import pytest

from nvtlbi.impl import revision as REV
from nvtlbi.model import equiv
from nvtlbi.model.env import Case
from nvtlbi import cli

UPSTREAM = REV.load("upstream")
NOHINT = Case(14, 3, "nohint")        # 16K, T a level-3 page, TTL 0


def fixture(name):
    return REV.load(f"tests/revisions/{name}.py")


def diff(name, case=NOHINT, **kw):
    return equiv.diff_case(fixture(name), UPSTREAM, case, **kw)


@pytest.mark.parametrize("name, effect", [("warn_nohint", "WARN_ON"), ("bug_after_unmap", "BUG()"),
                                          ("lock_leak", "mmu_lock")])
def test_one_effect_other_than_the_ranges_makes_revisions_different(name, effect):
    r = diff(name)
    assert r.verdict == equiv.DIFFERENT, r.reason
    ex = r.example
    assert ex["differs"] == [effect]
    assert ex["a"]["ranges"] == ex["b"]["ranges"] != []     # the same ranges: only the effect differs
    assert ex["ttl"] == 0 and ex["granule"] == "16K"


def test_taking_mmu_lock_twice_is_a_lockdep_failure():
    """As impl/nested.py's MMULock: it was silently accepted symbolically."""
    r = diff("lock_twice")
    assert r.verdict == equiv.DIFFERENT and "error" in r.example["differs"]
    assert r.example["a"]["error"] == "lockdep failure (lockdep: mmu_lock taken twice)"


def test_unmapping_without_mmu_lock_is_a_lockdep_failure():
    """__unmap_stage2_range asserts mmu_lock held for write (impl/kernel.py):
    a handler that skips the lock where nothing else asserts it (a TLBI with
    a usable hint needs no walk) was EQUIVALENT to upstream."""
    r = diff("unlocked_unmap", Case(14, 3, "match"))
    assert r.verdict == equiv.DIFFERENT and "error" in r.example["differs"]
    assert r.example["a"]["error"] == "lockdep failure (lockdep: mmu_lock not held for write)"


@pytest.mark.parametrize("first", [True, False])
def test_a_write_to_the_mmu_is_refused_in_either_order(first):
    """A handler that writes mmu->tlb_vtcr: EQUIVALENT to upstream (a write
    no effect compares), and the revision run second saw the first one's
    write.  Refused, naming the line, whichever side it is on."""
    a, b = fixture("writes_tlb_vtcr"), UPSTREAM
    with pytest.raises(REV.RevisionError, match=r"writes_tlb_vtcr.py:\d+: .*writes mmu->tlb_vtcr"):
        equiv.diff_case(*((a, b) if first else (b, a)), Case(16, 3, "nohint"))


def test_the_example_shows_the_effect_on_each_side():
    a = diff("warn_nohint").example["a"]
    assert len(a["warnings"]) == 1 and a["warnings"][0].startswith("warn_nohint.py:")
    assert "WARN_ON fires 1x (warn_nohint.py:" in equiv.outcome_text(a)
    assert "then BUG() at bug_after_unmap.py:" in equiv.outcome_text(diff("bug_after_unmap").example["a"])
    assert "returns with mmu_lock held" in equiv.outcome_text(diff("lock_leak").example["a"])
    assert "then lockdep failure (lockdep: mmu_lock taken twice)" in equiv.outcome_text(
        diff("lock_twice").example["a"])


def test_a_warning_on_an_excused_tlbi_is_still_a_difference():
    """Mutation's EXCUSED class compares ranges only where the architecture
    obliges the TLBI to remove T; the host still sees a WARN_ON there."""
    r = diff("warn_excused", Case(14, 3, "mismatch"), obliged_only=True)
    assert r.verdict == equiv.DIFFERENT and r.example["differs"] == ["WARN_ON"]
    assert not r.example["obliged"]


def test_where_a_warn_on_sits_is_not_compared(tmp_path):
    """The same warning on another line (as two revisions put it) is equivalent."""
    with open(fixture("warn_nohint").path) as f:
        moved = tmp_path / "warn_moved.py"
        moved.write_text("\n\n\n" + f.read())
    r = equiv.diff_case(REV.load(str(moved)), fixture("warn_nohint"), NOHINT)
    assert r.verdict == equiv.EQUIVALENT, r.example


def test_a_python_error_of_a_revision_is_its_error_not_a_difference():
    """A TypeError is no behaviour of the kernel's code (it was 'DIFFERENT')."""
    with pytest.raises(REV.RevisionError, match=r"dictkey.py:\d+: a C word used as a dict key"):
        equiv.diff_case(REV.load("tests/revisions/bad/dictkey.py"), UPSTREAM, NOHINT)


def test_cli_diff_names_the_warn_on(capsys):
    assert cli.main(["diff", "tests/revisions/warn_nohint.py", "upstream", "--granule", "16K", "--jobs", "1"]) == 1
    out = capsys.readouterr().out
    assert "WARN_ON fires 1x (warn_nohint.py:" in out and "they differ in: WARN_ON" in out
    assert out.rstrip().endswith("=> DIFFERENT")
