"""C integer semantics of impl.cint, concretely and through the Z3 backend."""

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from nvtlbi.impl import cint, context
from nvtlbi.impl.cint import Word, s32, s64, u8, u16, u32, u64
from nvtlbi.model.backend import Z3Backend

TYPES = [u8, u16, u32, s32, u64, s64]
OPS = ["+", "-", "*", "&", "|", "^", "<", "<=", ">", ">=", "==", "!=", "<<", ">>", "~", "|=", "&=", "-="]


def test_promotion_and_conversion_follow_c():
    assert (u8(0xFF) + u8(1)).ctype == s32 and int(u8(0xFF) + u8(1)) == 0x100   # promoted to int
    x = u8(0xFF)
    x += 1
    assert x.ctype == u8 and int(x) == 0                                          # compound assignment
    assert int(u32(0) - 1) == 0xFFFFFFFF                                          # unsigned wraparound
    assert int(u64(0x1000) & ~(0x1000 - 1)) == 0x1000                            # ~int sign-extends
    assert int(u64(5) & ~u32(0)) == 5                                             # ~u32 zero-extends
    assert bool(s32(-1) < u32(0)) is False                                        # -1 converts to UINT_MAX
    assert bool(s64(-1) < u32(0)) is True                                         # long holds all of u32
    assert (u8(1) << 2).ctype == s32
    assert int(cint.convert(s32(-1), u64)) == (1 << 64) - 1
    with pytest.raises(cint.UndefinedBehaviour):
        u64(1) << 64
    with pytest.raises(TypeError):
        {u64(1): 0}


class Decider:
    def decide(self, cond):
        return z3.is_true(z3.simplify(cond))


def sym(w):
    return Word(w.ctype, z3.BitVecVal(w.v, w.ctype.width))


def apply(op, a, b):
    if op == "~":
        return ~a
    if op.endswith("=") and op not in ("<=", ">=", "==", "!="):
        x = a
        if op == "|=":
            x |= b
        elif op == "&=":
            x &= b
        else:
            x -= b
        return x
    return {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "&": lambda: a & b,
            "|": lambda: a | b, "^": lambda: a ^ b, "<": lambda: a < b, "<=": lambda: a <= b,
            ">": lambda: a > b, ">=": lambda: a >= b, "==": lambda: a == b, "!=": lambda: a != b,
            "<<": lambda: a << b, ">>": lambda: a >> b}[op]()


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(TYPES), st.sampled_from(TYPES), st.integers(0, (1 << 64) - 1),
       st.integers(0, (1 << 64) - 1), st.sampled_from(OPS))
def test_symbolic_backend_agrees_with_concrete(ta, tb, x, y, op):
    a, b = ta(x), tb(y)
    if op in ("<<", ">>"):
        b = tb(y % cint.promote(ta).width)
    with context.entered(backend=Z3Backend(Decider())):
        want = apply(op, a, b)
        got = apply(op, sym(a), sym(b))
    assert got.ctype == want.ctype
    term = z3.simplify(got.v if not z3.is_bool(got.v) else z3.If(got.v, z3.BitVecVal(1, 32), z3.BitVecVal(0, 32)))
    assert term.as_long() == want.v, (op, a, b)


def test_field_prep_converts_to_the_masks_type_before_shifting():
    """bitfield.h: ((typeof(_mask))(_val) << __bf_shf(_mask)) & (_mask).  An
    int level put in PTE bits [56:55] is shifted as a u64: no overflow of an
    int (the old model shifted the int first, undefined behaviour at 55)."""
    from nvtlbi.impl import kernel as K
    got = K.FIELD_PREP(K.GENMASK_ULL(56, 55), s32(3))
    assert got.ctype == u64 and got.value() == 3 << 55
    assert K.FIELD_PREP(K.GENMASK(15, 14), s32(2)).value() == 2 << 14


def test_null_is_false_and_its_dereference_is_undefined_behaviour():
    """impl/kernel.NULL: `if (!p)` and `p == NULL` as in C; a member read or
    written through it is a C outcome (UndefinedBehaviour: a verdict), not a
    Python error nvtlbi could not tell from its own; copies and pickles stay
    the one NULL (forked workers, deep copies)."""
    import copy
    import pickle

    from nvtlbi.impl import kernel
    from nvtlbi.impl.cint import UndefinedBehaviour
    NULL = kernel.NULL
    assert not NULL and NULL == NULL and NULL is not None
    assert copy.deepcopy(NULL) is NULL and pickle.loads(pickle.dumps(NULL)) is NULL
    with pytest.raises(UndefinedBehaviour, match="NULL pointer dereference: ->val read"):
        NULL.val
    with pytest.raises(UndefinedBehaviour, match="->val written"):
        NULL.val = 1


def test_a_symbolic_shift_count_or_divisor_out_of_range_is_undefined_behaviour():
    """C leaves `x << n` undefined for n < 0 or n >= the promoted width, and
    `x / d` for d == 0; with n or d symbolic that is a path of its own (z3
    alone would give 0 or all ones, arm64's LSL n modulo 64: neither is C)."""
    from nvtlbi.model.engine import Engine
    from nvtlbi.model.session import Session

    for op, width in (("<<", 32), (">>", 64), ("/", 8), ("%", 16)):
        engine = Engine([], Session())
        state = {}

        def setup():
            state["n"] = Word(u8 if width in (8, 16) else s32, z3.BitVec("n", 8 if width in (8, 16) else 32))

        def program():
            n = state["n"]
            x = u64(5) if width == 64 else s32(5)
            return {"<<": lambda: x << n, ">>": lambda: x >> n, "/": lambda: x // n, "%": lambda: x % n}[op]()

        paths = engine.explore(program, setup)
        ub = [p for p in paths if isinstance(p.error, cint.UndefinedBehaviour)]
        ok = [p for p in paths if p.error is None]
        assert len(ub) == 1 and ok, op
        n = z3.BitVec("n", 8 if width in (8, 16) else 32)
        bad = (n == 0) if op in "/%" else z3.Or(n < 0, n >= width)
        # no defined path allows the undefined operand, and the undefined one requires it
        assert all(engine.check(p.facts, [bad])[0] == z3.unsat for p in ok), op
        assert engine.check(ub[0].facts, [z3.Not(bad)])[0] == z3.unsat, op
