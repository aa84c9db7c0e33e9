"""From what was posted (C, patch, mbox) to a revision module the engine
proves: find the audited functions, pick the vocabulary profile, translate,
take what the input lacks from a bundled revision, and say where each
function came from."""

import os
from dataclasses import dataclass, field

from nvtlbi import cinput, cprofile, ctrans
from nvtlbi.cinput import InputError


@dataclass
class Translation:
    source: str                    # the generated revision module (Python)
    profile: cprofile.Profile
    profile_reason: str
    origins: dict                  # function -> "FILE:A-B" or "bundled revision NAME"
    notes: list = field(default_factory=list)


def _span(fn):
    files = sorted({x.file for x in fn.lines})
    parts = []
    for f in files:
        ls = [x.line for x in fn.lines if x.file == f]
        parts.append(f"{f}:{min(ls)}-{max(ls)}")
    return " + ".join(parts)


def translate(path, bases=(), base_revision=None, profile=None):
    sources, notes = cinput.load(path, bases)
    found = {}
    for src in sources.values():
        for name, fn in ctrans.find_functions(src).items():
            if fn.complete or name not in found:
                found[name] = fn
    targets = ctrans.TARGETS + ctrans.CALLERS
    whole = {n: found[n] for n in targets if n in found and found[n].complete}
    for n in targets:
        if n in found and not found[n].complete:
            notes.append(f"{n}: only part of it is in the input ({_span(found[n])})")

    lines = [x for n, fn in found.items() if n in targets for x in fn.lines]
    text = "\n".join(x.text for x in lines)
    if profile:
        if profile not in cprofile.PROFILES:
            raise InputError(f"{path}:1: --profile {profile}: no such profile (have: {', '.join(cprofile.PROFILES)})")
        prof, reason = cprofile.PROFILES[profile], "chosen with --profile"
        try:
            auto, why = cprofile.detect(text)
        except cprofile.Undated:
            auto, why = prof, ""
        if auto.name != prof.name:
            notes.append(f"note: the input suggests profile {auto.name} ({why})")
    else:
        try:
            prof, reason = cprofile.detect(text)
        except cprofile.Undated as e:
            at = next((x for x in lines if "vtcr" in x.text and "tlb_vtcr" not in x.text), None)
            raise InputError(f"{at.file}:{at.line}: {e}" if at else f"{path}:1: {e}") from None

    missing = [n for n in ctrans.TARGETS if n not in whole]
    origins = {}
    if missing and not base_revision:
        raise InputError(f"{path}:1: the input does not contain {', '.join(missing)} whole; "
                         "give the file it applies to with --base FILE.c, or --base-revision NAME")
    if missing:
        from impl import revision as REV
        if base_revision not in REV.bundled():
            raise InputError(f"{path}:1: --base-revision {base_revision}: no bundled revision of that name "
                             f"(have: {', '.join(REV.bundled())})")
        era = cprofile.era_of_bundled(base_revision)
        if era is not None and era != prof.name:
            raise InputError(f"{path}:1: --base-revision {base_revision} is written in the {era} vocabulary, "
                             f"but the input is {prof.name}; use a bundled revision of the same era")
        if era is None:
            notes.append(f"note: the era of bundled revision {base_revision} is not recorded; "
                         f"assumed to match {prof.name}")

    # translate the targets, then any helper of the input they call
    known = set(whole) | set(missing)
    order, queue = [], [n for n in targets if n in whole]
    while queue:
        n = queue.pop(0)
        if n in order:
            continue
        order.append(n)
        for callee in _callees(found[n]):
            if callee in found and found[callee].complete and callee not in known and \
                    callee not in cprofile.names(prof):
                known.add(callee)
                queue.append(callee)
    parts, adapters = [], []
    for n in order:
        fdef = ctrans.parse(found[n])
        pyname = n
        params = fdef.decl.type.args.params if fdef.decl.type.args else []
        if n in ctrans.CALLERS and len(params) == 2 and "tlbi_info" in _typetext(params[1]):
            pyname = f"_c_{n}"
            adapters.append(f"def {n}(mmu, val):\n    # the engine passes the operand; the C caller takes a union tlbi_info\n"
                            f"    return {pyname}(mmu, tlbi_info_ipa(val))\n")
        parts.append(ctrans.FuncTranslator(fdef, known, cprofile.names(prof), pyname,
                                           fields=cprofile.fields(prof), era=prof.name).translate())
        origins[n] = _span(found[n])
    adopted = []
    for n in missing:
        adopted.append(f"{n} = adopt({base_revision!r}, {n!r}, globals())")
        origins[n] = f"bundled revision {base_revision}"
    old_caller = _era_caller(prof, found.get("compute_tlb_inval_range"), whole, base_revision)
    if old_caller:
        # compute_tlb_inval_range(vcpu, mmu, val): the NV v2 .. v8 caller in
        # sys_regs.c calls it, not the per-MMU one of impl/tlbi.py
        adopted.append(f"handle_ipas2e1is = adopt({old_caller!r}, 'handle_ipas2e1is', globals())")
        origins["handle_ipas2e1is"] = (f"bundled revision {old_caller} (the {prof.name} caller of "
                                       "compute_tlb_inval_range(vcpu, mmu, val); not whole in the input)")
    elif "s2_mmu_unmap_ipa" not in origins:
        origins["s2_mmu_unmap_ipa"] = "impl/tlbi.py (the current caller; not in the input)"

    head = [f'"""Revision translated by `nvtlbi audit` from {os.path.basename(path)} '
            f'(profile {prof.name}).  Generated: do not edit."""',
            "",
            f"# era {prof.name}: {prof.span}",
            f"from {prof.vocabulary} import *  # noqa: F401,F403",
            "from nvtlbi.audit_rt import adopt, tlbi_info_ipa  # noqa: F401",
            ""]
    body = "\n\n\n".join(parts + adapters) + "\n"
    if adopted:
        body += "\n\n# taken from a bundled revision: the input lacks these\n" + "\n".join(adopted) + "\n"
    return Translation("\n".join(head) + "\n" + body, prof, reason, origins, notes)


def _era_caller(prof, fn, whole, base_revision=None):
    """The bundled revision of the input's era (the base revision if it is
    one, else the latest) whose handle_ipas2e1is calls
    compute_tlb_inval_range with a vCPU first, when the input's takes one
    and brings no whole caller of its own; else None."""
    if fn is None or "handle_ipas2e1is" in whole or "compute_tlb_inval_range" not in whole:
        return None
    fdef = ctrans.parse(fn)
    params = fdef.decl.type.args.params if fdef.decl.type.args else []
    if not params or "kvm_vcpu" not in _typetext(params[0]):
        return None
    import inspect

    from impl import revision as REV
    for name in [base_revision] * (base_revision in prof.bundled) + list(reversed(prof.bundled)):
        rev = REV.load(name)
        own = vars(rev.module)
        if "handle_ipas2e1is" in own and "compute_tlb_inval_range" in own and \
                list(inspect.signature(own["compute_tlb_inval_range"]).parameters)[:1] == ["vcpu"]:
            return name
    return None


def translate_named(path, names, profile=cprofile.DEFAULT):
    """A module of just the named functions of a C file (for testing the
    translator's C semantics against gcc)."""
    sources, _ = cinput.load(path)
    found = {}
    for src in sources.values():
        found.update(ctrans.find_functions(src))
    prof = cprofile.PROFILES[profile]
    parts = [ctrans.FuncTranslator(ctrans.parse(found[n]), set(names), cprofile.names(prof), n,
                                   fields=cprofile.fields(prof), era=prof.name).translate() for n in names]
    return f"from {prof.vocabulary} import *  # noqa: F401,F403\n\n\n" + "\n\n\n".join(parts) + "\n"


def load_source(source, name="translated"):
    """Execute generated revision source as a module (tests, tools)."""
    import types
    mod = types.ModuleType(name)
    exec(compile(source, f"<{name}>", "exec"), mod.__dict__)
    return mod


def _typetext(p):
    from pycparser import c_generator
    return c_generator.CGenerator().visit(p)


def _callees(fn):
    import re
    text = "\n".join(ctrans._strip_comments([x.text for x in fn.lines]))
    return set(re.findall(r"\b(\w+)\s*\(", text))
