"""The world revision code runs in: the kernel hooks (what BUG(), WARN_ON,
the host's capabilities and page size mean) and the backend that evaluates
C words holding symbolic terms.

One context variable holds it, so nothing is set on a module: a run enters
its world with `with entered(hooks=..., backend=...):` and leaving the block
resets the variable through its token, also when the run raises.  Outside
any run the world is the concrete one: no symbolic backend, and default
concrete hooks (impl/kernel.py).  impl/ stays free of z3 and of model/: the
model only passes objects in."""

import contextlib
import contextvars
from dataclasses import dataclass
from typing import Any, Iterator, Optional


@dataclass(frozen=True)
class World:
    hooks: Any | None = None       # None: impl/kernel.py's default concrete hooks
    backend: Any | None = None     # None: concrete words only (a symbolic one raises)
    # the most iterations a loop of translated C may run (the proof's
    # --unwind); None: no bound (a concrete run, e.g. a replay, runs as C does)
    unwind: Optional[int] = None
    # the bundled producers loaded in this block ({kind: Producer}, filled
    # by impl/nested.py as they are first needed); None: each shadow fault,
    # unmap and MMU switch loads its producer again.  Loading relinks the
    # module (impl/linking.py), the same each time: a run of many generated
    # worlds (model/evidence.py) spent a third of its time doing it again
    producers: Optional[dict] = None


CONCRETE = World()
_WORLD: contextvars.ContextVar = contextvars.ContextVar("nvtlbi.impl.world", default=CONCRETE)


def current() -> World:
    return _WORLD.get()


@contextlib.contextmanager
def entered(hooks: Optional[Any] = None, backend: Optional[Any] = None,
            unwind: Optional[int] = None, producers: Optional[dict] = None) -> Iterator[World]:
    """Run the block with these hooks, backend, loop bound and/or the
    bundled producers loaded once for it (each left as it is when not
    given)."""
    now = _WORLD.get()
    world = World(now.hooks if hooks is None else hooks, now.backend if backend is None else backend,
                  now.unwind if unwind is None else unwind, now.producers if producers is None else producers)
    token = _WORLD.set(world)
    try:
        yield world
    finally:
        _WORLD.reset(token)


class UnwindingLimit(Exception):
    """A loop of translated C would run more iterations than the bound
    (World.unwind): what it does after them is not explored, so no verdict
    may claim it (the prover makes the obligation UNKNOWN, as CBMC's
    unwinding assertion does)."""

    def __init__(self, where: str, bound: int) -> None:
        super().__init__(f"loop at {where} needs more than {bound} iterations (--unwind {bound})")
        self.where, self.bound = where, bound
