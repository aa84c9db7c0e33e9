"""Results in domain terms: the verdict matrix and counterexample scenarios."""

from nvtlbi.impl import descriptor, oracle
from nvtlbi.impl import granule as G
from nvtlbi.impl.granule import hx, rng, size_name  # noqa: F401  (re-exported: the report's words)
from nvtlbi.model import findings
from nvtlbi.model import ops
from nvtlbi.model import replay as R
from nvtlbi.model.assumptions import ASSUMPTIONS, OPT_IN
from nvtlbi.model.properties import PROPERTIES
from nvtlbi.model.steps import step
from nvtlbi.model.verdict import shown


def ttl_text(ttl, feat, lpa2=False):
    tg, lvl = ttl >> 2, ttl & 3
    if ttl == 0:
        what = "no hint"
    elif tg == 0:
        what = "no information"
    else:
        gname = {1: "4K", 2: "16K", 3: "64K"}[tg]
        what = f"{gname} L{lvl}"
        if oracle.ttl_reserved(ttl, lpa2):
            what += " (reserved: no information)"
    if not feat and ttl:
        what += ", ignored: FEAT_TTL not advertised"
    return f"TTL {ttl:#06b} ({what})"


def matrix(results):
    """One row per (granule, level, hint), one column per property."""
    props = sorted({r.property for r in results})
    rows = {}
    for r in results:
        rows.setdefault((r.revision, r.granule, r.level, r.hint), {})[r.property] = r
    w = 26
    lines = [f"{'obligation':<30}" + "".join(f"{p:<{w}}" for p in props)]
    for (rev, g, lvl, hint), cells in rows.items():
        line = f"{rev + '-' + g + '-L' + str(lvl) + '-' + hint:<30}"
        for p in props:
            c = cells.get(p)
            line += f"{'-' if c is None else f'{shown(c)} {c.seconds:.2f}s':<{w}}"
        lines.append(line)
    return "\n".join(lines)


def summary(results):
    counts = {}
    for r in results:
        counts[shown(r)] = counts.get(shown(r), 0) + 1
    out = [", ".join(f"{v}: {n}" for v, n in sorted(counts.items())) + f"  ({len(results)} obligations)"]
    for r in results:
        if r.verdict == "VACUOUS":
            out.append(f"VACUOUS {r.id}: {r.reason}; contradicting: {', '.join(r.contradicting) or '?'}")
        elif r.verdict == "UNKNOWN":
            out.append(f"UNKNOWN {r.id}: {r.reason}")
        elif r.verdict == "COUNTEREXAMPLE":
            for i, c in enumerate([r.counterexample] + list(r.causes)):
                out.append((shown(r) if i == 0 else "  and") + f" {r.id}: {_cex_line(r, c)}")
    return "\n".join(out)


def _cex_line(r, c):
    """One counterexample of a result in domain terms; a BUG()/WARN_ON one
    names the host page size and the VM's IPA size it needs, and whether it
    is a known finding about the kernel (model/findings.py)."""
    known = findings.of(c, r.property)
    known = f" (known finding `{known.name}` about the kernel)" if known else ""
    o = ops.of_result(r)
    if o.sentence is not None:          # the op says what its counterexample is, in its own terms
        return f"{o.sentence(r, c)}{known} [{c.get('replay', 'not replayed')}]"
    stale = "" if c.get("error") else f", T {rng(c['T'][0], c['T'][1] - c['T'][0])}"
    rngs = ", ".join(rng(b, e - b) + (" (S2-off MMU)" if m else "") for b, e, m in c["ranges"]) or "none"
    where = ""
    if c.get("error"):
        where = f", host {c['host_granule']} pages, IPA size {c.get('ia_bits', 48)} bits, {c['error']}{known}"
    return (f"IPA {hx(c['ipa'])}, {ttl_text(c['ttl'], c['feat_ttl'], c['lpa2'])}, unmapped {rngs}{stale}{where} "
            f"[{c.get('replay', 'not replayed')}]")


def cex_line(r, c):
    """One counterexample `c` of result `r` in domain terms, on one line."""
    return _cex_line(r, c)


def counterexample(result, rev, dropped=()):
    """The scenario drawn as text: what was cached, what the algorithm probed,
    what it unmapped and which shadow leaf survived."""
    c = result.counterexample
    o = ops.of_result(result)
    if o.scenario is not None:
        return o.scenario(result, rev, dropped)
    sc = R.from_counterexample(c)
    out = R.run(sc, rev)
    g = c["granule"]
    L = []
    L.append(f"counterexample {result.id}: {PROPERTIES[c['property']].meaning} fails")
    if dropped:
        L.append(f"  assumptions dropped: {', '.join(dropped)}")
    L.append(f"  guest S2 granule {g}, host granule {c['host_granule']}, "
             f"FEAT_TTL {'advertised' if c['feat_ttl'] else 'not advertised'}, LPA2 {'on' if c['lpa2'] else 'off'}, "
             f"tlb_vtcr.TG0={c['tg0']:#04b}, IPA size {c.get('ia_bits', 48)} bits (the VM's PARange, the shadow "
             f"S2's ia_bits)")
    L.append(f"  TLBI IPAS2E1IS Xt={c['val']:#018x}: IPA {hx(c['ipa'])}, {ttl_text(c['ttl'], c['feat_ttl'], c['lpa2'])}")
    T0, T1 = c["T"]
    L.append(f"  cached guest translation T: {g} L{c['level']} {rng(T0, T1 - T0)}; "
             f"the TLBI {'must' if c['obliged'] else 'need not'} remove it")
    L.append("scenario (replayed on impl/):")
    n, mapped = 1, []
    for kind, arg in sc.steps:
        L.append(f"  {n}. {step(kind).show(arg, mapped)}")
        if kind == "map":
            mapped.append(arg)
        n += 1
    L.append(f"  {n}. guest issues TLBI IPAS2E1IS {c['val']:#x}")
    L.append("shadow S2 before the TLBI:")
    after = {(b, s) for b, s, *_ in out.leaves_after}
    stale = {(b, s) for b, s, *_ in out.stale}
    for b, s, lvl, pte, origin in out.leaves_before:
        state = "STALE (survived)" if (b, s) in stale else ("kept" if (b, s) in after else "unmapped")
        L.append(f"  leaf {rng(b, s)} tag L{descriptor.nv_level(pte)}  from {origin}  -> {state}")
    if not out.leaves_before:
        L.append("  (empty)")
    L.append("probes made by the revision (kvm_pgtable_get_leaf):")
    for addr, ret, pte, lvl in out.probes:
        what = f"ret {ret}" if ret else (f"valid leaf at L{lvl}, tag L{descriptor.nv_level(pte)}" if pte & 1 else f"invalid entry at L{lvl}")
        L.append(f"  {hx(addr)}: {what}")
    if not out.probes:
        L.append("  (none)")
    L.append("range unmapped: " + (", ".join(rng(b, s) + (" in the S2-off MMU" if m else "")
                                             for b, s, m in out.ranges) or "none"))
    if out.error:
        known = findings.of(c, c["property"])
        L.append(f"the revision failed: {out.error}"
                 + (f"\n  a known finding about the kernel: `{known.name}` (model/findings.py)" if known else ""))
    for b, s, lvl, pte, origin in out.stale:
        L.append(f"stale: shadow leaf {rng(b, s)} of {origin} still maps the nested guest after the TLBI")
    if c["property"] == "P5":
        L.extend(_imprecision(c, sc, out))
    L.append(c.get("replay") or "")
    for other in result.causes:
        L.append(f"the obligation also fails for another cause: {_cex_line(result, other)}")
    return "\n".join(L)


def _imprecision(c, sc, out):
    """P5 in domain terms: how much more than T was unmapped, and what KVM
    could have known."""
    T, mine = sc.T, [(b, s) for b, s, m in out.ranges if m == 0]
    largest = G.level_size(T.shift, min(G.guest_leaf_levels(T.shift, c["lpa2"])))
    L = [f"imprecise: {rng(b, s)} is {s // T.size}x T's size" for b, s in mine if s > T.size and s % T.size == 0]
    L += [f"imprecise: {rng(b, s)} is larger than the granule's largest block ({size_name(largest)})"
          for b, s in mine if s > largest]
    known = [a for a in dict.fromkeys(c["ipa"] & ~(sz - 1) for sz in sorted({G.level_size(T.shift, l)
                                                              for l in G.guest_leaf_levels(T.shift)}) if sz <= T.size)
             if any(b <= a < b + s and descriptor.nv_level(pte) for b, s, _, pte, _ in out.leaves_before)]
    if known and (c["ttl"] == 0 or not c["feat_ttl"]):
        L.append(f"KVM could know T: a tagged shadow leaf of T maps {', '.join(hx(a) for a in known)}")
    return L or [f"imprecise: the range is not T {rng(T.base, T.size)}"]


def _concrete(a):
    return "impl/assumptions.py" if a.check is not None else f"none: {a.unchecked}"


def assumptions_table():
    """`nvtlbi assumptions`: the registry, default entries then opt-in ones."""
    rows = []
    for a in ASSUMPTIONS + OPT_IN:
        opt = f" (opt-in: replaces {', '.join(a.replaces)})" if a in OPT_IN else ""
        rows.append(f"{a.name:<14} {a.meaning}{opt}\n{'':<14} source: {a.source}\n"
                    f"{'':<14} concrete check: {_concrete(a)}")
    return "\n".join(rows)



def invariant_trace(tr, producer):
    """A preservation counterexample (model/endtoend.py Trace) drawn as the
    events replayed on impl/: the guest's map, the fault(s) the producer
    handles, the guest's break, the TLBI and what it leaves."""
    from nvtlbi.impl.assumptions import BY_NAME
    from nvtlbi.model.transitions import ESTABLISHED
    c = tr.counterexample
    # an MMU transition's obligation has no granule pair (its replay picks one)
    pair = (f"guest {G.name(tr.shift)}, host {G.name(tr.host)} pages" if tr.shift is not None else
            "granules open in the solver's world: the events pick a pair")
    # an obligation is an assumption's, or what a transition establishes (overlap-cleared)
    meaning = BY_NAME[tr.invariant].meaning if tr.invariant in BY_NAME else ESTABLISHED[tr.invariant]
    if tr.transition != "fault":        # the solver's state is the transition's own: its events say it
        out = [f"{tr.id}: COUNTEREXAMPLE: the {tr.transition} transition of producer {producer.name} "
               f"({producer.path}) breaks {tr.invariant}", f"  {tr.invariant}: {meaning}",
               f"  the events, replayed on impl/ ({pair}):"]
        out += [f"    {n}. {e}" for n, e in enumerate(tr.events, 1)]
        out += [f"  replayed on impl/: after these events, {name} breaks: {d}" for name, d in tr.broken]
        if not tr.broken:
            out.append("  MODEL BUG: the events do not break the assumption on impl/")
        return "\n".join(out)
    g, h = G.name(tr.shift), G.name(tr.host)
    base = c["ipa"] & ~(c["guest_size"] - 1)
    old = c["old"]
    what = "a permission fault (a write)" if c["perm"] else "a translation fault"
    out = [f"{tr.id}: COUNTEREXAMPLE: the {tr.transition} transition of producer {producer.name} ({producer.path}) "
           f"breaks {tr.invariant}",
           f"  {tr.invariant}: {meaning}",
           f"  the solver's state: guest {g} L{c['guest_level']} translation {rng(base, c['guest_size'])} -> "
           f"{hx(c['guest_oa'])}; {what} at IPA {hx(c['ipa'])}, host {h} pages, backing {size_name(c['vma_pagesize'])}"
           + (", force_pte" if c["force_pte"] else "") + (", THP" if c["thp"] else "")
           + ("; the entry before: " + (f"a valid {size_name(old['size'])} leaf tagged {old['tag']}"
                                        if old["valid"] else "invalid"))
           + (f"; it {'maps' if c['written'] == 'map' else 'relaxes' if c['written'] else 'writes nothing at'} "
              f"{rng(c['leaf_base'], c['leaf_size'])} with level tag {c['leaf_tag']}"),
           "  the events, replayed on impl/ (the producer handles each fault; the TLBI is emulated by upstream, "
           f"operand {ttl_text(0, True)}):"]
    n = 0
    for e in tr.events:
        if e.startswith((" ", "STALE", "no stale")):      # a remark on the event before, or the outcome
            out.append(f"       {e.strip()}")
        else:
            n += 1
            out.append(f"    {n}. {e}")
    for name, detail in tr.broken:
        out.append(f"  replayed on impl/: right after the fault, {name} breaks: {detail}")
    if not tr.broken:
        out.append("  MODEL BUG: the events do not break the assumption on impl/")
    if tr.stale:
        b, s, o = tr.stale[0]
        out.append(f"  after the TLBI: {len(tr.stale)} shadow leaf(s) of the removed translation survive, e.g. "
                   f"{rng(b, s)} still maps {o}")
    else:
        out.append("  after the TLBI: no stale shadow leaf (the broken assumption is one this TLBI revision does "
                   "not rest on here)")
    return "\n".join(out)
