"""Linking a revision that imports functions from another revision.

A revision is often a patch to another one: it imports the unchanged
functions and redefines the one it changes (`from ...upstream import
compute_tlb_inval_range` and its own `get_guest_mapping_ttl`).  In C, the
patched file's callers call the patched function.  In Python they would not:
an imported function looks names up in the globals of the module that
defined it, so upstream's `compute_tlb_inval_range` would call upstream's
`get_guest_mapping_ttl`, and the proof would be about upstream's code while
saying it is about the patch (a false PROVED).

So a revision's imported revision functions are relinked: each is a copy
with the same code whose globals are its own module's, overlaid with every
name the revision rebinds.  Functions they reach in their module are
relinked the same way, so a change is seen however deep the call.  The code
objects are the originals: coverage, line numbers and origins still point to
the file that wrote the line.

`linked_names(f)` says which of the revision's definitions a relinked
function runs with, so the origin line of an audit says it."""

import inspect
import sys
import types
from types import ModuleType
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from nvtlbi.impl import eras
from nvtlbi.impl.kernel import kfunc


class LinkError(Exception):
    """An imported function that cannot be relinked (message names it)."""


def _vocabularies() -> Set[str]:
    return {e.vocabulary for e in eras.ERAS.values()}


def _origin(f: object) -> Optional[ModuleType]:
    """The revision module that defined f, or None when f is not a revision
    function (a vocabulary name, the standard library, the revision's own)."""
    if not isinstance(f, types.FunctionType):
        return None
    m = sys.modules.get(inspect.unwrap(f).__module__)
    if m is None or not hasattr(m, "ERA") or m.__name__ in _vocabularies():
        return None
    return m


def link(module: ModuleType) -> None:
    """Relink, in place, the revision functions `module` imported."""
    overlay = {k: v for k, v in vars(module).items() if not k.startswith("__")}
    memo: Dict[int, Callable[..., Any]] = {}

    def relink(f: Callable[..., Any]) -> Callable[..., Any]:
        if id(f) in memo:
            return memo[id(f)]
        inner = inspect.unwrap(f)
        if f is not inner and not getattr(f, "__kfunc__", False):
            raise LinkError(f"{inner.__module__}.{inner.__name__}: imported with a decorator nvtlbi "
                            f"cannot reapply (only @kfunc is); define it in the revision instead")
        m = sys.modules[inner.__module__]
        g = dict(vars(m))
        new = types.FunctionType(inner.__code__, g, inner.__name__, inner.__defaults__, inner.__closure__)
        new.__kwdefaults__ = inner.__kwdefaults__
        new.__annotations__ = dict(inner.__annotations__)
        new.__qualname__, new.__doc__ = inner.__qualname__, inner.__doc__
        new.__dict__.update(inner.__dict__)
        out = kfunc(new) if f is not inner else new
        memo[id(f)] = out
        rebound: List[str] = []
        for k, v in vars(m).items():
            if k in overlay and overlay[k] is not v and not k.startswith("__"):
                g[k] = relink(overlay[k]) if _origin(overlay[k]) not in (None, module) else overlay[k]
                rebound.append(k)
            elif _origin(v) is not None:
                g[k] = relink(v)
        setattr(new, "__nvtlbi_rebound__", tuple(rebound))   # read by linked_names
        return out

    for k, v in list(overlay.items()):
        origin = _origin(v)
        if origin in (None, module):
            continue
        # A kernel name means what its era says (impl/eras.py).  A function
        # imported from another era keeps its vocabulary's objects and runs
        # in this revision's era: fine exactly when every kernel name and
        # field it uses means the same in both eras.
        differ = _era_differences(v, origin.ERA, module.ERA)
        if differ:
            raise LinkError(f"{k} is imported from {origin.__name__}, a revision of era {origin.ERA}, into "
                            f"one of era {module.ERA}, and uses {', '.join(differ)}, which "
                            f"{'means' if len(differ) == 1 else 'mean'} something else there; "
                            f"define it in this revision")
        setattr(module, k, relink(v))


def _code_names(code: types.CodeType) -> Set[str]:
    """Every global and attribute name a code object (and the code nested in
    it: comprehensions, inner functions) reads."""
    out = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            out |= _code_names(c)
    return out


def _era_differences(f: Callable[..., Any], old: str, new: str) -> List[str]:
    """The kernel names and struct fields that f, and the functions of its
    module it calls, use and that do not mean the same in eras old and new."""
    if old == new:
        return []
    used: Set[str] = set()
    seen: Set[int] = set()
    todo = [inspect.unwrap(f)]
    while todo:
        fn = todo.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        names = _code_names(fn.__code__)
        used |= names
        todo += [inspect.unwrap(g) for n in names if _origin(g := fn.__globals__.get(n)) is not None]
    differ = [n for n in used if n in eras.NAMES and eras.meaning(n, old) != eras.meaning(n, new)]
    differ += [n for (_, n), by in eras.FIELDS.items() if n in used and by.get(old) != by.get(new)]
    return sorted(set(differ))


def linked_names(f: Callable[..., Any]) -> Tuple[str, ...]:
    """The names of the revision's own definitions that relinked f reaches
    (directly or through the functions it calls), sorted; () when f was
    not relinked or reaches none."""
    seen: Set[int] = set()
    reached: Set[str] = set()
    todo = [inspect.unwrap(f)]
    while todo:
        fn = todo.pop()
        if id(fn) in seen or not hasattr(fn, "__nvtlbi_rebound__"):
            continue
        seen.add(id(fn))
        rebound = set(getattr(fn, "__nvtlbi_rebound__", ()))
        for name in fn.__code__.co_names:
            if name in rebound:
                reached.add(name)
            callee = fn.__globals__.get(name)
            if isinstance(callee, types.FunctionType):
                todo.append(inspect.unwrap(callee))
    return tuple(sorted(reached))
