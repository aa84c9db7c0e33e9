"""How each post of the public record (../shared/posts/, its README names
the bundled revision of each) is audited from its own text, and what it
must come out as.

A post is a patch: where it holds its functions whole it is audited alone;
otherwise with the base it applies to, which is always other text of the
record (an earlier patch of the era, whose post-image is the base; or a
whole nested.c of the record, given the name nested.c), or as a series in
one mbox.  What a post does not hold and no post of the record holds is
named: --unaudited for a change outside the audited functions (the old
IPAS2E1 callers of which no post has the whole text, the model's own
walkers), --base-revision for a function taken from the bundled revision
of its era, announced in the report.

`against`: the bundled revision the audited post must be EQUIVALENT to
(every granule, level and hint), so it gets that revision's verdicts.
Kernel text stays in ../shared: tests copy it into tmp_path only."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Recipe:
    name: str                   # the row's name (the post, or the series)
    posts: tuple                # one post, or the posts of a series put into one mbox, in order
    against: str
    bases: tuple = ()           # posts applied first (an earlier patch), in order
    nested_c: str = ""          # a whole nested.c of the record, used as the base file nested.c
    base_revision: str = ""
    unaudited: tuple = ()
    why: str = ""
    needs: tuple = field(default=())    # translator features the post needs (for the note)

    def args(self, input_path, nested_path=None, post=lambda p: p):
        a = [input_path]
        if self.nested_c:
            a += ["--base", nested_path]
        for b in self.bases:
            a += ["--base", post(b)]
        if self.base_revision:
            a += ["--base-revision", self.base_revision]
        for u in self.unaudited:
            a += ["--unaudited", u]
        return a


OLD_CALLER = "handle_ipas2e1is"         # NV v2 .. v8: no post holds it whole
V9_CALLER = "s2_mmu_unmap_stage2_ipa"   # NV v9 .. v11: its change is a hunk of the caller
SW_WALK = "kvm_walk_shadow_s2"          # the software walk of the host's shadow tables: nvtlbi's model

RECIPES = [
    Recipe("R1a_v2_63", ("R1a_v2_63.txt",), "r1a_ttl_hostcap", base_revision="r1a_ttl_hostcap",
           unaudited=(OLD_CALLER,), why="no get_guest_mapping_ttl yet; the caller from r1a"),
    Recipe("R1b_v2_64", ("R1b_v2_64.txt",), "r1b_swwalk", bases=("R1a_v2_63.txt",),
           base_revision="r1b_swwalk", unaudited=(OLD_CALLER, SW_WALK),
           why="applies to v2 63/94", needs=("struct locals",)),
    Recipe("R1b_v2_64_lak", ("R1b_v2_64_lak.txt",), "r1b_swwalk", bases=("R1a_v2_63.txt",),
           base_revision="r1b_swwalk", unaudited=(OLD_CALLER, SW_WALK),
           why="the linux-arm-kernel copy", needs=("struct locals",)),
    Recipe("R1a+R1b series", ("R1a_v2_63.txt", "R1b_v2_64.txt"), "r1b_swwalk",
           base_revision="r1b_swwalk", unaudited=(OLD_CALLER, SW_WALK),
           why="v2 63/94 and 64/94 as one mbox", needs=("struct locals",)),
    Recipe("R1c_v5_59", ("R1c_v5_59.txt",), "r1b_swwalk", bases=("R1a_v2_63.txt",),
           base_revision="r1b_swwalk", unaudited=(OLD_CALLER, SW_WALK),
           why="v5 58/69 is not in the record; its v2 form is the base", needs=("struct locals",)),
    Recipe("R1d_v6_54", ("R1d_v6_54.txt",), "r1b_swwalk", bases=("R1a_v2_63.txt",),
           base_revision="r1b_swwalk", unaudited=(OLD_CALLER, SW_WALK),
           why="v6 53/64 is not in the record; its v2 form is the base", needs=("struct locals",)),
    Recipe("R1e_v7_55", ("R1e_v7_55.txt",), "r1b_swwalk", bases=("R1f_v8_55.txt",),
           base_revision="r1f_ttl_names", unaudited=(OLD_CALLER, SW_WALK),
           why="v7 54/68 is not in the record; the v8 FEAT_TTL patch is the base (the v2 one does not "
               "apply: its context differs)", needs=("struct locals",)),
    Recipe("R1f_v8_55", ("R1f_v8_55.txt",), "r1a_ttl_hostcap", base_revision="r1f_ttl_names",
           unaudited=(OLD_CALLER,),
           why="the FEAT_TTL patch alone: no probe; r1f_ttl_names adds the v7 probe (row R1e_v7_55)"),
    Recipe("R2a_v9_35", ("R2a_v9_35.txt",), "r2a_trust_ttl", unaudited=(V9_CALLER,),
           why="era from the mail's date: reads mmu->vtcr in Apr 2023"),
    Recipe("R2b_v9_36", ("R2b_v9_36.txt",), "r2b_get_leaf", bases=("R2a_v9_35.txt",)),
    Recipe("R2a+R2b series", ("R2a_v9_35.txt", "R2b_v9_36.txt"), "r2b_get_leaf", unaudited=(V9_CALLER,)),
    Recipe("R3_v11_35", ("R3_v11_35.txt",), "r2a_trust_ttl", unaudited=(V9_CALLER,),
           why="alone it trusts the TTL like v9 35/50; mmu->tlb_vtcr is v9's mmu->vtcr"),
    Recipe("R3_v11_36", ("R3_v11_36.txt",), "r3_tlb_vtcr", bases=("R3_v11_35.txt",)),
    Recipe("R3 series", ("R3_v11_35.txt", "R3_v11_36.txt"), "r3_tlb_vtcr", unaudited=(V9_CALLER,)),
    Recipe("R4_v1_13", ("R4_v1_13.txt",), "r4_kvm_has_feat", bases=("C_v3_11.txt",),
           why="11/16 of v1 and v2 are only in excerpts; v3 11/16 is the base"),
    Recipe("R4_v2_13", ("R4_v2_13.txt",), "r4_kvm_has_feat", bases=("C_v3_11.txt",),
           why="11/16 of v1 and v2 are only in excerpts; v3 11/16 is the base"),
    Recipe("R5_v3_13", ("R5_v3_13.txt",), "upstream", bases=("C_v3_11.txt",)),
    Recipe("C_v3_11+R5 series", ("C_v3_11.txt", "R5_v3_13.txt"), "upstream", unaudited=("s2_mmu_unmap_ipa",)),
    Recipe("R6_v2_3", ("R6_v2_3.txt",), "r6_vtcr_sysreg", nested_c="N3_nested_96575923.txt"),
    Recipe("R7_v5_1", ("R7_v5_1.txt",), "r7_walk_flags", nested_c="N3_nested_96575923.txt",
           bases=("R6_v2_3.txt",), unaudited=("kvm_pgtable_get_leaf",),
           why="applies after R6; its change to kvm_pgtable_get_leaf itself is the model's"),
    Recipe("N1_nested", ("N1_nested_3949706.txt",), "upstream"),
    Recipe("N3_nested", ("N3_nested_96575923.txt",), "upstream"),
    Recipe("S_sys_regs", ("S_sys_regs_260119377.txt",), "upstream", base_revision="upstream",
           why="the per-MMU caller; the three functions from upstream"),
]


def mbox(posts_dir, posts):
    """The posts as one mbox: each gets an mbox "From " line (the archive
    copies start with their headers)."""
    import os
    out = []
    for p in posts:
        with open(os.path.join(posts_dir, p), encoding="utf-8", errors="replace") as f:
            out.append("From nvtlbi-series Thu Jan  1 00:00:00 1970\n" + f.read().rstrip("\n") + "\n")
    return "\n".join(out)
