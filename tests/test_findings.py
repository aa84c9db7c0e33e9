"""Known findings about the kernel (model/findings.py) and P4's one
counterexample per cause: upstream's P4 failures are exactly the known
findings, each shown by its own replayed counterexample; a revision with a
WARN_ON of its own is a new failure, never hidden behind a known one."""

import os

from nvtlbi.impl import revision as REV
from nvtlbi.model import findings
from nvtlbi.model.env import Case
from nvtlbi.model.prover import prove_case
from nvtlbi.model.verdict import COUNTEREXAMPLE

HERE = os.path.dirname(os.path.abspath(__file__))


def _p4(spec, case):
    r, = prove_case(REV.load(spec), case, props=("P4",))
    return r


def test_upstream_shows_each_unmap_warning_as_its_own_known_finding():
    # a 16K guest whose TTL names 4K L3: on a 16K host the 4K unmap is not
    # whole host pages; above a small PARange the range warns too
    r = _p4("upstream", Case(14, 3, "mismatch"))
    assert r.verdict == COUNTEREXAMPLE
    names = [f.name for f in findings.explains(r)]
    assert sorted(names) == ["unmap-range-warn", "unmap-size-warn"], names
    size = next(c for c in [r.counterexample] + r.causes if findings.of(c, "P4").name == "unmap-size-warn")
    # shown alone: below the IPA size, on a 16K host, a 4K range
    assert size["replayed"] and size["host_granule"] == "16K" and size["ipa"] < 1 << size["ia_bits"]
    assert [e - b for b, e, _ in size["ranges"]] == [0x1000]


def test_a_warning_of_the_revision_itself_is_not_a_known_finding():
    r = _p4(os.path.join(HERE, "revisions", "warn_nohint.py"), Case(14, 2, "nohint"))
    assert r.verdict == COUNTEREXAMPLE and findings.explains(r) is None
    own = findings.unexplained(r)
    assert own and all(c["replayed"] for c in own)
    assert any("warn_nohint.py:" in c["error"] for c in own), [c["error"] for c in own]
