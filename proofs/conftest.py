"""Shared fixtures: each case (revision, granule, level, hint) is explored
once and its properties proved; tests then look up one obligation each."""

import functools

import pytest

from nvtlbi.impl import revision as REV


@functools.lru_cache(maxsize=None)
def _prove(spec, shift, level, drop, only=None):
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
def preserve():
    """preserve(transition, producer, ob) -> Outcome: each preservation
    obligation of a producer (model/transitions.py) proved once per session,
    shared by proofs/test_invariants.py and proofs/test_endtoend.py.  The
    cache lives in the fixture, not in a module."""
    done = {}

    def get(t, producer, ob):
        key = (t.name, producer.path, ob.id)
        if key not in done:
            done[key] = t.prove(producer, ob)
        return done[key]
    return get
