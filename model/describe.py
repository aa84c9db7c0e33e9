"""A model in domain terms: the operand, the case, the probes, the ranges
unmapped (what a counterexample, a cover witness or a path replay shows)."""

import z3

from nvtlbi.impl import granule as G
from nvtlbi.model import properties as P
from nvtlbi.model import symhooks as SH


def _probe(ev, model, p):
    d = {"mmu": p.mmu, "addr": ev(p.addr), "ret": _v(model, p.ret).as_signed_long(),
         "valid": ev(p.pte) & 1, "af": ev(p.pte) >> 10 & 1, "tag": ev(p.pte) >> 55 & 3,
         "pte": ev(p.pte)}     # whole: its other bits are free in the model (replay.check_path)
    if d["ret"] == 0 and d["valid"]:
        d["host_level"] = _v(model, p.hlevel).as_signed_long()
        if d["tag"]:
            d["guest_level"] = _v(model, p.clevel).as_signed_long()
    return d


def _v(model, e):
    return model.eval(e, model_completion=True)


def describe(env, model, path=None, prop=None):
    """A model in domain terms: the operand, the case, the probes, the range."""
    ev = lambda e: _v(model, e).as_long()
    evb = lambda e: z3.is_true(_v(model, e))
    case = env.case
    d = {
        "granule": case.granule, "level": _v(model, env.T_level).as_signed_long(), "hint": case.hint,
        "val": ev(env.val), "ipa": ev(env.ipa), "ttl": ev(env.ttl),
        "feat_ttl": evb(env.feat), "lpa2": evb(env.lpa2),
        "host_granule": G.name(ev(env.host_shift)) if ev(env.host_shift) in G.NAMES else str(ev(env.host_shift)),
        "host_ttl": evb(env.host_ttl), "ia_bits": ev(env.ia_bits),
        "tlb_vtcr": ev(env.vtcr), "tg0": ev(env.vtcr) >> 14 & 3, "vcpu_vtcr": ev(env.vcpu_vtcr),
        "T": [ev(env.T_base), ev(env.T_base) + ev(env.T_size)],
    }
    if path is None or prop is not None:     # not for the replay of a path (executed): costly to build
        d["obliged"] = evb(env.obliged())
    if path is not None:
        d["property"] = prop
        d["probes"] = [_probe(ev, model, p) for p in env.probes]
        # the shadow S2 at the IPA aligned down to each block size (P5)
        d["seeds"] = [_probe(ev, model, p) | {"size": size} for size, p in env.seeds]
        d["ranges"] = [[ev(b), ev(b) + ev(s), m] for b, s, m in env.unmaps]
        if prop == "P2":
            d["stale"] = ev(P.stale_page(env))     # the page where a leaf of T survives
        if len(env.mmus) > 1:           # the S2-off context was looked up (early callers)
            d["s2off"] = True
            d["s2off_tlb_vtcr"] = ev(env.mmus[1].guest_vtcr.v)
        if path.error is not None:
            d["error"] = f"{type(path.error).__name__}: {path.error}"
        elif fired := SH.fired(env.warnings, model):
            d["error"] = f"WARN_ON at {fired[0]}"
    return d
