"""Obligations of the range TLBI (TLBI RIPAS2E1*, op ripas2e1) for its
bundled `upstream`, one test per obligation:
upstream-GRANULE-LLEVEL-CASE-PROPERTY (model/ops.py RIPAS2E1).

R1, R3, R4 are PROVED.  R2 (a cached guest block overlapping the range in
part is removed whole: TLBIOp_RIPAS2, J1.1.3.449) fails for every level
with blocks: upstream unmaps exactly [base, base+size), so the shadow
leaves of a guest block that straddles the range's end survive: a replayed
counterexample, the finding this file records.  A broken decode (no +1 in
NUM+1) fails R1 with a replayed counterexample: the proofs can fail."""

import os

import pytest

from nvtlbi.model import assumptions as AS
from nvtlbi.model import findings
from nvtlbi.model import ops
from nvtlbi.model.verdict import COUNTEREXAMPLE, PROVED

OP = ops.op("ripas2e1")
FULL = bool(os.environ.get("NVTLBI_FULL"))
BROKEN = os.path.join(os.path.dirname(__file__), "..", "tests", "revisions", "ripas2e1", "broken_num.py")


# One granule in the suite (16K: a block level and a page level), every
# granule with NVTLBI_FULL=1 (docs/measurements.md)
OBLIGATIONS = [(c, p) for c in OP.matrix(AS.enabled()) for p in OP.isolation if OP.applies(p, c.hint)
               and (FULL or c.shift == 14)]


def _expected(case, prop):
    # R2 fails where the guest has blocks (a level above 3): the finding;
    # R4 fails with the unmap's known findings (model/findings.py) only
    return COUNTEREXAMPLE if (prop == "R2" and case.level < 3) or prop == "R4" else PROVED


@pytest.mark.parametrize("case,prop", OBLIGATIONS,
                         ids=[f"upstream-{c.granule}-L{c.level}-{c.hint}-{p}" for c, p in OBLIGATIONS])
def test_obligation(prove_op, case, prop):
    # proved once per process for the (granule, level): conftest.py, prove_op
    r = prove_op("ripas2e1", "upstream", case.shift, case.level)[case.hint, prop]
    want = _expected(case, prop)
    assert r.verdict == want, (r.id, r.verdict, r.reason, r.counterexample)
    assert r.witness is not None and r.paths > 0
    if want == PROVED:
        assert r.concrete and r.concrete["witness"] == "case occurs concretely", r.concrete
    elif prop == "R4":
        assert findings.explains(r), [c.get("error") for c in [r.counterexample] + r.causes]
    else:
        c = r.counterexample
        assert c["replayed"], c["replay"]
        assert c["stale"], c        # a shadow leaf of the guest block survived on impl/


def test_broken_num_fails_R1(prove_op):
    """The proofs can fail: the decode without __TLBI_RANGE_PAGES' +1."""
    r = prove_op("ripas2e1", BROKEN, 14, 3, ("nolevel",), ("R1",))["nolevel", "R1"]
    assert r.verdict == COUNTEREXAMPLE, (r.verdict, r.reason)
    assert r.counterexample["replayed"], r.counterexample["replay"]
