"""Fixed-width C integers: u8, u16, u32 (unsigned int), int, u64, long.

A `Word` is a value of a C integer type.  Arithmetic follows C: integer
promotion (u8/u16 become int), the usual arithmetic conversions, unsigned
wraparound, shifts typed by the promoted left operand, comparisons yielding
an int 0/1.  Compound assignment (`x |= y`) converts back to the type of
`x`, as C's `E1 op= E2` means `E1 = (T1)(E1 op E2)`.

The value inside a Word is either a Python int (the bit pattern, in
[0, 2**width)) or an opaque symbolic term.  This module never looks inside
symbolic terms: it hands them to the backend of the current world
(impl/context.py; the model enters one built on Z3 while it runs a
revision).  That is what lets one revision module run both concretely and
symbolically.
"""

from dataclasses import dataclass

from nvtlbi.impl import context


class UndefinedBehaviour(Exception):
    """The program did something C leaves undefined (e.g. an oversized shift)."""


@dataclass(frozen=True)
class CType:
    name: str
    width: int
    signed: bool

    @property
    def rank(self):
        return {8: 1, 16: 2, 32: 3, 64: 4}[self.width]

    def __call__(self, x):
        """C conversion `(type)x`: truncate or extend the bit pattern."""
        return convert(x, self)

    def __repr__(self):
        return self.name


u8 = CType("u8", 8, False)
u16 = CType("u16", 16, False)
u32 = CType("u32", 32, False)
s32 = CType("int", 32, True)
u64 = CType("u64", 64, False)
s64 = CType("long", 64, True)

def _is_concrete(v):
    return isinstance(v, int)


def _sym():
    backend = context.current().backend
    if backend is None:
        raise TypeError("symbolic value used but no symbolic backend entered (impl/context.py)")
    return backend


def literal_type(x):
    """Type of a Python int used as a C literal (hex-literal rule: int,
    unsigned int, long, unsigned long: the first that holds the value)."""
    if -(1 << 31) <= x < (1 << 31):
        return s32
    if 0 <= x < (1 << 32):
        return u32
    if -(1 << 63) <= x < (1 << 63):
        return s64
    if 0 <= x < (1 << 64):
        return u64
    raise OverflowError(f"integer literal {x} does not fit any C type")


def to_signed(v, width):
    return v - (1 << width) if v >> (width - 1) else v


class Word:
    __slots__ = ("ctype", "v")

    def __init__(self, ctype, v):
        self.ctype = ctype
        self.v = v & ((1 << ctype.width) - 1) if isinstance(v, int) else v

    # -- helpers -----------------------------------------------------------
    @property
    def symbolic(self):
        return not _is_concrete(self.v)

    def value(self):
        """The C value as a Python int (signed types read as signed)."""
        if self.symbolic:
            raise TypeError("symbolic word has no concrete value")
        return to_signed(self.v, self.ctype.width) if self.ctype.signed else self.v

    def __int__(self):
        return self.value()

    __index__ = __int__

    def __repr__(self):
        if self.symbolic:
            return f"({self.ctype.name}){self.v}"
        return f"({self.ctype.name}){self.value():#x}"

    def __hash__(self):
        raise TypeError("a C word is not hashable: use int(word) for a dict key")

    # -- truth (a C condition) --------------------------------------------
    def __bool__(self):
        if _is_concrete(self.v):
            return self.v != 0
        return _sym().truth(self.v, self.ctype.width)

    # -- arithmetic ------------------------------------------------------
    def _bin(self, other, op, reflected=False):
        other = as_word(other)
        a, b = (other, self) if reflected else (self, other)
        t = arith_type(a.ctype, b.ctype)
        a, b = convert(a, t), convert(b, t)
        if _is_concrete(a.v) and _is_concrete(b.v):
            return Word(t, _concrete_bin(op, a.v, b.v, t))
        if op in "/%" and b == 0:
            # a divisor that may be 0: C's undefined behaviour, as for a
            # constant 0 (z3's bvudiv by 0 gives all ones: not C)
            raise UndefinedBehaviour(f"{t.name} division by zero")
        return Word(t, _sym().binop(op, a.v, b.v, t.width, t.signed))

    def __add__(self, o): return self._bin(o, "+")
    def __radd__(self, o): return self._bin(o, "+", True)
    def __sub__(self, o): return self._bin(o, "-")
    def __rsub__(self, o): return self._bin(o, "-", True)
    def __mul__(self, o): return self._bin(o, "*")
    def __rmul__(self, o): return self._bin(o, "*", True)
    def __and__(self, o): return self._bin(o, "&")
    def __rand__(self, o): return self._bin(o, "&", True)
    def __or__(self, o): return self._bin(o, "|")
    def __ror__(self, o): return self._bin(o, "|", True)
    def __xor__(self, o): return self._bin(o, "^")
    def __rxor__(self, o): return self._bin(o, "^", True)
    def __floordiv__(self, o): return self._bin(o, "/")
    def __mod__(self, o): return self._bin(o, "%")

    def __truediv__(self, o):
        raise TypeError("use // for C integer division; floats are not C words")

    def _shift(self, count, op, reflected=False):
        a, c = (as_word(count), self) if reflected else (self, as_word(count))
        t = promote(a.ctype)
        a = convert(a, t)
        if _is_concrete(c.v):
            n = c.value()
            if n < 0 or n >= t.width:
                raise UndefinedBehaviour(f"shift of {t.name} by {n}")
            if _is_concrete(a.v):
                return Word(t, _concrete_bin(op, a.v, n, t))
            return Word(t, _sym().binop(op, a.v, n, t.width, t.signed))
        # A count that is not a constant: C leaves a shift by a negative
        # count or by the promoted width or more undefined (arm64's LSL takes
        # it modulo the width, z3's bvshl gives 0: neither is C), so the
        # out-of-range counts are a path of their own, ending in the outcome
        if (c < 0) | (c >= t.width):          # one branch, not two
            raise UndefinedBehaviour(f"shift of {t.name} by a count out of range (0 to {t.width - 1})")
        cnt = convert(c, t).v
        return Word(t, _sym().binop(op, a.v, cnt, t.width, t.signed))

    def __lshift__(self, o): return self._shift(o, "<<")
    def __rlshift__(self, o): return self._shift(o, "<<", True)
    def __rshift__(self, o): return self._shift(o, ">>")
    def __rrshift__(self, o): return self._shift(o, ">>", True)

    def __invert__(self):
        t = promote(self.ctype)
        a = convert(self, t)
        if _is_concrete(a.v):
            return Word(t, ~a.v)
        return Word(t, _sym().unop("~", a.v, t.width))

    def __neg__(self):
        t = promote(self.ctype)
        a = convert(self, t)
        if _is_concrete(a.v):
            return Word(t, -a.v)
        return Word(t, _sym().unop("-", a.v, t.width))

    def __pos__(self):
        return convert(self, promote(self.ctype))

    # -- compound assignment: the result keeps the left operand's type ------
    def __iadd__(self, o): return convert(self + o, self.ctype)
    def __isub__(self, o): return convert(self - o, self.ctype)
    def __imul__(self, o): return convert(self * o, self.ctype)
    def __iand__(self, o): return convert(self & o, self.ctype)
    def __ior__(self, o): return convert(self | o, self.ctype)
    def __ixor__(self, o): return convert(self ^ o, self.ctype)
    def __ilshift__(self, o): return convert(self << o, self.ctype)
    def __irshift__(self, o): return convert(self >> o, self.ctype)

    # -- comparisons: C yields int 0/1 ------------------------------------
    def _cmp(self, other, op):
        other = as_word(other)
        t = arith_type(self.ctype, other.ctype)
        a, b = convert(self, t), convert(other, t)
        if _is_concrete(a.v) and _is_concrete(b.v):
            x, y = (to_signed(a.v, t.width), to_signed(b.v, t.width)) if t.signed else (a.v, b.v)
            r = {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y,
                 "==": x == y, "!=": x != y}[op]
            return Word(s32, int(r))
        return Word(s32, _sym().cmp(op, a.v, b.v, t.width, t.signed))

    def __lt__(self, o): return self._cmp(o, "<")
    def __le__(self, o): return self._cmp(o, "<=")
    def __gt__(self, o): return self._cmp(o, ">")
    def __ge__(self, o): return self._cmp(o, ">=")
    def __eq__(self, o): return self._cmp(o, "==")
    def __ne__(self, o): return self._cmp(o, "!=")


def _concrete_bin(op, a, b, t):
    w = t.width
    if op in "/%":
        if b == 0:
            raise UndefinedBehaviour(f"{t.name} division by zero")
        if t.signed:
            x, y = to_signed(a, w), to_signed(b, w)
            q = abs(x) // abs(y) * (1 if (x < 0) == (y < 0) else -1)
            return q if op == "/" else x - q * y
        return a // b if op == "/" else a % b
    if op == ">>":
        return (to_signed(a, w) >> b) if t.signed else a >> b
    if op == "<<":
        return a << b
    return {"+": a + b, "-": a - b, "*": a * b, "&": a & b, "|": a | b, "^": a ^ b}[op]


def promote(t):
    """Integer promotion: types narrower than int become int."""
    return s32 if t.rank < s32.rank else t


def arith_type(a, b):
    """The usual arithmetic conversions (C11 6.3.1.8) for our types."""
    a, b = promote(a), promote(b)
    if a == b:
        return a
    if a.signed == b.signed:
        return a if a.rank > b.rank else b
    uns, sig = (a, b) if not a.signed else (b, a)
    if uns.rank >= sig.rank:
        return uns
    if sig.width > uns.width:
        return sig
    return CType("unsigned " + sig.name, sig.width, False)


def as_word(x):
    if isinstance(x, Word):
        return x
    if isinstance(x, bool):
        return Word(s32, int(x))
    if isinstance(x, int):
        return Word(literal_type(x), x)
    raise TypeError(f"not a C integer: {x!r} ({type(x).__name__})")


def convert(x, t):
    """(t)x with C semantics: the bit pattern is truncated, or extended by
    the sign of the source type."""
    w = as_word(x)
    s = w.ctype
    if s == t:
        return w
    if _is_concrete(w.v):
        v = to_signed(w.v, s.width) if s.signed else w.v
        return Word(t, v)
    return Word(t, _sym().convert(w.v, s.width, s.signed, t.width))


def select(cond, a, b):
    """cond ? a : b without a branch (both sides already computed, same
    type): lets vocabulary functions avoid forking the symbolic engine where
    the kernel's control flow would not be visible to a revision anyway."""
    cond, a, b = as_word(cond), as_word(a), as_word(b)
    t = arith_type(a.ctype, b.ctype)
    a, b = convert(a, t), convert(b, t)
    if _is_concrete(cond.v):
        return a if cond.v != 0 else b
    return Word(t, _sym().select(cond.v, cond.ctype.width, a.v, b.v, t.width))
