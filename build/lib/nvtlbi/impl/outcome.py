"""How a run of a revision can end, and whose doing it is.

Only what C semantics or the architecture make of the revision's own code is
an outcome of the run, and so evidence for a verdict: the exceptions in
C_OUTCOMES.  Everything else raised while a revision runs (TypeError,
AttributeError, ... from Python itself or from nvtlbi's glue, a call whose
arguments do not fit the callee, a non-integer where C returns a value) says
that nvtlbi could not run the code as C: it is a usage error in the revision
or a bug of nvtlbi (model/userfault.py tells which), never a verdict.  The
classification is positive on purpose: a new kind of Python error can only
become an error, never a counterexample."""

from nvtlbi.impl.cint import UndefinedBehaviour, Word


class KernelBug(Exception):
    """BUG() was reached."""


class Uninitialised(Exception):
    """An uninitialised local was read (C undefined behaviour)."""


class LockdepFailure(Exception):
    """lockdep would splat: mmu_lock not held for write where the code
    asserts it, or taken twice (a self-deadlock)."""


# The one definition of "an outcome of the revision's C code".
C_OUTCOMES = (KernelBug, UndefinedBehaviour, Uninitialised, LockdepFailure)


class InternalError(Exception):
    """A failure of nvtlbi itself (its glue, the symbolic engine, the
    concrete machinery): the message names nvtlbi's file:line."""


class CallMismatch(TypeError):
    """A call whose arguments the callee's parameters do not take (in C, a
    compile error): not an outcome of the code."""

    def __init__(self, fn, nargs, why):
        super().__init__(why)
        self.fn, self.nargs = fn, nargs


class NonIntegerReturn(TypeError):
    """A function returned something that is no C integer (None, a str, a
    float) where C returns a value."""

    def __init__(self, fn, value):
        super().__init__(f"returned {value!r} ({type(value).__name__}), not a C integer")
        self.fn, self.value = fn, value


def c_call(fn, *args, value=False):
    """nvtlbi's glue calling a revision's function, as C would: the
    arguments must fit its parameters and, with value=True (C returns a
    value there), the result must be a C integer."""
    try:
        r = fn(*args)
    except TypeError as e:
        # raised by the call itself (no frame of fn was entered): the
        # parameters do not take these arguments
        if e.__traceback__.tb_next is None:
            raise CallMismatch(fn, len(args), str(e)) from e
        raise
    if value:
        check_integer(fn, r)
    return r


def check_integer(fn, r):
    if not isinstance(r, (int, Word)):      # bool is an int: `a or b` yields a C int
        raise NonIntegerReturn(fn, r)
    return r
