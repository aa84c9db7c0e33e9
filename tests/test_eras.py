"""Era-faithful names (issue 10, item 1): every kernel name and struct field
a revision or posted C may use has a meaning and a source per era
(impl/eras.py), and a name read with no meaning in its era is an error.

The false PROVED this guards against: a 2024 file that reads `mmu->vtcr`
(since Oct 2023 the shadow stage 2's own VTCR_EL2, host page size) for the
guest's granule was proved, because the model read `vtcr` as `tlb_vtcr`."""

import importlib
import os
import re

import pytest

from nvtlbi.impl import eras
from nvtlbi.impl import revision as REV
from nvtlbi.impl.cint import Word, u64
from nvtlbi.impl.nested import GuestS2, VM, new_mmu
from nvtlbi import cli
from nvtlbi.c import era as c_era, pipeline
from nvtlbi.c.inputs import InputError

C = os.path.join(os.path.dirname(__file__), "c")
POSTS = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "posts")
BAD = os.path.join(os.path.dirname(__file__), "revisions", "bad")


@pytest.mark.parametrize("era", list(eras.ERAS))
def test_vocabulary_module_exports_exactly_its_eras_names(era):
    mod = importlib.import_module(eras.ERAS[era].vocabulary)
    assert mod.ERA == era
    assert sorted(mod.__all__) == eras.names(era)
    assert all(hasattr(mod, n) for n in mod.__all__)


def test_every_name_and_field_has_meaning_and_source_in_known_eras():
    for n in eras.NAMES.values():
        assert n.meaning and n.source and n.eras and set(n.eras) <= set(eras.ERAS), n
        assert set(n.changed) <= set(n.eras), n
    for by in eras.FIELDS.values():
        for era, f in by.items():
            assert era in eras.ERAS and f.meaning and f.source and f.attr, f


def test_bundled_revisions_run_in_the_era_of_their_vocabulary():
    for era in eras.ERAS.values():
        for name in era.bundled:
            assert REV.load(name).era == era.name, name


def _mmu(host_shift, guest_shift, ia_bits=40):
    guest = GuestS2(guest_shift)
    return new_mmu(VM(), guest, host_shift, ia_bits=ia_bits), guest


def test_vtcr_means_the_guests_before_oct_2023_and_the_shadow_s2s_after():
    mmu, guest = _mmu(12, 16)           # host 4K pages, guest 64K granule
    with eras.running("v2020"):
        assert int(mmu.vtcr) == guest.vtcr
        with pytest.raises(eras.EraError, match="tlb_vtcr has no meaning in era v2020"):
            mmu.tlb_vtcr
    for era in ("v2023", "v2024", "v2026"):
        with eras.running(era):
            assert int(mmu.tlb_vtcr) == guest.vtcr
            # the shadow S2's own: TG0 of the host's 4K pages, T0SZ = 64 - 40
            assert int(mmu.vtcr) >> 14 & 3 == 0 and int(mmu.vtcr) & 0x3F == 24
    with pytest.raises(eras.EraError, match="outside a revision's run"):
        mmu.vtcr


def test_revision_without_an_era_vocabulary_is_refused():
    with pytest.raises(REV.RevisionError, match=r"noera\.py:1: the revision imports no era vocabulary"):
        REV.load(os.path.join(BAD, "noera.py"))


def test_name_outside_its_era_is_a_one_line_error(capsys):
    """cpus_have_const_cap was removed in 2024: a 2024-era file that calls
    it (and kvm_has_feat) is refused, naming the call."""
    src = open(os.path.join(C, "nested_v2024.c")).read()
    bad = src.replace("if (!ttl || !kvm_has_feat(kvm, ID_AA64MMFR2_EL1, TTL, IMP))",
                      "if (!ttl || !kvm_has_feat(kvm, ID_AA64MMFR2_EL1, TTL, IMP) || "
                      "!cpus_have_const_cap(ARM64_HAS_ARMv8_4_TTL))")
    assert bad != src
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"nvtlbi_era_{os.getpid()}.c")
    with open(path, "w") as f:
        f.write(bad)
    try:
        with pytest.raises(InputError, match=r"\.c:\d+: .*cpus_have_const_cap"):
            pipeline.translate(path)
    finally:
        os.unlink(path)


def test_unknown_field_is_refused():
    src = open(os.path.join(C, "nested_v2024.c")).read().replace("mmu->tlb_vtcr", "mmu->guest_vtcr", 1)
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"nvtlbi_field_{os.getpid()}.c")
    with open(path, "w") as f:
        f.write(src)
    try:
        with pytest.raises(InputError, match=r"field 'guest_vtcr', which has no meaning in era v2024"):
            pipeline.translate(path)
    finally:
        os.unlink(path)


def test_era_detection_dates_vtcr_or_refuses():
    v9 = open(os.path.join(C, "nested_v2020_vtcr.c")).read()
    assert c_era.detect(v9)[0].name == "v2020"
    assert c_era.detect(open(os.path.join(C, "nested_v2020.c")).read())[0].name == "v2023"
    assert c_era.detect(open(os.path.join(C, "broken_host_vtcr.c")).read())[0].name == "v2024"
    undated = "u64 f(struct kvm_s2_mmu *mmu)\n{\n\treturn mmu->vtcr & VTCR_EL2_TG0_MASK;\n}\n"
    with pytest.raises(c_era.Undated, match="choose one with --profile"):
        c_era.detect(undated)


def test_era_from_the_rest_of_the_input_its_base_and_its_date():
    # an undated text (reads mmu->vtcr, no marker) is dated by, in order:
    # markers elsewhere in the input, the era of its base revision, the
    # mail's date; without any of them it is refused
    undated = "u64 f(struct kvm_s2_mmu *mmu)\n{\n\treturn mmu->vtcr & VTCR_EL2_TG0_MASK;\n}\n"
    assert c_era.detect(undated, context="\tkvm_unmap_stage2_range(mmu, a, b);")[0].name == "v2020"
    assert c_era.detect(undated, base_era="v2024")[0].name == "v2024"
    got, why = c_era.detect(undated, date="2023-04-05")
    assert got.name == "v2020" and "2023-04-05" in why
    assert c_era.detect(undated, date="2023-11-20")[0].name == "v2023"
    assert c_era.detect(undated, date="2024-06-14")[0].name == "v2024"
    assert c_era.detect(undated, date="2026-06-12")[0].name == "v2026"
    # the input's own markers win over its date
    assert c_era.detect("x = kvm_has_feat(kvm, ID_AA64MMFR2_EL1, TTL, IMP);", date="2020-02-11")[0].name == "v2024"
    # tlb_vtcr alone is v2023 or later: a date of that time decides, an
    # earlier one cannot make it v2020
    tlb = "u64 f(struct kvm_s2_mmu *mmu)\n{\n\treturn mmu->tlb_vtcr;\n}\n"
    assert c_era.detect(tlb, date="2023-11-20")[0].name == "v2023"
    assert c_era.detect(tlb, date="2020-02-11")[0].name == "v2024"
    with pytest.raises(c_era.Undated):
        c_era.detect(undated, context="nothing dated here", date=None)


def test_old_names_reading_vtcr_in_a_mail_sent_after_the_vtcr_move_are_refused(tmp_path):
    # cpus_have_const_cap and no tlb_vtcr: the names of NV v2 .. v10, where
    # mmu->vtcr is the guest's VTCR_EL2; but after fe49fd940e22 (Oct 2023)
    # it was the host's, and the names still existed: which one a mail of
    # that time meant cannot be told, so it is refused, never read the old way
    from nvtlbi.c import pipeline
    from nvtlbi.c.inputs import InputError
    v9 = open(os.path.join(C, "nested_v2020_vtcr.c")).read()
    assert c_era.detect(v9, date="2023-04-05")[0].name == "v2020"
    with pytest.raises(c_era.Undated, match="dated 2023-11-20, after fe49fd940e22"):
        c_era.detect(v9, date="2023-11-20")
    # the same names, not reading mmu->vtcr: nothing depends on the choice
    assert c_era.detect(v9.replace("mmu->vtcr", "mmu->tlb_vtcr"), date="2023-11-20")[0].name == "v2023"
    assert c_era.detect(v9.replace("mmu->vtcr", "0"), date="2023-11-20")[0].name == "v2020"
    lines = v9.rstrip("\n").split("\n")
    mail = tmp_path / "late.patch"
    mail.write_text("From: Nvtlbi Fixture <fixture@nvtlbi.invalid>\nDate: Mon, 20 Nov 2023 13:10:20 +0000\n"
                    "Subject: [PATCH] fixture: a v9-style nested.c sent late\n\n---\n"
                    "diff --git a/arch/arm64/kvm/nested.c b/arch/arm64/kvm/nested.c\nnew file mode 100644\n"
                    "--- /dev/null\n+++ b/arch/arm64/kvm/nested.c\n"
                    f"@@ -0,0 +1,{len(lines)} @@\n" + "".join(f"+{t}\n" for t in lines))
    with pytest.raises(InputError, match=rf"late.patch:{10 + 88}: the input reads mmu->vtcr"):
        pipeline.translate(str(mail))
    assert pipeline.translate(str(mail), profile="v2020").profile.name == "v2020"


def test_a_patch_mail_is_dated_by_its_date_header(tmp_path):
    from nvtlbi.c import inputs
    body = open(os.path.join(C, "0003-probe-only.patch")).read()
    assert inputs.mail_date(os.path.join(C, "0003-probe-only.patch")) == "2024-01-01"
    late = tmp_path / "late.patch"
    late.write_text(body.replace("Date: Mon, 1 Jan 2024 00:00:03 +0000", "Date: Sun, 31 Dec 2023 23:30:00 -0100"))
    assert inputs.mail_date(str(late)) == "2024-01-01"          # UTC
    bad = tmp_path / "bad.patch"
    bad.write_text(body.replace("Date: Mon, 1 Jan 2024 00:00:03 +0000", "Date: someday"))
    from nvtlbi.c.inputs import InputError
    with pytest.raises(InputError, match=r"bad.patch:3: the Date header cannot be read"):
        inputs.mail_date(str(bad))
    assert inputs.mail_date(os.path.join(C, "nested_v2024.c")) is None


def _audit(path, capsys, *extra):
    code = cli.main(["audit", path, "--granule", "64K", "--hint", "nohint", "--property", "P2", "--jobs", "1",
                     "--no-coverage", *extra])
    return code, capsys.readouterr().out


def test_2024_file_reading_vtcr_gets_a_replayed_counterexample(capsys):
    """Before: PROVED (exit 0).  Host 4K pages under a 64K guest: the
    host's TG0 makes the probe and the fallback use 4K sizes."""
    code, out = _audit(os.path.join(C, "broken_host_vtcr.c"), capsys)
    assert code == 1, out
    assert "replayed on impl/" in out and "MODEL BUG" not in out


def test_same_text_reads_right_in_its_own_era(capsys):
    """The v9-style file reads mmu->vtcr as the guest's VTCR: its P2 verdicts
    are those of the same code spelt with tlb_vtcr."""
    a, out_a = _audit(os.path.join(C, "nested_v2020_vtcr.c"), capsys)
    b, out_b = _audit(os.path.join(C, "nested_v2020.c"), capsys)
    assert a == b == 0, (out_a, out_b)


@pytest.mark.skipif(not os.path.isdir(POSTS), reason="needs ../shared/posts")
def test_sources_that_cite_a_post_are_true_of_it():
    """A name whose source says it is used in a post occurs in that post."""
    with open(os.path.join(POSTS, "README.md")) as f:
        rows = [r.split("|") for r in f if r.startswith("| ") and ".txt" in r]
    by_id = {}
    for r in rows:
        by_id.setdefault(r[4].strip(), []).append(r[1].strip())
    checked = 0
    for n in eras.NAMES.values():
        for mid in re.findall(r"used in [^;]*?([\w.-]+@[\w.]+)", n.source):
            files = by_id.get(mid)
            if not files:
                continue
            text = "".join(open(os.path.join(POSTS, f), errors="replace").read() for f in files)
            assert re.search(rf"\b{n.name}\b", text), (n.name, mid)
            checked += 1
    assert checked >= 8


def test_vcpu_signature_runs_under_its_eras_caller(capsys):
    """compute_tlb_inval_range(vcpu, mmu, val), as in sys_regs.c of NV v2 .. v8.
    Before: every obligation was a 'counterexample' made of our own
    TypeError (the current caller passes (mmu, val)).  Now the era's caller
    runs it, announced as taken from a bundled revision."""
    code = cli.main(["audit", os.path.join(C, "sysregs_v2020.c"), "--base-revision", "r1f_ttl_names",
                     "--granule", "16K", "--hint", "nohint", "--property", "P2", "--jobs", "1", "--no-coverage"])
    out = capsys.readouterr().out
    assert code == 0 and "TypeError" not in out, out
    assert re.search(r"handle_ipas2e1is\s+bundled revision r1f_ttl_names \(the v2020 caller", out), out


@pytest.mark.skipif(not os.path.isdir(POSTS), reason="needs ../shared/posts")
def test_v8_post_runs_and_its_counterexample_is_the_kernels(capsys):
    """v8 55/69 (its caller's hunk accepted as not audited: the era's bundled
    caller runs instead) trusts the TTL on the host's FEAT_TTL: with TTL bits set while
    the VM does not advertise FEAT_TTL it unmaps too little.  That is the
    only failure; none is a TypeError of ours."""
    post = os.path.join(POSTS, "R1f_v8_55.txt")
    code = cli.main(["audit", post, "--base-revision", "r1f_ttl_names", "--unaudited", "handle_ipas2e1is",
                     "--granule", "16K", "--hint", "nofeat", "--hint", "nohint", "--property", "P2", "--jobs", "1",
                     "--no-coverage"])
    out = capsys.readouterr().out
    assert code == 1 and "TypeError" not in out, out
    assert "nofeat-P2" in out and "replayed on impl/" in out, out
    # the post's own hunk of the caller is said to be left out, not silently replaced
    assert "change to handle_ipas2e1is is NOT audited" in out, out
