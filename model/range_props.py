"""The range op's properties (TLBI RIPAS2E1*), in the shape of P1-P5: one
entry each (model/properties.Property), the symbolic statement over a
path's unmaps (base, size, MMU index) and the concrete check on impl/.

R1, R2 speak of every shadow MMU in use with the guest's VMID; x, a free
host page of the world (model/range_env.py), makes "every address" a
single query: the negation asks for one address left mapped."""

import z3

from nvtlbi.impl import granule as G
from nvtlbi.impl.kernel import KernelBug
from nvtlbi.model import properties as P
from nvtlbi.model.properties import Property

_C5_5_21 = ("ARM DDI 0487 M.a.a C5.5.21 (TLBI RIPAS2E1), D8.17.5.2 IHKYNQ (the range), "
            "J1.1.3.449 TLBIOp_RIPAS2 (an entry overlapping the range matches), J1.1.3.451 (TG)")


def _x(e):
    return z3.ZeroExt(1, e)


def _unmapped_on(env, j, addr):
    """addr (64-bit) lies in an unmap of MMU j, rounded out to host pages
    (the unmap removes whole leaves)."""
    page = _x(env.page)
    a = _x(addr)
    return z3.Or([z3.And(z3.ULE(_x(b) & ~(page - 1), a), z3.ULT(a, (_x(b) + _x(s) + page - 1) & ~(page - 1)))
                  for b, s, m in env.unmaps if m == j] or [z3.BoolVal(False)])


def _on_ranges(statement):
    def holds(env, error):
        if isinstance(error, KernelBug):
            return z3.BoolVal(True)
        if error is not None:
            return z3.BoolVal(False)
        return statement(env)
    holds.__name__ = statement.__name__
    return holds


@_on_ranges
def _covers_range(env):
    # every host page of the range below the IPA size is unmapped on every
    # in-use MMU of the VMID (x stands for any such page)
    inside = z3.And(z3.ULE(env.base, _x(env.x)), z3.ULT(_x(env.x), env.base + env.size),
                    z3.ULT(env.x, env.ia_limit))
    return z3.And([z3.Implies(z3.And(env.tg_mine(), env.of_vmid(j), inside), _unmapped_on(env, j, env.x))
                   for j in range(len(env.mmus))])


@_on_ranges
def _removes_C(env):
    # C overlapping the range is removed whole from the MMU caching it, when
    # that MMU has the VMID: its page x is unmapped
    return z3.And([z3.Implies(z3.And(env.k == j, env.of_vmid(j), env.obliged_C()), _unmapped_on(env, j, env.x))
                   for j in range(len(env.mmus))])


@_on_ranges
def _well_formed(env):
    return z3.And([z3.And(s != 0, z3.ULE(_x(b) + _x(s), z3.BitVecVal(1 << 64, 65))) for b, s, _ in env.unmaps])


def _available(env, error):
    return P.P4.statement(env, error)       # the same statement as IPAS2E1's P4: any BUG() or WARN_ON


@_on_ranges
def _precise(env):
    # only MMUs of the VMID, and no further than the range rounded out to
    # the granule's largest block (what an overlapping entry can reach)
    g = env.case.shift
    big = z3.BitVecVal(G.level_size(g, min(G.guest_leaf_levels(g))), 65)
    lo, hi = env.base & ~(big - 1), (env.base + env.size + big - 1) & ~(big - 1)
    return z3.Implies(env.tg_mine(), z3.And([z3.And(env.of_vmid(m), z3.ULE(lo, _x(b)), z3.ULE(_x(b) + _x(s), hi))
                                             for b, s, m in env.unmaps]))


# ---- the concrete checks (z3-free): a replayed run on impl/ ------------------------------
def _failed(out):
    return out.error is not None and not out.error.startswith("WARN_ON at")


def _bug(out):
    return out.error is not None and out.error.startswith(f"{KernelBug.__name__}:")


def _conc(check):
    def violated(out, sc):
        if _bug(out):
            return False
        if _failed(out):
            return True
        return check(out, sc)
    violated.__name__ = check.__name__
    return violated


@_conc
def v_covers_range(out, sc):
    """R1: a page of the range below the IPA size stays mapped on an MMU of the VMID."""
    return bool(out.range_left)


@_conc
def v_removes_C(out, sc):
    """R2: a shadow leaf of an obliged guest translation survived (impl/tlbi_range.stale_leaves)."""
    return bool(out.stale)


@_conc
def v_well_formed(out, sc):
    return any(s == 0 or b + s > 1 << 64 for b, s, _ in out.ranges)


def v_available(out, sc):
    return out.error is not None and (out.error.startswith("WARN_ON at") or _bug(out))


@_conc
def v_precise(out, sc):
    return bool(out.beyond)


R1 = Property("R1", "every address of the range (below the VM's IPA size) is unmapped on every shadow MMU in use "
                    "with the guest's VMID, when TG names the guest's granule", _C5_5_21,
              _covers_range, v_covers_range)
R2 = Property("R2", "a cached guest translation of the case's granule and level that overlaps the range, in part or "
                    "whole, is removed whole (its every shadow leaf) from every shadow MMU in use with the VMID, "
                    "unless the TTL names another level (reading range-overlap-whole)",
              _C5_5_21 + ", ResTLBIRTTL J1.1.3.446", _removes_C, v_removes_C, about_T=True)
R3 = Property("R3", "every unmapped range is nonempty and does not wrap",
              "s2_mmu_unmap_range unmaps [start, start + size) (kvm_stage2_unmap_range)", _well_formed, v_well_formed)
R4 = Property("R4", "no guest-controlled operand reaches BUG() or WARN_ON in the revision's code or the kernel "
                    "functions nvtlbi models (among them __unmap_stage2_range's two; one counterexample per site "
                    "reached)",
              "availability: a guest must not bring the host down (BUG()) or make it warn (WARN_ON)",
              _available, v_available, causes=P.P4.causes)
R5 = Property("R5", "precision: only MMUs of the VMID are touched, and no further than the range rounded out to the "
                    "granule's largest block", "how much more than required a range TLBI unmaps",
              _precise, v_precise, about_T=True, default=False)

PROPERTIES = {p.name: p for p in [R1, R2, R3, R4, R5]}
ISOLATION = tuple(p.name for p in PROPERTIES.values() if p.default)
# in which of the range cases (model/range_env.RangeCases) each property says something
APPLIES = {"R1": ("nolevel", "match", "otherlevel"), "R2": ("nolevel", "match"),
           "R5": ("nolevel", "match", "otherlevel")}


def applies(name, hint):
    return hint in APPLIES.get(name, (hint,))


def holds(name, env, error=None):
    return PROPERTIES[name].statement(env, error)
