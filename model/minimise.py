"""Counterexample minimisation: the smallest IPA a failing path allows."""

import z3


def minimise(engine, solver, extra, term, model, rounds=16):
    """Shrink the IPA of a counterexample: 0 if possible, else bisection.
    `solver` holds the path's facts (Engine.solver_for): each round is one
    scoped query on it, not a new solver that takes in every fact again."""
    best = model
    lo, hi = 0, best.eval(term, model_completion=True).as_long()
    if hi:
        r, m = engine.check_in(solver, list(extra) + [term == 0])
        if r == z3.sat:
            return m
    for _ in range(rounds):
        if lo >= hi:
            break
        mid = (lo + hi) // 2
        r, m = engine.check_in(solver, list(extra) + [z3.ULE(term, mid)])
        if r == z3.sat:
            best, hi = m, m.eval(term, model_completion=True).as_long()
        else:
            lo = mid + 1
    return best
