"""A revision that imports functions from another revision is audited as
the patch it is (impl/linking.py): the imported functions run with the
revision's own definitions, and its origins say so."""

import os

from nvtlbi.impl import linking
from nvtlbi.impl import revision as REV
from nvtlbi.model.env import Case
from nvtlbi.model.prover import prove_case
from nvtlbi.model.verdict import COUNTEREXAMPLE, PROVED

HERE = os.path.dirname(os.path.abspath(__file__))
PATCH = os.path.join(HERE, "revisions", "patch_ttl_to_size.py")


def test_an_imported_function_calls_the_patched_one():
    rev = REV.load(PATCH)
    upstream = REV.load("upstream")
    # 0b0101: 4K, level 1.  The patch's ttl_to_size says 2M; upstream's 1G.
    assert upstream.ttl_to_size(0b0101) == 1 << 30 and rev.ttl_to_size(0b0101) == 2 << 20
    # upstream's compute_tlb_inval_range, imported, must use the patch's
    # ttl_to_size; unlinked, it would use upstream's.
    fn = rev.module.compute_tlb_inval_range
    assert fn.__wrapped__.__globals__["ttl_to_size"] is rev.module.ttl_to_size
    assert linking.linked_names(fn) == ("ttl_to_size",)
    assert upstream.module.compute_tlb_inval_range.__wrapped__.__globals__["ttl_to_size"] \
        is upstream.module.ttl_to_size                              # upstream itself is untouched


def test_the_patch_is_what_gets_proved():
    # Unlinked, this was PROVED 69/69 on 4K: the proof ran upstream's ttl_to_size.
    r = prove_case(REV.load(PATCH), Case(12, 1, "match"), props=("P2",))[0]
    assert r.verdict == COUNTEREXAMPLE and r.counterexample["replayed"]
    assert prove_case(REV.load("upstream"), Case(12, 1, "match"), props=("P2",))[0].verdict == PROVED


def test_origins_name_the_definitions_an_import_runs_with():
    from nvtlbi import inputs
    origins = inputs.python_origins(REV.load(PATCH))
    assert origins["ttl_to_size"].startswith(os.path.join("tests", "revisions", "patch_ttl_to_size.py"))
    assert origins["compute_tlb_inval_range"].startswith(os.path.join("impl", "revisions", "upstream.py"))
    assert origins["compute_tlb_inval_range"].endswith("run with this revision's ttl_to_size")


def test_a_function_of_another_era_is_refused_where_its_names_differ(tmp_path):
    # upstream's compute_tlb_inval_range reads names with their 2024 meaning
    # (VTCR_EL2_TG0_* became generated sysreg values in 2026); in a 2026
    # revision it would be audited under the other era's.  (r3_tlb_vtcr,
    # v2023, imports r2a's v2020 ttl_to_size: its names mean the same.)
    p = tmp_path / "mixed.py"
    p.write_text("from nvtlbi.impl.kernel_2026 import *  # noqa\n"
                 "from nvtlbi.impl.revisions.upstream import compute_tlb_inval_range  # noqa\n")
    try:
        REV.load(str(p))
    except REV.RevisionError as e:
        assert str(e).startswith(f"{p}:1: compute_tlb_inval_range is imported from nvtlbi.impl.revisions.upstream")
        assert "era v2024" in str(e) and "era v2026" in str(e)
        assert "uses VTCR_EL2_TG0_16K, VTCR_EL2_TG0_4K, VTCR_EL2_TG0_MASK" in str(e)
    else:
        raise AssertionError("a function of another era was linked")


def test_an_import_without_a_vocabulary_is_the_users_error(tmp_path):
    # the era is read before linking compares eras: no AttributeError inside nvtlbi
    p = tmp_path / "noera.py"
    p.write_text("from nvtlbi.impl.revisions.upstream import compute_tlb_inval_range  # noqa\n")
    try:
        REV.load(str(p))
    except REV.RevisionError as e:
        assert str(e).startswith(f"{p}:1: the revision imports no era vocabulary")
    else:
        raise AssertionError("a revision without a vocabulary was loaded")
