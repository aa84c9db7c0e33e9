"""Per-revision verdicts for reviewers: one line per revision, the
assumptions its proofs rest on, its counterexamples grouped by what fails,
as text, JSON and Markdown."""

import dataclasses
import re

from nvtlbi.model import assumptions as AS
from nvtlbi.model import findings
from nvtlbi.model import ops
from nvtlbi.model.verdict import MODEL_BUG, shown
from nvtlbi import render


def verdict(results):
    vs = {shown(r) for r in results}
    for v in ("COUNTEREXAMPLE", MODEL_BUG, "UNKNOWN", "VACUOUS"):
        if v in vs:
            return v
    return "PROVED"


def rests_on(results):
    return sorted({a for r in results if r.verdict == "PROVED" for a in r.rests_on})


def _kind(c):
    """What went wrong, as a group of counterexamples tells it: the BUG() or
    WARN_ON site (each is its own cause), another error's kind, or "range"."""
    e = c.get("error")
    if not e:
        return "range"
    return e if e.startswith(("WARN_ON at", "KernelBug")) else e.split(":")[0]


def groups(results):
    """Counterexamples grouped by (property, what went wrong): each group has
    its (result, counterexample) pairs, the first its representative.  A
    result with several causes (P4: each BUG()/WARN_ON site) is in each
    cause's group."""
    out = {}
    for r in results:
        if shown(r) != "COUNTEREXAMPLE":
            continue
        for c in [r.counterexample] + list(r.causes):
            pairs = out.setdefault((r.property, _kind(c)), [])
            if not pairs or pairs[-1][0] is not r:
                pairs.append((r, c))
    return out


def why(r, c=None):
    """One sentence in domain terms for a counterexample (`c`: one of the
    result's causes; default its first counterexample)."""
    c = c or r.counterexample
    known = findings.of(c, r.property)
    o = ops.of_result(r)
    if o.sentence is not None:
        return o.sentence(r, c) + (f" (known finding `{known.name}` about the kernel)" if known else "")
    g = render
    # a range property's counterexample that also warns is told by its range
    # (the WARN_ON is P4's finding): only a path that ended in an error has none
    warned = c.get("error", "").startswith("WARN_ON at") and r.property != "P4" and "ranges" in c
    if c.get("error") and not warned:
        where = c["error"]
        if where.startswith("KernelBug"):
            where = "BUG() at " + where.split(": ", 1)[1].rsplit("/", 1)[-1]
        return (f"guest input reaches {where}: tlb_vtcr.TG0={c['tg0']:#04b}, vCPU VTCR_EL2.TG0="
                f"{c['vcpu_vtcr'] >> 14 & 3:#04b}, operand {c['val']:#x}, IPA {g.hx(c['ipa'])}, "
                f"ia_bits {c.get('ia_bits', 48)}, host {c['host_granule']}"
                + (f" (known finding `{known.name}` about the kernel: docs/trusting-verdicts.md)" if known else ""))
    T0, T1 = c["T"]
    rngs = ", ".join(g.rng(b, e - b) + (" (S2-off MMU)" if m else "") for b, e, m in c["ranges"]) or "nothing"
    hint = g.ttl_text(c["ttl"], c["feat_ttl"], c["lpa2"])
    host = f"host FEAT_TTL {'yes' if c.get('host_ttl') else 'no'}"
    also = f" ({c['error']} fires too)" if warned else ""
    if r.property == "P2":
        left = f"; the shadow leaf at {g.hx(c['stale'])} survives" if c.get("stale") is not None else ""
        return (f"IPA {g.hx(c['ipa'])} with {hint} ({host}): unmaps {rngs} but T is "
                f"{c['granule']} L{c['level']} {g.rng(T0, T1 - T0)}{left}{also}")
    return f"IPA {g.hx(c['ipa'])} with {hint} ({host}): unmaps {rngs}{also}"


def summary_line(name, results):
    v = verdict(results)
    n = len(results)
    counts = {}
    for r in results:
        counts[shown(r)] = counts.get(shown(r), 0) + 1
    detail = ", ".join(f"{k} {counts[k]}" for k in sorted(counts))
    line = f"{name}: {v} ({detail} of {n})"
    if v == "COUNTEREXAMPLE":
        cex = [r for r in results if shown(r) == "COUNTEREXAMPLE"]
        line += "; fails " + ", ".join(sorted({r.property for r in cex}))
        known = [findings.explains(r) for r in cex]
        if all(known):
            # a reviewer's first question: is anything wrong beyond what the kernel already has?
            line += (" only with known findings about the kernel: "
                     + ", ".join(sorted({f.name for fs in known for f in fs})))
    return line


def text(name, results, notes=(), dropped=(), extra=()):
    """extra: the opt-in assumptions the revision names in ASSUMES."""
    L = [summary_line(name, results)]
    L += [f"  {n}" for n in notes]
    enabled = AS.enabled(dropped, extra)
    used = rests_on(results)
    if any(r.verdict == "PROVED" for r in results):     # with none proved, nothing rests on anything
        L.append(f"  PROVED obligations rest on: {', '.join(used) or 'no assumption'}"
                 f"  (enabled: {', '.join(enabled)})")
        unused = [a for a in enabled if a not in used]
        if unused:
            L.append(f"  never needed: {', '.join(unused)}")
    else:
        L.append(f"  no obligation PROVED  (enabled: {', '.join(enabled)})")
    for (prop, kind), rs in groups(results).items():
        r, c = rs[0]
        hints = sorted({x.hint for x, _ in rs})
        cells = sorted({f"{x.granule}-L{x.level}" for x, _ in rs})
        L.append(f"  {prop} fails in {len(rs)} obligations (hints {', '.join(hints)}; {', '.join(cells)}), "
                 f"under the enabled assumptions:")
        L.append(f"    e.g. {r.id}: {why(r, c)} [{c.get('replay', 'not replayed')}]")
    for r in results:
        if r.verdict in ("UNKNOWN", "VACUOUS"):
            L.append(f"  {r.verdict} {r.id}: {r.reason} {', '.join(r.contradicting)}")
        elif shown(r) == MODEL_BUG:
            c = next(c for c in [r.counterexample] + list(r.causes) if c.get("replay", "").startswith("MODEL BUG"))
            L.append(f"  {MODEL_BUG} {r.id} (nvtlbi's failure, not the kernel's: exit 2): the solver's "
                     f"counterexample ({why(r, c)}) [{c['replay']}]")
    return "\n".join(L)


def as_json(name, spec, results, notes=(), dropped=(), extra=()):
    return {
        "revision": name, "input": spec, "verdict": verdict(results), "notes": list(notes),
        "assumptions_enabled": AS.enabled(dropped, extra),
        "rests_on": rests_on(results),
        "counterexample_groups": [{"property": p, "kind": k, "obligations": [r.id for r, _ in rs],
                                   "example": why(*rs[0]),
                                   "known_finding": getattr(findings.of(rs[0][1], p), "name", None)}
                                  for (p, k), rs in groups(results).items()],
        "results": [dataclasses.asdict(r) | {"id": r.id} for r in results],
    }


def scenario_results(results):
    """The results markdown() draws a scenario for: the first of each property."""
    first = {}
    for (prop, kind), rs in groups(results).items():
        first.setdefault(prop, rs[0][0])
    return list(first.values())


def markdown(entries, dropped, docs, drawn):
    """entries: [(name, spec, results, notes)] -> a report to paste into a reply.
    docs: {spec: the revision's docstring}; drawn: {result id: its scenario
    (render.counterexample)}, both made in workers (nvtlbi/scheduler.py)."""
    L = ["# nvtlbi audit", ""]
    enabled = [a for a in AS.NAMES if a not in dropped]
    L.append(f"Assumptions enabled: {', '.join(f'`{a}`' for a in enabled)}"
             + (f"; dropped: {', '.join(dropped)}" if dropped else "") + ".")
    L.append("")
    L.append("| revision | verdict | obligations | rests on |")
    L.append("|---|---|---|---|")
    for name, spec, results, notes in entries:
        L.append(f"| `{name}` | **{verdict(results)}** | {len(results)} | {', '.join(rests_on(results)) or '-'} |")
    L.append("")
    for name, spec, results, notes in entries:
        L.append(f"## `{name}`: {verdict(results)}")
        L.append("")
        doc = docs[spec].strip()
        mids = re.findall(r"[\w.+-]+@[\w.-]+\.\w+", doc)
        if doc:
            L.append(f"{doc.splitlines()[0]}" + (f" (Message-Id {mids[0]})" if mids else ""))
            L.append("")
        for n in notes:
            L.append(f"- {n.strip()}")
        L.append(f"- {summary_line(name, results)}")
        if any(r.verdict == "PROVED" for r in results):
            L.append(f"- PROVED obligations rest on: {', '.join(f'`{a}`' for a in rests_on(results)) or 'nothing'}")
        for (prop, kind), rs in groups(results).items():
            r, c = rs[0]
            L.append(f"- **{prop}** ({ops.of_result(r).properties[prop].meaning}) fails in {len(rs)} obligations, "
                     f"e.g. `{r.id}`: {why(r, c)}")
        for r in scenario_results(results):
            L.append("")
            L.append(f"Scenario for `{r.id}`:")
            L.append("")
            L.append("```")
            L.append(drawn[r.id])
            L.append("```")
        L.append("")
    return "\n".join(L)
