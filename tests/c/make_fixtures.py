"""Regenerate the derived C fixtures from nested_v2024.c (all ours):
the stage files of a two-patch series, the patches in format-patch form,
and the series as an mbox (as `b4 am` writes one).  Run from anywhere;
the outputs are committed so the tests need neither git nor network."""

import difflib
import os

HERE = os.path.dirname(os.path.abspath(__file__))
PATH = "arch/arm64/kvm/nested.c"


def read(name):
    with open(os.path.join(HERE, name)) as f:
        return f.read()


def write(name, text):
    with open(os.path.join(HERE, name), "w") as f:
        f.write(text)


def cut(text, start, end):
    a = text.index(start)
    b = text.index(end, a)
    return text[:a] + text[b:]


def stages(full=None):
    full = full or read("nested_v2024.c")
    # stage 1: the TTL hint only (no shadow probe, no FEAT_TTL gate)
    s1 = cut(full, "/*\n * Recover a TTL", "unsigned long compute_tlb_inval_range")
    s1 = s1.replace("\tstruct kvm *kvm = kvm_s2_mmu_to_kvm(mmu);\n", "")
    a = s1.index("\tif (!ttl || !kvm_has_feat")
    b = s1.index("\tmax_size = ttl_to_size(ttl);")
    s1 = s1[:a] + s1[b:]
    # stage 0: none of the audited functions
    s0 = cut(s1, "/* Size of the block named", "unsigned long compute_tlb_inval_range")
    s0 = cut(s0, "unsigned long compute_tlb_inval_range", "\x00") if "\x00" in s0 else \
        s0[:s0.index("unsigned long compute_tlb_inval_range")]
    return s0, s1, full


def _funcname(line):
    # what git's cpp funcname pattern puts after @@: the last function head above the hunk
    return line.rstrip("\n") if line[:1].isalpha() and "(" in line and not line.rstrip().endswith(";") else None


def unified(old, new):
    """difflib's unified diff with git's funcname context after each @@."""
    a = old.splitlines(True)
    out = []
    for line in difflib.unified_diff(a, new.splitlines(True), f"a/{PATH}", f"b/{PATH}", n=3):
        if line.startswith("@@"):
            start = int(line.split()[1].lstrip("-").split(",")[0])
            ctx = next((f for f in map(_funcname, reversed(a[:max(start - 1, 0)])) if f), None)
            line = line.rstrip("\n") + (f" {ctx}" if ctx else "") + "\n"
        out.append(line)
    return out


def patch(old, new, n, total, subject, body, version=1, funcname=False):
    lines = unified(old, new) if funcname else \
        list(difflib.unified_diff(old.splitlines(True), new.splitlines(True), f"a/{PATH}", f"b/{PATH}", n=3))
    tag = f"PATCH v{version}" if version > 1 else "PATCH"
    return (f"From 0000000000000000000000000000000000000{n:03d} Mon Sep 17 00:00:00 2001\n"
            f"From: Nvtlbi Fixture <fixture@nvtlbi.invalid>\n"
            f"Date: Mon, {version} Jan 2024 00:00:0{n} +0000\n"
            f"Subject: [{tag} {n}/{total}] {subject}\n\n{body}\n\n---\n"
            f"diff --git a/{PATH} b/{PATH}\nindex 000000{n}..000000{n + 1} 100644\n" + "".join(lines) + "-- \n2.43.0\n\n")


HDR = "nvtlbi test fixture, written for nvtlbi in kernel style (not kernel\n * source)."


def variants():
    """The sysreg-era spelling and the broken variants, each one edit away."""
    s = read("nested_v2024.c")

    def edit(name, old, new, why):
        assert s.count(old) >= 1, name
        write(name, s.replace(old, new).replace(HDR, HDR + "  BROKEN: " + why))

    edit("broken_nocheck.c", "\tif (addr < (tmp + sz))\n\t\treturn ttl;\n\n\treturn 0;\n}", "\treturn ttl;\n}",
         "the range check after the tag\n * is missing.")
    edit("broken_width.c", "\tu64 tmp, sz = 0, vtcr", "\tu32 tmp;\n\tu64 sz = 0, vtcr",
         "tmp is 32 bits wide, so IPAs\n * above 4G are probed truncated.")
    edit("broken_fallthrough.c", "\t\tcase 1:\n\t\t\tmax_size = SZ_1G;\n\t\t\tbreak;",
         "\t\tcase 1:\n\t\t\tmax_size = SZ_1G;", "a missing break makes 4K level 1\n * fall through to the 2M case.")
    edit("broken_fallback.c", "\t\t\tmax_size = SZ_32M;\n\t\t\tbreak;\n\t\tcase VTCR_EL2_TG0_64K:",
         "\t\t\tmax_size = SZ_2M;\n\t\t\tbreak;\n\t\tcase VTCR_EL2_TG0_64K:",
         "the 16K fallback is 2M, not\n * the 32M a level-2 block spans.")
    edit("broken_host_vtcr.c", "mmu->tlb_vtcr", "mmu->vtcr",
         "reads mmu->vtcr, which since\n * Oct 2023 is the shadow stage 2's own VTCR_EL2 (the host's\n"
         " * page size), not the guest's (mmu->tlb_vtcr).")
    edit("broken_u16.c", "\tunsigned long max_size;\n\tu8 ttl;\n", "\tu16 max_size;\n\tu8 ttl;\n",
         "max_size is 16 bits wide: every\n * block size but 4K and 16K truncates to 0, and so does the fallback.")
    old = "\tlevel = FIELD_GET(KVM_NV_GUEST_MAP_SZ, pte);"
    assert s.count(old) == 1
    write("sw_bits.c", s.replace(old, "\tlevel = FIELD_GET(GENMASK_ULL(57, 56), pte);").replace(
        HDR, HDR + "  It reads the level tag one bit too high, from [57:56]:\n"
             " * KVM never sets bit 57 in a shadow leaf, but nvtlbi's model leaves it free."))
    y = s.replace("mmu->tlb_vtcr & VTCR_EL2_TG0_MASK", "FIELD_GET(VTCR_EL2_TG0_MASK, mmu->tlb_vtcr)")
    y = y.replace("(vtcr & VTCR_EL2_TG0_MASK)", "(FIELD_GET(VTCR_EL2_TG0_MASK, vtcr))")
    y = y.replace("as of the 2024 vocabulary: shifted VTCR_EL2_TG0_*\n * values",
                  "after the VTCR_EL2 sysreg conversion: unshifted\n * VTCR_EL2_TG0_* values read with FIELD_GET")
    assert y.count("FIELD_GET(VTCR_EL2_TG0_MASK") == 3
    write("nested_v2026.c", y)
    # v2020 era (as in v11, 2023): the hint is trusted on the host capability,
    # and an unknown TG0 is a BUG() in all three switches
    o = s
    for old, rep in [
            ("!kvm_has_feat(kvm, ID_AA64MMFR2_EL1, TTL, IMP)", "!cpus_have_final_cap(ARM64_HAS_ARMv8_4_TTL)"),
            ("\tstruct kvm *kvm = kvm_s2_mmu_to_kvm(mmu);\n", ""),
            ("\tcase VTCR_EL2_TG0_64K:\n\tdefault:\t\t/* reserved encodings behave as 64K */\n"
             "\t\tttl = (TLBI_TTL_TG_64K << 2);\n\t\tbreak;\n",
             "\tcase VTCR_EL2_TG0_64K:\n\t\tttl = (TLBI_TTL_TG_64K << 2);\n\t\tbreak;\n\tdefault:\n\t\tBUG();\n"),
            ("\tcase VTCR_EL2_TG0_64K:\n\tdefault:\n\t\tif (sz < SZ_64K)",
             "\tdefault:\n\t\tBUG();\n\tcase VTCR_EL2_TG0_64K:\n\t\tif (sz < SZ_64K)"),
            ("\t\tcase VTCR_EL2_TG0_64K:\n\t\tdefault:\n\t\t\tmax_size = SZ_512M;\n\t\t\tbreak;\n",
             "\t\tcase VTCR_EL2_TG0_64K:\n\t\t\tmax_size = SZ_512M;\n\t\t\tbreak;\n\t\tdefault:\n\t\t\tBUG();\n"),
            ("as of the 2024 vocabulary: shifted VTCR_EL2_TG0_*\n * values, the TTL hint trusted only if the VM "
             "advertises FEAT_TTL.",
             "in the style of 2023: shifted VTCR_EL2_TG0_*\n * values, the TTL hint trusted if the host has "
             "FEAT_TTL, BUG() on\n * an unknown granule.")]:
        assert old in o, old
        o = o.replace(old, rep)
    write("nested_v2020.c", o)
    # before Oct 2023 the guest's VTCR_EL2 was mmu->vtcr (NV v9): correct then
    v9 = o.replace("mmu->tlb_vtcr", "mmu->vtcr").replace("in the style of 2023", "in the style of v9 (2023)")
    write("nested_v2020_vtcr.c", v9.replace("cpus_have_final_cap", "cpus_have_const_cap"))
    # sys_regs.c in the style of NV v2 .. v8: compute_tlb_inval_range takes
    # the vCPU and falls back on its current VTCR_EL2; no shadow probe
    v8 = o[:o.index("/*\n * Recover a TTL")] + SYSREGS_V8
    write("sysregs_v2020.c", v8.replace("in the style of 2023", "in the style of NV v2 .. v8 (sys_regs.c)"))
    # nested.c and the per-MMU IPAS2E1 caller (sys_regs.c) in one excerpt
    write("with_caller.c", s + CALLER)

# ---- proposed code (issue 12 item 4) ------------------------------------------------------------
# The review thread's two fixes and an LPA2/52-bit extension, as C of our
# own in the 2024 vocabulary.  Each is nested_v2024.c with only its own part
# replaced (the anchors below are checked to occur exactly once), so the
# common parts of the three functions are written once, in nested_v2024.c.
# impl/alternatives/{lookaround,invalidtags,lpa2}.py are the references
# (tests/test_audit_proposed.py proves each C EQUIVALENT to its Python).

PROBE_HEAD = "static u8 get_guest_mapping_ttl(struct kvm_s2_mmu *mmu, u64 addr)\n"
PROBE_TAIL = """\ttmp &= ~(sz - 1);
\tif (kvm_pgtable_get_leaf(mmu->pgt, tmp, &pte, NULL))
\t\tgoto again;
\tif (!(pte & PTE_VALID))
\t\tgoto again;
"""

LOOKAROUND = [
    ("\tu8 ttl, level;\n", "\tu8 ttl, level, wlevel = 4;\n\tu64 cur;\n\tint i;\n"),
    # the window's level: one up per rung of the size ladder (3, 2, 1)
    ("\ttmp &= ~(sz - 1);\n", "\ttmp &= ~(sz - 1);\n\twlevel--;\n"),
    ("""\tif (kvm_pgtable_get_leaf(mmu->pgt, tmp, &pte, NULL))
\t\tgoto again;
\tif (!(pte & PTE_VALID))
\t\tgoto again;
\tlevel = FIELD_GET(KVM_NV_GUEST_MAP_SZ, pte);
\tif (!level)
\t\tgoto again;

\tttl |= level;

\t/* the tagged block must still cover the IPA we were asked about */
\tsz = ttl_to_size(ttl);
\tif (addr < (tmp + sz))
\t\treturn ttl;

\treturn 0;
}
""", """
\t/*
\t * Look around the head of the window: up to LOOKAROUND_ENTRIES (4)
\t * host pages.  A tagged valid leaf is used only if its guest block is
\t * at least as large as the window, so that it holds the IPA; a smaller
\t * one may be a neighbour's.
\t */
\tcur = tmp;
\tfor (i = 0; i < 4; i++) {
\t\tif (kvm_pgtable_get_leaf(mmu->pgt, cur, &pte, NULL))
\t\t\tbreak;
\t\tlevel = FIELD_GET(KVM_NV_GUEST_MAP_SZ, pte);
\t\t/* one test, '&' not '&&': an entry that does not qualify is one outcome */
\t\tif (((pte & PTE_VALID) != 0) & (level != 0) & (level <= wlevel))
\t\t\treturn ttl | level;
\t\tcur += kvm_granule_size(KVM_PGTABLE_LAST_LEVEL);
\t\tif (cur >= tmp + sz)
\t\t\tbreak;
\t}

\tgoto again;
}
"""),
    (" * size of the guest granule in turn and use the level tag of the first\n * valid leaf that has one.\n",
     " * size of the guest granule in turn, looking at a few host pages from\n"
     " * the head of each window (a guest page may be splintered into host\n"
     " * pages whose head was unmapped).\n"),
]

INVALIDTAGS = [
    # the fault path leaves the guest level in invalid entries too: any tag counts
    ("\tif (!(pte & PTE_VALID))\n\t\tgoto again;\n", ""),
    (" * size of the guest granule in turn and use the level tag of the first\n * valid leaf that has one.\n",
     " * size of the guest granule in turn and use the level tag of the first\n"
     " * entry that has one, valid or not (the fault path also tags the\n"
     " * invalid entry at the head of a guest block it splinters).\n"),
]

# LPA2/52-bit block levels: 4K L0 = 512GB, 16K L1 = 64GB, 64K L1 = 4TB
# (include/linux/sizes.h has no SZ_64G, SZ_512G or SZ_4T: BIT_ULL instead)
LPA2 = [
    ("static unsigned int ttl_to_size(u8 ttl)", "static unsigned long ttl_to_size(u8 ttl)"),
    ("\tunsigned int max_size = 0;\n", "\tunsigned long max_size = 0;\n"),
    ("\tcase TLBI_TTL_TG_4K:\n\t\tswitch (level) {\n\t\tcase 0:\n\t\t\tbreak;\n",
     "\tcase TLBI_TTL_TG_4K:\n\t\tswitch (level) {\n\t\tcase 0:\n\t\t\tmax_size = BIT_ULL(39);\t/* 512GB */\n"
     "\t\t\tbreak;\n"),
    ("\tcase TLBI_TTL_TG_16K:\n\t\tswitch (level) {\n\t\tcase 0:\n\t\tcase 1:\n\t\t\tbreak;\n",
     "\tcase TLBI_TTL_TG_16K:\n\t\tswitch (level) {\n\t\tcase 0:\n\t\t\tbreak;\n\t\tcase 1:\n"
     "\t\t\tmax_size = BIT_ULL(36);\t/* 64GB */\n\t\t\tbreak;\n"),
    ("\t\tcase 1:\t\t/* would be 4TB with 52-bit IPAs */\n\t\t\tbreak;\n",
     "\t\t\tbreak;\n\t\tcase 1:\n\t\t\tmax_size = BIT_ULL(42);\t/* 4TB */\n\t\t\tbreak;\n"),
    ("\t\telse if (sz < SZ_1G)\n\t\t\tsz = SZ_1G;\n",
     "\t\telse if (sz < SZ_1G)\n\t\t\tsz = SZ_1G;\n\t\telse if (sz < BIT_ULL(39))\n\t\t\tsz = BIT_ULL(39);\n"),
    ("\t\telse if (sz < SZ_32M)\n\t\t\tsz = SZ_32M;\n",
     "\t\telse if (sz < SZ_32M)\n\t\t\tsz = SZ_32M;\n\t\telse if (sz < BIT_ULL(36))\n\t\t\tsz = BIT_ULL(36);\n"),
    ("\t\telse if (sz < SZ_512M)\n\t\t\tsz = SZ_512M;\n",
     "\t\telse if (sz < SZ_512M)\n\t\t\tsz = SZ_512M;\n\t\telse if (sz < BIT_ULL(42))\n\t\t\tsz = BIT_ULL(42);\n"),
    ("\t\tcase VTCR_EL2_TG0_4K:\n\t\t\tmax_size = SZ_1G;\n", "\t\tcase VTCR_EL2_TG0_4K:\n\t\t\tmax_size = BIT_ULL(39);\n"),
    ("\t\tcase VTCR_EL2_TG0_16K:\n\t\t\tmax_size = SZ_32M;\n",
     "\t\tcase VTCR_EL2_TG0_16K:\n\t\t\tmax_size = BIT_ULL(36);\n"),
    ("\t\tdefault:\n\t\t\tmax_size = SZ_512M;\n", "\t\tdefault:\n\t\t\tmax_size = BIT_ULL(42);\n"),
]

PROPOSED_WHY = {
    "lookaround.c": ("LOOKAROUND", "the bounded look-around of the\n * review thread (impl/alternatives/lookaround.py)."),
    "invalidtags.c": ("INVALIDTAGS", "level tags kept in invalid\n * entries, from the review thread "
                      "(impl/alternatives/invalidtags.py)."),
    "lpa2.c": ("LPA2", "the LPA2/52-bit block levels\n * (4K L0 512GB, 16K L1 64GB, 64K L1 4TB) in all three "
               "functions\n * (impl/alternatives/lpa2.py)."),
}


def proposed():
    """{file name: text} of the proposed-code fixtures (not written)."""
    s = read("nested_v2024.c")
    out = {}
    for name, (edits, why) in PROPOSED_WHY.items():
        t = s
        for old, new in globals()[edits]:
            assert t.count(old) == 1, (name, old)
            t = t.replace(old, new)
        out[name] = t.replace(HDR + "  ", HDR + "  PROPOSED: " + why + "\n * ")
    return out


SYSREGS_V8 = """static unsigned long compute_tlb_inval_range(struct kvm_vcpu *vcpu,
					     struct kvm_s2_mmu *mmu, u64 val)
{
	unsigned long max_size;
	u8 ttl = 0;

	/* the hint is only trusted when the host implements FEAT_TTL */
	if (cpus_have_const_cap(ARM64_HAS_ARMv8_4_TTL))
		ttl = FIELD_GET(GENMASK_ULL(47, 44), val);

	max_size = ttl_to_size(ttl);

	if (!max_size) {
		u64 vtcr = vcpu_read_sys_reg(vcpu, VTCR_EL2);

		switch (vtcr & VTCR_EL2_TG0_MASK) {
		case VTCR_EL2_TG0_4K:
			max_size = SZ_1G;
			break;
		case VTCR_EL2_TG0_16K:
			max_size = SZ_32M;
			break;
		case VTCR_EL2_TG0_64K:
			max_size = SZ_512M;
			break;
		default:
			BUG();
		}
	}

	WARN_ON(!max_size);
	return max_size;
}
"""


CALLER = """
/* Per-MMU callback of a TLBI IPAS2E1*: unmap the range around the IPA. */
static void s2_mmu_unmap_ipa(struct kvm_s2_mmu *mmu, const union tlbi_info *info)
{
	unsigned long max_size;
	u64 base_addr;

	/* IPA[47:12] sits in the low 36 bits of the operand */
	base_addr = (info->ipa.addr & GENMASK_ULL(35, 0)) << 12;
	max_size = compute_tlb_inval_range(mmu, info->ipa.addr);
	base_addr &= ~(max_size - 1);

	kvm_stage2_unmap_range(mmu, base_addr, max_size, true);
}
"""


def main():
    variants()
    for name, text in proposed().items():
        write(name, text)
    s0, s1, s2 = stages()
    write("nested_stage0.c", s0)
    write("nested_stage1.c", s1)
    p1 = patch(s0, s1, 1, 2, "KVM: arm64: nv: fixture: size TLBIs from the TTL hint",
               "Fixture: add ttl_to_size() and compute_tlb_inval_range().")
    p2 = patch(s1, s2, 2, 2, "KVM: arm64: nv: fixture: probe the shadow S2 for a TTL",
               "Fixture: add get_guest_mapping_ttl() and gate the hint on FEAT_TTL.")
    write("0002-probe.patch", p2)
    write("series.mbox", p1 + p2)
    revisions(s1)
    conditionals()


def cover(n_total, version, title):
    tag = f"PATCH v{version}" if version > 1 else "PATCH"
    return (f"From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n"
            f"From: Nvtlbi Fixture <fixture@nvtlbi.invalid>\n"
            f"Date: Mon, {version} Jan 2024 00:00:00 +0000\n"
            f"Subject: [{tag} 0/{n_total}] {title}\n\nFixture cover letter (v{version}).\n\n")


def revisions(s1):
    """Fixtures for "audit exactly what the input says" (issue 10):
    a v1 (broken: 2M fallback for 16K) and a v2 (right) of the two-patch
    series in one mbox, as `b4 mbox` saves a thread; and a patch that only
    adds the probe, for --base-revision (the probe patch also changes
    compute_tlb_inval_range, which --base-revision must not drop)."""
    b0, b1, b2 = stages(read("broken_fallback.c"))
    g0, g1, g2 = stages()
    t1 = "KVM: arm64: nv: fixture: size TLBIs from the TTL hint"
    t2 = "KVM: arm64: nv: fixture: probe the shadow S2 for a TTL"
    title = "KVM: arm64: nv: fixture: TLBI range from the TTL"
    v1 = cover(2, 1, title) + patch(b0, b1, 1, 2, t1, "Fixture v1.", funcname=True) + \
        patch(b1, b2, 2, 2, t2, "Fixture v1.", funcname=True)
    v2 = cover(2, 2, title) + patch(g0, g1, 1, 2, t1, "Fixture v2: 32M for 16K.", 2, funcname=True) + \
        patch(g1, g2, 2, 2, t2, "Fixture v2.", 2, funcname=True)
    write("series_v1_v2.mbox", v1 + v2)
    # the probe alone: get_guest_mapping_ttl added, nothing else changed
    probe = g2[g2.index("/*\n * Recover a TTL"):g2.index("unsigned long compute_tlb_inval_range")]
    at = s1.index("unsigned long compute_tlb_inval_range")
    write("0003-probe-only.patch", patch(s1, s1[:at] + probe + s1[at:], 3, 3,
                                         "KVM: arm64: nv: fixture: add the shadow S2 probe", "Fixture.",
                                         funcname=True))


def conditionals():
    """Two definitions of one function, and preprocessor conditionals
    around and inside audited functions (issue 10): the live one must be
    the one audited, whatever order they come in."""
    good = read("nested_v2024.c")
    bad = read("broken_fallback.c")
    start = "unsigned long compute_tlb_inval_range"
    fn_good, fn_bad = good[good.index(start):], bad[bad.index(start):]
    # the live definition is broken; an older, right one follows under #if 0
    write("if0_dead_last.c", bad + "\n#if 0\n/* the previous version, kept for reference */\n" + fn_good
          + "#endif\n")
    # simply both definitions: which one the kernel compiles is not clear
    write("dup_definition.c", good + "\n" + fn_bad)
    # a config-dependent choice between the two
    write("ifdef_config.c", good[:good.index(start)] + "#ifdef CONFIG_NVTLBI_FIXTURE_FIX\n" + fn_good
          + "#else\n" + fn_bad + "#endif\n")
    # conditionals inside a body: #if 0 / #elif / #else, #if 1, IS_ENABLED
    old = "\t\tcase VTCR_EL2_TG0_16K:\n\t\t\tmax_size = SZ_32M;\n"
    assert good.count(old) == 1
    inside = good.replace(old, "\t\tcase VTCR_EL2_TG0_16K:\n#if 0\n\t\t\tmax_size = SZ_2M;\n"
                          "#elif 1\n\t\t\tmax_size = SZ_32M;\n#else\n\t\t\tmax_size = SZ_16K;\n#endif\n")
    old = "\tmax_size = ttl_to_size(ttl);\n"
    assert inside.count(old) == 1
    write("if_inside.c", inside.replace(old, "#if IS_ENABLED(CONFIG_NVTLBI_FIXTURE_TTL)\n" + old
                                        + "#else\n\tmax_size = 0;\n#endif\n"))


if __name__ == "__main__":
    main()
