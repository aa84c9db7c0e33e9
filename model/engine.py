"""The symbolic execution engine: runs a Python program (a revision plus its
caller) over symbolic words and explores every feasible path.

Each path is one re-execution driven by a prefix of branch decisions; a
branch on a symbolic condition that both ways is feasible (under the path so
far and the enabled assumptions) queues the other side.  Environment facts
are added through `assume(ENTRY, fact)`: they are guarded by a literal per
assumption, so dropping an assumption disables its facts and an unsat core
names the assumptions a result rests on.  The assumption must be an entry
of the registry (impl/assumptions.py) or a registered name: anything else
raises at once, since a fact under a misspelt name would be guarded by a
fresh literal that nothing turns on, and silently do nothing."""

import contextlib
import functools
import gc
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, List, Optional, ParamSpec, Sequence, Set, Tuple, TypeVar, Union

import z3
import z3.z3 as z3_api

from nvtlbi.impl import context
from nvtlbi.impl.outcome import C_OUTCOMES
from nvtlbi.model.assumptions import CASE, Assumption, assumption
from nvtlbi.model.backend import Z3Backend
from nvtlbi.model.session import Session, current

P = ParamSpec("P")
T = TypeVar("T")


@contextlib.contextmanager
def own_z3_context() -> Iterator[None]:
    """Build every term inside the block in a fresh z3 context.

    z3 numbers terms in creation order within a context and reuses the
    numbers of freed terms; the solver's search, and so the models it returns
    (counterexample and witness values) and its unsat cores, depend on those
    numbers.  In one shared context, an obligation's answer would depend on
    what the process proved before it: on `--jobs` and on which worker took
    which job.  A fresh context per obligation makes the answer a function of
    the obligation alone.  z3py has no public setter for its default context,
    so this swaps z3py's own `_main_ctx` for the block and restores it."""
    old = z3_api._main_ctx
    gc.collect()        # no garbage from earlier work left to be freed mid-run
    z3_api._main_ctx = z3.Context()
    try:
        yield
    finally:
        z3_api._main_ctx = old


def in_own_z3_context(fn: Callable[P, T]) -> Callable[P, T]:
    """fn's calls each run in own_z3_context() (their results must hold no z3 terms)."""
    @functools.wraps(fn)
    def run(*args: P.args, **kw: P.kwargs) -> T:
        with own_z3_context():
            return fn(*args, **kw)
    return run


class PathExplosion(Exception):
    """A path took more branch decisions than the session's max_decisions
    (a loop the engine cannot bound)."""


class CrossCheckError(Exception):
    """The second solver contradicts z3 on a query (model/crosscheck.py)."""


@dataclass
class Path:
    decisions: list
    facts: list            # (name or None, z3 Bool): branch conditions and guarded env facts
    result: object
    error: object | None = None   # an exception the program raised on this path
    error_env: object | None = None
    pruned_by: frozenset = frozenset()   # assumptions that ruled out a branch along this path
    # a C loop of this path needed more iterations than --unwind: the path
    # stops there, its rest unexplored (no property may be claimed on it)
    truncated: object | None = None


class Engine:
    # Per-run state, set by record()/paths()/decide(): declared here for the
    # type checker (tests/test_types.py); never class attributes at runtime.
    _last_core: frozenset
    lits: dict
    memo: dict
    _simp: dict
    _pruned_here: set
    _facts: list
    _prefix: list
    _decisions: list
    _pending: list
    pruned_by: set
    _prune_at: dict
    _solver: z3.Solver
    _pos: int
    _model: Optional[z3.ModelRef]      # a model of the path so far (see _witnessed), or None
    _model_upto: int

    def __init__(self, enabled: Iterable, session: Optional[Session] = None, seeds: bool = False) -> None:
        """An engine for the assumptions `enabled`, under `session` (the one
        entered when not given: its limits, decision bound and cross-check).
        seeds: the environment also reads the shadow S2 where P5 looks."""
        # assumption names that are on; "case" guards the obligation's case.
        # Each must be registered: an unknown name here would be on in name only.
        names = [assumption(n).name for n in enabled]
        self.enabled = [CASE.name] + [n for n in names if n != CASE.name]
        self.session = session if session is not None else current()
        self.limits = self.session.limits
        self.max_decisions = self.session.max_decisions
        self.seeds = seeds
        # optional on_check(engine, solver, result): sees every query and z3's
        # answer (the session's cross-check re-solves it with a second solver)
        self.on_check = self.session.on_check()
        # label names the obligation being worked on, for the messages of on_check
        self.label = ""
        # set by the runner: the env of the run (for an error's path)
        self.current_env: Callable[[], object] = lambda: None
        # optional on_prune(side, core): a branch side ("T"/"F") was ruled out,
        # by the assumptions in core (model/coverage.py says why a side is dead)
        self.on_prune: Optional[Callable[[str, frozenset], None]] = None
        self._last_core = frozenset()
        self.lits = {}
        self.backend = Z3Backend(self)
        # Re-execution rebuilds the same terms on every path; z3 hash-conses
        # them, so results keyed by AST id can be reused (the key keeps the
        # term alive, so its id is not recycled).
        self.memo = {}
        self._simp = {}

    # -- solver plumbing ----------------------------------------------------------
    def lit(self, a: Union[Assumption, str]) -> z3.BoolRef:
        """The literal guarding the facts of assumption `a` (an entry or a registered name)."""
        hit = self.lits.get(a) if isinstance(a, str) else None     # only registered names get in
        if hit is None:
            name = assumption(a).name
            hit = self.lits.get(name)
            if hit is None:
                hit = self.lits[name] = z3.Bool(f"assume!{name}")
        return hit

    def solver(self) -> z3.Solver:
        s = z3.Solver()
        # z3's default seed is 0, but a global set_param would change it:
        # pinned here so that the models returned depend on the query alone
        # (the solver object takes only the smt seed; sat.* is not its parameter)
        s.set("random_seed", 0)
        s.set("rlimit", self.limits.rlimit)
        s.set("core.minimize", True)        # what a proof rests on: as few assumptions as z3 finds
        if self.limits.timeout_ms:
            s.set("timeout", self.limits.timeout_ms)
        # The case is always on and never part of what a proof rests on:
        # asserted, not passed as an assumption, so z3's core minimisation
        # does not spend a re-solve of the query on trying it out (about a
        # fifth of the minimisation, on the hardest property queries)
        s.add(self.lit(CASE))
        return s

    def active(self) -> List[z3.BoolRef]:
        """The literals of the enabled assumptions a query is checked under
        (the case's is asserted in every solver: see solver())."""
        return [self.lit(n) for n in self.enabled if n != CASE.name]

    def on(self, a: Union[Assumption, str]) -> bool:
        """Is assumption `a` (an entry or a registered name) enabled?"""
        return assumption(a).name in self.enabled

    def add_fact(self, solver: z3.Solver, name: Optional[str], fact: z3.BoolRef) -> None:
        solver.add(fact if name is None else z3.Implies(self.lit(name), fact))

    # -- running programs -----------------------------------------------------------
    def simplify(self, e: z3.ExprRef) -> z3.ExprRef:
        k = e.get_id()
        hit = self._simp.get(k)
        if hit is None:
            hit = self._simp[k] = (e, z3.simplify(e))
        return hit[1]

    def assume(self, a: Union[Assumption, str], fact: z3.BoolRef) -> None:
        """An environment fact belonging to assumption `a`, a registry entry
        (CASE: a fact of the obligation's case, always on) or a registered
        name; anything else raises UnknownAssumption."""
        name = assumption(a).name
        fact = self.simplify(fact)
        self._facts.append((name, fact))
        self.add_fact(self._solver, name, fact)

    def decide(self, cond: z3.BoolRef) -> bool:
        cond = self.simplify(cond)
        if z3.is_true(cond):
            return True
        if z3.is_false(cond):
            return False
        if self._pos < len(self._prefix):
            d = self._prefix[self._pos]
        else:
            if len(self._decisions) >= self.max_decisions:
                raise PathExplosion(f"more than {self.max_decisions} symbolic branches on one path")
            known = self._witnessed(cond)      # a side a known model already satisfies
            self._pruned_here = set()
            can_t = True if known is True else self._feasible(cond)
            core_t = self._last_core
            can_f = True if known is False else self._feasible(z3.Not(cond))
            if self.on_prune is not None:       # coverage: why a side is ruled out
                if not can_t:
                    self.on_prune("T", core_t)
                if not can_f:
                    self.on_prune("F", self._last_core)
            if self._pruned_here:
                self._prune_at[tuple(self._decisions)] = frozenset(self._pruned_here)
            if can_t and can_f:
                self._pending.append(self._decisions + [False])
                d = True
            else:
                d = can_t
        self._pos += 1
        self._decisions.append(d)
        c = cond if d else z3.Not(cond)
        self._facts.append((None, c))
        self._solver.add(c)
        return d

    def _witnessed(self, cond: z3.BoolRef) -> Optional[bool]:
        """Which side of cond the last model satisfies, if that model still
        satisfies every fact of the path (saves one solver call per branch)."""
        m = self._model
        if m is None:
            return None
        on = set(self.enabled)
        for name, f in self._facts[self._model_upto:]:
            if name is not None and name not in on:
                continue
            if not z3.is_true(m.eval(f, model_completion=True)):
                self._model = None
                return None
        self._model_upto = len(self._facts)
        v = m.eval(cond, model_completion=True)
        return True if z3.is_true(v) else False if z3.is_false(v) else None

    def _names(self, core: Iterable[z3.BoolRef]) -> Set[str]:
        """The assumption names in an unsat core (other assumed formulas dropped)."""
        return {str(c)[len("assume!"):] for c in core if str(c).startswith("assume!")}

    def _feasible(self, cond: z3.BoolRef) -> bool:
        self._last_core = frozenset()
        self._solver.push()
        self._solver.add(cond)
        r = self._solver.check(*self.active())
        if self.on_check is not None:
            self.on_check(self, self._solver, r)
        if r == z3.unsat:
            # the branch side is ruled out: remember which assumptions did it
            core = self._names(self._solver.unsat_core())
            self._last_core = frozenset(core)
            self.pruned_by |= core
            self._pruned_here |= core
        elif r == z3.sat:
            # this model satisfies the path so far plus cond; _witnessed
            # re-checks it against whatever the path adds later
            self._model, self._model_upto = self._solver.model(), len(self._facts)
        self._solver.pop()
        if r == z3.unknown:
            # cannot rule the branch out: explore it (its queries will say unknown)
            return True
        return r == z3.sat

    def record(self, setup: Callable[[], object]) -> List[Tuple[Optional[str], z3.BoolRef]]:
        """The facts `setup()` states, without running anything."""
        self._facts, self._solver = [], self.solver()
        self._prefix, self._pos, self._decisions, self._pending = [], 0, [], []
        self._model = None
        setup()
        return list(self._facts)

    def explore(self, program: Callable[[], object], setup: Callable[[], object]) -> List[Path]:
        """Run `program()` on every feasible path.  `setup()` is called at the
        start of each run to create the symbolic inputs (with the same names
        each time) and state the case and global assumptions."""
        return list(self.paths(program, setup))

    def paths(self, program: Callable[[], object], setup: Callable[[], object]) -> Iterator[Path]:
        """explore(), one path at a time (a consumer may stop early).  Each
        run enters this engine's backend for C words (impl/context.py); the
        consumer gets the path outside it (it may build words of its own)."""
        self.pruned_by = set()      # assumptions that ruled out some branch
        self._prune_at = {}         # decision prefix -> assumptions that ruled out a side there
        self._pending = [[]]
        while self._pending:
            path = self._run_one(program, setup)
            if path is not None:
                yield path

    def _run_one(self, program: Callable[[], object], setup: Callable[[], object]) -> Optional[Path]:
        """One run, along the next pending decision prefix: its Path, or None
        when its setup is infeasible."""
        self._prefix = self._pending.pop()
        self._pos, self._decisions, self._facts = 0, [], []
        self._model = None
        self._solver = self.solver()
        with context.entered(backend=self.backend, unwind=self.limits.unwind):
            setup()
            if self._solver.check(*self.active()) == z3.unsat:
                return None
            error, result, env, truncated = None, None, None, None
            try:
                result = program()
            except C_OUTCOMES as e:
                # what C makes of the revision's code is the path's outcome;
                # any other exception leaves the engine, to be an error
                # (model/userfault.py), never a verdict
                error, env = e, self.current_env()
            except context.UnwindingLimit as e:
                # as CBMC's unwinding assertion: this path is cut at the
                # bound; the prover makes what it could reach UNKNOWN
                truncated, env = e, self.current_env()
        d = self._decisions
        pruned = frozenset().union(*(self._prune_at.get(tuple(d[:i]), frozenset())
                                     for i in range(len(d) + 1)))
        return Path(d, self._facts, result, error, env, pruned, truncated)

    # -- queries --------------------------------------------------------------------
    def solver_for(self, facts: Sequence) -> z3.Solver:
        """A solver holding `facts`, for several check_in() queries."""
        s = self.solver()
        for name, f in facts:
            self.add_fact(s, name, f)
        return s

    def check_in(self, s: z3.Solver, extra: Sequence = (), want_core: bool = False) -> Tuple[object, object]:
        """check() against a solver_for() solver, the extra facts scoped."""
        s.push()
        for f in extra:
            s.add(f)
        r = s.check(*self.active())
        if self.on_check is not None:
            self.on_check(self, s, r)
        if r == z3.sat:
            out = r, s.model()
        elif r == z3.unsat:
            out = r, (sorted(self._names(s.unsat_core())) if want_core else None)
        else:
            out = r, s.reason_unknown()
        s.pop()
        return out

    def check(self, facts: Sequence, extra: Sequence = (), want_core: bool = False) -> Tuple[object, object]:
        """Solve facts + extra under the enabled assumptions.
        Returns (z3 result, model or unsat-core names or reason)."""
        return self.check_in(self.solver_for(facts), extra, want_core)
