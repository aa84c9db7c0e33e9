"""Equivalence one function at a time (model/same_function.py): it says
yes only for a function of C words whose two versions return the same value
for every argument, and "cannot say" for anything else, so a mutant it
passes is one the whole diff would find equivalent too."""

import os

from nvtlbi.impl import revision as REV
from nvtlbi.model import mutation as MU
from nvtlbi.model.mutants import generate
from nvtlbi.model.same_function import changed, same_function

UPSTREAM = REV.load("upstream")
with open(UPSTREAM.path) as f:
    SOURCE = f.read()
MUTANTS = generate(SOURCE)


def _mutant(line, change):
    m = next(m for m in MUTANTS if m.line == line and m.change == change)
    path = MU.write([m])[m.id]
    return REV.load(path)


def test_a_function_rewritten_the_same_way_is_the_same():
    rev = _mutant(17, "c_int(ttl & 3) -> u8(ttl & 3)")          # level is 0-3 either way
    assert changed(UPSTREAM.path, rev.path) == ["ttl_to_size"]
    assert same_function(UPSTREAM, rev, "ttl_to_size") is True
    rev = _mutant(31, "level == 0 or level == 1 -> level == 0")  # both arms do nothing
    assert same_function(UPSTREAM, rev, "ttl_to_size") is True


def test_a_broken_function_is_never_the_same():
    # the broken variants: each returns another size for some TTL
    for line, change in [(27, "SZ_2M -> SZ_32M"), (17, "ttl & 3 -> ttl | 3"), (22, "0 -> 1")]:
        rev = _mutant(line, change)
        assert same_function(UPSTREAM, rev, "ttl_to_size") is None, change


def test_a_function_of_the_world_cannot_be_said_the_same():
    # get_guest_mapping_ttl(mmu, addr) probes the shadow S2 through the MMU:
    # this run models no world, so even an equivalent mutant is left to the diff
    rev = _mutant(56, "0 -> 1")
    assert changed(UPSTREAM.path, rev.path) == ["get_guest_mapping_ttl"]
    assert same_function(UPSTREAM, rev, "get_guest_mapping_ttl") is None


def test_a_change_outside_the_functions_is_not_one_function_at_a_time(tmp_path):
    other = tmp_path / "other.py"
    other.write_text(SOURCE.replace("from nvtlbi.impl.kernel import *",
                                    "from nvtlbi.impl.kernel import *\nSZ_2M = SZ_32M", 1))
    assert changed(UPSTREAM.path, str(other)) is None


def test_undefined_behaviour_is_an_effect_not_a_value(tmp_path):
    # both versions shift a u8 by its argument: an oversized shift is C's
    # undefined behaviour on some path, so no claim, though the values agree
    body = "@kfunc\ndef f(x: u8) -> u8:\n    return u8(u8(1) << x){}\n"
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    head = SOURCE + "\n\n"             # a revision (upstream) with one function more
    a.write_text(head + body.format(""))
    b.write_text(head + body.format(" | u8(0)"))
    ra, rb = REV.load(str(a)), REV.load(str(b))
    assert changed(str(a), str(b)) == ["f"]
    assert same_function(ra, rb, "f") is None
    # the same functions with the shift kept in range are the same
    a.write_text(head + body.format("").replace("<< x", "<< (x & u8(7))"))
    b.write_text(head + body.format(" | u8(0)").replace("<< x", "<< (x & u8(7))"))
    assert same_function(REV.load(str(a)), REV.load(str(b)), "f") is True


def test_a_function_that_reads_the_host_or_warns_cannot_be_said_the_same(tmp_path):
    """Outside a run, impl/kernel.py answers PAGE_SIZE for a 4K host and
    records a WARN_ON nowhere: both versions below agree there, but not on a
    16K host, and the second warns.  Neither is a function of its argument."""
    head = SOURCE + "\n\n"
    cases = [
        ("return u64(x) & (PAGE_SIZE() - 1)", "return u64(x) & u64(0xfff)"),       # the host's page size
        ("return u64(x)", "WARN_ON(x == 7)\n    return u64(x)"),                  # a warning the original lacks
    ]
    for i, (body_a, body_b) in enumerate(cases):
        a, b = tmp_path / f"a{i}.py", tmp_path / f"b{i}.py"
        a.write_text(head + f"@kfunc\ndef f(x: u8) -> u64:\n    {body_a}\n")
        b.write_text(head + f"@kfunc\ndef f(x: u8) -> u64:\n    {body_b}\n")
        assert same_function(REV.load(str(a)), REV.load(str(b)), "f") is None, body_b
