"""Every table in docs/ is generated from a registry, never retyped.

    python -m nvtlbi.docs            # rewrite the generated parts of docs/
    python -m nvtlbi.docs --check    # exit 1, naming them, if any is stale

A generated table sits in a hand-written page between marker comments

    <!-- generated: NAME -->
    ...
    <!-- end generated -->

where NAME is one of BLOCKS; a whole generated page is one of PAGES.
tests/test_docs.py fails when any of them is stale."""

import argparse
import os
import re
import sys

from nvtlbi.impl import eras as E
from nvtlbi.impl.assumptions import ASSUMPTIONS, OPT_IN
from nvtlbi.model import findings as FI
from nvtlbi.model import hints as H
from nvtlbi.model import history as HI
from nvtlbi.model import mutation as MU
from nvtlbi.model import ops as OPS
from nvtlbi.model import properties as P
from nvtlbi.model import steps as ST
from nvtlbi.model import verdict as V

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMMAND = "python -m nvtlbi.docs"


def _table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(r) + " |" for r in rows]


def _cell(text):
    return text.replace("|", "\\|")


def assumptions():
    """The default assumptions (impl/assumptions.py)."""
    return _table(["name", "meaning", "source", "checked on concrete states"],
                  [[f"`{a.name}`", a.meaning, a.source, "yes" if a.check else "no: " + a.unchecked]
                   for a in ASSUMPTIONS])


def opt_in_assumptions():
    """The opt-in assumptions (impl/assumptions.py OPT_IN): a revision lists them in ASSUMES."""
    return _table(["name", "meaning", "replaces", "source"],
                  [[f"`{a.name}`", a.meaning, ", ".join(f"`{r}`" for r in a.replaces), a.source] for a in OPT_IN])


def properties():
    """The properties (model/properties.py)."""
    every = [h.name for h in H.HINT_CASES]
    return _table(["", "property", "proved", "hint cases", "source"],
                  [[p.name, _cell(p.meaning), "by default" if p.default else f"only with `--property {p.name}`",
                    "all" if p.hints == every else "all but " + ", ".join(h for h in every if h not in p.hints),
                    _cell(p.source)] for p in P.PROPERTIES.values()])


def hints():
    """The hint cases (model/hints.py)."""
    return _table(["hint", "operand", "TTL and FEAT_TTL"],
                  [[h.name, _cell(h.meaning), _cell(h.operand)] for h in H.HINT_CASES])


def exit_statuses():
    """The exit statuses (model/verdict.py)."""
    return _table(["exit status", "when", "verdicts"],
                  [[str(s.code), _cell(s.meaning), ", ".join(v.name for v in V.VERDICTS if v.exit == s.code)]
                   for s in V.EXIT_STATUSES])


def mutant_classes():
    """The classes of mutation testing (model/mutation.py)."""
    return _table(["class", "meaning"], [[c.name, _cell(c.meaning)] for c in MU.CLASSES])


def findings():
    """The known findings about the kernel (model/findings.py)."""
    return _table(["finding", "property", "site", "scenario", "sources"],
                  [[f"`{f.name}`", ", ".join(f.props), _cell(f.warning), _cell(f.scenario), _cell(f.sources)]
                   for f in FI.FINDINGS])


def end_to_end():
    """What the end-to-end theorem (model/endtoend.py) takes as a theorem and
    what it trusts: each default assumption, each way the shadow state
    changes (model/transitions.py's registry or the trusted list), and the
    facts the transitions' worlds take as given."""
    from nvtlbi.model import endtoend as EE
    from nvtlbi.model import transitions as TR
    proved = EE.invariant_names()
    trust = {t.name: t for t in EE.TRUSTED}
    by = {i: [t.name for t in TR.TRANSITIONS if i in t.invariants] for i in [a.name for a in ASSUMPTIONS]}

    def ob(t, name):
        # one obligation per granule pair (`-*`), or one for every pair
        return f"`{t}-preserves-{name}-*`" if TR.BY_NAME[t].granular else f"`{t}-preserves-{name}`"
    rows = []
    for name in [a.name for a in ASSUMPTIONS] + list(EE.KVM_TRANSITIONS):
        what = "transition" if name in EE.KVM_TRANSITIONS else "assumption"
        if name in proved:
            status = f"theorem: kept by every transition ({', '.join(ob(t, name) for t in by[name])})"
        elif name in TR.BY_NAME:
            t = TR.BY_NAME[name]
            status = (f"modelled (`impl/producers/{t.producer}.py`): {_cell(t.what)}; its obligations: "
                      + ", ".join(f"`{i}`" for i in t.invariants))
        elif name in trust:
            status = f"trusted ({trust[name].kind}): {_cell(trust[name].reason)}"
            if by.get(name):
                status += "; its obligation: " + ", ".join(ob(t, name) for t in by[name])
        else:
            status = "neither: a proof that rests on it is not PROVED end to end"
        rows.append([f"`{name}`", what, status])
    rows += [[f"`{t.name}`", "fact of the case", f"trusted: {_cell(f)}"] for t in TR.TRANSITIONS for f in t.facts]
    rows += [[f"`{t.name}` keeps `{i}`", "frame argument", f"trusted (no obligation): {_cell(why)}"]
             for t in TR.TRANSITIONS for i, why in t.frame if i not in t.invariants]
    rows += [[f"`{t.name}` breaks `{i}` only on an MMU it leaves pending", "pending-unmap window",
              f"trusted (no obligation): {_cell(why)}"] for t in TR.TRANSITIONS for i, why in t.window]
    return _table(["name", "", "in the end-to-end theorem"], rows)


def end_to_end_summary():
    """The end-to-end theorem's assumptions in two lines (README.md)."""
    from nvtlbi.model import endtoend as EE
    from nvtlbi.model import transitions as TR
    kinds: dict = {}
    for t in EE.TRUSTED:
        kinds.setdefault(t.kind, []).append(f"`{t.name}`")
    facts = [t.name for t in TR.TRANSITIONS if t.facts]
    framed = [t.name for t in TR.TRANSITIONS if t.frame]
    return ["- Theorems (every transition keeps them: " + ", ".join(f"`{t.name}`" for t in TR.TRANSITIONS) + "): "
            + ", ".join(f"`{n}`" for n in EE.invariant_names()) + ".",
            "- Trusted: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in kinds.items())
            + (f"; facts of the case in the worlds of {', '.join(f'`{n}`' for n in facts)}" if facts else "")
            + (f"; frame arguments (no obligation) for the entry predicates under {', '.join(f'`{n}`' for n in framed)}"
               if framed else "") + "."]


def steps():
    """The steps of a concrete scenario (model/steps.py)."""
    return _table(["step", "meaning"], [[f"`{s.name}`", s.meaning] for s in ST.STEPS.values()])


def ops_table():
    """The ops (model/ops.py): the TLBIs whose emulation is proved (--op)."""
    return _table(["op", "meaning", "operand cases (--hint)", "properties (default)", "source"],
                  [[f"`{o.name}`" + (" (default)" if o.name == OPS.DEFAULT else ""), _cell(o.meaning),
                    ", ".join(o.cases), ", ".join(o.isolation), _cell(o.source)] for o in OPS.OPS.values()])


def _op_properties(name):
    def table():
        o = OPS.op(name)
        return _table(["", "property", "proved", "operand cases", "source"],
                      [[p.name, _cell(p.meaning), "by default" if p.default else f"only with `--property {p.name}`",
                        ", ".join(h for h in o.cases if o.applies(p.name, h)), _cell(p.source)]
                       for p in o.properties.values()])
    table.__doc__ = f"The properties of op {name} (model/ops.py)."
    return table


def _op_cases(name):
    def table():
        from nvtlbi.model.range_env import RangeCases
        return _table(["case", "operand", "the cached translation C"],
                      [[c, _cell(m), "excused" if excuses else "must be removed where it overlaps the range"]
                       for c, (m, excuses, _) in RangeCases.CASES.items()])
    table.__doc__ = f"The operand cases of op {name} (model/range_env.py RangeCases)."
    return table


def _fails(step):
    return [HI.BY_NAME[n] for n in step.fails]


def history_ops():
    """The history of the range and VNCR paths, one row per bundled revision
    (model/history.py; README)."""
    return _table(["op", "revision", "command", "verdict", "a failing verdict means for a real guest"],
                  [[f"`{s.op}`", f"`{s.name}` ({s.when})", f"`nvtlbi prove --op {s.op} --revision {s.name}`",
                    "COUNTEREXAMPLE: " + ", ".join(f.name for f in _fails(s)) if s.fails else "PROVED",
                    _cell("; ".join(f"{f.name}: {f.short}" for f in _fails(s)))] for s in HI.HISTORY])


def history_steps():
    """What each revision of the range and VNCR history changed (model/history.py)."""
    return _table(["op", "revision", "when", "source", "what changed", "fails (tests/test_history_ops.py)"],
                  [[f"`{s.op}`", f"`{s.name}`", s.when, _cell(s.source), _cell(s.change),
                    ", ".join(s.fails) + (" (EQUIVALENT to the previous)" if s.differs == "=" else "")]
                   for s in HI.HISTORY])


def history_findings():
    """The findings of the range and VNCR history, where the suite shows
    each, and what a failing verdict means (model/history.py)."""
    return _table(["finding", "property", "shows at", "the fault", "what it means for a real guest", "failed by"],
                  [[f"`{f.name}`", f.prop, f.where, _cell(f.fault), _cell(f.guest),
                    ", ".join(f"`{s.name}`" for s in HI.of_op(f.op) if f.name in s.fails)]
                   for f in HI.FINDINGS])


BLOCKS = {"assumptions": assumptions, "opt-in-assumptions": opt_in_assumptions, "properties": properties,
          "hints": hints, "exit-statuses": exit_statuses,
          "mutant-classes": mutant_classes, "steps": steps, "ops": ops_table,
          "ripas2e1-properties": _op_properties("ripas2e1"), "ripas2e1-cases": _op_cases("ripas2e1"),
          "vncr-properties": _op_properties("vncr"), "findings": findings, "end-to-end": end_to_end,
          "end-to-end-summary": end_to_end_summary,
          "history-ops": history_ops, "history-steps": history_steps, "history-findings": history_findings}


def eras_page():
    """docs/eras.md: every era, field and name with its meaning and source (impl/eras.py)."""
    out = ["# Eras of the kernel vocabulary", "",
           f"Generated from `impl/eras.py` by `{COMMAND}`: do not edit.", ""]
    out += _table(["era", "span", "vocabulary module", "starts with"],
                  [[e.name, e.span, f"`{e.vocabulary}`", e.source] for e in E.ERAS.values()])
    out += ["", "## Struct fields", ""]
    rows = []
    for (struct, name), by in E.FIELDS.items():
        cells = [by[e].meaning if e in by else "(no meaning: an error)" for e in E.ORDER]
        rows.append([f"`{struct}->{name}`", *cells, "; ".join(sorted({f.source for f in by.values()}))])
    out += _table(["field", *E.ORDER, "source"], rows)
    out += ["", "## Names", ""]
    out += _table(["name", "meaning", "eras", "source"],
                  [[f"`{n.name}`", n.meaning + "".join(f"; in {e}: {t}" for e, t in n.changed.items()),
                    ", ".join(n.eras), n.source] for n in sorted(E.NAMES.values(), key=lambda n: n.name.lower())])
    return "\n".join(out) + "\n"


PAGES = {"docs/eras.md": eras_page}

_BLOCK = re.compile(r"(<!-- generated: ([\w-]+) -->\n)(.*?)(<!-- end generated -->)", re.S)


class DocsError(Exception):
    pass


def fill(text, where="text"):
    """The text with every generated block rewritten from its registry."""
    def one(m):
        name = m.group(2)
        if name not in BLOCKS:
            raise DocsError(f"{where}: unknown generated block {name!r} (blocks: {', '.join(BLOCKS)})")
        return m.group(1) + "\n".join(BLOCKS[name]()) + "\n" + m.group(4)
    return _BLOCK.sub(one, text)


def pages(root=ROOT):
    """The hand-written pages that may hold generated blocks."""
    docs = os.path.join(root, "docs")
    return ["README.md"] + sorted(os.path.join("docs", f) for f in os.listdir(docs)
                                  if f.endswith(".md") and os.path.join("docs", f) not in PAGES)


def generate(root=ROOT):
    """{relative path: what it should hold} for every page with generated content."""
    out = {rel: make() for rel, make in PAGES.items()}
    for rel in pages(root):
        with open(os.path.join(root, rel)) as f:
            text = f.read()
        out[rel] = fill(text, rel)
    return out


def blocks_used(root=ROOT):
    used = set()
    for rel in pages(root):
        with open(os.path.join(root, rel)) as f:
            used |= {m.group(2) for m in _BLOCK.finditer(f.read())}
    return used


def stale(root=ROOT):
    """The pages whose generated content differs from the registries'."""
    out = []
    for rel, want in generate(root).items():
        path = os.path.join(root, rel)
        have = open(path).read() if os.path.exists(path) else None
        if have != want:
            out.append(rel)
    return out


def write(root=ROOT):
    changed = stale(root)
    for rel, text in generate(root).items():
        if rel in changed:
            with open(os.path.join(root, rel), "w") as f:
                f.write(text)
    return changed


def main(argv=None):
    ap = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only say which generated docs are stale (exit 1)")
    args = ap.parse_args(argv)
    if args.check:
        bad = stale()
        for rel in bad:
            print(f"{rel}: stale; run {COMMAND}", file=sys.stderr)
        return 1 if bad else 0
    for rel in write():
        print(f"wrote {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
