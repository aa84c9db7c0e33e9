"""User errors in a revision that only show when it runs symbolically:
Python the symbolic engine cannot follow.  Each becomes a one-line
RevisionError naming the revision's file:line and the construct, instead
of a path outcome (which would be a bogus counterexample) or a traceback.

  a symbolic value used as a dict key or set member (Word.__hash__ raises)
  a symbolic value used as a list index or converted to a Python int
  float arithmetic (C words are integers)
  a loop the engine cannot bound (more than MAX_DECISIONS branches on a path)
  any other Python error raised in the revision's own code (NameError, ...)

Errors that are outcomes of the C code (BUG(), undefined behaviour, an
uninitialised read, a failed lockdep assertion) stay path outcomes."""

import os
import traceback

from impl.revision import RevisionError

PYTHON_ERRORS = (TypeError, NameError, AttributeError, KeyError, IndexError, ValueError,
                 ZeroDivisionError, RecursionError)


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


def check_path_error(exc, rev):
    """Raise a RevisionError if exc is a user error in rev's own code."""
    if not isinstance(exc, PYTHON_ERRORS):
        return
    where = site(exc, rev.path)
    if where is not None:
        raise RevisionError(f"{where}: {construct(exc)}") from exc


def check_paths(paths, rev):
    for p in paths:
        if p.error is not None:
            check_path_error(p.error, rev)


def check_explosion(exc, rev):
    """An unbounded loop in the revision's code is the revision's error."""
    where = site(exc, rev.path)
    if where is not None:
        raise RevisionError(f"{where}: {construct(exc)}") from exc
