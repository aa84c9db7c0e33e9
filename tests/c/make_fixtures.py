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


def stages():
    full = read("nested_v2024.c")
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


def patch(old, new, n, total, subject, body):
    diff = difflib.unified_diff(old.splitlines(True), new.splitlines(True), f"a/{PATH}", f"b/{PATH}", n=3)
    lines = list(diff)
    return (f"From 0000000000000000000000000000000000000{n:03d} Mon Sep 17 00:00:00 2001\n"
            f"From: Nvtlbi Fixture <fixture@nvtlbi.invalid>\n"
            f"Date: Mon, 1 Jan 2024 00:00:0{n} +0000\n"
            f"Subject: [PATCH {n}/{total}] {subject}\n\n{body}\n\n---\n"
            f"diff --git a/{PATH} b/{PATH}\nindex 000000{n}..000000{n + 1} 100644\n" + "".join(lines) + "-- \n2.43.0\n\n")


def main():
    s0, s1, s2 = stages()
    write("nested_stage0.c", s0)
    write("nested_stage1.c", s1)
    p1 = patch(s0, s1, 1, 2, "KVM: arm64: nv: fixture: size TLBIs from the TTL hint",
               "Fixture: add ttl_to_size() and compute_tlb_inval_range().")
    p2 = patch(s1, s2, 2, 2, "KVM: arm64: nv: fixture: probe the shadow S2 for a TTL",
               "Fixture: add get_guest_mapping_ttl() and gate the hint on FEAT_TTL.")
    write("0002-probe.patch", p2)
    write("series.mbox", p1 + p2)


if __name__ == "__main__":
    main()
