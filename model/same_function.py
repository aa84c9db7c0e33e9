"""Equivalence one function at a time: a revision that differs from another
only in functions that each return the same value for every value of their
arguments behaves as the other, in every caller, op, granule and case.

This is the cheap half of `model/equiv.py`.  A diff of two revisions
explores both whole handlers, three granules, on a symbolic shadow S2 (a
mutant's equivalence proof: 5-12 s).  When the changed function is pure
arithmetic on C words (upstream's ttl_to_size: `u8 ttl` in, a size out), one
symbolic run of the two versions side by side settles it in well under a
second, and the rest of the revision is literally the same code.

It only says yes when it is sure.  "Cannot say" (None), and the caller falls
back to the whole diff, when:
  - an argument is not a C word (an MMU, a vCPU: the function reads the
    world, whose answers this run does not model);
  - the function reaches anything but C arithmetic and branches: a read
    of the host (PAGE_SIZE, a capability) or an act on it (WARN_ON, BUG(),
    clear_fixmap) goes to hooks that refuse it (_NoWorld), since outside a
    run impl/kernel.py would answer with fixed defaults (a 4K host, no
    capability) and record a WARN_ON nowhere;
  - a path ends in a C outcome (undefined behaviour, BUG(), a lockdep
    failure) or is cut at the unwinding bound: an effect, not a value;
  - the solver gives up.
A function whose two versions differ on some input is not a difference of
the revisions: the input may be one no caller passes.  That too is None."""

import ast
import inspect
from typing import Dict, List, Optional

import z3

from nvtlbi.impl import context
from nvtlbi.impl.cint import CType, Word
from nvtlbi.model import assumptions as AS
from nvtlbi.model.backend import bv
from nvtlbi.model.engine import CrossCheckError, Engine, in_own_z3_context
from nvtlbi.model.session import Session, of_call


def changed(path_a: str, path_b: str) -> Optional[List[str]]:
    """The top-level functions whose definitions differ between the two
    files (added or removed ones included), or None when anything else at
    the top level differs (an import, a constant: then no function-by-
    function argument holds)."""
    def parts(path: str) -> tuple:
        with open(path) as f:
            tree = ast.parse(f.read())
        fns: Dict[str, str] = {}
        rest = []
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                fns[node.name] = ast.dump(node)
            else:
                rest.append(ast.dump(node))
        return fns, rest

    fa, ra = parts(path_a)
    fb, rb = parts(path_b)
    if ra != rb:
        return None
    return sorted(n for n in set(fa) | set(fb) if fa.get(n) != fb.get(n))


class _ReadsTheWorld(Exception):
    """The function used a hook: it is not a function of its arguments alone."""


class _NoWorld:
    """The hooks of the side-by-side run: every one refuses."""

    def __getattr__(self, item: str) -> None:
        raise _ReadsTheWorld(item)


def _c_params(fn) -> Optional[List[tuple]]:
    """(name, C type) of each parameter, or None if one is not a C word."""
    out = []
    for name, p in inspect.signature(fn).parameters.items():
        if not isinstance(p.annotation, CType) or p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            return None
        out.append((name, p.annotation))
    return out


@in_own_z3_context
def same_function(rev_a, rev_b, name: str, drop=(), session: Session | None = None) -> Optional[bool]:
    """True if `name` returns the same value in both revisions for every
    value of its arguments; None if this cannot say (the module docstring
    lists when)."""
    fa, fb = getattr(rev_a.module, name, None), getattr(rev_b.module, name, None)
    if not callable(fa) or not callable(fb):
        return None
    params = _c_params(fa)
    if params is None or params != _c_params(fb):
        return None
    with of_call(session) as s:
        engine = Engine(AS.enabled(drop), s)
        state: dict = {}

        def setup() -> None:
            state["args"] = [Word(t, z3.BitVec(f"arg!{n}", t.width)) for n, t in params]

        def program() -> tuple:
            args = state["args"]
            with context.entered(hooks=_NoWorld()):
                return getattr(rev_a, name)(*args), getattr(rev_b, name)(*args)

        try:
            paths = engine.explore(program, setup)
        except CrossCheckError:
            raise                       # the second solver disagreeing is an error wherever it happens
        except Exception:               # noqa: BLE001 -- a read of the world, a loop past the bound, a Python error: cannot say
            return None
        for path in paths:
            if path.error is not None or path.truncated is not None:
                return None
            pair = path.result
            if not isinstance(pair, tuple):
                return None
            a, b = pair
            if not isinstance(a, Word) or not isinstance(b, Word) or a.ctype != b.ctype:
                return None
            r, _ = engine.check(path.facts, [bv(a.v, a.ctype.width) != bv(b.v, b.ctype.width)])
            if r != z3.unsat:
                return None
        return True
