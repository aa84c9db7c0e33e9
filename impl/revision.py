"""Loading a revision: a bundled name (impl/revisions/NAME.py) or a file."""

import functools
import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any, List

from nvtlbi.impl import eras, linking, tlbi, tlbi_range
from nvtlbi.impl.assumptions import BY_NAME, OPT_IN
from nvtlbi.impl.outcome import c_call

FUNCTIONS = ("ttl_to_size", "get_guest_mapping_ttl", "compute_tlb_inval_range")
# A revision needs an entry point: its own TLBI handler, or the range computation
# our handler calls.  The other functions are what revisions usually define.
REQUIRED = ("compute_tlb_inval_range",)
BUNDLED_DIR = os.path.join(os.path.dirname(__file__), "revisions")
# Alternatives proposed in review (not part of the public history): loadable
# by name like the history, listed apart so `nvtlbi audit` of the history
# stays about the history.
ALTERNATIVES_DIR = os.path.join(os.path.dirname(__file__), "alternatives")


class RevisionError(Exception):
    """A user error in a revision file: the message names file and line."""


@dataclass
class Revision:
    """A loaded revision.  `handle(vcpu, val)` emulates one trapped TLBI
    IPAS2E1IS with the revision's own handler if it defines
    `handle_ipas2e1is(vcpu, val)`, else with the current one (impl/tlbi.py)
    around the revision's `s2_mmu_unmap_ipa(mmu, val)` or our copy of it."""
    name: str
    path: str
    module: ModuleType
    era: str = "v2024"        # the vocabulary it imports (impl/eras.py): what its kernel names mean
    caller: Any = None        # the op's Caller (impl/tlbi.CALLER, impl/tlbi_range.CALLER); None: ipas2e1

    def __getattr__(self, item: str) -> Any:      # a function of the revision (run in its era), or a value
        if item == "s2_mmu_unmap_ipa" and not hasattr(self.module, item):
            f = functools.partial(tlbi.s2_mmu_unmap_ipa,
                                  compute_tlb_inval_range=self.module.compute_tlb_inval_range)
        else:
            f = getattr(self.module, item)
        if not callable(f) or isinstance(f, type):
            return f

        @functools.wraps(f)
        def in_era(*args: Any, **kwargs: Any) -> Any:    # a function of the revision runs in its era (C words)
            with eras.running(self.era):
                return f(*args, **kwargs)
        return in_era

    def handle(self, vcpu: Any, val: Any) -> Any:
        # vcpu: the concrete (impl/nested.py) or symbolic (model/env.py) vCPU; val: the
        # operand, a C word; the result is the handler's (a C value; ours returns None)
        caller = self.caller or tlbi.CALLER
        with eras.running(self.era):
            if hasattr(self.module, caller.handler):
                return c_call(getattr(self.module, caller.handler), vcpu, val)
            return caller.default(self, vcpu, val)


def bundled_in_order() -> List[str]:
    """Bundled revisions oldest first (r0..., then upstream in its place)."""
    names = bundled()
    return sorted(names, key=lambda n: ("r5" if n == "upstream" else n))


def _names(d: str) -> List[str]:
    return sorted(f[:-3] for f in os.listdir(d) if f.endswith(".py") and not f.startswith("_"))


def bundled() -> List[str]:
    """The public history of the code (impl/revisions/)."""
    return _names(BUNDLED_DIR)


def alternatives() -> List[str]:
    """Alternatives from the review thread (impl/alternatives/)."""
    return _names(ALTERNATIVES_DIR)


def load(spec: str, caller: Any = None) -> Revision:
    """`spec` is a bundled revision name or a path to a .py file; `caller`
    the op's Caller (default: TLBI IPAS2E1, impl/tlbi.CALLER)."""
    if not spec.strip():
        raise RevisionError(f"{spec!r}: an empty revision name (give a bundled name or a .py file)")
    if caller is not None and caller is not tlbi.CALLER:
        return _load_op(spec, caller)
    if spec.endswith(".py") or os.sep in spec:
        path = os.path.abspath(spec)
        name = os.path.splitext(os.path.basename(path))[0]
        module = import_file(spec, path, f"nvtlbi_user_revision_{name}")
    else:
        if spec not in bundled() + alternatives():
            raise RevisionError(f"{spec}: no bundled revision of that name{_named_like_a_file(spec)} "
                                f"(have: {', '.join(bundled() + alternatives())})")
        pkg = "nvtlbi.impl.revisions" if spec in bundled() else "nvtlbi.impl.alternatives"
        module = importlib.import_module(f"{pkg}.{spec}")
        assert module.__file__ is not None      # a bundled revision is a .py file of the package
        name, path = spec, module.__file__
    _check_assumes(module, path)
    if not callable(getattr(module, "handle_ipas2e1is", None)):
        missing = [f for f in REQUIRED if not callable(getattr(module, f, None))]
        if missing:
            raise RevisionError(f"{path}:1: revision lacks {', '.join(missing)} (or a handle_ipas2e1is)")
    era = era_of(module, path)      # before linking, which compares the eras of imports
    try:
        linking.link(module)        # an imported function runs with this revision's definitions
    except linking.LinkError as e:
        raise RevisionError(f"{path}:1: {e}") from None
    return Revision(name, path, module, era)


def _load_op(spec: str, caller: Any) -> Revision:
    """A revision of another op than IPAS2E1: a bundled name of that op's
    package or a file, which must define the op's handler."""
    if spec.endswith(".py") or os.sep in spec:
        path = os.path.abspath(spec)
        name = os.path.splitext(os.path.basename(path))[0]
        module = import_file(spec, path, f"nvtlbi_user_{caller.op}_revision_{name}")
    else:
        names = bundled_of(caller)
        if spec not in names:
            raise RevisionError(f"{spec}: no bundled {caller.op} revision of that name{_named_like_a_file(spec)} "
                                f"(have: {', '.join(names)})")
        module = importlib.import_module(f"{caller.package}.{spec}")
        assert module.__file__ is not None
        name, path = spec, module.__file__
    _check_assumes(module, path)
    missing = [f for f in caller.required if not callable(getattr(module, f, None))]
    if missing:
        raise RevisionError(f"{path}:1: {caller.op} revision lacks {', '.join(missing)}")
    era = era_of(module, path)
    try:
        linking.link(module)
    except linking.LinkError as e:
        raise RevisionError(f"{path}:1: {e}") from None
    return Revision(name, path, module, era, caller)


def _named_like_a_file(spec: str) -> str:
    """What to add when a name that is no bundled revision names a file or
    directory here: a revision file is named by its path, ending in .py."""
    if os.path.isdir(spec):
        return " (a directory of that name exists; a revision is a .py file)"
    if os.path.exists(spec):
        return " (a file of that name exists; a revision file's name ends in .py)"
    return ""


def _check_source(spec: str, path: str, what: str = "revision") -> None:
    """Refuse a revision file nvtlbi could not read for sure, before Python
    imports it: Python tolerates bytes that are not UTF-8 in a comment, and a
    coding declaration, but the coverage, the mutants and the origin lines
    read the file as UTF-8 text, and would read another text than the one
    that ran (or fail as if nvtlbi were broken)."""
    if os.path.isdir(path):
        raise RevisionError(f"{spec}: is a directory, not a {what} .py file")
    if not os.path.exists(path):
        raise RevisionError(f"{spec}: no such {what} file")
    if not path.endswith(".py"):
        raise RevisionError(f"{spec}:1: not a Python {what} file (.py); posted C (a .c file, a patch, "
                            "an mbox) is read by `nvtlbi audit` and `nvtlbi diff`")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise RevisionError(f"{path}:1: cannot read: {e.strerror}") from None
    if data.startswith(b"\xef\xbb\xbf"):
        raise RevisionError(f"{path}:1: starts with a UTF-8 byte-order mark: revisions are read as plain "
                            "UTF-8 (remove the mark)")
    nul = data.find(b"\0")
    if nul >= 0:
        raise RevisionError(f"{path}:{_line_of(data, nul)}: a NUL byte: not a Python text file")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise RevisionError(f"{path}:{_line_of(data, e.start)}: byte {data[e.start]:#04x} is not "
                            "UTF-8: revisions are read as UTF-8 text (and a coding declaration is not "
                            "followed)") from None


def _line_of(data: bytes, pos: int) -> int:
    return data.count(b"\n", 0, pos) + 1


def import_file(spec: str, path: str, modname: str, what: str = "revision") -> ModuleType:
    """Import a revision (or producer: `what`) file as module `modname`;
    every failure is a RevisionError naming the line of the file where it
    happened."""
    _check_source(spec, path, what)
    try:
        mspec = importlib.util.spec_from_file_location(modname, path)
        if mspec is None or mspec.loader is None:      # a suffix no loader takes
            raise ImportError("not a Python source file (.py)")
        module = importlib.util.module_from_spec(mspec)
        sys.modules[modname] = module
        mspec.loader.exec_module(module)
    except SyntaxError as e:
        raise RevisionError(f"{e.filename or path}:{e.lineno or 1}: syntax error: {e.msg}") from None
    except Exception as e:  # the user's module failed while importing
        # the innermost frame of the revision file itself: the line it ran
        # (deeper frames are the code it called; none: importlib's own failure)
        line, tb = 1, e.__traceback__
        while tb is not None:
            if os.path.abspath(tb.tb_frame.f_code.co_filename) == path:
                line = tb.tb_lineno
            tb = tb.tb_next
        raise RevisionError(f"{path}:{line}: import failed: {type(e).__name__}: {e}") from None
    return module


def bundled_of(caller: Any) -> List[str]:
    """The bundled revisions of an op."""
    pkg = importlib.import_module(caller.package)
    assert pkg.__file__ is not None
    return _names(os.path.dirname(pkg.__file__))


def era_of(module: ModuleType, path: str) -> str:
    """The era whose vocabulary the revision imports: it fixes what each
    kernel name means (impl/eras.py).  A revision that imports none is
    refused rather than given a default meaning."""
    era = getattr(module, "ERA", None)
    if era not in eras.ERAS:
        vocabularies = ", ".join(f"{e.vocabulary} ({e.name})" for e in eras.ERAS.values())
        raise RevisionError(f"{path}:1: the revision imports no era vocabulary, so its kernel names have no "
                            f"meaning: start it with `from MODULE import *`, MODULE one of {vocabularies}")
    return era


def _check_assumes(module: ModuleType, path: str) -> None:
    """ASSUMES (the opt-in assumptions a revision needs) must name registered
    assumptions: a misspelt one would otherwise be refused only once a proof
    starts, or, worse, not turn on the facts the revision needs."""
    names = getattr(module, "ASSUMES", ())
    bad = [n for n in names if n not in BY_NAME] if isinstance(names, (tuple, list)) else [names]
    if bad:
        line = next((i for i, text in enumerate(_source(path), 1) if text.lstrip().startswith("ASSUMES")), 1)
        raise RevisionError(f"{path}:{line}: ASSUMES names no such assumption: {bad[0]!r} "
                            f"(opt-in ones: {', '.join(a.name for a in OPT_IN)})")


def _source(path: str) -> List[str]:
    try:
        with open(path) as f:
            return f.read().splitlines()
    except OSError:
        return []
