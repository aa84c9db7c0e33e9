"""Z3 terms behind impl.cint.Word: the symbolic half of the C integers.

impl/ never imports z3; it calls this backend for any operation whose
operand is a Z3 term.  Conditions are Z3 Booleans until they meet
arithmetic (then 0/1), and a branch on one asks the engine to decide."""

import z3


def bv(v, width):
    if isinstance(v, int):
        return z3.BitVecVal(v, width)
    if z3.is_bool(v):
        return z3.If(v, z3.BitVecVal(1, width), z3.BitVecVal(0, width))
    assert v.size() == width, (v, width)
    return v


class Z3Backend:
    def __init__(self, engine):
        self.engine = engine

    def binop(self, op, a, b, width, signed):
        a, b = bv(a, width), bv(b, width)
        if op == "+": return a + b
        if op == "-": return a - b
        if op == "*": return a * b
        if op == "&": return a & b
        if op == "|": return a | b
        if op == "^": return a ^ b
        if op == "<<": return a << b
        if op == ">>": return a >> b if signed else z3.LShR(a, b)
        if op == "/": return a / b if signed else z3.UDiv(a, b)
        if op == "%": return z3.SRem(a, b) if signed else z3.URem(a, b)
        raise ValueError(op)

    def unop(self, op, a, width):
        a = bv(a, width)
        return ~a if op == "~" else -a

    def cmp(self, op, a, b, width, signed):
        a, b = bv(a, width), bv(b, width)
        if op == "==": return a == b
        if op == "!=": return a != b
        if signed:
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        return {"<": z3.ULT(a, b), "<=": z3.ULE(a, b), ">": z3.UGT(a, b), ">=": z3.UGE(a, b)}[op]

    def convert(self, v, from_w, from_signed, to_w):
        v = bv(v, from_w)
        if to_w < from_w:
            return z3.Extract(to_w - 1, 0, v)
        if to_w > from_w:
            return (z3.SignExt if from_signed else z3.ZeroExt)(to_w - from_w, v)
        return v

    def select(self, c, cwidth, a, b, width):
        cond = c if z3.is_bool(c) else bv(c, cwidth) != 0
        return z3.If(cond, bv(a, width), bv(b, width))

    def truth(self, v, width):
        cond = v if z3.is_bool(v) else bv(v, width) != 0
        return self.engine.decide(cond)

