"""How the suite is spread over its two test processes (pyproject.toml:
`-n 2 --dist loadgroup`), and the one proof cache tests/ and proofs/ share.

Tests that read one proof (a level of an op, proved once and cached in the
process) are one xdist group: with `--dist load` they were split between the
two processes, each proving the same level (about 25 s for the range op's
16K L3 or the VNCR op's 64K L3, twice).  A module whose tests share a
module-scoped result (the primed proof cache, the mypy cache, one
exploration) is a group for the same reason.  Groups go first (xdist sorts
them by size); then the tests known to be slow (measured, docs/measurements.md),
so that the last tests handed out are short ones and neither process idles
at the end while the other finishes a 30 s test.

The proof cache (nvtlbi/cache.py) is off for the suite, tests/ and proofs/
alike, and points at a directory of the session's own: a test proves what it
asks for (a cached result would skip the code a test monkeypatches or
times), and no test ever reads or writes the user's cache.
tests/test_cache.py turns it on, each test on a fresh directory."""

import functools
import re

import pytest

# proofs/test_{upstream,ripas2e1,vncr}.py: one group per (op, granule, level), per granule for ipas2e1
_OBLIGATION = re.compile(r"proofs/test_(upstream|ripas2e1|vncr)\.py::test_obligation\[upstream-(\w+)-L(\d)-")
_OP = {"upstream": "ipas2e1", "ripas2e1": "ripas2e1", "vncr": "vncr"}

# tests elsewhere that read the same cached proof as a group above
_SHARES = {
    "proofs/test_proofs_can_fail.py::test_upstream_holds_without_the_assumptions_it_does_not_need": "ipas2e1-4K",
    "tests/test_audit_tree.py::test_tree_of_posted_files_has_the_verdicts_of_upstream": "ipas2e1-64K",
    "tests/test_vncr_cli.py::test_audit_posted_vncr_code": "vncr-64K-L3",
    "tests/test_ops_cli.py::test_audit_posted_range_handler": "ripas2e1-16K-L2",
    "proofs/test_proofs_can_fail.py::test_precision_fails_without_the_lookup[nolookup-4K-L2-nohint-P5]":
        "nolookup-4K-L2",
    "proofs/test_proofs_can_fail.py::test_precision_holds_without_the_lookup_when_the_ttl_names_T": "nolookup-4K-L2",
}

# modules whose tests share a module-scoped fixture or a cached exploration
_MODULES = ("tests/test_agreement.py", "tests/test_cache.py", "tests/test_types.py",
            "tests/test_history_ops.py", "tests/test_mutation_ops.py")

# the slowest tests outside the groups (a loaded run's --durations, 10 s and more), slowest first
SLOW = (
    "tests/test_audit_proposed.py::test_lookaround_c_is_lookaround",
    "tests/test_posts.py::test_post_is_equivalent_to_its_bundled_revision[R1e_v7_55]",
    "tests/test_precision.py::test_alternatives_agree_with_their_concrete_runs[lookaround]",
    "tests/test_audit_loops.py::test_struct_local_filled_by_the_walk_is_proved",
    "tests/test_audit_proposed.py::test_lpa2_c_is_proved_with_the_lpa2_levels",
    "tests/test_mutation.py::test_mutant_is_classified[finer]",
    "tests/test_ops_cli.py::test_mutate_a_range_revision",
    "tests/test_selfcheck.py::test_selfcheck_summary",
    "tests/test_selfcheck.py::test_selfcheck_fails_when_the_second_solver_gives_up",
    "tests/test_mutation.py::test_mutant_is_classified[excused]",
    "proofs/test_vncr.py::test_broken_start_only_fails_V1",
    "proofs/test_vncr.py::test_asid_any_fails_V5_only",
    "tests/test_audit_loops.py::test_the_bound_cuts_paths_not_whole_levels",
    "tests/test_audit_proposed.py::test_lpa2_c_is_lpa2_with_lpa2_levels[16]",
    "tests/test_vncr_cli.py::test_posted_vncr_code_equivalent_and_broken",
    "tests/test_audit.py::test_seed_is_upstream",
    "tests/test_precision.py::test_lookaround_proved_and_broken_lookaround_is_not",
    "tests/test_coverage.py::test_a_dead_side_names_the_assumptions_that_rule_it_out",
    "tests/test_mutation.py::test_a_counterexample_that_does_not_replay_leaves_the_mutant_unexplained",
    "tests/test_mutation.py::test_the_originals_own_failures_kill_no_mutant",
)


def group_of(nodeid):
    m = _OBLIGATION.match(nodeid)
    if m and m.group(1) == "upstream":         # cheaper levels: one group per granule
        return f"ipas2e1-{m.group(2)}"
    if m:
        return f"{_OP[m.group(1)]}-{m.group(2)}-L{m.group(3)}"
    if nodeid in _SHARES:
        return _SHARES[nodeid]
    module = nodeid.split("::")[0]
    if module == "proofs/test_endtoend.py":        # its module fixture reads upstream's 16K L3 proofs
        return "ipas2e1-16K"
    return module if module in _MODULES else None


def pytest_configure(config):
    # without xdist (-p no:xdist) the mark is still known
    config.addinivalue_line("markers", "xdist_group(name): tests run in one process (pytest-xdist --dist loadgroup)")


def _suffix(item, group):
    """What pytest-xdist 3.8 does for an xdist_group mark on a worker
    (NODEID@GROUP, the unit --dist loadgroup schedules), done here: it sets
    item._nodeid, which pytest 9 no longer reads (a Node's id is item._id),
    so its groups are silently ignored.  The pinned versions
    (requirements.lock) are the ones this was checked with."""
    from _pytest.nodeid import coerce_node_id
    if "@" not in item.nodeid.rsplit("]", 1)[-1]:
        item._id = coerce_node_id(f"{item.nodeid}@{group}")


@pytest.hookimpl(tryfirst=True)         # before xdist reads the marks into the node ids
def pytest_collection_modifyitems(config, items):
    rank = {nodeid: i for i, nodeid in enumerate(SLOW)}
    for item in items:
        g = group_of(item.nodeid)
        if g:
            item.add_marker(pytest.mark.xdist_group(g))
            if getattr(config.option, "loadgroup", False):
                _suffix(item, g)
    # stable: the slow ones first in SLOW's order, the rest as collected
    items.sort(key=lambda item: rank.get(item.nodeid, len(SLOW)))


@functools.lru_cache(maxsize=None)
def _prove(spec, shift, level, drop, only=None):
    from nvtlbi.impl import revision as REV
    from nvtlbi.model import properties as P
    from nvtlbi.model.prover import prove_level
    if only:            # (hint, props): just those obligations
        return prove_level(REV.load(spec), shift, level, (only[0],), props=only[1], drop=drop)
    return prove_level(REV.load(spec), shift, level, props=tuple(P.PROPERTIES), drop=drop)


@pytest.fixture(scope="session")
def prove():
    """prove(spec, case, drop) -> {property: Result} for the case's hint:
    every property of every hint of the (granule, level) proved at once
    (the obligations of proofs/test_upstream.py share it); with `props`,
    only those of the case's hint (a test that reads one obligation of a
    broken revision or a dropped assumption proves just that one)."""
    def get(spec, case, drop=(), props=None):
        only = (case.hint, tuple(props)) if props else None
        rs = _prove(spec, case.shift, case.level, tuple(drop), only)
        return {r.property: r for r in rs if r.hint == case.hint}
    return get


@pytest.fixture(scope="session")
def prove_op():
    """prove_op(op, spec, shift, level) -> {(hint, property): Result}: the
    default obligations (the op's isolation properties) of every case of one
    (granule, level), or of the `hints` and `props` given, proved once per process; proofs/test_ripas2e1.py,
    proofs/test_vncr.py and tests/test_vncr_cli.py read it."""
    done = {}

    def get(op, spec, shift, level, hints=None, props=None):
        key = (op, spec, shift, level, hints, props)
        if key not in done:
            from nvtlbi.impl import revision as REV
            from nvtlbi.model import ops
            from nvtlbi.model.prover import prove_level
            o = ops.op(op)
            done[key] = {(r.hint, r.property): r for r in
                         prove_level(REV.load(spec, o.caller), shift, level, hints or o.cases,
                                     props=props or o.isolation, op=o)}
        return done[key]
    return get


@pytest.fixture(autouse=True, scope="session")
def _no_user_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NVTLBI_CACHE_DIR", str(tmp_path_factory.mktemp("nvtlbi-cache")))
        mp.setenv("NVTLBI_NO_CACHE", "1")
        yield
