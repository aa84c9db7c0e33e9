"""What a user may name as a revision: a bundled name, a revision .py file,
or what was posted (a .c file, a patch, an mbox), which is translated first.
Everything comes back as a path the engine loads (impl.revision.load) in a
worker (nvtlbi/scheduler.py): nothing here imports a revision file."""

import inspect
import os
from dataclasses import dataclass, field

from nvtlbi.impl import revision as REV
from nvtlbi.impl import tlbi
from nvtlbi.c.inputs import InputError


@dataclass
class Loaded:
    spec: str                  # what the user typed
    path: str                  # a bundled name or a .py path for REV.load
    notes: list = field(default_factory=list)
    origins: dict = field(default_factory=dict)   # C input: function -> "FILE:A-B" or "bundled revision NAME"


def bundled(caller=None):
    """The names a user may give for a bundled revision of the op whose
    Caller is `caller` (default ipas2e1: the history and the alternatives)."""
    if caller is not None and caller.package != tlbi.CALLER.package:
        return REV.bundled_of(caller)
    return REV.bundled() + REV.alternatives()


def is_python_revision(spec, caller=None):
    return spec in bundled(caller) or spec.endswith(".py")


def load(spec, tmpdir, bases=(), base_revision=None, profile=None, config=None, unaudited=(), tree=None,
         assumes=(), caller=None):
    """Resolve `spec` (a revision of the op whose Caller is `caller`, default ipas2e1); C inputs are translated into tmpdir.  Raises
    RevisionError / InputError (one-line, file:line) for user errors.
    With `tree` (a kernel checkout), `spec` is a series applied to it first,
    or None for the tree as it stands (nvtlbi.c.tree).  `assumes`: opt-in
    assumptions a C input asks for (--assume), as a Python revision names
    them in ASSUMES."""
    if tree is not None:
        return _translated(spec or tree, tmpdir, tree=tree, series=spec, profile=profile, config=config,
                           unaudited=unaudited, assumes=assumes, caller=caller)
    if is_python_revision(spec, caller):          # its note and origins (add_revision_info) need it loaded
        if assumes:
            raise REV.RevisionError(f"{spec}: --assume is for C input; a Python revision names its opt-in "
                                    "assumptions in ASSUMES")
        return Loaded(spec, spec if not spec.endswith(".py") else os.path.abspath(spec), [])
    if not os.path.exists(spec):
        raise REV.RevisionError(f"{spec or repr(spec)}: no such revision or file (bundled: {', '.join(bundled(caller))})")
    return _translated(spec, tmpdir, bases, base_revision, profile, config, unaudited, assumes=assumes,
                       caller=caller)


def _translated(spec, tmpdir, bases=(), base_revision=None, profile=None, config=None, unaudited=(), tree=None,
                series=None, assumes=(), caller=None):
    from nvtlbi.c import pipeline
    if caller is not None and caller is not tlbi.CALLER:
        if tree is not None:
            raise REV.RevisionError(f"{spec}: --tree audits the {tlbi.CALLER.op} path only (not {caller.op})")
        from nvtlbi.c import ops as C_OPS
        tr = C_OPS.translate(spec, caller, bases, base_revision, profile, config, unaudited)
    else:
        tr = pipeline.translate(series if tree is not None else spec, bases, base_revision, profile, config,
                                unaudited, tree=tree)
    name = os.path.splitext(os.path.basename(os.path.abspath(spec)))[0].replace(".", "_").replace("-", "_")
    path = os.path.join(tmpdir, f"{name}.py")
    source = tr.source
    if assumes:
        source += (f"\n# opt-in assumptions the audit was asked for (--assume)\n"
                   f"ASSUMES = {tuple(dict.fromkeys(assumes))!r}\n")
    with open(path, "w") as f:
        f.write(source)
    notes = [f"translated from {spec}: profile {tr.profile.name} ({tr.profile_reason})"]
    if assumes:
        notes.append(f"  with the opt-in assumption(s) {', '.join(dict.fromkeys(assumes))} (--assume)")
    notes += [f"  {n:<24} {where}" for n, where in tr.origins.items()]
    notes += [f"  {n}" for n in tr.notes]
    return Loaded(spec, path, notes, dict(tr.origins))


def python_origins(rev):
    """function -> "FILE:A-B" of the Python that defines it (a revision may
    import or adopt another's), for the audited functions it has.  It
    inspects the loaded revision: call it in a worker (scheduler.describe)."""
    from nvtlbi.c import pipeline, translator
    from nvtlbi.impl import linking
    root = os.path.dirname(os.path.dirname(os.path.abspath(REV.__file__)))
    out = {}
    functions = getattr(rev.caller, "functions", ()) or translator.TARGETS + ("s2_mmu_unmap_ipa", "handle_ipas2e1is")
    for n in functions:
        f = rev.module.__dict__.get(n)
        if f is None:
            if n == "s2_mmu_unmap_ipa" and "handle_ipas2e1is" not in rev.module.__dict__:
                out[n] = pipeline.CURRENT_CALLER.replace("not in the input", "not in the revision")
            continue
        try:
            f = inspect.unwrap(f)
            lines, start = inspect.getsourcelines(f)
            path = inspect.getsourcefile(f)
        except (TypeError, OSError):
            out[n] = "unknown (no Python source)"
            continue
        rel = os.path.relpath(path, root) if path.startswith(root + os.sep) else path
        out[n] = f"{rel}:{start}-{start + len(lines) - 1}"
        linked = linking.linked_names(f)
        if linked:      # imported, and run with the revision's own definitions (impl/linking.py)
            out[n] += f", run with this revision's {', '.join(linked)}"
    return out


def add_revision_info(loaded, info, caller=None):
    """A Python revision's note and origins, once a worker has loaded it
    (info: scheduler.RevisionInfo, described with origins)."""
    if is_python_revision(loaded.spec, caller):
        loaded.notes.insert(0, f"revision {info.name}: {info.first_doc_line}")
        loaded.origins = dict(info.origins)
        # An imported function run with this file's definitions is not the
        # code its file shows: say so (impl/linking.py).
        loaded.notes[1:1] = [f"  {n:<24} {where}" for n, where in loaded.origins.items() if ", run with" in where]


__all__ = ["Loaded", "load", "InputError"]
