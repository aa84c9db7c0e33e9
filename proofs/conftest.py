"""Shared fixtures of proofs/: `preserve` here; `prove` (each case
(revision, granule, level, hint) explored once and its properties proved;
tests then look up one obligation each) is in the top-level conftest.py,
tests/ reads it too."""

import pytest


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
