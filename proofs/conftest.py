"""Shared fixtures: each case (revision, granule, level, hint) is explored
once and its properties proved; tests then look up one obligation each."""

import functools

import pytest

from nvtlbi.impl import revision as REV


@functools.lru_cache(maxsize=None)
def _prove(spec, shift, level, drop):
    from nvtlbi.model import properties as P
    from nvtlbi.model.prover import prove_level
    return prove_level(REV.load(spec), shift, level, props=tuple(P.PROPERTIES), drop=drop)


@pytest.fixture(scope="session")
def prove():
    """prove(spec, case, drop) -> {property: Result} for the case's hint."""
    def get(spec, case, drop=()):
        rs = _prove(spec, case.shift, case.level, tuple(drop))
        return {r.property: r for r in rs if r.hint == case.hint}
    return get
