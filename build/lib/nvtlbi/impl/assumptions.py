"""The registry of named environment assumptions: one entry per assumption.

An entry (`Assumption`) is the assumption.  It holds its name, its meaning,
its source, and its concrete predicate: `check(state)` reads a concrete VM
state (impl/nested.py) between guest operations and says how the state
breaks the assumption (a list of details; empty when it holds).  An
assumption that is not a property of a state (a locking rule) has no
predicate and says why in `unchecked`.

The symbolic facts of an entry are stated by model/env.py as
`engine.assume(ENTRY, fact)`: the z3 literal that guards them is made from
the entry (model/engine.py), and the engine refuses a fact whose assumption
is not an entry of this registry, at once and in every run.  So a misspelt
assumption is an error (an ImportError for `from nvtlbi.impl.assumptions import
BBB`, a KeyError for `assumption("bbb")`), never a fresh literal that
silently guards nothing.

Why the registry is in impl/: impl/ never imports z3, and the concrete
predicates are impl/'s; the symbolic side (model/) imports impl/ anyway.
model/assumptions.py re-exports this registry for model/ and the CLI.
impl/invariants.py runs the predicates over a state; tests/test_registry.py
checks that every default entry has both halves (symbolic facts that the
environment states, and a predicate or a stated reason for none).

`nvtlbi --drop NAME` turns an assumption off to see what breaks."""

from dataclasses import dataclass
from typing import Callable, Collection, Dict, Iterable, List, Optional, Tuple, Union

from nvtlbi.impl import granule as G
from nvtlbi.impl.nested import GuestS2, ShadowMMU, Translation, walk_nested_s2

ERANGE = 34


# A valid shadow leaf (ShadowMMU.shadow_leaves): base, size, level, descriptor,
# and the guest translation it caches (None: none recorded).
Leaf = Tuple[int, int, int, int, Optional[Translation]]


@dataclass
class State:
    """A concrete state the predicates read: the shadow MMU holding the
    guest's translations (its VM reaches the other MMUs and the vCPU), the
    guest stage 2, and the MMU's valid shadow leaves, read once."""
    mmu: ShadowMMU
    guest: GuestS2
    leaves: List[Leaf]


@dataclass(frozen=True)
class Assumption:
    name: str
    meaning: str
    source: str
    check: Optional[Callable[[State], List[str]]] = None     # check(State) -> [detail]: how the state breaks it
    unchecked: str = ""         # without a check: why no state can show it
    replaces: Tuple[str, ...] = ()      # opt-in only: default assumptions it contradicts, dropped when it is on

    def __post_init__(self) -> None:
        if (self.check is None) == (not self.unchecked):
            raise ValueError(f"assumption {self.name}: give a concrete check or say why there is none")

    def __str__(self) -> str:
        return self.name


# ---- the concrete predicates ----------------------------------------------------------
def _tag(pte: int) -> int:
    return (pte >> 55) & 3


def _granule_order(st: State) -> List[str]:
    if st.mmu.pgt.shift > st.guest.shift:
        return [f"host {G.name(st.mmu.pgt.shift)} > guest {G.name(st.guest.shift)}"]
    return []


def _no_lpa2(st: State) -> List[str]:
    return ["the guest stage 2 uses LPA2 (52-bit) block levels"] if st.guest.lpa2 else []


def _vtcr_stable(st: State) -> List[str]:
    if G.shift_of_tg0(int(st.mmu.guest_vtcr) >> 14 & 3) != st.guest.shift:
        return [f"tlb_vtcr TG0 does not decode to {G.name(st.guest.shift)}"]
    return []


def _vtcr_current(st: State) -> List[str]:
    vcpu = st.mmu.kvm.vcpu
    if vcpu is not None and (int(vcpu.sys_regs["VTCR_EL2"]) >> 14 & 3) != (int(st.mmu.guest_vtcr) >> 14 & 3):
        return ["the vCPU's VTCR_EL2.TG0 differs from tlb_vtcr's"]
    return []


def _leaf_tagged(st: State) -> List[str]:
    if st.guest.lpa2:
        return []
    return [f"shadow leaf [{base:#x},+{size:#x}) carries no level tag"
            for base, size, _, pte, _ in st.leaves if not _tag(pte)]


def _get_leaf_range(st: State) -> List[str]:
    limit = 1 << st.mmu.pgt.ia_bits
    return [f"shadow leaf [{base:#x},+{size:#x}) beyond the {st.mmu.pgt.ia_bits}-bit input range"
            for base, size, *_ in st.leaves if base + size > limit]


def _get_leaf_ret(st: State) -> List[str]:
    """Where a revision probes: each leaf, the last page below the input
    size and the first address beyond it."""
    pgt = st.mmu.pgt
    limit = 1 << pgt.ia_bits
    where = [base for base, *_ in st.leaves] + [limit - (1 << pgt.shift), limit]
    return [f"kvm_pgtable_get_leaf({a:#x}) returns {r}" for a in where
            if (r := pgt.get_leaf(a)[0].value()) not in (0, -ERANGE)]


def _tag_truth(st: State) -> List[str]:
    out: List[str] = []
    for base, size, _, pte, origin in st.leaves:
        if origin is None:
            out.append(f"shadow leaf {base:#x} has no recorded guest translation")
        elif _tag(pte) and not (_tag(pte) == origin.level and origin.base <= base
                                and base + size <= origin.base + origin.size):
            out.append(f"leaf [{base:#x},+{size:#x}) tag {_tag(pte)} vs {origin}")
    return out


def _leaf_level(st: State) -> List[str]:
    levels = G.guest_leaf_levels(st.guest.shift, st.guest.lpa2)
    return [f"{origin} is not a leaf level" for *_, origin in st.leaves
            if origin is not None and origin.level not in levels]


def _bbm(st: State) -> List[str]:
    # after a completed break-before-make sequence, every cached translation
    # is still in the guest tables, and no two cached translations overlap
    out = [f"leaf [{base:#x},+{size:#x}) outlived {origin}" for base, size, _, _, origin in st.leaves
           if origin is not None and walk_nested_s2(st.guest, base) != origin]
    origins = {o for *_, o in st.leaves if o is not None}
    out += [f"overlapping cached translations {a} and {b}" for a in origins for b in origins
            if a != b and a.overlaps(b)]
    return out


def _s2off_untagged(st: State) -> List[str]:
    return [f"S2-off shadow leaf [{base:#x},+{size:#x}) carries tag {_tag(pte)}"
            for m in st.mmu.kvm.mmus if not m.s2_enabled
            for base, size, _, pte, _ in m.shadow_leaves() if _tag(pte)]


def _invalid_untagged(st: State) -> List[str]:
    if st.mmu.keep_invalid_tags:        # the invalidtags path: invalid-tag-truth replaces it
        return []
    return [f"invalid entry [{base:#x},+{size:#x}) carries tag {_tag(d)}" for base, size, _, d in st.mmu.pgt.annotations()]


def _invalid_tag_truth(st: State) -> List[str]:
    out: List[str] = []
    for base, size, _, d in st.mmu.pgt.annotations():
        t = walk_nested_s2(st.guest, base)
        if not (hasattr(t, "level") and t.level & 3 == _tag(d) and t.base <= base and base + size <= t.base + t.size):
            out.append(f"annotation [{base:#x},+{size:#x}) tag {_tag(d)} vs {t}")
    return out


# ---- the entries --------------------------------------------------------------------
BBM = Assumption(
    "bbm",
    "the guest obeys break-before-make: cached guest translations that overlap are the same translation",
    "ARM DDI 0487 M.a.a D8.17.1 (RWHZWS); KVM hides FEAT_BBM from NV guests (limit_nv_id_reg)",
    check=_bbm)
NO_LPA2 = Assumption(
    "no-lpa2",
    "no LPA2/52-bit guest stage-2 blocks (no 4K L0, 16K L1 or 64K L1 leaves)",
    "KVM nested walker first_block_level 4K=1, 16K/64K=2; guest VTCR_EL2.DS is RES0; TGRAN*_2 never 52_BIT "
    "(limit_nv_id_reg)",
    check=_no_lpa2)
GRANULE_ORDER = Assumption(
    "granule-order",
    "the guest stage-2 granule is at least the host page size",
    "limit_nv_id_reg advertises only TGRAN*_2 >= PAGE_SIZE (FEAT_GTG)",
    check=_granule_order)
TAG_TRUTH = Assumption(
    "tag-truth",
    "a valid shadow leaf tagged with level l lies inside a cached guest translation of level l (same granule)",
    "user_mem_abort clamps the shadow leaf to kvm_s2_trans_size and ORs kvm_encode_nested_level; the "
    "relax-perms path keeps the tag",
    check=_tag_truth)
VTCR_STABLE = Assumption(
    "vtcr-stable",
    "mmu->tlb_vtcr is the VTCR_EL2 all the MMU's shadow entries were built under",
    "lookup_s2_mmu only reuses a context whose tlb_vtcr equals the guest's VTCR_EL2 (get_s2_mmu_nested)",
    check=_vtcr_stable)
LEAF_LEVEL = Assumption(
    "leaf-level",
    "cached guest translations sit at leaf levels of their granule (LPA2 levels only if LPA2 is in use)",
    "ARM DDI 0487 M.a.a Tables D8-16, D8-26, D8-35; KVM nested walker rejects other blocks",
    check=_leaf_level)
STABLE_PGT = Assumption(
    "stable-pgt",
    "the shadow S2 does not change while the range is computed: probes of one leaf see the same descriptor",
    "mmu_lock held for write (lockdep_assert_held_write in get_guest_mapping_ttl; kvm_s2_mmu_iterate_by_vmid)",
    unchecked="a rule about the computation, not a property of a state: impl/ computes the range under "
              "mmu_lock (the lockdep check in impl/kernel.py) and nothing else runs meanwhile")
VTCR_CURRENT = Assumption(
    "vtcr-current",
    "the vCPU's current VTCR_EL2.TG0 is the one tlb_vtcr holds (the guest has not changed its granule since)",
    "not enforced by KVM: the guest may rewrite VTCR_EL2; only read by revisions that use "
    "vcpu_read_sys_reg(VTCR_EL2)",
    check=_vtcr_current)
S2OFF_UNTAGGED = Assumption(
    "s2off-untagged",
    "shadow leaves of the stage-2-off context carry no level tag",
    "user_mem_abort encodes a level only for shadow-S2 faults (kvm_is_shadow_s2_fault / nested != NULL)",
    check=_s2off_untagged)
GET_LEAF_RET = Assumption(
    "get-leaf-ret",
    "kvm_pgtable_get_leaf returns 0 or -ERANGE",
    "kvm_pgtable_get_leaf / kvm_pgtable_walk (arch/arm64/kvm/hyp/pgtable.c)",
    check=_get_leaf_ret)
GET_LEAF_RANGE = Assumption(
    "get-leaf-range",
    "kvm_pgtable_get_leaf fails (-ERANGE) exactly at addresses beyond the shadow S2's input size, "
    "which is the VM's IPA size, 32 to 52 bits",
    "kvm_pgtable_walk checks the walk against BIT(pgt->ia_bits); shadow S2s take the VM's IPA size "
    "(kvm_init_stage2_mmu); KVM_VM_TYPE_ARM_IPA_SIZE accepts 32..52",
    check=_get_leaf_range)
INVALID_UNTAGGED = Assumption(
    "invalid-untagged",
    "an invalid shadow entry carries no level tag (bits [56:55] are 0)",
    "KVM clears a PTE to 0 when it unmaps (kvm_clear_pte); the level is ORed only into the prot of "
    "a valid leaf (user_mem_abort)",
    check=_invalid_untagged)
LEAF_TAGGED = Assumption(
    "leaf-tagged",
    "every valid leaf of a shadow S2 carries a level tag (no LPA2 level-0 blocks, whose tag is 0)",
    "shadow S2 leaves are only made by user_mem_abort on a nested fault, which ORs "
    "kvm_encode_nested_level(nested) (levels 1-3 without LPA2); the relax-perms path keeps it",
    check=_leaf_tagged)

# Opt-in assumptions: on only for revisions that name them in ASSUMES.
INVALID_TAG_TRUTH = Assumption(
    "invalid-tag-truth",
    "an invalid shadow entry carrying level tag l lies inside a cached guest translation of level l "
    "(and, under bbm, is T's if it overlaps T)",
    "not in KVM: what the invalidtags fault/unmap path maintains (impl/nested.py keep_invalid_tags); "
    "needed only by revisions that read tags of invalid entries",
    check=_invalid_tag_truth,
    replaces=("invalid-untagged",))

# Not an assumption: the facts of the obligation's case itself (the hint,
# the level of T), always on and never dropped.
CASE = Assumption("case", "a fact of the obligation's case (always on)", "the case being proved",
                  unchecked="the case is what is proved, not an assumption about the environment")

ASSUMPTIONS = [BBM, NO_LPA2, GRANULE_ORDER, TAG_TRUTH, VTCR_STABLE, LEAF_LEVEL, STABLE_PGT, VTCR_CURRENT,
               S2OFF_UNTAGGED, GET_LEAF_RET, GET_LEAF_RANGE, INVALID_UNTAGGED, LEAF_TAGGED]
OPT_IN = [INVALID_TAG_TRUTH]


def _by_name(entries: Iterable[Assumption]) -> Dict[str, Assumption]:
    out: Dict[str, Assumption] = {}
    for a in entries:
        if a.name in out:
            raise ValueError(f"assumption {a.name} registered twice")
        out[a.name] = a
    return out


BY_NAME = _by_name(ASSUMPTIONS + OPT_IN)            # the assumptions a user can name (--drop, ASSUMES)
REGISTRY = _by_name(ASSUMPTIONS + OPT_IN + [CASE])   # what a fact may belong to
NAMES = [a.name for a in ASSUMPTIONS]


class UnknownAssumption(KeyError):
    def __str__(self) -> str:
        return self.args[0]


def assumption(a: Union[Assumption, str]) -> Assumption:
    """The registry entry `a` stands for: an entry, or the name of one.
    Anything else (a misspelt name, an entry not in the registry) raises."""
    if isinstance(a, Assumption):
        if REGISTRY.get(a.name) is a or REGISTRY.get(a.name) == a:
            return a
        raise UnknownAssumption(f"assumption {a.name!r} is not the registered entry of that name")
    try:
        return REGISTRY[a]
    except (KeyError, TypeError):
        raise UnknownAssumption(f"no such assumption: {a!r} (registered: {', '.join(REGISTRY)})") from None


def enabled(drop: Collection[str] = (), extra: Collection[str] = ()) -> List[str]:
    """The names of the default assumptions plus the opt-in ones in `extra`,
    minus `drop` (KeyError naming the first unknown name)."""
    unknown = [d for d in list(drop) + list(extra) if d not in BY_NAME]
    if unknown:
        raise KeyError(unknown[0])
    replaced = {r for e in extra for r in BY_NAME[e].replaces}
    return [n for n in NAMES + [e for e in extra if e not in NAMES] if n not in drop and n not in replaced]
