"""The session: everything a proof runs with that is not its case.

One Session holds the solver limits, the bound on symbolic branch
decisions per path, whether branch coverage is traced, whether a second
solver re-solves every query (and the tally of that cross-check), so that
nothing of it is set on a module or a class.  It is entered with `with`:

    with Session(limits=Limits(rlimit=...), cross_check=True) as s:
        results = prove_level(rev, 12, 2)
    s.tally     # the cross-check's count for the work done in the block

and reached through one context variable, CrossHair style: `current()`
outside a session, or entering a second session inside one, raises
SessionError.  A worker process (nvtlbi/scheduler.py) is handed its
Session in the job's arguments and enters it itself; what it counted
comes back with its results, as data.

The engine's own world on impl/ (the symbolic C-word backend, the kernel
hooks) lives in impl/context.py: impl/ may not import model/, so the
engine enters it there for each run of a revision."""

import contextlib
import contextvars
import dataclasses
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional

# the engine's general bound on symbolic branch decisions per path
MAX_DECISIONS = 400


@dataclass(frozen=True)
class Limits:
    rlimit: int = 50_000_000     # z3 resource units per query: deterministic
    timeout_ms: int = 0          # optional wall-clock bound on top (0 = none)
    # iterations a loop of translated C may run (CBMC's --unwind): a path
    # needing more is UNKNOWN naming the loop.  8: the loops of this code walk
    # the levels of a stage-2 table or the block sizes of a granule (at most
    # 5, levels -1..3 with LPA2), so 8 explores them fully with room to
    # spare, while a loop over bits or pages (64 and more iterations, each a
    # symbolic fork) stops early as UNKNOWN instead of exploding the paths
    unwind: int = 8


class SessionError(RuntimeError):
    """A session read outside one, or entered inside another."""


@dataclass
class CrossTally:
    """The --cross-check count: queries the second solver agreed on, and
    those one of the solvers gave up on (never counted as agreement)."""
    agreed: int = 0
    unchecked: int = 0

    def __add__(self, other: "CrossTally") -> "CrossTally":
        return CrossTally(self.agreed + other.agreed, self.unchecked + other.unchecked)

    def as_dict(self) -> dict:
        return {"agreed": self.agreed, "unchecked": self.unchecked}


@dataclass
class Session:
    limits: Limits = field(default_factory=Limits)
    # a path with more symbolic branch decisions raises PathExplosion (a
    # loop the engine cannot bound); mutation analysis asks for less
    max_decisions: int = MAX_DECISIONS
    coverage: bool = False          # trace branch coverage of the revision's file (model/coverage.py)
    cross_check: bool = False       # a second solver re-solves every query (model/crosscheck.py)
    # the second solver: SMT-LIB2 text -> "sat" | "unsat" | "unknown"; None is Bitwuzla
    second: Optional[Callable[[str], str]] = field(default=None, compare=False, repr=False)
    tally: CrossTally = field(default_factory=CrossTally, compare=False)
    _token: Optional[contextvars.Token] = field(default=None, init=False, compare=False, repr=False)

    def __enter__(self) -> "Session":
        now = _CURRENT.get(None)
        if now is not None:
            raise SessionError("a session is entered inside another (one session per run: pass it along "
                               "or leave the outer one first)" + (" (the same one twice)" if now is self else ""))
        self._token = _CURRENT.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._token is not None      # __exit__ only after __enter__
        _CURRENT.reset(self._token)
        self._token = None

    def fresh(self) -> "Session":
        """The same settings with a tally of its own (what a worker enters)."""
        return dataclasses.replace(self, tally=CrossTally())

    def on_check(self) -> Optional[Callable]:
        """The hook that sees every solver query (engine, solver, result),
        or None: the cross-check when asked for, counting into self.tally."""
        if not self.cross_check:
            return None
        from nvtlbi.model import crosscheck
        return crosscheck.make_hook(self.tally, self.second)


_CURRENT: contextvars.ContextVar = contextvars.ContextVar("nvtlbi.model.session")


def current() -> Session:
    """The session entered (`with Session(...)`); SessionError outside one."""
    s = _CURRENT.get(None)
    if s is None:
        raise SessionError("no session: the engine runs inside `with Session(...):` (model/session.py)")
    return s


def active() -> Optional[Session]:
    """The session entered, or None (for entry points that enter their own)."""
    return _CURRENT.get(None)


@contextlib.contextmanager
def of_call(given: Optional[Session] = None) -> Iterator[Session]:
    """The session of an entry point's call (prove_level, diff_case, ...):
    `given` entered for the call; without one, the session already entered,
    else a default Session entered for the call."""
    if given is None and active() is not None:
        yield current()
        return
    with (given if given is not None else Session()) as s:
        yield s
