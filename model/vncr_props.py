"""The VNCR op's properties, in the shape of P1-P5 (model/properties.Property):
the symbolic statement over a path's final pseudo-TLB states and the concrete
check on impl/ (a replayed run, model/vncr_replay.Outcome).

V1, V2 speak of both vCPUs' pseudo-TLBs; a path that ends in a C outcome
(BUG, NULL dereference, lockdep) satisfies V1-V3 vacuously: V4 is about it."""

import z3

from nvtlbi.impl import kernel
from nvtlbi.impl.vncr import TLBI_KINDS
from nvtlbi.model import symhooks as SH
from nvtlbi.model.properties import Property

_ARCH = ("ARM DDI 0487 M.a.a J1.1.3.449 TLBIMatch (TLBIOp_VA/VAA/ASID/ALL/RVA/RVAA), J1.1.3.451 TLBIRange, "
         "J1.1.3.446/447 ResTLBIRTTL/ResTLBITTL; C5.5 TLBI VAE2, RVAE2, ASIDE1, ALLE2")


def _on_states(statement):
    def holds(env, error):
        if error is not None:
            return z3.BoolVal(True)
        return statement(env)
    holds.__name__ = statement.__name__
    return holds


def _dropped(env, kinds):
    return z3.And([z3.Implies(z3.And(z3.Or([env.case_fact(k) for k in kinds]), env.held(j), env.obliged(vt)),
                              z3.Not(vt.valid_after()))
                   for j, vt in enumerate(env.vts)])


@_on_states
def _va_drops(env):
    return _dropped(env, TLBI_KINDS)


@_on_states
def _ipa_drops(env):
    return _dropped(env, ["ipa"])


@_on_states
def _fixmap_cleared(env):
    # a dropped entry that was mapped on a CPU has that CPU's slot cleared
    out = []
    for j, vt in enumerate(env.vts):
        slot = z3.BitVecVal(kernel.FIX_VNCR, 32) - vt.cpu0
        cleared = z3.Or([getattr(i, "v", i) == slot for i in env.fixmap_cleared] or [z3.BoolVal(False)])
        out.append(z3.Implies(z3.And(env.held(j), vt.cpu0 != z3.BitVecVal(-1, 32), z3.Not(vt.valid_after())),
                              cleared))
    # and no other fixmap slot: each one cleared is the VNCR slot of a CPU a
    # pseudo-TLB was mapped on (FIX_VNCR - (-1) is the next enum
    # fixed_addresses entry, another user's mapping)
    for i in env.fixmap_cleared:
        i = getattr(i, "v", i)
        out.append(z3.Or([z3.And(env.alloc[j], vt.cpu0 != z3.BitVecVal(-1, 32),
                                 i == z3.BitVecVal(kernel.FIX_VNCR, 32) - vt.cpu0) for j, vt in enumerate(env.vts)]))
    return z3.And(out)


@_on_states
def _precise(env):
    # a pseudo-TLB dropped only where impl/vncr.within allows it
    return z3.And([z3.Implies(z3.And(env.held(j), z3.Not(vt.valid_after())), env.within(vt))
                   for j, vt in enumerate(env.vts)])


def _available(env, error):
    return z3.And(z3.BoolVal(error is None), z3.Not(SH.fires(env.warnings)))


# ---- the concrete checks (z3-free) ----------------------------------------------------
def _conc(check):
    def violated(out, sc):
        return out.error is None and check(out, sc)
    violated.__name__ = check.__name__
    return violated


@_conc
def v_va(out, sc):
    """V1: an obliged pseudo-TLB survived a TLBI (impl/vncr.obliged)."""
    return bool(out.stale)


@_conc
def v_ipa(out, sc):
    return bool(out.stale)


@_conc
def v_fixmap(out, sc):
    return bool(out.fixmap_left or out.fixmap_stray)


@_conc
def v_precise(out, sc):
    return bool(out.imprecise)


def v_available(out, sc):
    return out.error is not None or bool(out.warnings)


V1 = Property("V1", "a TLBI for the EL2&0 regime removes every vCPU's cached VNCR translation the architecture "
                    "says it matches (VA/ASID/TTL/range on the entry's block; global entries for any ASID)",
              _ARCH, _va_drops, v_va)
V2 = Property("V2", "KVM's unmapping of [start, end) of the VM's IPA space drops every cached VNCR translation "
                    "whose host page (the PAGE_SIZE page of wr.pa that hpa maps) overlaps it",
              "the host no longer backs that IPA: a pseudo-TLB keeping hpa would map a page the VM does not own "
              "(nested.c kvm_invalidate_vncr_ipa, the MMU-notifier path)", _ipa_drops, v_ipa)
V3 = Property("V3", "a dropped pseudo-TLB that was mapped on a CPU has that CPU's VNCR fixmap slot cleared, and "
                    "no other fixmap slot is cleared",
              "invalidate_vncr: the fixmap must not keep the page (N3:813), nor lose another CPU's or another "
              "user's mapping", _fixmap_cleared, v_fixmap)
V4 = Property("V4", "no invalidation reaches BUG(), WARN_ON, a NULL dereference or a lockdep failure",
              "availability: a guest must not bring the host down", _available, v_available)

V5 = Property("V5", "precision: an invalidation drops no pseudo-TLB of another ASID (a non-global one, for a TLBI "
                    "by ASID, VA or range with ASID), no global one for a TLBI by ASID, none outside the VA's span "
                    "for a TLBI by VA (the block its TTL names, at least 1G), and none whose stage-1 block misses "
                    "the IPAs KVM unmaps",
              "how much more than required an invalidation drops (J1.1.3.449 for the ASID; the span KVM uses "
              "without a TTL); not an isolation property: a revision that over-invalidates fails it and stays "
              "safe (the vCPU walks VNCR_EL2 again)", _precise, v_precise, default=False)

PROPERTIES = {p.name: p for p in [V1, V2, V3, V4, V5]}
ISOLATION = tuple(p.name for p in PROPERTIES.values() if p.default)     # V5: only on request
APPLIES = {"V1": tuple(TLBI_KINDS), "V2": ("ipa",)}


def applies(name, hint):
    return hint in APPLIES.get(name, (hint,))


def holds(name, env, error=None):
    return PROPERTIES[name].statement(env, error)
