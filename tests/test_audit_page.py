"""PAGE_SIZE and PAGE_SHIFT in audited C are the host's page size and
shift: read from the running world (symbolic in proofs, every host page
size at once; concrete in replays), never a constant of the vocabulary."""

import os

import pytest

from nvtlbi.c.inputs import InputError
from nvtlbi.impl import context, kernel
from nvtlbi.impl import revision as REV
from nvtlbi.model import equiv
from nvtlbi.model.env import Case
from tests.c_revisions import translated

C = os.path.join(os.path.dirname(__file__), "c")
NESTED = open(os.path.join(C, "nested_v2024.c")).read()


def rev_with(tmp_path, name, line):
    # `line` goes just before compute_tlb_inval_range returns
    at = NESTED.rindex("\n\treturn max_size;\n}")
    return translated(tmp_path, text=NESTED[:at] + "\n" + line + NESTED[at:], name=name)


def test_page_size_is_the_host_page_in_concrete_runs(tmp_path):
    _, tr = rev_with(tmp_path, "page", "\tmax_size = max(max_size, PAGE_SIZE);")
    assert "PAGE_SIZE()" in tr.source
    for shift in (12, 14, 16):
        with context.entered(hooks=kernel.ConcreteHooks(page_shift=shift)):
            assert int(kernel.PAGE_SIZE().v) == 1 << shift and int(kernel.PAGE_SHIFT().v) == shift


def test_page_size_is_open_in_proofs(tmp_path):
    # a page is never larger than 64K, whatever the host: a no-op, proved so
    same, _ = rev_with(tmp_path, "same", "\tif (max_size < PAGE_SIZE && max_size > SZ_64K)\n\t\tmax_size = 0;")
    up = REV.load("upstream")
    assert equiv.diff_case(same, up, Case(14, None, "any")).verdict == "EQUIVALENT"
    # rounding up to a host page differs: a 4K TTL hint trusted on a 16K
    # host; the solver picks that host page size itself
    wide, _ = rev_with(tmp_path, "wide", "\tif (max_size < PAGE_SIZE)\n\t\tmax_size = PAGE_SIZE;")
    r = equiv.diff_case(wide, up, Case(14, None, "any"))
    assert r.verdict == "DIFFERENT" and r.example["host_granule"] in ("16K", "64K"), r.example


def test_page_size_is_not_a_compile_time_constant(tmp_path):
    with pytest.raises(InputError, match=r"BUILD_BUG_ON"):
        rev_with(tmp_path, "bbo", "\tBUILD_BUG_ON(PAGE_SIZE > SZ_64K);")
