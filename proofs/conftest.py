"""Shared fixtures: each case (revision, granule, level, hint) is explored
once and its properties proved; tests then look up one obligation each."""

import functools

import pytest

from impl import revision as REV


@functools.lru_cache(maxsize=None)
def _prove(spec, case, drop):
    from model.obligation import prove_case
    return {r.property: r for r in prove_case(REV.load(spec), case, drop=drop)}


@pytest.fixture(scope="session")
def prove():
    return lambda spec, case, drop=(): _prove(spec, case, tuple(drop))
