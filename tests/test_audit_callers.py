"""The IPAS2E1 callers of every era are audited from C when the input holds
them whole: the NV v2 .. v8 handler over two MMUs (handle_ipas2e1is(vcpu,
p, r), which calls compute_tlb_inval_range itself), the v9 .. v11 per-MMU
callback s2_mmu_unmap_stage2_ipa, and today's s2_mmu_unmap_ipa.  The 2024
handle_ipas2e1is, which only iterates over the MMUs, is impl/tlbi.py's."""

import os
import re

import pytest

from nvtlbi.c import pipeline
from nvtlbi.c.inputs import InputError
from nvtlbi.impl import revision as REV
from nvtlbi.model import equiv
from nvtlbi.model.env import Case
from tests.c_revisions import translated

C = os.path.join(os.path.dirname(__file__), "c")


def rev_of(tmp_path, src, name):
    return translated(tmp_path, text=src, name=name)


def caller_v2020():
    return open(os.path.join(C, "caller_v2020.c")).read()


def test_old_handler_is_translated_and_is_r1a(tmp_path):
    rev, tr = rev_of(tmp_path, caller_v2020(), "old")
    assert tr.origins["handle_ipas2e1is"].startswith(str(tmp_path / "old.c"))
    assert "s2_mmu_unmap_ipa" not in tr.origins
    assert equiv.diff_case(rev, REV.load("r1a_ttl_hostcap"), Case(12, None, "any")).verdict == "EQUIVALENT"


def test_old_handler_broken_is_different(tmp_path):
    # the second lookup made for the stage-2-enabled MMU again: the S2-off
    # context is never invalidated
    src = caller_v2020().replace("mmu = lookup_s2_mmu(vcpu->kvm, vttbr, 0);",
                                 "mmu = lookup_s2_mmu(vcpu->kvm, vttbr, HCR_VM);")
    assert src != caller_v2020()
    rev, _ = rev_of(tmp_path, src, "broken")
    assert equiv.diff_case(rev, REV.load("r1a_ttl_hostcap"), Case(12, None, "any")).verdict == "DIFFERENT"


def test_bool_result_must_be_constant(tmp_path):
    src = caller_v2020().replace("\treturn true;\n}", "\treturn max_size;\n}")
    assert src != caller_v2020()
    p = tmp_path / "boolres.c"
    p.write_text(src)
    with pytest.raises(InputError, match=r"boolres.c:\d+: unsupported construct: bool result of handle_ipas2e1is "
                                         r"that is not the constant true or false"):
        pipeline.translate(str(p))


V9_CALLER = '''
static void s2_mmu_unmap_stage2_ipa(struct kvm_s2_mmu *mmu,
				    const union tlbi_info *info)
{
	unsigned long max_size;
	u64 base_addr;

	base_addr = (info->ipa.addr & GENMASK_ULL(35, 0)) << 12;
	max_size = compute_tlb_inval_range(mmu, info->ipa.addr);
	base_addr &= ~(max_size - 1);

	kvm_unmap_stage2_range(mmu, base_addr, max_size);
}
'''


def test_v9_callback_is_translated(tmp_path):
    v9 = open(os.path.join(C, "nested_v2020_vtcr.c")).read()
    rev, tr = rev_of(tmp_path, v9 + V9_CALLER, "v9")
    assert "v9.c" in tr.origins["s2_mmu_unmap_stage2_ipa"] and "tlbi_info_ipa(val)" in tr.source
    plain, _ = rev_of(tmp_path, v9, "plain")         # with the current caller, impl/tlbi.py
    assert equiv.diff_case(rev, plain, Case(14, None, "any")).verdict == "EQUIVALENT"
    # the base aligned to the wrong size: not the same
    bad, _ = rev_of(tmp_path, v9 + V9_CALLER.replace("~(max_size - 1)", "~(SZ_2M - 1)"), "bad")
    assert equiv.diff_case(bad, plain, Case(14, None, "any")).verdict == "DIFFERENT"


def test_two_callers_are_refused(tmp_path):
    src = caller_v2020() + V9_CALLER.replace("compute_tlb_inval_range(mmu, info->ipa.addr)",
                                             "compute_tlb_inval_range(NULL, mmu, info->ipa.addr)")
    p = tmp_path / "two.c"
    p.write_text(src)
    with pytest.raises(InputError, match=r"two.c:\d+: two IPAS2E1 callers of compute_tlb_inval_range in the "
                                         r"input: .* audit one at a time"):
        pipeline.translate(str(p))
    assert re.search("s2_mmu_unmap_stage2_ipa", src)
