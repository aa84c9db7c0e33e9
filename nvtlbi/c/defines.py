"""The input's own definitions of kernel names the audit takes from the
era's vocabulary (impl/eras.py), checked against it.

The translator reads `KVM_NV_GUEST_MAP_SZ` or `VTCR_EL2_TG0_MASK` with the
meaning the vocabulary gives them in the input's era, not with the input's
`#define`.  So a post that (re)defines one of them is only audited right if
its definition has that same value: each one is evaluated in the era (a C
expression translated like any other) and compared.  A different value, or
one that cannot be evaluated (a function-like macro, a name outside the
vocabulary), is an error naming the line unless --unaudited NAME accepts
it; a removed definition is a note (the name's meaning then comes from
wherever the kernel defines it next, which the vocabulary models).
Definitions in .c files (whole or patched) and in the header hunks of
patches are both checked."""

import os
import re
from dataclasses import dataclass

from nvtlbi.c import inputs
from nvtlbi.c.inputs import GAP, InputError

_DEFINE = re.compile(r"^\s*#\s*define\s+(\w+)(\([^)]*\))?(.*)$")


@dataclass(frozen=True)
class Define:
    kind: str           # "+" added by the input, "-" removed by it, "=" present (a file, context, a base)
    name: str
    params: str         # "(x, y)" for a function-like macro, else ""
    body: str
    file: str
    line: int


def _collect(items):
    """Defines among (kind, text, file, line), joining backslash continuations."""
    out, i = [], 0
    while i < len(items):
        kind, text, f, ln = items[i]
        m = _DEFINE.match(text)
        i += 1
        if not m:
            continue
        body = m.group(3)
        while body.rstrip().endswith("\\") and i < len(items) and items[i][0] == kind:
            body = body.rstrip()[:-1] + " " + items[i][1]
            i += 1
        body = " ".join(inputs.strip_comments([body])[0].split())
        out.append(Define(kind, m.group(1), m.group(2) or "", body, f, ln))
    return out


def in_sources(sources):
    """The #defines of the C text the audit reads (present lines)."""
    out = []
    for src in sources.values():
        items = [("=", x.text, x.file, x.line) for x in src.lines if x is not GAP]
        out += _collect(items)
    return out


def in_headers(path, bases=()):
    """The #defines that the patches of the input (and of --base patches)
    add or remove in files other than .c: the headers nvtlbi does not read."""
    files = []
    for p in list(bases) + [path]:
        if p is None or not os.path.exists(p):
            continue
        if os.path.isdir(p):
            files += [os.path.join(p, n) for n in sorted(os.listdir(p)) if n.endswith(".patch")]
        else:
            files.append(p)
    out = []
    for f in files:
        text = inputs._read(f)
        if not inputs.is_patch(text):
            continue
        patches, _ = inputs.select_series(f, inputs.parse_patches(f, text), inputs.covers(f, text))
        for p in patches:
            for fd in p.diffs:
                if fd.path.endswith(".c"):
                    continue
                for _, _, items, _ in fd.hunks:
                    out += [d for d in _collect([(k, t, f, ln) for k, t, ln in items]) if d.kind != " "]
    return out


def _value(define, prof, vocabulary):
    """The value of the define's body in the era, or None if it is not an
    integer constant expression of the vocabulary."""
    from nvtlbi.c import era, translator
    text = ["unsigned long long __nvtlbi_define(void)", "{", f"\treturn ({define.body});", "}"]
    fn = translator.CFunc("__nvtlbi_define", [inputs.Line(t, define.file, define.line) for t in text], True)
    try:
        fdef = translator.parse(fn)
        py = translator.FuncTranslator(fdef, set(), era.names(prof), "__nvtlbi_define", fields=era.fields(prof),
                                       era=prof.name, returns={}).translate()
    except InputError:      # anything the translator refuses: not a constant we can compare
        return None
    ns = dict(vars(vocabulary))
    try:
        exec(compile(py, "<define>", "exec"), ns)
        return int(_int(ns["__nvtlbi_define"]()))
    except Exception:       # a runtime refusal (a name without a value in the era): unknown
        return None


def _int(v):
    return getattr(v, "v", v)


def check(defines, prof, unaudited=()):
    """Notes for the report; InputError for a definition that contradicts
    the era's vocabulary or cannot be checked."""
    import importlib

    from nvtlbi.c import era
    vocab = era.names(prof)
    module = importlib.import_module(prof.vocabulary)
    notes, seen = [], set()
    for d in defines:
        if d.name not in vocab or (d.file, d.line) in seen:
            continue
        seen.add((d.file, d.line))
        where = f"{d.file}:{d.line}"
        if d.kind == "-":
            notes.append(f"note: {where}: the input removes the definition of {d.name}; the audit reads it "
                         f"as the {prof.name} vocabulary defines it ({prof.vocabulary})")
            continue
        model = getattr(module, d.name)
        want = _int(model) if isinstance(_int(model), int) else None
        got = None if d.params or want is None else _value(d, prof, module)
        if got is not None and got == want:
            continue
        if d.name in unaudited:
            notes.append(f"note: {where}: the input's definition of {d.name} is NOT audited (--unaudited "
                         f"{d.name}): the audit reads it as the {prof.name} vocabulary defines it")
            continue
        if got is None:
            why = (f"it cannot be evaluated as a constant of the {prof.name} vocabulary" if want is not None
                   else f"{d.name} is a {'function-like macro' if d.params else 'name'} of the vocabulary whose "
                        "meaning is modelled, not a constant to compare")
        else:
            why = f"it is {got:#x} there, but the {prof.name} vocabulary has {want:#x}"
        raise InputError(f"{where}: the input defines {d.name}{d.params} as {d.body!r}, and {why}; the audit "
                         f"would read {d.name} with the vocabulary's meaning, not this one (accept with "
                         f"--unaudited {d.name})")
    return notes
