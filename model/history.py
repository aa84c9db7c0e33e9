"""The public history of the range TLBI (op ripas2e1) and VNCR pseudo-TLB
(op vncr) paths: one entry per bundled revision, oldest first, with the
findings it fails and what each finding means for a real guest.

The revisions themselves are impl/revisions_ripas2e1/ and
impl/revisions_vncr/ (provenance in each docstring); the IPAS2E1 history is
impl/revisions/ (docs/user-guide.md).  The docs tables are generated from
here (`python -m nvtlbi.docs`: README.md, docs/findings.md,
docs/user-guide.md), and tests/test_history_ops.py runs the prover at each
finding's cell for every revision of the op: a revision listed as failing a
finding must fail it there (a replayed counterexample of that cause), and one
not listed must not, so a claim below that stops holding fails a test.  No
verdict here is typed from memory: the table says what the test checks."""

from dataclasses import dataclass
from typing import Optional, Tuple

GRANULE = {12: "4K", 14: "16K", 16: "64K"}


@dataclass(frozen=True)
class Finding:
    name: str
    op: str
    prop: str
    cell: Tuple[int, int, str]  # (page shift, level, operand case): where the suite looks for it
    cause: str                  # "stale": an obliged entry survived (replayed, no error);
                                # "known": model/findings.py's WARN_ONs; else a substring of the error
    fault: str                  # what the code does wrong
    short: str                  # what it means for a real guest, in a few words (README)
    guest: str                  # what it means for a real guest (docs/findings.md)
    only: Optional[Tuple[Tuple[int, int], ...]] = None  # the (page shift, level)s it is confined to
                                                        # (another finding of the property does not
                                                        # count those: NVTLBI_FULL)

    @property
    def where(self):
        shift, level, case = self.cell
        return f"{GRANULE[shift]} L{level} `{case}`"


@dataclass(frozen=True)
class Step:
    op: str
    name: str                   # the bundled revision
    when: str
    source: str                 # the post or commit (Message-Ids in the revision's docstring)
    change: str                 # what this revision changed against the previous one
    fails: Tuple[str, ...]      # the findings it fails at their cells
    differs: Optional[str] = None   # an operand case where `diff` with the previous revision is DIFFERENT
                                    # (the change hides inside a finding both fail); "=": EQUIVALENT


FINDINGS = [
    Finding("R2-partial-block", "ripas2e1", "R2", (12, 2, "nolevel"), "stale",
            "the range is unmapped exactly, the TTL ignored; a guest block that overlaps it in part keeps its "
            "other shadow pages (TLBIOp_RIPAS2 removes an overlapping entry whole: J1.1.3.449)",
            "the nested guest keeps the rest of a broken-up block",
            "a guest hypervisor that breaks up a block mapping of its nested guest and invalidates only the part "
            "it changed with a range TLBI leaves the nested guest able to reach the rest of the old block through "
            "KVM's shadow pages: reads and writes of memory the guest hypervisor has remapped"),
    Finding("R4-unmap-warn", "ripas2e1", "R4", (14, 3, "nolevel"), "known",
            "the unmap's WARN_ONs (model/findings.py): a range past the VM's IPA size, or TG smaller than the "
            "host page",
            "guest-triggered host WARN",
            "a guest hypervisor can make the host WARN at will: a host crash under panic_on_warn, log flooding "
            "otherwise (not an isolation bug)"),
    Finding("V4-lockdep", "vncr", "V4", (16, 3, "all"), "LockdepFailure",
            "kvm_handle_s1e2_tlbi calls invalidate_vncr_va without mmu_lock, whose lockdep assertion fires",
            "lockdep splat; unlocked pseudo-TLB walk",
            "every EL2&0 TLBI that reaches kvm_handle_s1e2_tlbi walks and clears the other vCPUs' pseudo-TLBs "
            "without the lock the MMU notifier and the VNCR fault path hold: a lockdep splat on a debug kernel, "
            "a race with those paths on others (the model stops at the assertion: what follows it is r2_mmu_lock's "
            "verdict)"),
    Finding("V4-null", "vncr", "V4", (16, 3, "all"), "NULL pointer dereference",
            "invalidate_vncr_va reads vt->valid of a vCPU whose vncr_tlb is not allocated yet (it has not run)",
            "host NULL dereference",
            "a guest hypervisor that issues an EL2&0 TLBI before every vCPU of the VM has run once makes the host "
            "kernel dereference NULL: a host crash triggered from inside a VM"),
    Finding("V2-block-offset", "vncr", "V2", (16, 3, "ipa"), "stale",
            "kvm_invalidate_vncr_ipa takes `pa & (size - 1)`, the offset in the block, as the block's start",
            "stale VNCR page after a partial unmap (latent)",
            "an unmap of part of the VM's IPA space that covers the VNCR page can leave the vCPU's pseudo-TLB and "
            "its fixmap mapping in place, so the vCPU keeps reaching a host page KVM unmapped; latent with the "
            "posted callers, which unmap the whole IPA space [0, BIT(ia_bits)), where the wrong start still "
            "overlaps"),
    Finding("V2-lpa2-block", "vncr", "V2", (12, 0, "ipa"), "stale",
            "a VNCR page mapped by an LPA2 stage-1 block (4K L0, 16K L1, TCR_EL2.DS = 1) has ttl_to_size 0: "
            "the cached block is [0, 0) and no unmap overlaps it (V1 fails there too, inside V1-va)",
            "stale VNCR page under LPA2 blocks (conditional)",
            "with TCR_EL2.DS = 1 the guest hypervisor maps its VNCR page with a level-0 (4K) or level-1 (16K) "
            "block and KVM's unmap never drops the pseudo-TLB: the vCPU keeps reaching a host page KVM unmapped; "
            "conditional on a stage-1 walker that accepts such blocks (the 52-bit PA series, Sep 2025: the "
            "model's reading s1-lpa2-blocks is wider than the walker before it)",
            only=((12, 0), (14, 1))),
    Finding("V1-va", "vncr", "V1", (16, 3, "va"), "stale",
            "a TLBI by VA leaves an obliged VNCR translation: with the block start taken as the offset in the "
            "block (and, before r3_va_mask, ASID/TTL bits in the VA); from upstream on, only for the topmost "
            "block of the VA space, where va_start + va_size wraps to 0",
            "stale VNCR translation after TLBI by VA",
            "the guest hypervisor remaps its VNCR page and invalidates it by VA, but KVM's pseudo-TLB keeps the "
            "old translation: the nested guest's system-register accesses keep going to the old page"),
    Finding("V1-rva", "vncr", "V1", (16, 3, "rva"), "stale",
            "a range TLBI by VA leaves an obliged VNCR translation: decode_range_tlbi does not sign-extend "
            "BaseADDR (TLBIRange does: J1.1.3.451), so an upper-half (TTBR1) VNCR page is never dropped",
            "stale VNCR translation after range TLBI",
            "as V1-va, for a range TLBI: in particular any VNCR page the guest hypervisor maps in the upper "
            "(TTBR1_EL2) half"),
]
BY_NAME = {f.name: f for f in FINDINGS}

HISTORY = [
    Step("ripas2e1", "inline_decode", "Apr 2024 - Apr 2025",
         "v1 15/16 (20240409175448.3507472-16-maz@kernel.org), merged; S_sys_regs_260119377.txt",
         "handle_ripas2e1is decodes TG, SCALE, NUM and BaseADDR itself and unmaps exactly that range on every "
         "shadow MMU of the VMID (kvm_s2_mmu_iterate_by_vmid); the TTL is ignored",
         ("R2-partial-block", "R4-unmap-warn")),
    Step("ripas2e1", "upstream", "Apr 2025 -",
         "v3 05/17 (20250423151508.2961768-6-maz@kernel.org)",
         "the decode moves into decode_range_tlbi (shared with the VNCR path's range TLBIs)",
         ("R2-partial-block", "R4-unmap-warn"), differs="="),
    Step("vncr", "r1_s1_tlbi", "Apr - May 2025",
         "v3/v4 11/17 and 13/17 (20250423151508.2961768-12/-14, 20250514103501.2225951-14), merged as "
         "4ffa72ad8f37",
         "the pseudo-TLB and its invalidation by IPA (MMU notifiers) and by EL2&0 TLBIs",
         ("V4-lockdep", "V2-block-offset", "V2-lpa2-block")),
    Step("vncr", "r2_mmu_lock", "21 May 2025", "beab7d058309",
         "kvm_handle_s1e2_tlbi takes mmu_lock for write",
         ("V4-null", "V2-block-offset", "V2-lpa2-block", "V1-va", "V1-rva")),
    Step("vncr", "r3_va_mask", "25 May 2025", "667304740537",
         "a TLBI by VA takes VA[55:12] from the operand, sign-extended from bit 48 (tlbi_va_s1_to_va)",
         ("V4-null", "V2-block-offset", "V2-lpa2-block", "V1-va", "V1-rva"), differs="va"),
    Step("vncr", "upstream", "Sep 2025 -",
         "5b9c1beaa1fd (20250906040724.72960-1-p@sswd.pw); N3_nested_96575923.txt",
         "both block starts are `addr & ~(size - 1)`",
         ("V4-null", "V2-lpa2-block", "V1-va", "V1-rva"), differs="va"),
    Step("vncr", "r5_vncr_tlb_iter", "Jun 2026", "20260607175745.297793-1-maz@kernel.org",
         "kvm_for_each_vncr_tlb: invalidate_vncr_va skips an unallocated pseudo-TLB",
         ("V2-lpa2-block", "V1-va", "V1-rva")),
]


def of_op(op):
    """The history of one op, oldest first."""
    return [s for s in HISTORY if s.op == op]


def findings_of(op):
    return [f for f in FINDINGS if f.op == op]
