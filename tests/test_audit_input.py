"""`nvtlbi audit` audits exactly what the input says (issue 10, class 2):
one definition per audited function, preprocessor conditionals decided
or refused, the newest version of each patch of an mbox, and no change of
the input dropped because its function came from elsewhere.  Each test
stops before proving, except the one that checks --json."""

import json
import os
import re

import pytest

from nvtlbi import cli
from nvtlbi.c import inputs, pipeline, preprocess

C = os.path.join(os.path.dirname(__file__), "c")


def c(name):
    return os.path.join(C, name)


def line_of(path, text, nth=1, after=0):
    """The line number of the nth line of `path` (after line `after`) that starts with `text`."""
    with open(path) as f:
        hits = [i + 1 for i, t in enumerate(f.read().split("\n")) if t.startswith(text) and i + 1 > after]
    return hits[nth - 1]


def audited_lines(tr, path):
    """The input lines the generated revision cites (`# FILE:LINE`)."""
    return {int(n) for n in re.findall(re.escape(path) + r":(\d+)", tr.source)}


def error_of(capsys, argv):
    code = cli.main(["audit"] + argv + ["--translate-only"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("nvtlbi: error: "), (code, err)
    return err


# ---- 1. duplicate definitions ---------------------------------------------------------------------
def test_two_definitions_are_an_error_naming_both(capsys):
    f = c("dup_definition.c")
    first, second = line_of(f, "unsigned long compute_tlb_inval_range", 1), \
        line_of(f, "unsigned long compute_tlb_inval_range", 2)
    err = error_of(capsys, [f])
    assert f"{f}:{second}: compute_tlb_inval_range is defined twice" in err and f"{f}:{first}" in err, err


HELPER = ("static unsigned int half_of(unsigned int x)\n{\n\treturn x >> 1;\n}\n\n")
CALLS_HELPER = ("static unsigned int ttl_to_size(u8 ttl)\n{\n\treturn half_of(SZ_4K);\n}\n")


def test_two_definitions_of_a_called_helper_are_an_error(tmp_path, capsys):
    f = tmp_path / "helper.c"
    f.write_text(HELPER + HELPER.replace(">> 1", ">> 2") + CALLS_HELPER)
    err = error_of(capsys, [str(f), "--base-revision", "upstream"])
    assert f"{f}:6: half_of is defined twice: here and at {f}:1" in err, err


def test_helper_defined_once_is_translated(tmp_path):
    f = tmp_path / "helper.c"
    f.write_text(HELPER + CALLS_HELPER)
    mod = pipeline.load_source(pipeline.translate(str(f), base_revision="upstream").source)
    assert int(mod.ttl_to_size(0)) == 2048


STUB_GET_LEAF = ("static int kvm_pgtable_get_leaf(struct kvm_pgtable *pgt, u64 addr, kvm_pte_t *ptep, s8 *level)\n"
                 "{\n\t*ptep = PTE_VALID | FIELD_PREP(KVM_NV_GUEST_MAP_SZ, 3);\n\treturn 0;\n}\n\n")


def test_a_modelled_function_the_input_defines_is_said_not_audited(tmp_path):
    """The audit calls nvtlbi's model of kvm_pgtable_get_leaf, so a stub the
    input defines (here one that makes every probe hit a tagged leaf) is not
    what is proved: the origins and a note say so, never silently."""
    f = tmp_path / "stub.c"
    f.write_text(STUB_GET_LEAF + open(c("nested_v2024.c")).read())
    tr = pipeline.translate(str(f))
    assert tr.origins["kvm_pgtable_get_leaf"].endswith(f"NOT the input's {f}:1-5"), tr.origins
    assert any("defines kvm_pgtable_get_leaf" in n and "NOT audited" in n for n in tr.notes), tr.notes


def test_a_macro_named_like_an_audited_function_is_refused(tmp_path, capsys):
    """`#define ttl_to_size(t) SZ_4K` after the function: cpp makes every
    later call 4K; reading the calls as the function would prove other code."""
    text = open(c("nested_v2024.c")).read()
    at = text.index("/*\n * Recover a TTL")
    f = tmp_path / "macro.c"
    f.write_text(text[:at] + "#define ttl_to_size(t) SZ_4K\n\n" + text[at:])
    line = text[:at].count("\n") + 1
    err = error_of(capsys, [str(f)])
    assert f"{f}:{line}: unsupported construct: the input defines the macro ttl_to_size(t)" in err, err


# ---- 2. preprocessor conditionals -------------------------------------------------------------------
def test_if0_definition_is_not_audited():
    # the live definition (the broken 2M fallback) comes first, an older one
    # follows under #if 0: the live one is audited, nothing of the dead one
    f = c("if0_dead_last.c")
    live, dead = line_of(f, "unsigned long compute_tlb_inval_range", 1), line_of(f, "#if 0")
    tr = pipeline.translate(f)
    assert tr.origins["compute_tlb_inval_range"].startswith(f"{f}:{live}-")
    cited = audited_lines(tr, f)
    assert cited and not any(n > dead for n in cited), sorted(n for n in cited if n > dead)
    assert line_of(f, "\t\t\tmax_size = SZ_2M;", after=live) in cited


def test_undecided_ifdef_is_refused_naming_the_macro(capsys):
    f = c("ifdef_config.c")
    err = error_of(capsys, [f])
    assert f"{f}:{line_of(f, '#ifdef CONFIG_NVTLBI_FIXTURE_FIX')}: " in err
    assert "CONFIG_NVTLBI_FIXTURE_FIX is not set; give --define CONFIG_NVTLBI_FIXTURE_FIX" in err, err


@pytest.mark.parametrize("config,nth", [(preprocess.Config.parse(["CONFIG_NVTLBI_FIXTURE_FIX"]), 1),
                                        (preprocess.Config.parse(["CONFIG_NVTLBI_FIXTURE_FIX=n"]), 2),
                                        (preprocess.Config.parse([], ["CONFIG_NVTLBI_FIXTURE_FIX"]), 2)])
def test_define_decides_the_branch(config, nth):
    f = c("ifdef_config.c")
    tr = pipeline.translate(f, config=config)
    at = line_of(f, "unsigned long compute_tlb_inval_range", nth)
    assert tr.origins["compute_tlb_inval_range"].startswith(f"{f}:{at}-")


def test_cli_define_option(capsys):
    f = c("ifdef_config.c")
    assert cli.main(["audit", f, "--define", "CONFIG_NVTLBI_FIXTURE_FIX", "--translate-only"]) == 0
    assert f"{f}:{line_of(f, 'unsigned long compute_tlb_inval_range', 1)}-" in capsys.readouterr().out
    err = error_of(capsys, [f, "--define", "CONFIG_NVTLBI_FIXTURE_FIX=maybe"])
    assert "must be an integer, y or n" in err


def test_conditionals_inside_a_body_are_evaluated():
    f = c("if_inside.c")
    on = pipeline.translate(f, config=preprocess.Config.parse(["CONFIG_NVTLBI_FIXTURE_TTL=y"]))
    off = pipeline.translate(f, config=preprocess.Config.parse(["CONFIG_NVTLBI_FIXTURE_TTL=n"]))
    head = line_of(f, "unsigned long compute_tlb_inval_range")
    fallback = {t: line_of(f, f"\t\t\tmax_size = {t};", after=head) for t in ("SZ_2M", "SZ_32M", "SZ_16K")}
    for tr in (on, off):
        cited = audited_lines(tr, f)
        assert fallback["SZ_32M"] in cited and fallback["SZ_2M"] not in cited and fallback["SZ_16K"] not in cited
    use = line_of(f, "\tmax_size = ttl_to_size(ttl);")
    assert use in audited_lines(on, f) and use not in audited_lines(off, f)
    assert line_of(f, "\tmax_size = 0;") in audited_lines(off, f)


@pytest.mark.parametrize("expr,value", [
    ("0", False), ("1", True), ("(1 << 3) == 8", True), ("!0 && 2 > 1", True),
    ("defined(CONFIG_A)", True), ("defined CONFIG_A && !defined(CONFIG_B)", True),
    ("IS_ENABLED(CONFIG_A)", True), ("IS_ENABLED(CONFIG_B)", False), ("IS_MODULE(CONFIG_A)", False),
    ("CONFIG_LEVEL >= 3", True),
    ("IS_ENABLED(CONFIG_X)", "CONFIG_X"), ("defined(X) || 0", "X"),
    ("0 && defined(X)", False), ("1 || FOO(2)", True),
    ("LINUX_VERSION_CODE >= KERNEL_VERSION(6, 1, 0)", "LINUX_VERSION_CODE"),
])
def test_if_expressions(expr, value):
    cfg = preprocess.Config.parse(["CONFIG_A", "CONFIG_LEVEL=3"], ["CONFIG_B"])
    assert preprocess._condition("if", expr, cfg) == (value if isinstance(value, bool) else preprocess.Open(macro=value))


def test_conditional_in_a_dead_branch_needs_no_value(tmp_path):
    f = tmp_path / "dead.c"
    f.write_text("static unsigned int ttl_to_size(u8 ttl)\n{\n\treturn 2;\n}\n#if 0\n#ifdef CONFIG_UNSET\n"
                 "static unsigned int ttl_to_size(u8 ttl)\n{\n\treturn 1;\n}\n#endif\n#endif\n")
    mod = pipeline.load_source(pipeline.translate(str(f), base_revision="upstream").source)
    assert int(mod.ttl_to_size(0)) == 2


def test_elif_after_an_undecided_if_is_undecided(tmp_path, capsys):
    f = tmp_path / "elif.c"
    f.write_text("static unsigned int ttl_to_size(u8 ttl)\n{\n#ifdef CONFIG_UNSET\n\treturn 1;\n#elif 1\n"
                 "\treturn 2;\n#endif\n}\n")
    err = error_of(capsys, [str(f), "--base-revision", "upstream"])
    assert f"{f}:3: " in err and "CONFIG_UNSET is not set" in err, err


def test_unterminated_conditional_is_refused(tmp_path, capsys):
    f = tmp_path / "open.c"
    f.write_text("#if 1\nstatic unsigned int ttl_to_size(u8 ttl)\n{\n\treturn 1;\n}\n")
    err = error_of(capsys, [str(f), "--base-revision", "upstream"])
    assert f"{f}:1: " in err and "no #endif" in err, err


# ---- 3. several versions of a series in one mbox -------------------------------------------------
def test_mbox_with_v1_and_v2_uses_v2():
    f = c("series_v1_v2.mbox")
    v2 = line_of(f, "Subject: [PATCH v2 0/2]")
    tr = pipeline.translate(f)
    for n in ("ttl_to_size", "get_guest_mapping_ttl", "compute_tlb_inval_range"):
        assert re.fullmatch(re.escape(f) + r":(\d+)-(\d+)", tr.origins[n]), tr.origins[n]
        assert int(tr.origins[n].split(":")[-1].split("-")[0]) > v2, (n, tr.origins[n])
    assert min(audited_lines(tr, f)) > v2
    dropped = [n for n in tr.notes if "not applied: replaced by '[PATCH v2" in n]
    assert len(dropped) == 2 and all("'[PATCH 1/2]" in n or "'[PATCH 2/2]" in n for n in dropped), tr.notes
    assert [n for n in tr.notes if n.startswith("applied:")] == \
        [n for n in tr.notes if n.startswith("applied: [PATCH v2 ")] and len(
            [n for n in tr.notes if n.startswith("applied:")]) == 2


def mails(path):
    with open(path) as fh:
        text = fh.read()
    starts = [m.start() for m in re.finditer(r"^From [0-9a-f]{40} ", text, re.M)]
    return [text[a:b] for a, b in zip(starts, starts[1:] + [len(text)])]


def test_partial_reroll_takes_the_newest_of_each_patch(tmp_path):
    cover1, p1, p2, cover2, q1, q2 = mails(c("series_v1_v2.mbox"))
    f = tmp_path / "reroll.mbox"
    f.write_text(p1 + p2 + q2)            # v2 resends only 2/2
    tr = pipeline.translate(str(f))
    applied = [n for n in tr.notes if n.startswith("applied:")]
    assert applied == ["applied: [PATCH 1/2] KVM: arm64: nv: fixture: size TLBIs from the TTL hint",
                       "applied: [PATCH v2 2/2] KVM: arm64: nv: fixture: probe the shadow S2 for a TTL"]
    assert sum("not applied" in n for n in tr.notes) == 1


@pytest.mark.parametrize("build,msg", [
    # the same mail twice
    (lambda m: m[1] + m[2] + m[2], "the same patch twice"),
    # 1/2 of two different series (v1's 1/2 is the broken one)
    (lambda m: m[1] + m[4].replace("[PATCH v2 1/2]", "[PATCH 1/2]"), "two patches numbered the same"),
    # two series of different lengths under one version
    (lambda m: m[1] + m[5].replace("[PATCH v2 2/2]", "[PATCH 2/3]"), "two series in one input"),
    # cover letters of two series
    (lambda m: m[0] + m[1] + m[2] + m[3].replace("TLBI range from the TTL", "something else") + m[4] + m[5],
     "two series in one input: cover letter"),
])
def test_mbox_of_two_series_or_a_repeated_patch_is_an_error(tmp_path, capsys, build, msg):
    f = tmp_path / "bad.mbox"
    f.write_text(build(mails(c("series_v1_v2.mbox"))))
    err = error_of(capsys, [str(f)])
    assert msg in err and err.startswith(f"nvtlbi: error: {f}:"), err


def unnumbered(m, subject):
    return re.sub(r"^Subject: .*$", f"Subject: {subject}", m, count=1, flags=re.M)


def test_unnumbered_patches_of_one_version_apply_in_order():
    m = mails(c("series_v1_v2.mbox"))
    patches = inputs.parse_patches("x", unnumbered(m[4], "[PATCH] a") + unnumbered(m[5], "[PATCH] b"))
    assert [p.subject for p in inputs.select_series("x", patches)[0]] == ["[PATCH] a", "[PATCH] b"]


def test_unnumbered_patch_resent_as_v2_replaces_v1():
    m = mails(c("series_v1_v2.mbox"))
    patches = inputs.parse_patches("x", unnumbered(m[1], "[PATCH] a") + unnumbered(m[4], "[PATCH v2] a"))
    chosen, notes = inputs.select_series("x", patches)
    assert [p.subject for p in chosen] == ["[PATCH v2] a"] and len(notes) == 1


@pytest.mark.parametrize("subjects,msg", [
    (["[PATCH] a", "[PATCH 2/2] b"], "two series in one input"),
    (["[PATCH] a", "[PATCH] b", "[PATCH v2] a"], "cannot tell which patch replaces which"),
])
def test_unnumbered_patches_that_are_unclear_are_an_error(subjects, msg):
    m = mails(c("series_v1_v2.mbox"))
    text = "".join(unnumbered(x, s) for x, s in zip([m[1], m[2], m[4]], subjects))
    with pytest.raises(inputs.InputError, match=msg):
        inputs.select_series("x", inputs.parse_patches("x", text))


def test_a_reply_carrying_a_diff_is_not_applied():
    # a reviewer's "something like this?" diff is not part of the series
    f_mails = mails(c("series_v1_v2.mbox"))
    reply = unnumbered(f_mails[2], "Re: [PATCH v2 2/2] KVM: arm64: nv: fixture: probe the shadow S2 for a TTL")
    patches = inputs.parse_patches("x", f_mails[4] + f_mails[5] + reply)
    chosen, notes = inputs.select_series("x", patches)
    assert [p.subject for p in chosen] == [f_mails[4].split("Subject: ")[1].split("\n")[0],
                                          f_mails[5].split("Subject: ")[1].split("\n")[0]]
    assert len(notes) == 1 and "is a reply carrying a diff: not applied" in notes[0]


def test_series_tags():
    assert inputs.series_tag("[PATCH v2 3/6] KVM: x") == (2, 3, 6)
    assert inputs.series_tag("[RFC PATCH v11 03/43] x") == (11, 3, 43)
    assert inputs.series_tag("[PATCH] x") == (1, None, None)
    assert inputs.series_tag("[PATCH v2] x") == (2, None, None)
    assert inputs.series_tag("Re: [PATCH v3 0/16] x") == (3, 0, 16)


# ---- 4. where each function came from; no input change dropped --------------------------------------
def test_change_to_a_function_taken_from_a_bundled_revision_is_an_error(capsys):
    f = c("0002-probe.patch")
    err = error_of(capsys, [f, "--base-revision", "upstream"])
    assert f"{f}:{line_of(f, '+	struct kvm *kvm = kvm_s2_mmu_to_kvm(mmu);')}: the input changes " \
           f"compute_tlb_inval_range (it has only {f}:" in err, err
    assert "), but the audit would take compute_tlb_inval_range from bundled revision upstream, so this change " \
           "would not be audited" in err, err


def test_unaudited_turns_the_error_into_a_note():
    # an explicit acceptance, said in the report: never silent
    f = c("0002-probe.patch")
    tr = pipeline.translate(f, base_revision="upstream", unaudited=["compute_tlb_inval_range"])
    assert tr.origins["compute_tlb_inval_range"] == "bundled revision upstream"
    (note,) = [n for n in tr.notes if "NOT audited" in n]
    assert note.startswith(f"note: {f}:") and "--unaudited compute_tlb_inval_range" in note


PGTABLE = """diff --git a/arch/arm64/kvm/hyp/pgtable.c b/arch/arm64/kvm/hyp/pgtable.c
--- a/arch/arm64/kvm/hyp/pgtable.c
+++ b/arch/arm64/kvm/hyp/pgtable.c
@@ -300,6 +300,7 @@ int kvm_pgtable_get_leaf(struct kvm_pgtable *pgt, u64 addr,
 	int ret;
 
 	ret = kvm_pgtable_walk(pgt, ALIGN_DOWN(addr, PAGE_SIZE), PAGE_SIZE, &walker);
+	ret = 0;
 	if (!ret) {
 		if (ptep)
 			*ptep  = data.pte;
"""


def test_change_to_a_vocabulary_function_is_an_error(tmp_path, capsys):
    # before: every audited function came from the bundled revision and the
    # report named the mail, whose only change was never looked at
    f = tmp_path / "leaf.patch"
    f.write_text(PGTABLE)
    err = error_of(capsys, [str(f), "--base-revision", "upstream"])
    assert f"{f}:8: the input changes kvm_pgtable_get_leaf, but the audit would take kvm_pgtable_get_leaf " \
           "from nvtlbi's model of it" in err, err


def test_change_in_an_unnamed_function_is_an_error_when_something_is_borrowed(tmp_path, capsys):
    f = tmp_path / "plain.diff"
    f.write_text("--- a/arch/arm64/kvm/nested.c\n+++ b/arch/arm64/kvm/nested.c\n@@ -170,3 +170,4 @@\n"
                 " \tu8 ttl;\n+\tWARN_ON(1);\n \n")
    err = error_of(capsys, [str(f), "--base-revision", "upstream"])
    assert f"{f}:5: cannot tell which function this change is in" in err, err


def test_json_names_the_origin_of_every_function(capsys):
    f = c("0003-probe-only.patch")
    # one level: the origins are the claim, not the verdicts
    code = cli.main(["audit", f, "--base-revision", "upstream", "--json", "--granule", "4K", "--level", "3",
                     "--hint", "nohint", "--property", "P1", "--jobs", "1"])
    doc = json.loads(capsys.readouterr().out)
    assert code in (0, 1)
    (rev,) = doc["revisions"]
    assert rev["origins"] == {"get_guest_mapping_ttl": f"{f}:{line_of(f, '+static u8 get_guest_mapping_ttl')}-"
                              f"{line_of(f, '+}')}",
                              "ttl_to_size": "bundled revision upstream",
                              "compute_tlb_inval_range": "bundled revision upstream",
                              "s2_mmu_unmap_ipa": pipeline.CURRENT_CALLER}


def test_python_revisions_name_where_each_function_is(tmp_path):
    from nvtlbi import scheduler     # a revision is inspected in a worker, never in this process
    got = scheduler.describe(["r1b_swwalk"], None, origins=True)["r1b_swwalk"].origins
    # r1b keeps r1a's ttl_to_size: the origin says so
    assert re.fullmatch(r"impl/revisions/r1a_ttl_hostcap\.py:\d+-\d+", got["ttl_to_size"]), got
    assert re.fullmatch(r"impl/revisions/r1b_swwalk\.py:\d+-\d+", got["compute_tlb_inval_range"]), got
    # its caller is its own NV v2 handler over two MMUs, not impl/tlbi.py's (before: named wrongly)
    assert re.fullmatch(r"impl/revisions/r1\w+\.py:\d+-\d+", got["handle_ipas2e1is"]), got
    assert "s2_mmu_unmap_ipa" not in got
    up = scheduler.describe(["upstream"], None, origins=True)["upstream"].origins
    assert up["s2_mmu_unmap_ipa"].startswith("impl/tlbi.py") and "handle_ipas2e1is" not in up


def test_a_definition_the_extractor_cannot_delimit_is_refused(tmp_path, capsys):
    # before: the brace on the head line hid this definition, and
    # --base-revision silently audited the bundled ttl_to_size instead
    f = tmp_path / "brace.c"
    f.write_text("unsigned long ttl_to_size_proto(u8 ttl);\n"
                 "static unsigned int ttl_to_size(u8 ttl,\n\t\t\t\tint unused);\n"
                 "static unsigned int ttl_to_size(u8 ttl) {\n\treturn 0;\n}\n")
    err = error_of(capsys, [str(f), "--base-revision", "upstream"])
    assert f"{f}:4: unsupported construct: definition of ttl_to_size whose opening brace" in err, err


def test_a_hunk_inside_a_conditional_opened_out_of_sight_is_refused(tmp_path, capsys):
    # the hunk's trailing context closes a conditional whose #if the patch
    # does not show: whether the added function is compiled is unknown
    f = tmp_path / "hidden.patch"
    f.write_text("diff --git a/arch/arm64/kvm/nested.c b/arch/arm64/kvm/nested.c\n"
                 "--- a/arch/arm64/kvm/nested.c\n+++ b/arch/arm64/kvm/nested.c\n"
                 "@@ -40,4 +40,9 @@ static int count_valid(u64 *ptes, int n)\n"
                 " \treturn c;\n }\n \n"
                 "+static unsigned int ttl_to_size(u8 ttl)\n+{\n+\treturn 0;\n+}\n+\n"
                 " #endif /* CONFIG_SOMETHING */\n")
    err = error_of(capsys, [str(f), "--base-revision", "upstream"])
    assert f"{f}:13: unsupported construct: preprocessor directive '#endif' around or inside ttl_to_size: " \
           "cannot tell whether the code is compiled (a conditional opened in text the input does not show)" \
        in err, err


def test_change_to_a_caller_that_is_not_audited_is_an_error(tmp_path, capsys):
    # as the 2020-2023 posts change handle_ipas2e1is, which the model
    # replaces by the current per-MMU caller
    f = tmp_path / "caller.patch"
    f.write_text("diff --git a/arch/arm64/kvm/sys_regs.c b/arch/arm64/kvm/sys_regs.c\n"
                 "--- a/arch/arm64/kvm/sys_regs.c\n+++ b/arch/arm64/kvm/sys_regs.c\n"
                 "@@ -10,6 +10,6 @@ static bool handle_ipas2e1is(struct kvm_vcpu *vcpu, struct sys_reg_params *p,\n"
                 " \tu64 base_addr;\n \n"
                 "-\tmax_size = compute_tlb_inval_range(mmu, p->regval);\n"
                 "+\tmax_size = compute_tlb_inval_range(mmu, p->regval) * 2;\n"
                 " \tbase_addr &= ~(max_size - 1);\n \n")
    err = error_of(capsys, [str(f), "--base-revision", "upstream"])
    assert f"{f}:7: the input changes handle_ipas2e1is, but it calls compute_tlb_inval_range and is not one " \
           "of the functions audited" in err, err


def test_input_with_none_of_the_audited_functions_is_an_error(tmp_path, capsys):
    # before: exit 0 and a verdict named after the mail, about bundled code only
    f = tmp_path / "unrelated.patch"
    f.write_text("diff --git a/arch/arm64/kvm/nested.c b/arch/arm64/kvm/nested.c\n"
                 "--- a/arch/arm64/kvm/nested.c\n+++ b/arch/arm64/kvm/nested.c\n"
                 "@@ -10,3 +10,4 @@ static int count_valid(u64 *ptes, int n)\n"
                 " \tint i, c = 0;\n+\tint unused = 0;\n \n \tfor (i = 0; i < n; i++)\n")
    err = error_of(capsys, [str(f), "--base-revision", "upstream"])
    assert f"{f}:1: none of ttl_to_size, get_guest_mapping_ttl, compute_tlb_inval_range, s2_mmu_unmap_ipa, " \
           "s2_mmu_unmap_stage2_ipa, handle_ipas2e1is is in the input" in err, err


# ---- what a revision is made of (issue 12) -------------------------------------------------------
def test_a_patch_creating_a_file_applies(tmp_path):
    p = tmp_path / "new.patch"
    p.write_text("diff --git a/arch/arm64/kvm/newfile.c b/arch/arm64/kvm/newfile.c\nnew file mode 100644\n"
                 "--- /dev/null\n+++ b/arch/arm64/kvm/newfile.c\n@@ -0,0 +1,4 @@\n"
                 "+static int helper(int x)\n+{\n+\treturn x + 1;\n+}\n")
    files, _ = inputs.load(str(p))
    assert [x.text for x in files["newfile.c"].lines] == ["static int helper(int x)", "{", "\treturn x + 1;", "}"]
    assert files["newfile.c"].lines[0].line == 6


def _first_mail(tmp_path):
    text = open(c("series.mbox")).read()
    second = text.index("\nFrom ", 1) + 1
    p = tmp_path / "0001.patch"
    p.write_text(text[:second])
    return str(p)


def test_an_earlier_patch_is_a_base(tmp_path):
    # patch 2/2 on the post-image of patch 1/2 given with --base is the
    # series itself; the base's own changes are not the input's
    base = _first_mail(tmp_path)
    alone = pipeline.translate(c("0002-probe.patch"), bases=[base])
    series = pipeline.translate(c("series.mbox"))
    strip = lambda src: re.sub(r"#.*|[\w/.-]+\.(mbox|patch):\d+", "", src.split("\n", 1)[1])
    assert strip(alone.source) == strip(series.source)
    assert alone.origins["ttl_to_size"].startswith(base)
    assert c("0002-probe.patch") in alone.origins["get_guest_mapping_ttl"]
    assert any(n.startswith(f"base: {base} applied first") for n in alone.notes)
    files, _ = inputs.load(c("0002-probe.patch"), [base])
    assert all(where.startswith(c("0002-probe.patch")) for s in files.values() for _, where, _ in s.touches)


def test_a_revision_without_the_probe(tmp_path):
    # a FEAT_TTL-only revision (NV v2 63/94, v9 35/50): no
    # get_guest_mapping_ttl, because compute_tlb_inval_range does not call it
    src = open(c("nested_v2024.c")).read()
    start = src.index("static u8 get_guest_mapping_ttl")
    end = src.index("\n}\n", start) + 3
    no_probe = re.sub(r"ttl = get_guest_mapping_ttl\(mmu, addr\);", "ttl = 0;", src[:start] + src[end:])
    assert no_probe != src[:start] + src[end:]
    p = tmp_path / "noprobe.c"
    p.write_text(no_probe)
    tr = pipeline.translate(str(p))
    assert "get_guest_mapping_ttl" not in tr.origins and "def get_guest_mapping_ttl" not in tr.source
    assert any("get_guest_mapping_ttl is not part of this revision" in n for n in tr.notes)
    # still called, but not defined: refused, never taken from elsewhere silently
    q = tmp_path / "called.c"
    q.write_text(src[:start] + src[end:])
    with pytest.raises(inputs.InputError, match="does not contain get_guest_mapping_ttl whole"):
        pipeline.translate(str(q))


def _with_define(tmp_path, line):
    src = open(c("nested_v2024.c")).read()
    p = tmp_path / "defines.c"
    p.write_text(line + "\n" + src)
    return str(p)


def test_a_define_of_a_vocabulary_name_is_checked(tmp_path):
    # the same value as the era's vocabulary: audited as usual
    same = _with_define(tmp_path, "#define KVM_NV_GUEST_MAP_SZ\t(KVM_PGTABLE_PROT_SW1 | KVM_PGTABLE_PROT_SW0)")
    assert "get_guest_mapping_ttl" in pipeline.translate(same).origins
    # another value: the translation would read the vocabulary's, so it is refused
    other = _with_define(tmp_path, "#define KVM_NV_GUEST_MAP_SZ\tGENMASK_ULL(57, 55)")
    with pytest.raises(inputs.InputError, match=r"defines.c:1: the input defines KVM_NV_GUEST_MAP_SZ as "
                       r"'GENMASK_ULL\(57, 55\)', and it is 0x380000000000000 there, but the v2024 vocabulary "
                       r"has 0x180000000000000"):
        pipeline.translate(other)
    # one we cannot evaluate: refused too, unless accepted by name
    odd = _with_define(tmp_path, "#define KVM_NV_GUEST_MAP_SZ\tsome_runtime_value()")
    with pytest.raises(inputs.InputError, match="cannot be evaluated as a constant of the v2024 vocabulary"):
        pipeline.translate(odd)
    tr = pipeline.translate(odd, unaudited=["KVM_NV_GUEST_MAP_SZ"])
    assert any("definition of KVM_NV_GUEST_MAP_SZ is NOT audited" in n for n in tr.notes)


def test_a_header_hunk_redefining_a_vocabulary_name_is_refused(tmp_path):
    # headers are not read, but a patch's hunk of one is: the mail's
    # definition of the tag mask must be the one the audit uses
    text = open(c("0002-probe.patch")).read()
    hdr = ("diff --git a/arch/arm64/include/asm/kvm_nested.h b/arch/arm64/include/asm/kvm_nested.h\n"
           "--- a/arch/arm64/include/asm/kvm_nested.h\n+++ b/arch/arm64/include/asm/kvm_nested.h\n"
           "@@ -10,2 +10,3 @@\n #include <linux/bitfield.h>\n+#define KVM_NV_GUEST_MAP_SZ\tGENMASK_ULL(54, 53)\n \n")
    at = text.index("diff --git")
    p = tmp_path / "hdr.patch"
    p.write_text(text[:at] + hdr + text[at:])
    line = p.read_text().split("\n").index("+#define KVM_NV_GUEST_MAP_SZ\tGENMASK_ULL(54, 53)") + 1
    with pytest.raises(inputs.InputError, match=rf"hdr.patch:{line}: the input defines KVM_NV_GUEST_MAP_SZ"):
        pipeline.translate(str(p), bases=[_first_mail(tmp_path)])


def _halving_patch(tmp_path, context):
    """A patch of our own on patch 1/2 of series.mbox: halve the size that
    compute_tlb_inval_range unmaps (an isolation bug), its first context
    line `context`."""
    p = tmp_path / "halve.patch"
    p.write_text("From: Nvtlbi Fixture <fixture@nvtlbi.invalid>\nSubject: [PATCH] halve\n\n---\n"
                 "--- a/arch/arm64/kvm/nested.c\n+++ b/arch/arm64/kvm/nested.c\n"
                 "@@ -80,5 +80,5 @@ unsigned long compute_tlb_inval_range(struct kvm_s2_mmu *mmu, u64 val)\n"
                 f" {context}\n \n-\tmax_size = ttl_to_size(ttl);\n+\tmax_size = ttl_to_size(ttl) >> 1;\n \n")
    return str(p)


def test_a_hunk_that_does_not_apply_to_a_whole_function_of_a_patch_base_is_an_error(tmp_path, capsys):
    # the base (an earlier patch) is known only from its hunks, so a hunk that
    # matches nothing used to be kept as an island in an unknown stretch; but
    # it changes compute_tlb_inval_range, which the base holds whole: the
    # function would be audited unchanged (PROVED for the halving patch)
    base = _first_mail(tmp_path)
    good = pipeline.translate(_halving_patch(tmp_path, "\tttl = FIELD_GET(TLBI_TTL_MASK, val);"), bases=[base])
    assert "halve.patch:11" in good.origins["compute_tlb_inval_range"]
    bad = _halving_patch(tmp_path, "\tttl = FIELD_GET(GENMASK_ULL(47, 44), val);")
    err = error_of(capsys, [bad, "--base", base])
    assert f"{bad}:7: hunk does not apply to {base}: it changes compute_tlb_inval_range" in err


def test_a_reply_quoting_the_patch_is_refused_at_the_quoted_diff(tmp_path, capsys):
    # read as C, a reply holds no function; say why instead of "give --base"
    patch = open(c("0002-probe.patch")).read().split("\n")
    body = ["From: Reviewer <r@nvtlbi.invalid>", "Subject: Re: [PATCH 2/2] probe", "", "On Monday you wrote:"]
    body += ["> " + t for t in patch] + ["", "Looks fine."]
    p = tmp_path / "reply.txt"
    p.write_text("\n".join(body) + "\n")
    first = next(i for i, t in enumerate(body) if t.startswith("> @@")) + 1
    err = error_of(capsys, [str(p), "--base", c("nested_stage1.c")])
    assert f"{p}:{first}: the input's only diff is quoted" in err


def test_a_hunk_matching_twice_in_a_patch_base_is_an_error(tmp_path, capsys):
    # the post-image of patch 1/2 is known only from its hunk, so the line
    # number of the @@ header tells nothing: `break; case 2:` ends a level
    # case of each granule in its ttl_to_size, and the hunk used to go to
    # whichever match was nearest an index that is no line number
    base = _first_mail(tmp_path)
    p = tmp_path / "ambiguous.patch"
    p.write_text("From: Nvtlbi Fixture <fixture@nvtlbi.invalid>\nSubject: [PATCH] ambiguous\n\n---\n"
                 "--- a/arch/arm64/kvm/nested.c\n+++ b/arch/arm64/kvm/nested.c\n"
                 "@@ -34,2 +34,3 @@ static unsigned int ttl_to_size(u8 ttl)\n"
                 " \t\t\tbreak;\n \t\tcase 2:\n+\t\t\tmax_size = SZ_4K;\n")
    err = error_of(capsys, [str(p), "--base", base])
    assert f"{p}:7: hunk matches 3 places" in err and "which one it changes cannot be told" in err


def test_a_hunk_cut_short_is_refused_unless_only_context_is_missing(tmp_path, capsys):
    # a web copy of a mail may lose a hunk's tail: losing its last context
    # lines leaves the change whole (as many old as new lines missing, a
    # note); losing added lines would audit another change (here: without the
    # shadow probe, a revision that trusts the TTL), so it is refused
    lines = open(c("0002-probe.patch")).read().split("\n")
    end = next(i for i, t in enumerate(lines) if t == " \tttl = FIELD_GET(TLBI_TTL_MASK, val);") + 1
    context_lost = tmp_path / "context.patch"
    context_lost.write_text("\n".join(lines[:end + 7]) + "\n")     # ends at the closing "+\t}"
    tr = pipeline.translate(str(context_lost), bases=[c("nested_stage1.c")])
    assert any("hunk is truncated (10 of 12 old lines)" in n for n in tr.notes)
    assert "get_guest_mapping_ttl(mmu, addr)" in tr.source
    change_lost = tmp_path / "change.patch"
    change_lost.write_text("\n".join(lines[:end]) + "\n")
    err = error_of(capsys, [str(change_lost), "--base", c("nested_stage1.c")])
    assert f"{change_lost}:13: hunk is truncated: 9 of 12 old lines and 92 of 101 new lines are present" in err


def test_a_transfer_encoded_mail_is_refused_at_its_header(tmp_path, capsys):
    # quoted-printable turns "=" into "=3D" and cuts long lines: no diff as written
    text = open(c("0002-probe.patch")).read()
    at = text.index("\n\n")
    p = tmp_path / "qp.patch"
    p.write_text(text[:at] + "\nContent-Transfer-Encoding: quoted-printable" + text[at:].replace(" = ", " =3D "))
    header = text[:at].count("\n") + 2
    err = error_of(capsys, [str(p), "--base", c("nested_stage1.c")])
    assert f"{p}:{header}: the mail is quoted-printable-encoded" in err
