"""The VNCR op's models made concrete: a path's or a counterexample's model
in domain terms (describe), the VM it names built on impl/ (vCPUs with their
vncr_tlb, or NULL), the invalidation run with the revision, and the
architecture's check (impl/vncr.obliged)."""

from dataclasses import dataclass, field

from nvtlbi.impl import granule as G
from nvtlbi.impl import kernel
from nvtlbi.impl import vncr as V
from nvtlbi.impl.outcome import C_OUTCOMES
from nvtlbi.impl.revision import RevisionError
from nvtlbi.model import replay as R
from nvtlbi.model import symhooks as SH
from nvtlbi.model import userfault
from nvtlbi.model import vncr_props as VP
from nvtlbi.model.vncr_env import KIND_NAMES


def _tlbi_text(d):
    k, val = d["kind"], d["val"]
    if k == "ipa":
        return f"KVM unmaps IPA [{d['start']:#x}, {d['end']:#x}) (host {d['host_granule']} pages)"
    inst = V.KINDS[k][1][len("OP_TLBI_"):]
    asid = f" ASID={val >> 48:#x}"
    if k in ("va", "vaa"):
        ttl = (val >> 44) & 15
        va = (val & ((1 << 44) - 1)) << 12
        va = va | (((1 << 64) - 1) >> 49 << 49) if (va >> 48) & 1 else va
        return f"TLBI {inst} VA={va:#x} TTL={ttl:#06b}" + (asid if k == "va" else "")
    if k == "asid":
        return f"TLBI {inst}{asid}"
    if k == "all":
        return f"TLBI {inst}"
    ok, tg, start, end = V.tlbi_range(val, d["ds"])
    rng = f"[{start:#x}, {end:#x})" if ok else "TG=0b00 (reserved: none)"
    return (f"TLBI {inst} TG={tg} SCALE={(val >> 44) & 3} NUM={(val >> 39) & 31} TTL={(val >> 37) & 3} "
            f"BaseADDR={val & ((1 << 37) - 1):#x}: architectural range {rng}" + (asid if k == "rva" else ""))


def _vt_text(j, v, d):
    if not v["alloc"]:
        return f"vCPU {j}: vncr_tlb NULL (not run yet)"
    if not v["valid"]:
        return f"vCPU {j}: invalid"
    size = G.level_size(G.GRANULES[d["granule"]], d["level"])
    return (f"vCPU {j}: VA {v['gva']:#x} ({d['granule']} L{d['level']}, {size:#x} block) -> IPA {v['pa']:#x}, "
            f"{'nG ASID=' + hex(v['asid']) if v['nG'] else 'global'}, cpu {v['cpu']}")


def describe(env, model, path=None, prop=None):
    ev = lambda e: model.eval(e, model_completion=True).as_long()
    evb = lambda e: z3_true(model.eval(e, model_completion=True))
    kind = KIND_NAMES[ev(env.kind)] if ev(env.kind) < len(KIND_NAMES) else KIND_NAMES[-1]
    hs = ev(env.host_shift)
    level = env.level if isinstance(env.level, int) else ev(env.level)
    d = {"op": "vncr", "granule": env.case.granule, "level": level, "hint": env.case.hint,
         "kind": kind, "val": ev(env.val), "lpa2": evb(env.lpa2), "ds": evb(env.ds),
         "host_granule": G.name(hs) if hs in G.NAMES else str(hs), "start": ev(env.start), "end": ev(env.end),
         "ipa": ev(env.ipa),
         "vts": [{"alloc": evb(env.alloc[j]), "valid": ev(vt.valid0) == 1, "gva": ev(vt.gva0), "pa": ev(vt.pa0),
                  "nG": ev(vt.nG0) == 1, "asid": ev(vt.asid0), "cpu": _signed(ev(vt.cpu0))}
                 for j, vt in enumerate(env.vts)]}
    d["tlbi"] = _tlbi_text(d)
    d["cached"] = [_vt_text(j, v, d) for j, v in enumerate(d["vts"])]
    if path is not None:
        d["property"] = prop
        d["after"] = [evb(vt.valid_after()) for vt in env.vts]
        if path.error is not None:
            d["error"] = f"{type(path.error).__name__}: {path.error}"
        elif fired := SH.fired(env.warnings, model):
            d["error"] = f"WARN_ON at {fired[0]}"
    return d


def z3_true(v):
    import z3
    return z3.is_true(v)


def _signed(x):
    return x - (1 << 32) if x >> 31 else x


@dataclass
class Outcome:
    after: list
    stale: list = field(default_factory=list)
    fixmap_left: list = field(default_factory=list)
    fixmap_stray: list = field(default_factory=list)   # slots cleared that no mapped pseudo-TLB holds
    imprecise: list = field(default_factory=list)      # dropped where impl/vncr.within does not allow it (V5)
    error: str | None = None
    warnings: list = field(default_factory=list)


def build(d):
    g = G.GRANULES[d["granule"]]
    hs = G.GRANULES.get(d["host_granule"], 12)
    vts = [V.cached(v["gva"], g, d["level"], v["pa"], v["nG"], v["asid"], v["cpu"], hs) if v["alloc"] else None
           for v in d["vts"]]
    for vt, v in zip(vts, d["vts"]):
        if vt is not None:
            vt.valid = v["valid"]
    return V.VncrKvm(vts), vts


def execute(d, world, rev):
    kvm, vts = world
    hs = G.GRANULES.get(d["host_granule"], 12)
    error, hooks = None, None
    try:
        hooks = V.run(kvm, d["kind"], d["val"], rev, span=(d["start"], d["end"]), host_shift=hs)
        if hooks.warnings:
            error = f"WARN_ON at {hooks.warnings[0]}"
    except C_OUTCOMES as e:
        error = f"{type(e).__name__}: {e}"
    except Exception as e:
        raise userfault.classify(e, rev) from e
    after = [bool(vt.valid) if vt is not None else False for vt in vts]
    out = Outcome(after, error=error, warnings=hooks.warnings if hooks else [])
    for j, (vt, v) in enumerate(zip(vts, d["vts"])):
        if vt is None or not v["valid"]:
            continue
        if after[j] and V.obliged(d["kind"], d["val"], vt, d["lpa2"], d["ds"], (d["start"], d["end"]), hs):
            out.stale.append(j)
        if not after[j] and v["cpu"] != -1 and hooks and (kernel.FIX_VNCR - v["cpu"]) not in hooks.fixmap_cleared:
            out.fixmap_left.append(j)
        if not after[j] and not V.within(d["kind"], d["val"], vt, d["lpa2"], d["ds"], (d["start"], d["end"])):
            out.imprecise.append(j)
    mine = {kernel.FIX_VNCR - v["cpu"] for v in d["vts"] if v["alloc"] and v["cpu"] != -1}
    out.fixmap_stray = [i for i in (hooks.fixmap_cleared if hooks else []) if i not in mine]
    return out


def violates(cex, rev):
    """Does `rev` break the counterexample's property on its world (another
    revision's counterexample: its own outcome is not compared)?  A world
    that cannot be built, or a run that fails otherwise, says no."""
    try:
        world = build(cex)
        return bool(VP.PROPERTIES[cex["property"]].violated(execute(cex, world, rev), cex))
    except Exception:       # noqa: BLE001 -- not a failure the revision shares
        return False


def replay(cex, rev):
    try:
        world = build(cex)
    except Exception as e:
        return False, f"scenario cannot be built concretely: {type(e).__name__}: {e}", None
    out = execute(cex, world, rev)
    if "error" not in cex and out.after != cex["after"]:
        return False, f"concrete pseudo-TLB states {out.after} differ from the model's {cex['after']}", out
    if not VP.PROPERTIES[cex["property"]].violated(out, cex):
        return False, f"the concrete run satisfies {cex['property']}", out
    return True, "replayed on impl/: the property fails concretely", out


def attach(c, rev, dropped=()):
    """Replay one counterexample of the VNCR op and say in it whether it
    replayed (and which cached translations survived)."""
    ok, why, out = replay(c, rev)
    R.say(c, ok, why, dropped)
    if ok and out is not None:
        c["survived"] = ([c["cached"][j] for j in out.stale] or [c["cached"][j] + " (fixmap slot kept)"
                                                                 for j in out.fixmap_left]
                         or [f"fixmap slot FIX_VNCR{i - kernel.FIX_VNCR:+d} cleared, no pseudo-TLB's"
                             for i in out.fixmap_stray])
        if c["property"] == "V5":
            c["imprecise"] = [c["cached"][j] for j in out.imprecise]
        if out.error and not c.get("error"):
            c["error"] = out.error


def cover(witness):
    try:
        build(witness)
    except Exception as e:
        return False, f"the witness cannot be built: {type(e).__name__}: {e}"
    return True, "case occurs concretely"


def executed(engine, rev, results, solvers, models, witness):
    """Proved code = executed code: one model per explored path replayed on
    impl/ with the same final pseudo-TLB states and outcome."""
    proved = [r for r in results if r.verdict == "PROVED"]
    if not proved:
        return
    checked = 0
    for i, (h, model) in sorted(models.items()):
        path, env, s = solvers[i]
        d = describe(env, model, path)
        out = execute(d, build(d), rev)
        sym = (d["after"] if path.error is None else None, bool(path.error), len(SH.fired(env.warnings, model)))
        conc = (out.after if not out.error else None, bool(out.error and not out.warnings), len(out.warnings))
        if sym != conc:
            raise RevisionError(f"{rev.path}:1: the revision behaves differently on concrete input than on the "
                                f"symbolic path: symbolically {sym}, concretely {conc}")
        checked += 1
    covered = {h: cover(witness[h]) for h in {r.hint for r in proved}}
    for r in proved:
        ok, why = covered[r.hint]
        r.concrete = {"paths_checked": checked, "paths_unbuildable": 0, "unbuildable": [],
                      "witness": why if ok else f"MODEL BUG: {why}"}

