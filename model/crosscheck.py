"""A second solver for every query: each z3 query of the engine (branch
feasibility, cover checks, property checks) is exported as SMT-LIB2 text
and solved again by Bitwuzla.  A disagreement (one says sat, the other
unsat) is a hard error naming the obligation.

Why Bitwuzla: the queries are pure bit-vector formulas (64-bit masks,
alignments, shifts), Bitwuzla's home ground; on the align-down query the
issue measured, z3 took 0.8 s, cvc5 51 s and Bitwuzla 0.05 s.  Going through
SMT-LIB2 text (not a shared API) also checks z3's own export: z3's results
are known to differ between its API and its text input.

Bitwuzla has no deterministic resource limit, only a wall-clock one
(TIME_LIMIT_PER); when it gives up, the query is counted as unchecked,
never as agreement.  z3's verdicts themselves are unaffected.

The cross-check is asked for by the session (model/session.py,
Session(cross_check=True)); its count goes to the session's tally."""

import re

import z3

from nvtlbi.model.engine import CrossCheckError
from nvtlbi.model.session import CrossTally

TIME_LIMIT_MS = 20_000


def smt2(solver, assumptions):
    """The query as SMT-LIB2: the solver's assertions plus the enabled
    assumption literals asserted (z3 checks them as assumptions)."""
    s = z3.Solver()
    s.add(solver.assertions())
    s.add(assumptions)
    return standard(s.to_smt2())


def _tokens(text):
    text = re.sub(r"^;[^\n]*", "", text, flags=re.M)       # z3's comment lines
    return re.findall(r'\(|\)|\|[^|]*\||"[^"]*"|[^\s()]+', text)


def standard(text):
    """z3 prints `(and x)` / `(or x)` for one-operand connectives, which the
    SMT-LIB standard (and Bitwuzla) rejects: write them as `x`; and a
    zero-operand one as a bare `and` / `or` (z3.And([]), a property over no
    unmapped range): write it `true` / `false`.  The rewrite is on the
    text, so the formula is z3's own, unsimplified."""
    stack = [[]]
    for t in _tokens(text):
        if t == "(":
            stack.append([])
        elif t == ")":
            node = stack.pop()
            if len(node) == 2 and node[0] in ("and", "or"):
                stack[-1].append(node[1])
            elif len(node) == 1 and node[0] in ("and", "or"):
                stack[-1].append("true" if node[0] == "and" else "false")
            else:
                stack[-1].append(node)
        elif t in ("and", "or") and stack[-1]:        # an operand, not a head: empty and / or
            stack[-1].append("true" if t == "and" else "false")
        else:
            stack[-1].append(t)

    def show(n):
        return n if isinstance(n, str) else "(" + " ".join(show(x) for x in n) + ")"
    return "\n".join(show(n) for n in stack[0])


def bitwuzla_solve(text):
    import bitwuzla as bw
    opts = bw.Options()
    opts.set(bw.Option.TIME_LIMIT_PER, TIME_LIMIT_MS)
    parser = bw.Parser(bw.TermManager(), opts)
    parser.parse(text, True, False)     # parse only: we ask check_sat ourselves
    r = parser.bitwuzla().check_sat()
    return {bw.Result.SAT: "sat", bw.Result.UNSAT: "unsat"}.get(r, "unknown")


def verdict_of(z3_result):
    return "sat" if z3_result == z3.sat else "unsat" if z3_result == z3.unsat else "unknown"


def compare(label, mine, theirs, tally: CrossTally):
    """Raise on a definite disagreement; count the rest in `tally`."""
    if "unknown" in (mine, theirs):
        tally.unchecked += 1
        return
    if mine != theirs:
        raise CrossCheckError(f"{label or 'a query'}: z3 says {mine}, bitwuzla says {theirs}: "
                              f"the solvers disagree, no verdict can be trusted")
    tally.agreed += 1


def make_hook(tally: CrossTally, second=None):
    """The engine's on_check: re-solve each query with `second` (SMT-LIB2
    text -> "sat"/"unsat"/"unknown"; Bitwuzla when None), counting into tally."""
    if second is None:
        second = lambda text: bitwuzla_solve(text)     # looked up when called
    def hook(engine, solver, result, extra=()):
        mine = verdict_of(result)
        if mine == "unknown":
            tally.unchecked += 1
            return
        # the engine passes a query's own facts as assumptions: assert them too
        compare(engine.label, mine, second(smt2(solver, engine.active() + list(extra))), tally)
    return hook
