"""Obligations of the VNCR pseudo-TLB's invalidation (op vncr) for its
bundled `upstream` (N3_nested_96575923.txt), one test per obligation:
upstream-GRANULE-LLEVEL-KIND-PROPERTY (model/ops.py VNCR).

The findings this file records (each a replayed counterexample):
- V4, every TLBI kind: invalidate_vncr_va dereferences vcpu->arch.vncr_tlb
  without the NULL check kvm_invalidate_vncr_ipa has; a vCPU that has not run
  yet has none (allocated in kvm_arch_vcpu_run_pid_change).
- V1, va/vaa: va_start + va_size (and scope->va + scope->size) wrap to 0 for a
  translation in the topmost block of the VA space, so no TLBI by VA drops it
  (TLBIMatch compares VA<55:bs>: J1.1.3.449).
- V1, rva/rvaa: decode_range_tlbi does not sign-extend BaseADDR (TLBIRange,
  J1.1.3.451, does), so no range TLBI drops an upper-range (TTBR1) VNCR page.
- V1 and V2 at 4K L0 / 16K L1 (LPA2 stage-1 blocks): ttl_to_size gives 0, the
  cached block is [0, 0), and neither TLBIs by VA nor KVM's unmap drop it.
V1 for TLBI ASID / ALL, V2 elsewhere, V3 and V5 (precision: no other
ASID's, no global entry for a TLBI by ASID, nothing outside the VA's span or
the unmapped IPAs; every granule, level and kind) are PROVED.  A TLBI by ASID
that drops other address spaces' pseudo-TLBs fails V5 alone.  A broken
invalidate_vncr_va (only the block's start compared) fails V1 with a replayed
counterexample.  Not yet shown: that its counterexample is one upstream passes
(the solver picks the top-of-VA scenario upstream fails too)."""

import os

import pytest

from nvtlbi.model import assumptions as AS
from nvtlbi.model import ops
from nvtlbi.model.verdict import COUNTEREXAMPLE, PROVED

OP = ops.op("vncr")
BROKEN = os.path.join(os.path.dirname(__file__), "..", "tests", "revisions", "vncr", "broken_start_only.py")


# the isolation obligations and precision (V5, proved on request: here): all the op's properties
PROPS = tuple(OP.properties)
ASID_ANY = os.path.join(os.path.dirname(__file__), "..", "tests", "revisions", "vncr", "asid_any.py")


# One level in the suite (64K L3: it shows every finding but the LPA2
# blocks'), every granule and level with NVTLBI_FULL=1 (docs/measurements.md)
FULL = bool(os.environ.get("NVTLBI_FULL"))
OBLIGATIONS = [(c, p) for c in OP.matrix(AS.enabled()) for p in PROPS if OP.applies(p, c.hint)
               and (FULL or (c.shift, c.level) == (16, 3))]


def _expected(case, prop):
    lpa2_block = (case.shift, case.level) in ((12, 0), (14, 1))
    if prop == "V4":
        return PROVED if case.hint == "ipa" else COUNTEREXAMPLE
    if prop == "V1":
        return PROVED if case.hint in ("asid", "all") else COUNTEREXAMPLE
    if prop == "V2":
        return COUNTEREXAMPLE if lpa2_block else PROVED
    return PROVED


@pytest.mark.parametrize("case,prop", OBLIGATIONS,
                         ids=[f"upstream-{c.granule}-L{c.level}-{c.hint}-{p}" for c, p in OBLIGATIONS])
def test_obligation(prove_op, case, prop):
    # proved once per process for the (granule, level): conftest.py, prove_op
    r = prove_op("vncr", "upstream", case.shift, case.level, props=PROPS)[case.hint, prop]
    want = _expected(case, prop)
    assert r.verdict == want, (r.id, r.verdict, r.reason, r.counterexample)
    assert r.witness is not None and r.paths > 0
    if want == PROVED:
        assert r.concrete and r.concrete["witness"] == "case occurs concretely", r.concrete
    else:
        c = r.counterexample
        assert c["replayed"], c["replay"]
        assert c.get("survived") or c.get("error"), c


def test_asid_any_fails_V5_only(prove_op):
    """Precision can fail: a TLBI by ASID that drops other address spaces'
    pseudo-TLBs keeps V1-V4 and fails V5, replayed."""
    rs = prove_op("vncr", ASID_ANY, 16, 3, ("asid",), PROPS)
    assert {p: r.verdict for (h, p), r in rs.items()} == {"V1": PROVED, "V3": PROVED, "V4": PROVED,
                                                          "V5": COUNTEREXAMPLE}, rs
    c = rs["asid", "V5"].counterexample
    assert c["replayed"] and c["imprecise"], c


def test_broken_start_only_fails_V1(prove_op):
    """The proofs can fail: the start-only compare gets a replayed counterexample."""
    r = prove_op("vncr", BROKEN, 12, 2, ("va",), ("V1",))["va", "V1"]
    assert r.verdict == COUNTEREXAMPLE, (r.verdict, r.reason)
    c = r.counterexample
    assert c["replayed"], c["replay"]
    assert c["survived"], c
