"""Preprocessor conditionals in posted C: decide which text is compiled.

The audit must prove the code the kernel compiles, not whichever of two
definitions the translator meets last, so `#if`/`#ifdef`/`#ifndef`/
`#elif`/`#else`/`#endif` are evaluated here, before functions are looked
for.  A branch is decided only where its value is known: integer literals,
and macros the user set on the command line (`--define NAME[=VALUE]`,
`--undef NAME`; the kernel's configuration is not in the file, so nothing
is assumed about it).  Text in a false branch is dropped; text whose branch
depends on something unknown is kept but marked, and `audit` refuses an
audited function that contains such text, naming the macro and the
directive's file:line.

Directives are parsed here rather than by `gcc -E` because we must keep
every line's provenance, work on sparse text (patch hunks with gaps), and
leave all other macros unexpanded for the vocabulary profile.
"""

import re
from dataclasses import dataclass, field

from nvtlbi.c.inputs import GAP, InputError, Source, strip_comments

UNDEF = None        # a macro the user said is not defined (--undef NAME, or NAME=n as in a .config)


@dataclass(frozen=True)
class Config:
    """What the user told us about macros: NAME -> int value, or UNDEF."""
    values: dict = field(default_factory=dict)

    @staticmethod
    def parse(defines=(), undefs=()):
        values = {}
        for d in defines:
            name, eq, val = d.partition("=")
            _check_name(name, "--define", d)
            values[name] = _value(name, val.strip(), d) if eq else 1
        for name in undefs:
            _check_name(name, "--undef", name)
            values[name] = UNDEF
        return Config(values)


def _check_name(name, opt, text):
    if not re.fullmatch(r"[A-Za-z_]\w*", name):
        raise InputError(f"{opt} {text}: not a macro name")


def _value(name, val, text):
    if val == "y":
        return 1
    if val == "n":
        return UNDEF
    try:
        return int(val.rstrip("uUlL"), 0)
    except ValueError:
        raise InputError(f"--define {text}: the value must be an integer, y or n") from None


class Unknown:
    """The value of an expression that depends on a macro not set by the user."""

    def __init__(self, name):
        self.name = name


@dataclass(frozen=True)
class Open:
    """What leaves a branch undecided: a macro the user did not set, or another reason."""
    macro: str | None = None
    why: str | None = None


# ---- #if expressions ---------------------------------------------------------------------------------
_TOKEN = re.compile(r"\s*(?:(\d\w*)|([A-Za-z_]\w*)|(&&|\|\||<<|>>|<=|>=|==|!=|[-+*/%<>!~&|^()?:,]))")
_BINARY = [("||",), ("&&",), ("|",), ("^",), ("&",), ("==", "!="), ("<", "<=", ">", ">="), ("<<", ">>"),
           ("+", "-"), ("*", "/", "%")]
_CONFIG_TESTS = ("IS_ENABLED", "IS_BUILTIN", "IS_REACHABLE", "IS_MODULE")


class _Expr:
    """A recursive-descent evaluator of one `#if` expression.  Known values
    are ints; an Unknown propagates except where C's short-circuit makes the
    result independent of it (`0 && X`, `1 || X`)."""

    def __init__(self, text, config):
        self.toks, pos = [], 0
        while pos < len(text) and text[pos:].strip():
            m = _TOKEN.match(text, pos)
            if not m:
                raise ValueError(f"cannot read '{text[pos:].strip()}'")
            self.toks.append(m.group(m.lastindex))
            pos = m.end()
        self.i, self.config = 0, config

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, want=None):
        t = self.peek()
        if t is None or (want is not None and t != want):
            raise ValueError(f"expected '{want}'" if want else "unexpected end")
        self.i += 1
        return t

    def value(self):
        v = self.ternary()
        if self.peek() is not None:
            raise ValueError(f"unexpected '{self.peek()}'")
        return v

    def ternary(self):
        c = self.binary(0)
        if self.peek() != "?":
            return c
        self.take("?")
        a = self.ternary()
        self.take(":")
        b = self.ternary()
        if isinstance(c, Unknown):
            return c
        return a if c else b

    def binary(self, level):
        if level == len(_BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek() in _BINARY[level]:
            op = self.take()
            right = self.binary(level + 1)
            left = _apply(op, left, right)
        return left

    def unary(self):
        t = self.peek()
        if t in ("!", "~", "-", "+"):
            self.take()
            v = self.unary()
            if isinstance(v, Unknown):
                return v
            return {"!": int(not v), "~": ~v, "-": -v, "+": v}[t]
        return self.primary()

    def primary(self):
        t = self.take()
        if t == "(":
            v = self.ternary()
            self.take(")")
            return v
        if t[0].isdigit():
            return int(t.rstrip("uUlL"), 0)
        if t == "defined":
            paren = self.peek() == "("
            if paren:
                self.take("(")
            name = self.take()
            if paren:
                self.take(")")
            return self.defined(name)
        if t in _CONFIG_TESTS:
            self.take("(")
            name = self.take()
            self.take(")")
            v = self.defined(name)
            if isinstance(v, Unknown):
                return v
            # a set option is builtin (=y/1) or absent; modules are not modelled
            return 0 if t == "IS_MODULE" else int(bool(v) and self.config.values[name] != 0)
        if self.peek() == "(":          # a function-like macro we do not expand: skip its arguments
            depth = 0
            while True:
                a = self.take()
                depth += (a == "(") - (a == ")")
                if depth == 0:
                    return Unknown(t)
        if t not in self.config.values:
            return Unknown(t)
        v = self.config.values[t]
        return 0 if v is UNDEF else v   # C: an undefined identifier in #if is 0

    def defined(self, name):
        if name not in self.config.values:
            return Unknown(name)
        return int(self.config.values[name] is not UNDEF)


def _apply(op, a, b):
    if op == "&&":
        if not isinstance(a, Unknown) and not a:
            return 0
        if not isinstance(b, Unknown) and not b:
            return 0
        return a if isinstance(a, Unknown) else (b if isinstance(b, Unknown) else 1)
    if op == "||":
        if not isinstance(a, Unknown) and a:
            return 1
        if not isinstance(b, Unknown) and b:
            return 1
        return a if isinstance(a, Unknown) else (b if isinstance(b, Unknown) else 0)
    if isinstance(a, Unknown):
        return a
    if isinstance(b, Unknown):
        return b
    if op in ("/", "%") and b == 0:
        raise ValueError("division by zero")
    return int({"|": lambda: a | b, "^": lambda: a ^ b, "&": lambda: a & b, "==": lambda: a == b,
                "!=": lambda: a != b, "<": lambda: a < b, "<=": lambda: a <= b, ">": lambda: a > b,
                ">=": lambda: a >= b, "<<": lambda: a << b, ">>": lambda: a >> b, "+": lambda: a + b,
                "-": lambda: a - b, "*": lambda: a * b, "/": lambda: int(a / b), "%": lambda: a % b}[op]())


def _condition(kind, arg, config):
    """True, False, or Open."""
    if kind in ("ifdef", "ifndef"):
        name = arg.split()[0] if arg.split() else ""
        if not name:
            return Open(why=f"#{kind} without a name")
        if name not in config.values:
            return Open(macro=name)
        return (config.values[name] is not UNDEF) == (kind == "ifdef")
    try:
        v = _Expr(arg, config).value()
    except (ValueError, IndexError) as e:
        return Open(why=f"cannot read '{arg.strip()}': {e}")
    return Open(macro=v.name) if isinstance(v, Unknown) else bool(v)


# ---- conditionals over a file ---------------------------------------------------------------------------
UNSEEN = Open(why="a conditional opened in text the input does not show")
_DIRECTIVE = re.compile(r"^\s*#\s*(if|ifdef|ifndef|elif|else|endif)\b(.*)$")


@dataclass
class _Frame:
    where: str              # FILE:LINE of the directive that decides the current branch
    text: str
    state: object           # True, False, or Open
    taken: object           # an earlier branch was taken: True, False, or Open
    start: int = 0          # where its text begins in the output


def _frame_state(stack):
    """False if some enclosing branch is dead; else the first unknown
    (FILE:LINE, directive, Open) if any; else True."""
    if any(f.state is False for f in stack):
        return False
    for f in stack:
        if f.state is not True:
            return (f.where, f.text, f.state)
    return True


def _directives(items, texts):
    """Yield (index, span, kind, arg): span is how many lines the directive
    takes (a backslash continues it); None kind for ordinary lines."""
    i = 0
    while i < len(items):
        m = _DIRECTIVE.match(texts[i]) if items[i] is not GAP else None
        if not m:
            yield i, 1, None, None
            i += 1
            continue
        arg, span = m.group(2), 1
        while arg.rstrip().endswith("\\") and i + span < len(items) and items[i + span] is not GAP:
            arg = arg.rstrip()[:-1] + " " + texts[i + span]
            span += 1
        yield i, span, m.group(1), arg
        i += span


def evaluate(src, config):
    """(Source without dead text and without conditional directives, and
    {Line: (FILE:LINE, directive, macro)} for kept lines whose branch is
    not known)."""
    items = src.lines
    texts = strip_comments(["" if x is GAP else x.text for x in items])
    out, unknown, stack = [], {}, []
    seg_start = 0           # first output index of the current stretch of known text
    after_gap = None        # a conditional still open where the known text stops
    for i, span, kind, arg in _directives(items, texts):
        x = items[i]
        if x is GAP:
            if stack and after_gap is None:
                after_gap = (stack[0].where, stack[0].text, Open(why="its #endif is in text the input does not show"))
            stack = []
            out.append(GAP)
            seg_start = len(out)
            continue
        where, text = f"{x.file}:{x.line}", texts[i].strip()
        if kind is None:
            state = _frame_state(stack)
            if state is False:
                continue
            out.append(x)
            why = after_gap if after_gap else (state if state is not True else None)
            if why:
                unknown[x] = why
            continue
        if kind in ("if", "ifdef", "ifndef"):
            c = _condition(kind, arg, config)
            stack.append(_Frame(where, text, c, c, len(out)))
        elif kind in ("elif", "else") and not stack:
            # the #if is in text we do not have: everything here is undecided
            _unseen(out, seg_start, unknown, where, text)
            stack.append(_Frame(where, text, UNSEEN, UNSEEN, len(out)))
        elif kind in ("elif", "else"):
            f = stack[-1]
            if f.taken is True:
                f.state = False
            elif f.taken is False:
                c = True if kind == "else" else _condition("if", arg, config)
                f.state, f.taken = c, c
                f.where, f.text = where, text
            else:
                f.state = f.taken       # depends on what decided an earlier branch
        elif kind == "endif":
            if stack:
                stack.pop()
            else:
                _unseen(out, seg_start, unknown, where, text)
    if stack and not after_gap:
        # an unterminated conditional: the text after it is not a file a compiler would take
        f = stack[0]
        for y in out[f.start:]:
            if y is not GAP:
                unknown.setdefault(y, (f.where, f.text, Open(why="it has no #endif")))
    return Source(src.path, out, list(src.notes), list(src.touches)), unknown


def _unseen(out, seg_start, unknown, where, text):
    for y in out[seg_start:]:
        if y is not GAP:
            unknown.setdefault(y, (where, text, UNSEEN))


def refusal(fn_name, why):
    """The one-line error for a function with undecided text."""
    where, text, o = why
    head = f"{where}: unsupported construct: preprocessor directive '{text}' around or inside {fn_name}: "
    if o.macro is None:
        return head + f"cannot tell whether the code is compiled ({o.why})"
    return head + f"{o.macro} is not set; give --define {o.macro}[=VALUE] or --undef {o.macro}"
