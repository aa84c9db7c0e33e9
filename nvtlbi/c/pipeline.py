"""From what was posted (C, patch, mbox) to a revision module the engine
proves: find the audited functions, pick the vocabulary profile, translate,
take what the input lacks from a bundled revision, and say where each
function came from."""

import os
from dataclasses import dataclass, field

from nvtlbi.c import defines, era, inputs, preprocess, translator
from nvtlbi.c.inputs import InputError


@dataclass
class Translation:
    source: str                    # the generated revision module (Python)
    profile: era.Profile
    profile_reason: str
    origins: dict                  # function -> "FILE:A-B" or "bundled revision NAME"
    notes: list = field(default_factory=list)


CURRENT_CALLER = "impl/tlbi.py (the current caller; not in the input)"


class _Definitions:
    """The function definitions of the input's compiled text (preprocessor
    conditionals decided by `nvtlbi.c.preprocess`), and the functions its hunks change."""

    def __init__(self, sources, config):
        self.all, self.heads, self.undecided, self.touches, self.arrays = {}, {}, {}, [], {}
        for src in sources.values():
            live, unknown = preprocess.evaluate(src, config)
            self.undecided.update(unknown)
            self.touches += live.touches
            for name, fns in translator.find_functions(live).items():
                self.all.setdefault(name, []).extend(fns)
            for name, tbs in translator.find_tables(live).items():
                self.arrays.setdefault(name, []).extend(tbs)
            for name, lines in translator.definition_heads(live).items():
                self.heads.setdefault(name, []).extend(lines)

    def tables(self, fns, profile):
        """{name: (code, Table)} of the file-scope const arrays the functions
        `fns` (CFuncs) name: each must be whole, defined once, and not under
        a conditional we cannot decide."""
        import re
        text = "\n".join(translator._strip_comments([x.text for fn in fns for x in fn.lines]))
        used = [n for n in self.arrays if re.search(rf"\b{n}\b", text)]
        decls = []
        for n in used:
            tbs = self.arrays[n]
            if len(tbs) > 1:
                a, b = tbs[0].lines[0], tbs[1].lines[0]
                raise InputError(f"{b.file}:{b.line}: array {n} is defined twice: here and at {a.file}:{a.line}")
            for x in tbs[0].lines:
                if x in self.undecided:
                    raise InputError(preprocess.refusal(n, self.undecided[x]))
            if not tbs[0].complete:
                x = tbs[0].lines[0]
                raise InputError(f"{x.file}:{x.line}: only part of the array {n} is in the input")
            decls.append(translator.parse_table(tbs[0]))
        return translator.translate_tables(decls, era.names(profile), profile.name)

    def has(self, name):
        return name in self.all or name in self.heads

    def one(self, name):
        """The one definition of `name` the audit uses: refused if part of it
        depends on a conditional we cannot decide, if there are two, or if a
        definition is written in a way we do not delimit."""
        fns = self.all.get(name, [])
        starts = {fn.lines[0] for fn in fns}
        for x in self.heads.get(name, []):
            if x in self.undecided:
                raise InputError(preprocess.refusal(name, self.undecided[x]))
            if x not in starts:
                raise InputError(f"{x.file}:{x.line}: unsupported construct: definition of {name} whose opening "
                                 "brace does not start a line (kernel style); not read, rather than audit "
                                 "something else in its place")
        for fn in fns:
            for x in fn.lines:
                if x in self.undecided:
                    raise InputError(preprocess.refusal(name, self.undecided[x]))
        if len(fns) > 1:
            a, b = fns[0].lines[0], fns[1].lines[0]
            raise InputError(f"{b.file}:{b.line}: {name} is defined twice: here and at {a.file}:{a.line} "
                             "(which one the kernel compiles is not clear; remove one, or put it under "
                             "#if 0)")
        return fns[0]


def _no_dropped_change(defs, elsewhere, vocabulary, audited, unaudited):
    """A change the input makes to a function the audit takes from elsewhere
    (a bundled revision, the current caller, the vocabulary's model), or to
    a caller of the audited functions that is not audited itself, would not
    be audited: an error, never silently dropped.  `unaudited` names the
    functions whose changes the user accepts to leave out (--unaudited):
    each such change becomes a note of the report."""
    notes = []
    for name, where, _ in defs.touches:
        if name == inputs.UNKNOWN:
            if elsewhere:
                raise InputError(f"{where}: cannot tell which function this change is in (its hunk names no "
                                 f"function), and {', '.join(elsewhere)} would not come from the input; "
                                 "give the file it applies to with --base FILE.c")
            continue
        why = _not_audited(name, defs, elsewhere, vocabulary, audited)
        if why is None:
            continue
        if name in unaudited:
            notes.append(f"note: {where}: the input's change to {name} is NOT audited (--unaudited {name}): {why}")
            continue
        part = f" (it has only {_span(defs.all[name][0])} of it)" \
            if name in defs.all and not defs.all[name][0].complete else ""
        raise InputError(f"{where}: the input changes {name}{part}, but {why}, so this change would not be "
                         f"audited; give the file it applies to with --base FILE.c (or accept it with "
                         f"--unaudited {name})")
    return notes


def _not_audited(name, defs, elsewhere, vocabulary, audited):
    """Why the audit would not see the input's change to `name`, or None."""
    if name in elsewhere:
        return f"the audit would take {name} from {elsewhere[name]}"
    if name in vocabulary:
        return f"the audit would take {name} from nvtlbi's model of it (impl.kernel)"
    if name in audited:
        return None
    seen = [x.text for fn in defs.all.get(name, []) for x in fn.lines] + \
        [t for n, _, ts in defs.touches if n == name for t in ts]
    calls = sorted(_calls(seen) & set(translator.TARGETS))
    if calls:
        return (f"it calls {', '.join(calls)} and is not one of the functions audited (the caller audited "
                f"is s2_mmu_unmap_ipa)")
    return None


def _span(fn):
    files = sorted({x.file for x in fn.lines})
    parts = []
    for f in files:
        ls = [x.line for x in fn.lines if x.file == f]
        parts.append(f"{f}:{min(ls)}-{max(ls)}")
    return " + ".join(parts)


def translate(path, bases=(), base_revision=None, profile=None, config=None, unaudited=(), tree=None):
    """`path`: the posted input; with `tree` (a kernel checkout), the series
    to apply to it first, or None for the tree as it stands."""
    span = _span
    if tree is not None:
        from nvtlbi.c import tree as TREE
        t = TREE.load(tree, path)
        sources, notes, span = t.sources, t.notes, t.where
        path = path or tree
    else:
        sources, notes = inputs.load(path, bases)
    defs = _Definitions(sources, config or preprocess.Config())
    targets = translator.TARGETS + translator.CALLERS
    found = {n: defs.one(n) for n in targets if defs.has(n)}
    if "handle_ipas2e1is" in found and "compute_tlb_inval_range" not in _callees(found["handle_ipas2e1is"]):
        del found["handle_ipas2e1is"]   # the 2024 handler: it iterates over MMUs (impl/tlbi.py), not audited
    whole = {n: found[n] for n in targets if n in found and found[n].complete}
    for n in targets:
        if n in found and not found[n].complete:
            notes.append(f"{n}: only part of it is in the input ({_span(found[n])})")

    lines = [x for n, fn in found.items() if n in targets for x in fn.lines]
    text = "\n".join(x.text for x in lines)
    own = set(lines)
    context = "\n".join(x.text for src in sources.values() for x in src.lines
                        if x is not inputs.GAP and x not in own)
    date = inputs.mail_date(path)
    base_era = era.era_of_bundled(base_revision) if base_revision else None
    if profile:
        if profile not in era.PROFILES:
            raise InputError(f"{path}:1: --profile {profile}: no such profile (have: {', '.join(era.PROFILES)})")
        prof, reason = era.PROFILES[profile], "chosen with --profile"
        try:
            auto, why = era.detect(text, context, date, base_era)
        except era.Undated:
            auto, why = prof, ""
        if auto.name != prof.name:
            notes.append(f"note: the input suggests profile {auto.name} ({why})")
    else:
        try:
            prof, reason = era.detect(text, context, date, base_era)
        except era.Undated as e:
            at = next((x for x in lines if "vtcr" in x.text and "tlb_vtcr" not in x.text), None)
            raise InputError(f"{at.file}:{at.line}: {e}" if at else f"{path}:1: {e}") from None

    # the input's own #defines of names the audit reads from the era's vocabulary
    notes += defines.check(defines.in_sources(sources) + defines.in_headers(path, bases), prof, unaudited)

    missing = [n for n in translator.TARGETS if n not in whole and not _absent_in_era(n, found, whole, defs)]
    if "get_guest_mapping_ttl" not in whole and "get_guest_mapping_ttl" not in missing:
        notes.append("note: get_guest_mapping_ttl is not part of this revision: its compute_tlb_inval_range "
                     f"({_span(whole['compute_tlb_inval_range'])}) does not call it, and the input does not "
                     "define or change it (as before the shadow probe, NV v2 63/94 and v9 35/50)")
    origins = {}
    if missing and tree is not None:
        raise InputError(f"{path}{':1' if path != tree else ''}: {', '.join(missing)}: not defined in "
                         f"{tree}/arch/arm64/kvm/*.c{' after the series' if path != tree else ''}")
    if missing and not base_revision:
        raise InputError(f"{path}:1: the input does not contain {', '.join(missing)} whole; "
                         "give the file it applies to with --base FILE.c, or --base-revision NAME")
    if missing:
        from nvtlbi.impl import revision as REV
        if base_revision not in REV.bundled():
            raise InputError(f"{path}:1: --base-revision {base_revision}: no bundled revision of that name "
                             f"(have: {', '.join(REV.bundled())})")
        base_era = era.era_of_bundled(base_revision)
        if base_era is not None and base_era != prof.name:
            raise InputError(f"{path}:1: --base-revision {base_revision} is written in the {base_era} vocabulary, "
                             f"but the input is {prof.name}; use a bundled revision of the same era")
        if base_era is None:
            notes.append(f"note: the era of bundled revision {base_revision} is not recorded; "
                         f"assumed to match {prof.name}")
    elsewhere = {n: f"bundled revision {base_revision}" for n in missing}
    old_caller = _era_caller(prof, found.get("compute_tlb_inval_range"), whole, base_revision)
    if old_caller:
        elsewhere["handle_ipas2e1is"] = (f"bundled revision {old_caller} (the {prof.name} caller of "
                                         "compute_tlb_inval_range(vcpu, mmu, val); not whole in the input)")
    callers = [n for n in translator.CALLERS if n in whole]
    if len(callers) > 1:
        a, b = (whole[n].lines[0] for n in callers[:2])
        raise InputError(f"{b.file}:{b.line}: two IPAS2E1 callers of compute_tlb_inval_range in the input: "
                         f"{callers[1]} and {callers[0]} ({a.file}:{a.line}); audit one at a time")
    if not old_caller and not callers:
        elsewhere["s2_mmu_unmap_ipa"] = CURRENT_CALLER

    # translate the targets, then any helper of the input they call
    known = set(whole) | set(missing)
    order, queue, modelled = [], [n for n in targets if n in whole], {}
    while queue:
        n = queue.pop(0)
        if n in order:
            continue
        order.append(n)
        for callee in _callees(found[n]):
            if defs.has(callee) and callee not in known and callee not in era.names(prof):
                found[callee] = defs.one(callee)
                if found[callee].complete:
                    known.add(callee)
                    queue.append(callee)
            elif callee in defs.all and callee not in known and callee in era.names(prof):
                modelled[callee] = defs.all[callee][0]
    notes += modelled_not_audited(modelled, prof, origins)
    refuse_shadowing_macros(defines.in_sources(sources), [found[n] for n in order], era.names(prof))
    notes += _no_dropped_change(defs, elsewhere, era.names(prof), set(order), set(unaudited))
    if not order:
        # the proof would be of the bundled revision alone, reported under the input's name
        raise InputError(f"{path}:1: none of {', '.join(targets)} is in the input, so nothing of it would be "
                         f"audited (only bundled revision {base_revision})")
    parts, adapters = [], []
    fdefs = {n: translator.parse(found[n]) for n in order}
    arrays = defs.tables([found[n] for n in order], prof)
    tables = {n: t for n, (_, t) in arrays.items()}
    for n in order:
        fdef = fdefs[n]
        pyname = n
        params = fdef.decl.type.args.params if fdef.decl.type.args else []
        if n in translator.PER_MMU_CALLERS and len(params) == 2 and "tlbi_info" in _typetext(params[1]):
            pyname = f"_c_{n}"
            adapters.append(f"def s2_mmu_unmap_ipa(mmu, val):\n    # the engine passes the operand; the C caller "
                            f"({n}) takes a union tlbi_info\n    return {pyname}(mmu, tlbi_info_ipa(val))\n")
        elif n == "handle_ipas2e1is" and len(params) == 3 and "sys_reg_params" in _typetext(params[1]):
            pyname = f"_c_{n}"
            adapters.append(f"def {n}(vcpu, val):\n    # the engine passes the operand; the C handler takes the "
                            f"trapped access (p->regval)\n    return {pyname}(vcpu, sys_reg_params_of(val), None)\n")
        elif n in translator.CALLERS:
            at = found[n].lines[0]
            raise InputError(f"{at.file}:{at.line}: unsupported construct: {n} with the signature "
                             f"{_typetext(fdef.decl.type.args) if fdef.decl.type.args else '()'}: the callers "
                             "audited take (mmu, union tlbi_info *) or (vcpu, struct sys_reg_params *, "
                             "const struct sys_reg_desc *)")
        parts.append(translator.FuncTranslator(fdef, known, era.names(prof), pyname,
                                               fields=era.fields(prof), era=prof.name,
                                               returns=translator.return_types(fdefs.values()),
                                               tables=tables).translate())
        origins[n] = span(found[n])
    adopted = []
    for n in missing:
        adopted.append(f"{n} = adopt({base_revision!r}, {n!r}, globals())")
        origins[n] = elsewhere[n]
    if old_caller:
        # compute_tlb_inval_range(vcpu, mmu, val): the NV v2 .. v8 caller in
        # sys_regs.c calls it, not the per-MMU one of impl/tlbi.py
        adopted.append(f"handle_ipas2e1is = adopt({old_caller!r}, 'handle_ipas2e1is', globals())")
        origins["handle_ipas2e1is"] = elsewhere["handle_ipas2e1is"]
    elif not callers:
        origins["s2_mmu_unmap_ipa"] = CURRENT_CALLER

    head = [f'"""Revision translated by `nvtlbi audit` from {os.path.basename(path)} '
            f'(profile {prof.name}).  Generated: do not edit."""',
            "",
            f"# era {prof.name}: {prof.span}",
            f"from {prof.vocabulary} import *  # noqa: F401,F403",
            "from nvtlbi.c.runtime import adopt, c_array, c_index, c_loop, struct_copy, struct_value, sys_reg_params_of, tlbi_info_ipa  # noqa: F401",
            ""]
    body = "\n\n\n".join([code for code, _ in arrays.values()] * bool(arrays) + parts + adapters) + "\n"
    if adopted:
        body += "\n\n# taken from a bundled revision: the input lacks these\n" + "\n".join(adopted) + "\n"
    return Translation("\n".join(head) + "\n" + body, prof, reason, origins, notes)


def modelled_not_audited(modelled, prof, origins):
    """The input defines functions the audited code calls that nvtlbi takes
    from its model of the kernel (the era's vocabulary), not from the input:
    said in the origins and in a note, never silently (a definition that
    differs from the kernel's would not be what is proved)."""
    notes = []
    for name, fn in sorted(modelled.items()):
        origins[name] = f"nvtlbi's model ({prof.vocabulary}); NOT the input's {_span(fn)}"
        notes.append(f"note: {_span(fn)}: the input defines {name}, which the audited functions call; the audit "
                     f"calls nvtlbi's model of it ({prof.vocabulary}), so this definition is NOT audited")
    return notes


def refuse_shadowing_macros(defs, fns, vocabulary):
    """A macro of the input named like an identifier of the audited code,
    that the vocabulary check (nvtlbi.c.defines) does not cover, would be
    expanded by cpp where the translator reads the name itself (a function
    of the input, a local, a field): refused, naming the #define."""
    import re
    text = "\n".join(translator._strip_comments([x.text for fn in fns for x in fn.lines]))
    for d in defs:
        if d.name in vocabulary or d.kind == "-":
            continue
        if re.search(rf"\b{re.escape(d.name)}\b" + (r"\s*\(" if d.params else ""), text):
            raise InputError(f"{d.file}:{d.line}: unsupported construct: the input defines the macro "
                             f"{d.name}{d.params}, and the audited functions use that name; cpp would expand it "
                             f"there, nvtlbi does not")


def _absent_in_era(name, found, whole, defs):
    """True when the revision has no `name` at all: only the shadow probe
    get_guest_mapping_ttl can be absent (the FEAT_TTL patches came before
    it), and only when the input's whole compute_tlb_inval_range does not
    call it and the input neither defines nor changes it."""
    if name != "get_guest_mapping_ttl" or "compute_tlb_inval_range" not in whole:
        return False
    if name in found or any(n == name for n, _, _ in defs.touches):
        return False
    return name not in _callees(whole["compute_tlb_inval_range"])


def _era_caller(prof, fn, whole, base_revision=None):
    """The bundled revision of the input's era (the base revision if it is
    one, else the latest) whose handle_ipas2e1is calls
    compute_tlb_inval_range with a vCPU first, when the input's takes one
    and brings no whole caller of its own; else None."""
    import inspect

    from nvtlbi.impl import revision as REV
    if "handle_ipas2e1is" in whole:
        return None
    if "compute_tlb_inval_range" not in whole:
        # taken from the base revision: its own caller, if it takes a vCPU
        if fn is not None or not base_revision or base_revision not in prof.bundled:
            return None
        own = vars(REV.load(base_revision).module)
        takes_vcpu = "compute_tlb_inval_range" in own and \
            list(inspect.signature(own["compute_tlb_inval_range"]).parameters)[:1] == ["vcpu"]
        return base_revision if takes_vcpu and "handle_ipas2e1is" in own else None
    fdef = translator.parse(fn)
    params = fdef.decl.type.args.params if fdef.decl.type.args else []
    if not params or "kvm_vcpu" not in _typetext(params[0]):
        return None
    for name in [base_revision] * (base_revision in prof.bundled) + list(reversed(prof.bundled)):
        rev = REV.load(name)
        own = vars(rev.module)
        if "handle_ipas2e1is" in own and "compute_tlb_inval_range" in own and \
                list(inspect.signature(own["compute_tlb_inval_range"]).parameters)[:1] == ["vcpu"]:
            return name
    return None


def translate_named(path, names, profile=era.DEFAULT):
    """A module of just the named functions of a C file (for testing the
    translator's C semantics against gcc)."""
    sources, _ = inputs.load(path)
    defs = _Definitions(sources, preprocess.Config())
    prof = era.PROFILES[profile]
    fdefs = [translator.parse(defs.one(n)) for n in names]
    arrays = defs.tables([defs.one(n) for n in names], prof)
    tables = {n: t for n, (_, t) in arrays.items()}
    parts = [translator.FuncTranslator(f, set(names), era.names(prof), n, fields=era.fields(prof), era=prof.name,
                                       returns=translator.return_types(fdefs), tables=tables).translate()
             for f, n in zip(fdefs, names)]
    return f"from {prof.vocabulary} import *  # noqa: F401,F403\n" \
        "from nvtlbi.c.runtime import c_array, c_index, c_loop, struct_copy, struct_value  # noqa: F401\n\n\n" + \
        "\n\n\n".join([code for code, _ in arrays.values()] + parts) + "\n"


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
    return _calls([x.text for x in fn.lines])


def _calls(texts):
    import re
    text = "\n".join(translator._strip_comments(texts))
    return set(re.findall(r"\b(\w+)\s*\(", text))
