"""Posted C translated for an op other than TLBI IPAS2E1 (model/ops.py):
the functions the op's Caller names (impl/tlbi_range.Caller.functions),
found in the input, translated against the era's vocabulary; those the
input lacks and its functions call are adopted from `--base-revision`, a
bundled revision of the op.  IPAS2E1's input goes through pipeline.translate
(its history has callers of several shapes); this is the one-shape path."""

import dataclasses
import os
import re

from nvtlbi.c import defines, era, inputs, pipeline, preprocess, translator
from nvtlbi.c.inputs import InputError
from nvtlbi.impl import tlbi

RUNTIME = ("from nvtlbi.c.runtime import adopt, c_array, c_index, c_loop, struct_copy, struct_value, "
           "sys_reg_params_of, SYS_TLBI_RIPAS2E1IS  # noqa: F401")
# the trapped instruction each op's handler is run for (the IS form)
INSN = {"ripas2e1": "SYS_TLBI_RIPAS2E1IS"}


def entries(caller):
    """The functions through which the audit of the op whose Caller is
    `caller` enters the input: one of them defined there is that op's code.
    IPAS2E1's are the translator's targets and callers (nvtlbi.c.pipeline
    audits any of them, the rest from a base); another op's, its handler and
    the functions its harness calls (translate() below needs them)."""
    if caller.op == tlbi.CALLER.op:
        return translator.TARGETS + translator.CALLERS
    return tuple(dict.fromkeys((caller.handler,) + tuple(caller.required)))


def ops_in(path, callers, bases=(), config=None):
    """[(op, [function, ...])]: the ops (in the order of `callers`) whose
    entry functions (entries()) the input defines, whole or in part (a
    patch's hunk inside one counts: the op's own translation then says what
    it lacks), in its compiled text: a definition under a dead `#if 0` is
    not there, a mere call or mention is not a definition.  The 2024
    handle_ipas2e1is, which iterates over the MMUs and does not call
    compute_tlb_inval_range, is not audited as IPAS2E1's (pipeline.translate),
    so it does not count either.  [] for an input of none (the caller
    audits it as ipas2e1's, whose translation says what it lacks)."""
    sources, _ = inputs.load(path, bases)
    defs = pipeline._Definitions(sources, config or preprocess.Config())
    changed = {n for n, _, _ in defs.touches}
    out = []
    for caller in callers:
        names = []
        for n in entries(caller):
            fns = defs.all.get(n, [])
            if n == "handle_ipas2e1is" and caller.op == tlbi.CALLER.op:
                fns = [fn for fn in fns if "compute_tlb_inval_range" in pipeline._callees(fn)]
                if not fns:
                    continue
            if fns or n in defs.heads or n in changed:
                names.append(n)
        if names:
            out.append((caller.op, names))
    return out


def translate(path, caller, bases=(), base_revision=None, profile=None, config=None, unaudited=()):
    sources, notes = inputs.load(path, bases)
    defs = pipeline._Definitions(sources, config or preprocess.Config())
    found = {n: defs.one(n) for n in caller.functions if defs.has(n)}
    for n, fn in found.items():
        if not fn.complete:
            notes.append(f"{n}: only part of it is in the input ({pipeline._span(fn)})")
    whole = {n: fn for n, fn in found.items() if fn.complete}
    # the op's function-like macros the input #defines (vncr: tlbi_va_s1_to_va):
    # expanded where the op's functions use them, as cpp does
    macros = {d.name: d for d in defines.in_sources(sources) if d.params and d.name in caller.functions}
    if macros:
        whole = {n: _expanded(fn, macros) for n, fn in whole.items()}
    # an op whose handler is our harness's (vncr: nvtlbi_vncr_event, never in
    # kernel text) is audited through the functions the harness calls, its
    # `required`: revision.handle runs the caller's default when the handler is absent
    entry = [caller.handler] if caller.handler in whole else list(caller.required)
    lacking = [n for n in entry if n not in whole]
    if lacking:
        raise InputError(f"{path}:1: the input does not contain {', '.join(lacking)} whole, so nothing of the "
                         f"{caller.op} path would be audited")
    lines = [x for fn in whole.values() for x in fn.lines]
    own = set(lines)
    text = "\n".join(x.text for x in lines)
    context = "\n".join(x.text for src in sources.values() for x in src.lines if x is not inputs.GAP and x not in own)
    if profile:
        if profile not in era.PROFILES:
            raise InputError(f"{path}:1: --profile {profile}: no such profile (have: {', '.join(era.PROFILES)})")
        prof, reason = era.PROFILES[profile], "chosen with --profile"
    else:
        try:
            prof, reason = era.detect(text, context, inputs.mail_date(path))
        except era.Undated as e:
            raise InputError(f"{path}:1: {e}") from None
    if not any(n in era.names(prof) for n in entry) and not any(n in era.names(prof) for n in ("get_vmid", "tlbi_info")):
        raise InputError(f"{path}:1: the {caller.op} path has no vocabulary in era {prof.name} (impl/eras.py)")

    # the op's functions the input's call and lacks: from the base revision
    called = set().union(*(pipeline._callees(fn) for fn in whole.values())) | \
        {n for fn in whole.values() for n in caller.functions if n in "\n".join(x.text for x in fn.lines)}
    missing = [n for n in caller.functions if n not in whole and n not in macros and n in called]
    if missing and not base_revision:
        raise InputError(f"{path}:1: the input calls {', '.join(missing)} but does not contain it whole; give "
                         f"--base-revision NAME (a bundled {caller.op} revision) to take it from")
    if missing:
        from nvtlbi.impl import revision as REV
        if base_revision not in REV.bundled_of(caller):
            raise InputError(f"{path}:1: --base-revision {base_revision}: no bundled {caller.op} revision of that "
                             f"name (have: {', '.join(REV.bundled_of(caller))})")
    order = [n for n in caller.functions if n in whole]
    fdefs = {n: translator.parse(whole[n]) for n in order}
    known = set(order) | set(missing)
    parts, origins = [], {}
    vocab = era.names(prof)
    modelled = {n: defs.all[n][0] for fn in whole.values() for n in pipeline._callees(fn)
                if n in defs.all and n in vocab and n not in known}
    notes += pipeline.modelled_not_audited(modelled, prof, origins)
    pipeline.refuse_shadowing_macros([d for d in defines.in_sources(sources) if d.name not in macros],
                                     list(whole.values()), vocab)
    for n in order:
        pyname = f"_c_{n}" if n == caller.handler else n
        parts.append(translator.FuncTranslator(fdefs[n], known, era.names(prof), pyname, fields=era.fields(prof),
                                               era=prof.name, returns=translator.return_types(fdefs.values()))
                     .translate())
        origins[n] = pipeline._span(whole[n])
    for n, d in macros.items():
        origins[n] = f"{d.file}:{d.line} (#define, expanded where it is used)"
    if caller.handler in whole:
        parts.append(_handler_wrapper(caller, fdefs, whole))
    adopted = []
    for n in missing:
        adopted.append(f"{n} = adopt({base_revision!r}, {n!r}, globals(), {caller.package!r})")
        origins[n] = f"bundled {caller.op} revision {base_revision}"
    head = [f'"""Revision ({caller.op}) translated by `nvtlbi audit --op {caller.op}` from '
            f'{os.path.basename(path)} (profile {prof.name}).  Generated: do not edit."""', "",
            f"# era {prof.name}: {prof.span}",
            f"from {prof.vocabulary} import *  # noqa: F401,F403",
            RUNTIME, ""]
    body = "\n\n\n".join(parts) + "\n"
    if adopted:
        body += "\n\n# taken from a bundled revision: the input lacks these\n" + "\n".join(adopted) + "\n"
    return pipeline.Translation("\n".join(head) + "\n" + body, prof, reason, origins, notes)


def _handler_wrapper(caller, fdefs, whole):
    """The op's handler as the engine calls it, (vcpu, val), around the posted
    one, which takes the trapped access."""
    params = fdefs[caller.handler].decl.type.args.params if fdefs[caller.handler].decl.type.args else []
    if len(params) != 3 or "sys_reg_params" not in pipeline._typetext(params[1]):
        at = whole[caller.handler].lines[0]
        raise InputError(f"{at.file}:{at.line}: unsupported construct: {caller.handler} with another signature "
                         "than (vcpu, struct sys_reg_params *, const struct sys_reg_desc *)")
    return (f"def {caller.handler}(vcpu, val):\n    # the engine passes the operand; the C handler takes the "
                 f"trapped access (p->regval and the instruction's encoding)\n"
                 f"    return _c_{caller.handler}(vcpu, sys_reg_params_of(val, {INSN[caller.op]}), None)\n")


def _expanded(fn, macros):
    """fn with each use of a function-like macro of `macros` (defines.Define)
    replaced by its body, the parameters by the arguments' text, as cpp
    does.  A use whose arguments do not close on its line, or with another
    number of arguments than the macro's, is refused (file:line)."""
    pat = re.compile(r"\b(" + "|".join(map(re.escape, macros)) + r")\s*\(")
    out = []
    for x in fn.lines:
        text, pos = x.text, 0
        while (m := pat.search(text, pos)):
            d = macros[m.group(1)]
            args, depth, cur, i = [], 1, "", m.end()
            while i < len(text) and depth:
                c = text[i]
                depth += (c == "(") - (c == ")")
                if depth == 1 and c == ",":
                    args.append(cur)
                    cur = ""
                elif depth:
                    cur += c
                i += 1
            params = [p.strip() for p in d.params[1:-1].split(",") if p.strip()]
            if depth or len(args) + 1 != len(params) or any(p == "..." for p in params):
                raise InputError(f"{x.file}:{x.line}: unsupported construct: a use of the macro {d.name} "
                                 f"({d.file}:{d.line}) that nvtlbi cannot expand for sure on one line")
            args.append(cur)
            sub = dict(zip(params, (a.strip() for a in args)))
            body = re.sub(r"\b(" + "|".join(map(re.escape, sub)) + r")\b", lambda k: sub[k.group(1)], d.body) \
                if sub else d.body
            text = text[:m.start()] + "(" + body + ")" + text[i:]
            pos = m.start() + len(body) + 2       # cpp does not expand a macro inside its own expansion
        out.append(x if text == x.text else dataclasses.replace(x, text=text))
    return dataclasses.replace(fn, lines=out)
