"""Posted C translated for an op other than TLBI IPAS2E1 (model/ops.py):
the functions the op's Caller names (impl/tlbi_range.Caller.functions),
found in the input, translated against the era's vocabulary; those the
input lacks and its functions call are adopted from `--base-revision`, a
bundled revision of the op.  IPAS2E1's input goes through pipeline.translate
(its history has callers of several shapes); this is the one-shape path."""

import os

from nvtlbi.c import era, inputs, pipeline, preprocess, translator
from nvtlbi.c.inputs import InputError

RUNTIME = ("from nvtlbi.c.runtime import adopt, c_array, c_index, c_loop, struct_copy, struct_value, "
           "sys_reg_params_of, SYS_TLBI_RIPAS2E1IS  # noqa: F401")
# the trapped instruction each op's handler is run for (the IS form)
INSN = {"ripas2e1": "SYS_TLBI_RIPAS2E1IS"}


def translate(path, caller, bases=(), base_revision=None, profile=None, config=None, unaudited=()):
    sources, notes = inputs.load(path, bases)
    defs = pipeline._Definitions(sources, config or preprocess.Config())
    found = {n: defs.one(n) for n in caller.functions if defs.has(n)}
    for n, fn in found.items():
        if not fn.complete:
            notes.append(f"{n}: only part of it is in the input ({pipeline._span(fn)})")
    whole = {n: fn for n, fn in found.items() if fn.complete}
    if caller.handler not in whole:
        raise InputError(f"{path}:1: the input does not contain {caller.handler} whole, so nothing of the "
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
    if caller.handler not in era.names(prof) and not any(n in era.names(prof) for n in ("get_vmid", "tlbi_info")):
        raise InputError(f"{path}:1: the {caller.op} path has no vocabulary in era {prof.name} (impl/eras.py)")

    # the op's functions the input's call and lacks: from the base revision
    called = set().union(*(pipeline._callees(fn) for fn in whole.values())) | \
        {n for fn in whole.values() for n in caller.functions if n in "\n".join(x.text for x in fn.lines)}
    missing = [n for n in caller.functions if n not in whole and n in called]
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
    for n in order:
        pyname = f"_c_{n}" if n == caller.handler else n
        parts.append(translator.FuncTranslator(fdefs[n], known, era.names(prof), pyname, fields=era.fields(prof),
                                               era=prof.name, returns=translator.return_types(fdefs.values()))
                     .translate())
        origins[n] = pipeline._span(whole[n])
    params = fdefs[caller.handler].decl.type.args.params if fdefs[caller.handler].decl.type.args else []
    if len(params) != 3 or "sys_reg_params" not in pipeline._typetext(params[1]):
        at = whole[caller.handler].lines[0]
        raise InputError(f"{at.file}:{at.line}: unsupported construct: {caller.handler} with another signature "
                         "than (vcpu, struct sys_reg_params *, const struct sys_reg_desc *)")
    parts.append(f"def {caller.handler}(vcpu, val):\n    # the engine passes the operand; the C handler takes the "
                 f"trapped access (p->regval and the instruction's encoding)\n"
                 f"    return _c_{caller.handler}(vcpu, sys_reg_params_of(val, {INSN[caller.op]}), None)\n")
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
