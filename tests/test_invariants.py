"""(b) Every state KVM's concrete machinery reaches, under random guest
mappings, break-before-make changes, shadow faults and TLBIs, and the
lifecycle of the shadow MMUs (the guest hypervisor's VTCR_EL2 and HCR_EL2.VM
writes, the vCPU's reloads that reuse or recycle an MMU, the MMU-notifier
unmap of every MMU), satisfies the symbolic environment's assumptions
(impl/invariants.py).  Every producer of model/transitions.py runs here
concretely: fault (access, perm), unmap (TLBIs, notifier, pending unmap),
recycle and pending-unmap (load_hw_mmu), vtcr-write."""

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from nvtlbi.impl import granule as G
from nvtlbi.impl import producers
from nvtlbi.impl import revision as REV
from nvtlbi.impl.invariants import violations
from nvtlbi.impl.nested import (HCR_VM, VM, GuestS2, handle_perm_fault, handle_s2_off_fault, handle_shadow_fault,
                                load_hw_mmu, new_mmu, put_hw_mmu, run_unmap)
from nvtlbi.impl.tlbi import make_operand, run
from tests.revisions import SMALLFALLBACK

UPSTREAM = REV.load("upstream")
BROKEN = os.path.join(os.path.dirname(__file__), "producers")
FULL = bool(os.environ.get("NVTLBI_FULL"))

# guest-hypervisor events (the vCPU is out of the nested guest): map, break,
# tlbi, vtcr (write VTCR_EL2: another granule), s2off (toggle HCR_EL2.VM),
# notify (kvm_nested_s2_unmap); nested-guest events (the vCPU enters it
# first: load_hw_mmu): access, perm, reload (leave and re-enter)
# (the MMU's lifecycle events drawn a third as often as the others: each
# recycle and notifier walks a whole shadow stage 2, the cost of an example)
KINDS = ["map", "access", "break", "tlbi", "perm"] * 3 + ["vtcr", "reload", "notify", "s2off"]
op = st.tuples(st.sampled_from(KINDS), st.integers(0, 1 << 24), st.integers(0, 7), st.integers(0, 15))
NESTED = {"access", "perm", "reload"}
# what a stage-2-off context is checked for: its leaves cache no guest
# translation and its tlb_vtcr names no granule its entries were built under
S2OFF_CHECKED = {"s2off-untagged", "get-leaf-range", "get-leaf-ret", "invalid-untagged"}


@st.composite
def worlds(draw):
    g = draw(st.sampled_from([12, 14, 16]))
    h = draw(st.sampled_from([s for s in (12, 14, 16) if s <= g]))
    return g, h, draw(st.booleans()), draw(st.lists(op, max_size=30)), draw(st.sampled_from([32, 48]))


class World:
    """One VM: a vCPU running the guest hypervisor, its guest stage 2 per
    granule (the tables VTTBR_EL2 names, read under each VTCR_EL2 the guest
    hypervisor writes), two shadow MMUs (in use, and free as
    kvm_init_nested_s2_mmu leaves it: the kernel allocates two per vCPU), and
    which guest stage 2 each MMU's context was last entered for (tracked
    here, not read from tlb_vtcr, so that vtcr-stable is a real check)."""

    def __init__(self, g, h, feat, ia_bits, mmu_producer=None):
        self.h = h
        self.guests = {g: GuestS2(g)}
        self.guest = self.guests[g]
        self.vm = VM(feat_ttl=feat)
        self.vm.mmu_producer = mmu_producer
        m0 = new_mmu(self.vm, self.guest, h, ia_bits=ia_bits)
        m1 = new_mmu(self.vm, self.guest, h, ia_bits=ia_bits)
        m1.free, m1.s2_enabled = True, False
        self.vcpu = self.vm.vcpu
        self.context = {id(m0): self.guest, id(m1): None}

    @property
    def s2_on(self):
        return bool(self.vcpu.sys_regs["HCR_EL2"] & HCR_VM)

    def enter(self):
        """kvm_vcpu_load_hw_mmu + the requests before the nested guest runs."""
        if self.vcpu.arch.hw_mmu is None:
            mmu = load_hw_mmu(self.vcpu)
            self.context[id(mmu)] = self.guest if self.s2_on else None
        return self.vcpu.arch.hw_mmu

    def leave(self):
        put_hw_mmu(self.vcpu)

    def violations(self):
        out = []
        for m in self.vm.mmus:
            guest = self.context[id(m)]
            if m.free:
                continue
            if guest is None:
                out += [v for v in violations(m, self.guest) if v[0] in S2OFF_CHECKED]
                continue
            # vtcr-current is established for the MMU the vCPU runs on, not
            # an invariant of the others (model/transitions.py ESTABLISHED)
            out += [v for v in violations(m, guest)
                    if v[0] != "vtcr-current" or m is self.vcpu.arch.hw_mmu]
        return out


def execute(g, h, feat, ops, rev, check, ia_bits=48, mmu_producer=None):
    w = World(g, h, feat, ia_bits, mmu_producer)
    for kind, x, k, ttl in ops:
        guest = w.guest
        levels = G.guest_leaf_levels(guest.shift)
        # for 4K, 8 1G blocks reach past a 32-bit VM IPA size (get-leaf-range)
        region = 8 * G.level_size(guest.shift, levels[0])
        addr = (x << guest.shift) % region
        if kind in NESTED:
            mmu = w.enter()
        else:
            w.leave()
        sizes = G.host_sizes(h)
        if kind == "map":
            level = levels[k % len(levels)]
            size = G.level_size(guest.shift, level)
            base = addr & ~(size - 1)
            if not any(b < base + size and base < b + s for b, s, _, _ in guest.pgt.leaves()):
                guest.map(base, level, base)
        elif kind == "access" and not w.s2_on:
            if not addr >> mmu.pgt.ia_bits:
                handle_s2_off_fault(mmu, addr, vma_pagesize=sizes[k % len(sizes)])
        elif kind == "access":
            # the shadow fault runs the producer (impl/producers/fault.py)
            handle_shadow_fault(mmu, guest, addr, vma_pagesize=sizes[k % len(sizes)] if k < 6 else None,
                                force_pte=k == 7, thp=bool(ttl & 1))
        elif kind == "perm" and w.s2_on:
            # a permission fault on a shadow leaf: relax it, or remap at another
            # size (k == 7: dirty logging, a write to a block maps a page)
            handle_perm_fault(mmu, guest, addr, vma_pagesize=sizes[k % len(sizes)] if k < 6 else None,
                              thp=bool(ttl & 1), force_pte=k == 7)
        elif kind == "reload":
            w.leave()
            w.enter()               # a lookup hit: the same MMU, its leaves kept
        elif kind == "vtcr":
            # the guest hypervisor picks another granule (>= the host's) for
            # its stage 2; the next entry recycles an MMU for it
            shifts = [s for s in (12, 14, 16) if s >= h]
            shift = shifts[k % len(shifts)]
            w.guest = w.guests.setdefault(shift, GuestS2(shift))
            w.vcpu.sys_regs["VTCR_EL2"] = w.guest.vtcr
        elif kind == "s2off":
            w.vcpu.sys_regs["HCR_EL2"] ^= HCR_VM
        elif kind == "notify":
            # an MMU notifier: kvm_nested_s2_unmap empties every MMU in use
            w.vm.mmu_lock.acquire_write()
            try:
                for m in w.vm.mmus:
                    if not m.free:
                        run_unmap(m, 0, 1 << m.pgt.ia_bits)
            finally:
                w.vm.mmu_lock.release_write()
        elif kind == "break":
            leaves = list(guest.pgt.leaves())
            if leaves:
                base, size, level, _ = leaves[x % len(leaves)]
                guest.unmap(base, level)                      # 1. invalid entry
                ipa = base + ((x << 12) % size)               # 2. TLBI anywhere in the block
                hint = [0, G.TTL_TG_OF[guest.shift] << 2 | level, 0b0001, 0][k % 4]
                run(w.vm, make_operand(ipa, hint), rev)
        elif kind == "tlbi":
            run(w.vm, make_operand(addr, ttl), rev)
        check(w.violations(), kind)
    return w


@settings(max_examples=600 if FULL else 50, deadline=None)
@given(worlds())
def test_reachable_states_satisfy_the_assumptions(w):
    g, h, feat, ops, ia_bits = w

    def check(v, kind):
        assert v == [], (kind, v)
    execute(g, h, feat, ops, UPSTREAM, check, ia_bits)


def test_the_random_events_reach_every_producer():
    """The event stream recycles an MMU (pending unmap on a used one), reuses
    one on a reload, unmaps through a notifier and builds stage-2-off leaves:
    a fixed sequence, so that the random test's events are known to do it."""
    seen = []
    ops = [("map", 0, 2, 0), ("access", 0, 0, 0), ("reload", 0, 0, 0), ("vtcr", 0, 1, 0),
           ("map", 0, 2, 0), ("access", 0, 0, 0), ("notify", 0, 0, 0), ("s2off", 0, 0, 0),
           ("access", 1, 0, 0), ("s2off", 0, 0, 0), ("access", 0, 0, 0), ("tlbi", 1 << 12, 0, 0)]
    w = execute(12, 12, True, ops, UPSTREAM, lambda v, kind: seen.extend(v))
    assert seen == []
    assert [m.free for m in w.vm.mmus] == [False, False]
    assert {m.s2_enabled for m in w.vm.mmus} == {True, False}
    on = [m for m in w.vm.mmus if m.s2_enabled]
    assert int(on[0].guest_vtcr) == w.guest.vtcr and w.guest.shift == 14 and list(on[0].pgt.leaves())


def test_the_random_events_catch_a_broken_mmu_producer():
    """tests/producers/mmu_keeps_vtcr.py (a recycle that keeps tlb_vtcr):
    the same random stream finds the vtcr-stable violation."""
    from hypothesis import Phase, find
    broken = producers.load(os.path.join(BROKEN, "mmu_keeps_vtcr.py"), "mmu")

    def breaks(w):
        g, h, feat, ops, ia_bits = w
        seen = []
        execute(g, h, feat, ops, UPSTREAM, lambda v, kind: seen.extend(v), ia_bits, broken)
        return any(name == "vtcr-stable" for name, _ in seen)
    g, h, feat, ops, ia_bits = find(worlds(), breaks, settings=settings(max_examples=200, deadline=None, derandomize=True, phases=[Phase.generate]))
    assert any(kind == "vtcr" for kind, *_ in ops)


def test_the_invariant_check_catches_a_broken_revision():
    """With a 2M fallback for 4K, a break-before-make of a 1G block leaves a
    shadow leaf behind, and the check says which assumption breaks."""
    broken = REV.load(SMALLFALLBACK)
    seen = []
    ops = [("map", 0, 0, 0), ("access", 1 << 10, 0, 0), ("break", 0, 0, 0)]
    execute(12, 12, True, ops, broken, lambda v, kind: seen.extend(v))
    assert any(name == "bbm" for name, _ in seen), seen


def test_the_invariant_check_sees_untagged_and_out_of_range_entries():
    """States KVM never builds (a valid shadow leaf without a level tag, a
    tagged invalid entry without the invalidtags path, a leaf beyond the
    VM's IPA size) break leaf-tagged, invalid-untagged and get-leaf-range."""
    guest = GuestS2(12)
    mmu = new_mmu(VM(feat_ttl=True), guest, 12, ia_bits=32)
    mmu.pgt.map(0x1000, 0x1000, 0x1000, nv_level=0)
    mmu.pgt.annotate(0x200000, 2, 2)
    mmu.pgt.map(1 << 32, 0x1000, 0x1000, nv_level=3)
    names = {name for name, _ in violations(mmu, guest)}
    assert {"leaf-tagged", "invalid-untagged", "get-leaf-range"} <= names, names


def test_an_access_beyond_the_vm_ipa_size_makes_no_shadow_leaf():
    guest = GuestS2(12)
    mmu = new_mmu(VM(feat_ttl=True), guest, 12, ia_bits=32)
    guest.map(1 << 32, 1, 1 << 32)
    fault = handle_shadow_fault(mmu, guest, (1 << 32) + 0x5000)
    assert fault.kind == "address size" and list(mmu.shadow_leaves()) == []
    assert mmu.pgt.get_leaf((1 << 32) - 0x1000)[0].value() == 0
    assert mmu.pgt.get_leaf(1 << 32)[0].value() == -34


def test_a_small_ipa_size_has_no_1g_shadow_blocks():
    """Found by the random test: with a 32-bit VM IPA size a 4K stage 2
    starts at level 2, so a 1G-backed fault on a 1G guest block maps 2M."""
    seen = []
    execute(12, 12, False, [("map", 0, 0, 0), ("access", 0, 2, 0)], UPSTREAM,
            lambda v, kind: seen.extend(v), ia_bits=32)
    assert seen == []


def test_a_write_under_dirty_logging_breaks_the_block():
    """A permission fault with force_pte on a 1G shadow block maps a page
    (tagged by the bundled producer); kvm_pgtable_stage2_map breaks the
    block, so the rest is unmapped and faults again, tagged the same: no
    assumption breaks on the way."""
    guest = GuestS2(12)
    mmu = new_mmu(VM(feat_ttl=True), guest, 12)
    guest.map(0, 1, 1 << 30)
    handle_shadow_fault(mmu, guest, 0, vma_pagesize=1 << 30)
    handle_perm_fault(mmu, guest, 0x5000, vma_pagesize=0x1000, force_pte=True)
    assert [(b, s) for b, s, _, _ in mmu.pgt.leaves()] == [(0x5000, 0x1000)]
    assert violations(mmu, guest) == []
    handle_shadow_fault(mmu, guest, 0x200000, vma_pagesize=0x200000)
    assert mmu.pgt.leaf(0x200000)[:2] == (0x200000, 0x200000)
    assert {d >> 55 & 3 for _, _, _, d in mmu.pgt.leaves()} == {1}
    assert violations(mmu, guest) == []


def test_the_unmap_producer_clears_exactly_the_overlapping_leaves():
    """The unmap producer (impl/producers/unmap.py) on the concrete table:
    every leaf that overlaps the range is cleared whole (a block only partly
    inside too), tagged invalid entries in the range become 0, the rest stays."""
    from nvtlbi.impl.nested import run_unmap
    guest = GuestS2(12)
    mmu = new_mmu(VM(feat_ttl=True), guest, 12)
    mmu.pgt.map(0x0, 0x200000, 0x0, nv_level=2)               # a 2M block, partly in the range
    mmu.pgt.map(0x201000, 0x1000, 0x1000, nv_level=3)         # a page inside
    mmu.pgt.map(0x400000, 0x1000, 0x2000, nv_level=3)         # a page outside
    mmu.pgt.annotate(0x300000, 3, 2)                          # a tagged invalid entry inside
    before = {(b, s) for b, s, _, _ in mmu.pgt.leaves()}
    assert run_unmap(mmu, 0x100000, 0x280000) == 0
    assert {(b, s) for b, s, _, _ in mmu.pgt.leaves()} == before - {(0x0, 0x200000), (0x201000, 0x1000)}
    assert list(mmu.pgt.annotations()) == []


def test_a_vtcr_change_recycles_the_mmu_and_empties_it():
    """The MMU producer on impl/ (impl/producers/mmu.py): re-entering with
    the same VTTBR/VTCR reuses the MMU (lookup_s2_mmu); after the guest
    hypervisor changes VTCR_EL2, get_s2_mmu_nested recycles it (the only one
    without a reference), caches the new VTCR, and the pending unmap empties
    it before the nested guest runs; no assumption breaks."""
    from nvtlbi.impl.nested import load_hw_mmu, put_hw_mmu
    g1, g2 = GuestS2(16), GuestS2(12)
    vm = VM(feat_ttl=True)
    m0 = new_mmu(vm, g1, 12)
    vcpu = vm.vcpu
    assert load_hw_mmu(vcpu) is m0 and int(m0.refcnt.counter) == 1
    g1.map(0, 3, 0)
    handle_shadow_fault(m0, g1, 0)
    put_hw_mmu(vcpu)
    assert load_hw_mmu(vcpu) is m0 and list(m0.pgt.leaves())      # a lookup hit keeps its leaves
    put_hw_mmu(vcpu)
    vcpu.sys_regs["VTCR_EL2"] = g2.vtcr
    assert load_hw_mmu(vcpu) is m0
    assert int(m0.guest_vtcr) == g2.vtcr and not m0.pending_unmap and list(m0.pgt.leaves()) == []
    g2.map(0, 3, 0)
    handle_shadow_fault(m0, g2, 0)
    assert violations(m0, g2) == []
