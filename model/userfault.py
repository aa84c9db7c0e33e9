"""Whose fault an exception raised while a revision runs is.

Only the exceptions of impl/outcome.py's C_OUTCOMES (BUG(), undefined
behaviour, an uninitialised read, a lockdep failure) are outcomes of the
revision's C code and may end a path with a verdict.  Anything else becomes
one error line, exit 2, never a verdict:

  a RevisionError naming the revision's file:line, when the revision's own
  code is on the stack (Python the symbolic engine cannot follow: a word used
  as a dict key or list index, float arithmetic, a loop the engine cannot
  bound; a call with the wrong arguments; any Python error of its lines), or
  when nvtlbi's glue called one of the revision's functions and the call did
  not fit it or it returned no C integer (its definition's line);

  an InternalError naming nvtlbi's own file:line otherwise: a bug of nvtlbi.
"""

import linecache
import os
import re
import sys
import traceback

from nvtlbi.impl.outcome import CallMismatch, InternalError, NonIntegerReturn
from nvtlbi.impl.revision import RevisionError

ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


def construct(exc):
    msg = str(exc)
    if isinstance(exc, TypeError):
        if "not hashable" in msg or "unhashable" in msg:
            return "a C word used as a dict key or set member"
        if "no concrete value" in msg:
            return "a symbolic value used as a list index or Python int"
        if "float" in msg or "use //" in msg:
            return "float arithmetic (C words are integers: use //, shifts or masks)"
    if exc.__class__.__name__ == "PathExplosion":
        return f"a loop the symbolic engine cannot bound ({msg})"
    return f"{type(exc).__name__}: {msg}"


def site(exc, path):
    """file:line of the deepest frame of the revision file in exc's traceback."""
    path = os.path.realpath(path)
    line = None
    for fs in traceback.extract_tb(exc.__traceback__):
        if os.path.realpath(fs.filename) == path:
            line = fs.lineno
    return None if line is None else f"{path}:{line}"


def stack_site(frame, path):
    """(FILE:LINE, True) of the innermost frame of the revision file `path`
    on the stack from `frame` (for a revision translated from C, the C line
    it names), else of a user's file (a job may run two revisions: diff),
    else (FILE:LINE of `frame` itself, False): where a worker stopped for
    overrunning its bound was (nvtlbi/scheduler.py)."""
    path = os.path.realpath(path)
    python = tuple(os.path.realpath(p) + os.sep for p in {sys.prefix, sys.base_prefix, sys.exec_prefix})
    stack, f = [], frame
    while f is not None:
        stack.append((os.path.realpath(f.f_code.co_filename), f.f_lineno))
        f = f.f_back
    for wanted in (lambda name: name == path,
                   lambda name: not _ours(name) and not name.startswith(python) and os.path.isfile(name)):
        for name, line in stack:
            if wanted(name):
                return _where(name, line), True
    if frame is None:
        return "an unknown place", False
    return f"{_short(os.path.realpath(frame.f_code.co_filename))}:{frame.f_lineno}", False


def _frames(exc):
    """(file, line, frame) of exc's traceback, outermost first."""
    return [(os.path.realpath(f.f_code.co_filename), line, f) for f, line in traceback.walk_tb(exc.__traceback__)]


def _ours(filename):
    return filename.startswith(ROOT + os.sep) and os.sep + ".venv" + os.sep not in filename


def _short(filename):
    return os.path.relpath(filename, ROOT) if _ours(filename) else filename


def _where(filename, line):
    """FILE:LINE of a revision's line; for a revision translated from posted
    C (nvtlbi audit), the C line its trailing comment names, which outlives
    the translation."""
    m = re.search(r"#.*?([^\s()]+:\d+)\)?\s*$", linecache.getline(filename, line))
    if m and os.path.exists(m.group(1).rsplit(":", 1)[0]):
        return m.group(1)
    return f"{filename}:{line}"


def _def_line(fn):
    """file and line of fn's `def` (after its decorators)."""
    code = getattr(fn, "__wrapped__", fn)
    code = getattr(code, "__code__", None)
    if code is None:
        return None, None
    path, line = os.path.realpath(code.co_filename), code.co_firstlineno
    for i in range(line, line + 20):
        if linecache.getline(path, i).lstrip().startswith(("def ", "async def ")):
            return path, i
    return path, line


def _boundary(frame):
    """A frame of the calling convention itself (impl/outcome.py, @kfunc's
    wrapper): the call was made by the frame around it."""
    f, _, fr = frame
    return f.endswith(os.path.join("impl", "outcome.py")) or (
        f.endswith(os.path.join("impl", "kernel.py")) and fr.f_code.co_name == "wrapper")


def classify(exc, *revs):
    """The error to raise for `exc`, raised while `revs` ran and not kept
    as a path's outcome (callers keep C_OUTCOMES where a path can end in
    them): exc itself if it is already one, else a RevisionError or an
    InternalError."""
    if isinstance(exc, (RevisionError, InternalError)):
        return exc
    mine = {os.path.realpath(r.path) for r in revs}
    frames = _frames(exc)
    inner = frames[-1] if frames else None
    if isinstance(exc, (CallMismatch, NonIntegerReturn)):
        path, line = _def_line(exc.fn)
        # the frame that made the call: the one around the wrapper that raised
        outer = [fr for fr in frames[:-1] if not _boundary(fr)]
        caller = outer[-1] if outer else None
        if path in mine and (caller is None or caller[0] not in mine or isinstance(exc, NonIntegerReturn)):
            by = f", called by nvtlbi's {_short(caller[0])}:{caller[1]}" if caller and caller[0] not in mine else ""
            name = getattr(exc.fn, "__name__", "function")
            if isinstance(exc, CallMismatch):
                what = f"{name} does not take the {exc.nargs} arguments of its call ({exc}{by})"
            else:
                what = f"{name} {exc}{by}; C returns a value here"
            return RevisionError(f"{_where(path, line)}: {what}")
    inside = [(f, line) for f, line, _ in frames if f in mine]
    if inside:
        f, line = inside[-1]
        where = "" if inner[0] in mine else f" (raised in {_short(inner[0])}:{inner[1]})"
        return RevisionError(f"{_where(f, line)}: {construct(exc)}{where}")
    return internal(exc)


def internal(exc):
    """An InternalError naming the innermost frame of nvtlbi's own code."""
    frames = [(f, line) for f, line, _ in _frames(exc) if _ours(f)]
    where = f"{_short(frames[-1][0])}:{frames[-1][1]}" if frames else "nvtlbi"
    return InternalError(f"{where}: internal error: {type(exc).__name__}: {exc} (an nvtlbi bug; --debug shows "
                         f"the traceback)")


def check_explosion(exc, rev):
    """An unbounded loop in the revision's code is the revision's error."""
    where = site(exc, rev.path)
    if where is not None:
        raise RevisionError(f"{where}: {construct(exc)}") from exc
