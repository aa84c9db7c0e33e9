"""Realistic concrete workloads for the precision measurement: a random guest
stage-2 layout, partial fault-in by the nested guest, and a stream of
break-before-make changes each followed by an unhinted TLBI IPAS2E1IS.

Every TLBI is recorded as (T size, invalidated size, shadow entries visited)
and checked against the oracle: a stale shadow leaf is a soundness failure,
not a precision figure.  The random draws never depend on the shadow state,
so one seed gives the same guest behaviour for every revision."""

import random
from dataclasses import dataclass

from nvtlbi.impl import granule as G
from nvtlbi.impl.assumptions import INVALID_TAG_TRUTH
from nvtlbi.impl.nested import VM, GuestS2, Translation, handle_shadow_fault, new_mmu
from nvtlbi.impl.oracle import stale_leaves
from nvtlbi.impl.tlbi import make_operand, run

# (host page shift, guest granule shift) pairs KVM allows: the guest's stage-2
# granule is never smaller than the host page (limit_nv_id_reg).
CONFIGS = [(h, g) for h in (12, 14, 16) for g in (12, 14, 16) if g >= h]


@dataclass(frozen=True)
class Sample:
    level: int          # guest level of T
    t_size: int
    range_size: int
    visited: int        # kvm_pgtable_get_leaf calls for this TLBI
    stale: int          # shadow leaves of T that survived (must be 0)
    shadowed: bool      # T had a shadow leaf: the TLBI had something to find
    collateral: int     # shadow leaves of other guest translations it removed

    @property
    def ratio(self):
        return self.range_size / self.t_size


def _layout(rng, g, slots):
    """Random non-overlapping guest translations over `slots` top-level
    blocks: a block is kept whole, or split with a few children populated."""
    levels = G.guest_leaf_levels(g)
    out = []

    def fill(base, level, keep=None):
        if level == levels[-1] or (rng.random() < 0.4 if keep is None else keep):
            out.append((base, level))
            return
        child = G.level_size(g, level + 1)
        n = 1 << G.bits_per_level(g)
        for j, i in enumerate(rng.sample(range(n), k=min(n, rng.randint(2, 6)))):
            # the first child of a forced split is kept whole: every level occurs
            fill(base + i * child, level + 1, keep=True if keep is False and j == 0 else None)

    for s in range(slots):
        # slot 0 is one block of the first level, slot 1 is split
        fill(s * G.level_size(g, levels[0]), levels[0], keep={0: True, 1: False}.get(s))
    return out


def _touch(rng, mmu, guest, trans, h):
    """The nested guest touches a few host pages of `trans`; the host backs
    them with small pages (no THP) most of the time, which splinters guest
    blocks and pages into host pages."""
    page = 1 << h
    for _ in range(rng.randint(1, 3)):
        ipa = trans.base + rng.randrange(trans.size // page) * page
        vma = page if rng.random() < 0.7 else None
        handle_shadow_fault(mmu, guest, ipa, vma_pagesize=vma)


def simulate(rev, h, g, seed, tlbis=100, slots=3, check=None):
    """Run one workload with `rev` on host page shift h and guest granule g;
    `check(mmu, guest)`, if given, sees the state after every guest step."""
    rng = random.Random(f"{seed}-{h}-{g}")
    guest = GuestS2(g)
    vm = VM(feat_ttl=True)
    mmu = new_mmu(vm, guest, h, keep_invalid_tags=INVALID_TAG_TRUTH.name in getattr(rev, "ASSUMES", ()))
    calls = [0]
    get_leaf = mmu.pgt.get_leaf

    def counted(addr):
        calls[0] += 1
        return get_leaf(addr)

    mmu.pgt.get_leaf = counted
    live = []
    for base, level in _layout(rng, g, slots):
        guest.map(base, level, base)
        live.append(Translation(g, level, base, base))
    for t in live:
        if rng.random() < 0.8:
            _touch(rng, mmu, guest, t, h)
    samples = []
    for _ in range(tlbis):
        # every level gets its share of TLBIs, however many translations it has
        level = rng.choice(sorted({x.level for x in live}))
        picks = [i for i, x in enumerate(live) if x.level == level]
        t = live.pop(rng.choice(picks))
        ipa = t.base + rng.randrange(t.size >> 12) * (1 << 12)
        guest.unmap(t.base, t.level)                    # break ...
        before = list(mmu.shadow_leaves())
        mine = sum(1 for *_, o in before if o == t)
        calls[0] = 0
        run(vm, make_operand(ipa, 0), rev)              # ... invalidate, no hint ...
        start, size = mmu.unmapped[-1]
        stale = stale_leaves(mmu, ipa, 0, vm.feat_ttl, guest.lpa2)
        lost = len(before) - len(list(mmu.shadow_leaves())) - mine + len(stale)
        samples.append(Sample(t.level, t.size, size, calls[0], len(stale), mine > 0, lost))
        # ... make: the block again
        # (the same level, so the mix of levels of the layout persists)
        oa = t.oa ^ t.size if rng.random() < 0.5 else t.oa      # sometimes moved elsewhere
        guest.map(t.base, t.level, oa)
        new = Translation(g, t.level, t.base, oa)
        live.append(new)
        _touch(rng, mmu, guest, new, h)
        for other in rng.sample(live, k=min(3, len(live))):   # the nested guest runs on
            _touch(rng, mmu, guest, other, h)
        if check is not None:
            check(mmu, guest)
    return samples
