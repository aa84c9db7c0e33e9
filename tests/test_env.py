"""The symbolic environment re-states every fact of a memoised probe on
each re-execution of a path (the engine re-runs the revision from the
start for every path, and probe facts are memoised per path prefix)."""

import pytest

from nvtlbi.impl.cint import Word, u64
from nvtlbi.model import assumptions as AS
from nvtlbi.model.engine import Engine
from nvtlbi.model.env import Case, SymEnv
from nvtlbi.model.session import Session


@pytest.mark.parametrize("extra", [(), ("invalid-tag-truth",)])
def test_a_memoised_probe_restates_all_its_facts(extra):
    engine = Engine(AS.enabled(extra=extra), Session())
    names = []
    for _ in range(2):                  # first run, then a re-execution
        def setup():
            env = SymEnv(engine, Case(12, 2, "any"))
            env.probe(Word(u64, env.ipa))
            env.probe(Word(u64, env.ipa & ~0x1FFFFF))
        names.append(sorted({n for n, _ in engine.record(setup)}))
    assert names[0] == names[1]
    if extra:
        # the opt-in facts once went straight to the solver on the first
        # run only, so a re-executed path lost them
        assert "invalid-tag-truth" in names[1]
        assert "invalid-untagged" not in engine.enabled     # replaced by the opt-in one
    else:
        assert {"get-leaf-range", "invalid-untagged", "leaf-tagged"} <= set(names[1])
