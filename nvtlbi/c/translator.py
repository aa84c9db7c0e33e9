"""Kernel C -> a revision module in the vocabulary of impl.kernel.

The C is parsed with pycparser: it is pure Python (no libclang to find on
the machine), parses strict C99 with a file:line on every node, and is
deterministic; we feed it only the functions we audit, with comments and
kernel attributes removed and the kernel's types declared, so it never
needs the kernel headers.  tree-sitter was not chosen because it accepts
broken input silently (ERROR nodes), and we must never translate partially.

The output is Python source that the existing engine runs unchanged: each
C construct is written the way impl/revisions/upstream.py writes it by hand
(see docs/writing-a-revision.md).  Anything outside the supported subset
raises Unsupported naming the construct, the file and the line.
"""

import importlib
import re
from dataclasses import dataclass

from pycparser import c_ast, c_parser

from nvtlbi.c.inputs import GAP, InputError, function_head, strip_comments as _strip_comments
from nvtlbi.impl import cint, context, eras, kernel

TARGETS = ("ttl_to_size", "get_guest_mapping_ttl", "compute_tlb_inval_range")
# The IPAS2E1 callers by era: the per-MMU callback (2024 on), its v9 .. v11
# name, and the NV v2 .. v8 handler that calls compute_tlb_inval_range itself
PER_MMU_CALLERS = ("s2_mmu_unmap_ipa", "s2_mmu_unmap_stage2_ipa")     # (mmu, union tlbi_info *info)
CALLERS = PER_MMU_CALLERS + ("handle_ipas2e1is",)
# vocabulary functions whose result is a C bool already (0 or 1): a handler
# may return it as its own bool result, with no _Bool conversion
BOOL_RESULTS = ("undef_access",)


class Unsupported(InputError):
    """C outside the subset: FILE:LINE: unsupported construct: ..."""


# C type names -> impl.kernel types (all arm64 LP64)
TYPES = {
    ("u8",): "u8", ("unsigned", "char"): "u8", ("u16",): "u16", ("unsigned", "short"): "u16",
    ("u32",): "u32", ("unsigned", "int"): "unsigned_int", ("unsigned",): "unsigned_int",
    ("int",): "c_int", ("signed", "int"): "c_int", ("s32",): "c_int",
    ("u64",): "u64", ("unsigned", "long"): "unsigned_long", ("unsigned", "long", "long"): "u64",
    ("long",): "s64", ("long", "long"): "s64", ("s64",): "s64",
    ("kvm_pte_t",): "kvm_pte_t", ("phys_addr_t",): "phys_addr_t",
}

PRELUDE = """typedef unsigned char u8; typedef unsigned short u16; typedef unsigned int u32;
typedef unsigned long long u64; typedef signed char s8; typedef short s16; typedef int s32;
typedef long long s64; typedef u64 kvm_pte_t; typedef u64 phys_addr_t; typedef _Bool bool;
"""

# kernel annotations that carry no semantics for us
ATTRIBUTES = re.compile(r"\b(__always_inline|noinline|__maybe_unused|__must_check|__init|notrace|__cold|__hot)\b")

# min_t(type, x, y): a type is no C expression, so pycparser cannot parse it
# as an argument; it is handed over as sizeof(type), which the translator
# reads back (a real sizeof is refused everywhere else)
TYPE_ARG = re.compile(r"\b(min_t|max_t)(\s*\(\s*)([A-Za-z_]\w*(?:\s+[A-Za-z_]\w*)*)(\s*,)")

# iterator macros of the vocabulary (`kvm_for_each_vcpu(i, vcpu, kvm) { ... }`):
# no C statement pycparser can parse, so a use at the head of a statement is
# handed over as `while (__nvtlbi_each_NAME(args))`, which the translator
# reads back as `for VARS in NAME(REST):` of the vocabulary's generator.
# NAME -> how many leading arguments are the loop's variables
ITERATORS = {"kvm_for_each_vcpu": 2}
ITER_MARK = "__nvtlbi_each_"
ITER_USE = re.compile(r"^(\s*)(" + "|".join(ITERATORS) + r")(\s*\()")

# scope-based locks (linux/cleanup.h): guard(CLASS)(&lock) takes the lock
# and releases it when the enclosing block ends.  CLASS -> (take, release)
GUARDS = {"write_lock": ("write_lock", "write_unlock")}

# bool fields of kernel objects that are the op's modelled state, which the
# code under audit writes (struct vncr_tlb's valid: the VNCR pseudo-TLB
# entry, impl/vncr.py); only `= true` / `= false` of them is translated
STATE_FLAGS = {("vncr_tlb", "valid")}

# the C types of impl.cint, by the vocabulary name the translation writes them with
CTYPE_NAMES = {cint.u8: "u8", cint.u16: "u16", cint.u32: "u32", cint.s32: "c_int", cint.u64: "u64", cint.s64: "s64"}

# vocabulary macros that are functions of their arguments only: a call of one
# on constants is an integer constant expression (BUILD_BUG_ON), and its
# type follows from its arguments' types
PURE = {"BIT", "BIT_ULL", "GENMASK", "GENMASK_ULL", "FIELD_GET", "FIELD_PREP", "min", "max", "min_t", "max_t",
        "ALIGN", "ALIGN_DOWN", "IS_ALIGNED", "round_up", "round_down", "likely", "unlikely"}

PY_RESERVED = {"and", "as", "assert", "async", "await", "class", "def", "del", "elif", "except", "finally", "from",
               "global", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "try", "with",
               "yield", "None", "True", "False"}


@dataclass
class Table:
    """A const lookup array the translation reads: its C name, element type and length."""
    name: str
    ctype: object       # impl.cint CType
    length: int


@dataclass
class CFunc:
    name: str
    lines: list        # [inputs.Line]
    complete: bool


# ---- finding functions in (possibly sparse) C text -------------------------------------------------
def find_functions(source):
    """{name: [CFunc]} for every function definition that starts at column 0,
    all of them in file order (a name defined twice is the caller's to
    refuse: we must not pick one silently)."""
    items = source.lines
    texts = _strip_comments(["" if x is GAP else x.text for x in items])
    found = {}
    head = re.compile(r"^[A-Za-z_][\w\s\*]*?\b(\w+)\s*\(")
    for i, t in enumerate(texts):
        m = head.match(t)
        if not m or items[i] is GAP or t.rstrip().endswith(";") or m.group(1) in ("if", "while", "for", "switch"):
            continue
        # the signature runs to the first line with '{' at column 0 (kernel style) or a ';'
        j, complete = i, True
        while j < len(texts) and not texts[j].startswith("{"):
            if items[j] is GAP or ";" in texts[j] or (j > i and head.match(texts[j])):
                break
            j += 1
        if j >= len(texts) or not texts[j].startswith("{"):
            continue
        depth, k = 0, j
        while k < len(texts):
            if items[k] is GAP:
                complete = False
                break
            depth += texts[k].count("{") - texts[k].count("}")
            if depth == 0:
                break
            k += 1
        if k >= len(texts):
            complete = False
        name = m.group(1)
        found.setdefault(name, []).append(CFunc(name, [x for x in items[i:k + 1] if x is not GAP], complete))
    return found


# a file-scope array definition: `static const u64 sizes[] = {` at column 0
TABLE_HEAD = re.compile(r"^[A-Za-z_][\w\s]*?\b(\w+)\s*\[[^\]]*\]\s*=")


def find_tables(source):
    """{name: [CFunc]} for every array defined at file scope, its lines up
    to the ';' that ends it (the caller parses only those the translated
    functions name, and refuses a name defined twice)."""
    items = source.lines
    texts = _strip_comments(["" if x is GAP else x.text for x in items])
    found = {}
    for i, t in enumerate(texts):
        m = TABLE_HEAD.match(t)
        if not m or items[i] is GAP:
            continue
        k, complete = i, True
        while k < len(texts) and ";" not in texts[k]:
            if items[k] is GAP:
                complete = False
                break
            k += 1
        found.setdefault(m.group(1), []).append(CFunc(m.group(1), [x for x in items[i:k + 1] if x is not GAP],
                                                      complete and k < len(texts)))
    return found


def parse_table(tb):
    """pycparser Decl of a file-scope array found by find_tables."""
    texts = _strip_comments([x.text for x in tb.lines])
    x = tb.lines[0]
    src = PRELUDE + f'# {x.line} "{x.file}"\n' + "\n".join(texts) + "\n"
    try:
        ast = c_parser.CParser().parse(src, filename="<prelude>")
    except Exception as e:
        raise Unsupported(f"{x.file}:{x.line}: unsupported construct: array {tb.name} that pycparser cannot parse "
                          f"({e})") from None
    return ast.ext[-1]


def translate_tables(decls, profile_names, era):
    """{name: (module-level code, Table)} of file-scope const arrays (pycparser Decls)."""
    tr = FuncTranslator(None, set(), profile_names, None, era=era)
    out = {}
    for d in decls:
        if not isinstance(d, c_ast.Decl) or not isinstance(d.type, c_ast.ArrayDecl):
            raise Unsupported(f"{_where(d)}: unsupported construct: file-scope declaration that is not one array")
        if d.name in profile_names or d.name in PY_RESERVED:
            tr.err(d, f"array '{d.name}' named like a vocabulary name or a Python keyword")
        code, table = tr.table(d)
        out[d.name] = (f"{d.name} = {code}", table)
    return out


def definition_heads(source):
    """{name: [Line]} for every line at column 0 that starts a function
    definition by the plain C reading (a head whose '{' comes before any
    ';'), wherever its brace is: find_functions must account for each, or
    the input holds a definition the audit would not see."""
    items = source.lines
    texts = _strip_comments(["" if x is GAP else x.text for x in items])
    heads = {}
    for i, t in enumerate(texts):
        name = None if items[i] is GAP else function_head(t)
        if name is None:
            continue
        for j in range(i, len(texts)):
            if items[j] is GAP or ";" in texts[j].split("{")[0]:
                break
            if "{" in texts[j]:
                heads.setdefault(name, []).append(items[i])
                break
    return heads


# ---- parsing ------------------------------------------------------------------------------------------
def parse(fn):
    """pycparser FuncDef for a CFunc, coordinates pointing at the input."""
    texts = _strip_comments([x.text for x in fn.lines])
    src, prev = [PRELUDE], None
    for x, t in zip(fn.lines, texts):
        if prev is None or x.file != prev.file or x.line != prev.line + 1:
            src.append(f'# {x.line} "{x.file}"\n')
        if t.lstrip().startswith("#"):
            raise Unsupported(f"{x.file}:{x.line}: unsupported construct: preprocessor directive "
                              f"'{t.strip()}' inside {fn.name}")
        t = ITER_USE.sub(lambda m: f"{m.group(1)}while ({ITER_MARK}{m.group(2)}{m.group(3)}", t)
        if ITER_MARK in t:          # the iterator's arguments close its `while (`
            t = re.sub(r"\)(\s*(\{.*)?)$", r"))\1", t.rstrip(), count=1)
        src.append(TYPE_ARG.sub(r"\1\2sizeof(\3)\4", ATTRIBUTES.sub("", t)) + "\n")
        prev = x
    try:
        ast = c_parser.CParser().parse("".join(src), filename="<prelude>")
    except Exception as e:   # pycparser's ParseError carries "file:line:col: message"
        msg = str(e)
        m = re.match(r"(.+?):(\d+):(\d+:)?\s*(.*)", msg)
        where = f"{m.group(1)}:{m.group(2)}" if m else f"{fn.lines[0].file}:{fn.lines[0].line}"
        raise Unsupported(f"{where}: unsupported construct: C that pycparser cannot parse "
                          f"({m.group(4) if m else msg}) in {fn.name}; kernel macros outside the "
                          "vocabulary profile are not expanded") from None
    defs = [d for d in ast.ext if isinstance(d, c_ast.FuncDef)]
    return defs[0]


# ---- translation -------------------------------------------------------------------------------------
def _where(node):
    c = node.coord
    return f"{c.file}:{c.line}" if c else "?"


def ctype_name(tnode, what, node):
    """The impl.kernel type of a declared scalar, or 'obj' for pointers to structs/unions."""
    if isinstance(tnode, c_ast.PtrDecl):
        inner = tnode.type.type if isinstance(tnode.type, c_ast.TypeDecl) else None
        if isinstance(inner, (c_ast.Struct, c_ast.Union)):
            return "obj"
        raise Unsupported(f"{_where(node)}: unsupported construct: pointer type for {what} (only struct/union pointers)")
    if isinstance(tnode, c_ast.TypeDecl) and isinstance(tnode.type, c_ast.IdentifierType):
        names = tuple(tnode.type.names)
        if names == ("void",):
            return "void"
        if names in TYPES:
            return TYPES[names]
        raise Unsupported(f"{_where(node)}: unsupported construct: type '{' '.join(tnode.type.names)}' for {what} "
                          "(no C word for it in impl.cint)")
    if isinstance(tnode, c_ast.TypeDecl) and isinstance(tnode.type, (c_ast.Struct, c_ast.Union)):
        raise Unsupported(f"{_where(node)}: unsupported construct: struct value {what} (only pointers to structs)")
    if isinstance(tnode, c_ast.ArrayDecl):
        raise Unsupported(f"{_where(node)}: unsupported construct: array {what}")
    raise Unsupported(f"{_where(node)}: unsupported construct: declarator of {what} ({type(tnode).__name__})")


def _literal(node):
    v = node.value.lower()
    suffix = re.search(r"[ul]*$", v).group(0)
    body = v[:len(v) - len(suffix)]
    if node.type not in ("int", "unsigned int", "long int", "unsigned long int", "long long int",
                         "unsigned long long int") or not body or not re.match(r"^(0x[0-9a-f]+|0b[01]+|[0-9]+)$", body):
        raise Unsupported(f"{_where(node)}: unsupported construct: {node.type} literal {node.value}")
    n = int(body, 0) if not (body.startswith("0") and body[1:].isdigit()) else int(body, 8)
    decimal = body.isdigit() and not (body.startswith("0") and len(body) > 1)
    unsigned, longs = "u" in suffix, suffix.count("l")
    # C11 6.4.4.1: the first type of the list that holds the value
    cands = []
    if longs == 0:
        cands += [("c_int", 31, True)] if not unsigned else []
        cands += [("unsigned_int", 32, False)] if unsigned or not decimal else []
    if not unsigned:
        cands += [("s64", 63, True)]
    if unsigned or not decimal:
        cands += [("u64", 64, False)]
    for t, bits, _ in cands:
        if n < (1 << bits):
            return f"{t}({n if n < 4096 else hex(n)})"
    raise Unsupported(f"{_where(node)}: unsupported construct: literal {node.value} does not fit 64 bits")


class FuncTranslator:
    def __init__(self, fdef, known_funcs, profile_names, pyname, fields=None, era=None, returns=None, tables=None):
        self.f = fdef
        self.fname = fdef.decl.name if fdef is not None else "file scope"
        self.tables = dict(tables or {})  # const arrays in scope: name -> Table (file scope, then locals)
        self.returns = returns or {}      # translated function -> its result's C type (for ?: and min/max)
        self.known = known_funcs          # C function names we translate (callable)
        self.vocab = profile_names
        self.fields, self.era = fields, era     # struct fields with a meaning in the input's era
        self.pyname = pyname
        self.locals = {}                  # name -> type name | 'obj' | 'struct' | ('ref', type)
        self.struct_of = {}               # struct value local or struct pointer -> its struct's name
        self.out = []
        self.switches = 0
        self.loops = 0
        self.breakable = []               # enclosing 'loop' / 'switch' statements, innermost last
        self.label = None
        self.scopes = [set()]             # names visible in each enclosing block

    def err(self, node, what):
        raise Unsupported(f"{_where(node)}: unsupported construct: {what} in {self.fname}")

    # -- declarations
    def _bool_result(self, tnode):
        """A `bool` result (the sys_reg handlers': `return true;`): accepted
        when every return gives the constant true or false, so that C's
        _Bool conversion (any nonzero is 1), which impl.cint does not model,
        never applies.  Returns "void" (the engine ignores the value), or
        None when the result is not bool."""
        if not (isinstance(tnode, c_ast.TypeDecl) and isinstance(tnode.type, c_ast.IdentifierType)
                and tnode.type.names == ["bool"]):
            return None
        returns = []

        class V(c_ast.NodeVisitor):
            def visit_Return(self, node):
                returns.append(node)
        V().visit(self.f.body)
        for r in returns:
            if isinstance(r.expr, c_ast.FuncCall) and isinstance(r.expr.name, c_ast.ID) \
                    and r.expr.name.name in BOOL_RESULTS and r.expr.name.name in self.vocab:
                continue        # a bool passed through: no conversion
            if not (isinstance(r.expr, c_ast.ID) and r.expr.name in ("true", "false")):
                self.err(r, f"bool result of {self.f.decl.name} that is not the constant true or false "
                            "(C's _Bool conversion is not modelled)")
        return "void"

    def signature(self):
        fd = self.f.decl.type
        ret = self._bool_result(fd.type) or ctype_name(fd.type, f"the result of {self.f.decl.name}", self.f)
        params = []
        for p in (fd.args.params if fd.args else []):
            if isinstance(p, c_ast.Typename):      # (void)
                continue
            t = ctype_name(p.type, f"parameter {p.name}", p)
            self.locals[self._name(p.name, p)] = t
            if t == "obj":
                self.struct_of[p.name] = _struct_name(p.type)
            self.scopes[0].add(p.name)
            params.append(p.name if t == "obj" else f"{p.name}: {t}")
        annot = "" if ret in ("void", "obj") else f" -> {ret}"
        return f"@kfunc\ndef {self.pyname}({', '.join(params)}){annot}:  # C: {_where(self.f)}"

    def _name(self, n, node):
        if n in PY_RESERVED:
            self.err(node, f"identifier '{n}' (a Python keyword)")
        return n

    def translate(self):
        lines = [self.signature()]
        body = self.f.body.block_items or []
        self._address_taken(self.f.body)
        lines += self.block(self._with_goto(body), 1)
        return "\n".join(lines)

    def _address_taken(self, node):
        self.ref_names = set()

        class V(c_ast.NodeVisitor):
            def visit_UnaryOp(v, n):
                if n.op == "&" and isinstance(n.expr, c_ast.ID):
                    self.ref_names.add(n.expr.name)
                v.generic_visit(n)
        V().visit(node)

    # -- goto back to a label: `while True:` around the labelled tail, goto = continue
    def _with_goto(self, items):
        labels = [i for i, s in enumerate(items) if isinstance(s, c_ast.Label)]
        gotos = []

        class G(c_ast.NodeVisitor):
            def visit_Goto(v, n):
                gotos.append(n)

            def visit_Label(v, n):
                if n not in items:
                    self.err(n, f"label '{n.name}' inside a nested statement")
                v.generic_visit(n)
        G().visit(c_ast.Compound(items))
        if not gotos and not labels:
            return items
        if len(labels) != 1:
            self.err(items[labels[1]] if labels else gotos[0], "more than one label" if labels else "goto without a label")
        k = labels[0]
        lab = items[k]
        for g in gotos:
            if g.name != lab.name:
                self.err(g, f"goto to another label '{g.name}'")
        for s in items[:k]:
            inner = []
            G2 = type("G2", (c_ast.NodeVisitor,), {"visit_Goto": lambda v, n: inner.append(n)})
            G2().visit(s)
            if inner:
                self.err(inner[0], f"forward goto '{inner[0].name}' (only a goto back to an earlier label is supported)")
        self.label = lab.name
        return items[:k] + [("loop", [lab.stmt] + items[k + 1:], lab)]

    # -- statements
    def block(self, items, ind):
        # a C block is a scope; Python has one per function, so a name that
        # would shadow a live outer one is refused (siblings may reuse names)
        self.scopes.append(set())
        out = []
        for k, s in enumerate(items):
            lock = self._guard(s)
            if lock is not None:
                # the rest of the block runs with the lock held; it is
                # released however the block is left (return included)
                take, release = lock[0]
                p = "    " * ind
                rest = self.block(items[k + 1:], ind + 1) if k + 1 < len(items) else [p + "    pass"]
                out += [f"{p}{take}({lock[1]})  # guard({take}) {_where(s)}", f"{p}try:"] + rest + \
                    [f"{p}finally:", f"{p}    {release}({lock[1]})  # the guard's scope ends"]
                break
            out += self.stmt(s, ind)
        self.scopes.pop()
        return out or ["    " * ind + "pass"]

    def _guard(self, s):
        """((take, release), the lock's Python text) of a `guard(CLASS)(&lock);`
        statement, else None; an unknown CLASS is refused."""
        if not (isinstance(s, c_ast.FuncCall) and isinstance(s.name, c_ast.FuncCall)
                and isinstance(s.name.name, c_ast.ID) and s.name.name.name == "guard"):
            return None
        cls = s.name.args.exprs if s.name.args else []
        if len(cls) != 1 or not isinstance(cls[0], c_ast.ID) or cls[0].name not in GUARDS \
                or not all(f in self.vocab for f in GUARDS[cls[0].name]):
            self.err(s, "guard() of a lock class nvtlbi does not model")
        args = s.args.exprs if s.args else []
        if len(args) != 1 or not (isinstance(args[0], c_ast.UnaryOp) and args[0].op == "&"):
            self.err(s, "guard(...) on something else than &lock")
        return GUARDS[cls[0].name], self.val(args[0].expr)

    def stmt(self, s, ind):
        p = "    " * ind
        if isinstance(s, tuple) and s[0] == "loop":
            # `label: ... goto label;` is a loop like any other: bounded by --unwind
            var = self._new_loop()
            body = self.block(s[1], ind + 1)
            tail = [] if self._ends(s[1]) else ["    " * (ind + 1) + "break"]
            return [f"{p}{var} = c_loop({_where(s[2])!r})  # {s[2].name}:",
                    f"{p}while True:",
                    f"{p}    {var}.body()"] + body + tail
        if isinstance(s, c_ast.Decl):
            return self.decl(s, ind)
        if isinstance(s, c_ast.Compound):
            return self.block(s.block_items, ind) if s.block_items else []
        if isinstance(s, c_ast.EmptyStatement):
            return []
        if isinstance(s, c_ast.Return):
            return [f"{p}return" + (f" {self.val(s.expr)}" if s.expr is not None else "") + f"  # {_where(s)}"]
        if isinstance(s, c_ast.If):
            return self.if_chain(s, ind)
        if isinstance(s, c_ast.Switch):
            return self.switch(s, ind)
        if isinstance(s, c_ast.Goto):
            if any(b != "switch" for b in self.breakable):
                self.err(s, f"goto {s.name} out of a loop or of a switch with a break inside a case")
            return [f"{p}continue  # goto {s.name} ({_where(s)})"]
        if isinstance(s, c_ast.Break):
            if self.breakable and self.breakable[-1] != "switch":
                return [f"{p}break  # {_where(s)}"]
            self.err(s, "break outside a loop and a switch")
        if isinstance(s, c_ast.Continue):
            return self._continue(s, p)
        if isinstance(s, c_ast.Assignment):
            return [p + self.assign(s) + f"  # {_where(s)}"]
        if isinstance(s, c_ast.UnaryOp) and s.op in ("p++", "p--", "++", "--"):
            return [p + self.assign(c_ast.Assignment("+=" if "+" in s.op else "-=", s.expr,
                                                     c_ast.Constant("int", "1", s.coord), s.coord)) + f"  # {_where(s)}"]
        if isinstance(s, c_ast.FuncCall):
            if isinstance(s.name, c_ast.ID) and s.name.name == "BUILD_BUG_ON" and "BUILD_BUG_ON" in self.vocab:
                return [p + self.build_bug_on(s)]
            return [p + self.val(s) + f"  # {_where(s)}"]
        if isinstance(s, (c_ast.For, c_ast.While, c_ast.DoWhile)):
            return self.loop(s, ind)
        if isinstance(s, c_ast.Label):
            self.err(s, f"label '{s.name}' inside a nested statement")
        self.err(s, f"statement {type(s).__name__}")

    def _continue(self, s, p):
        """C's continue: Python's, unless a switch written as a one-pass loop
        is in the way: then that switch's flag is set and it is left (each
        such switch passes it on outwards when it ends)."""
        for b in reversed(self.breakable):
            if b == "loop":
                return [f"{p}continue  # {_where(s)}"]
            if isinstance(b, tuple):
                return [f"{p}{b[1]} = True  # continue ({_where(s)})", f"{p}break"]
        self.err(s, "continue outside a loop")

    # -- loops: unrolled up to the session's bound, as CBMC's --unwind with its unwinding check
    def _new_loop(self):
        self.loops += 1
        return f"__loop{self.loops}"

    def loop(self, s, ind):
        """for / while / do-while -> `while True:` whose body starts with
        `__loopN.body()`, which counts the iterations and, past the bound
        (--unwind), raises UnwindingLimit naming this loop's file:line: the
        obligation is then UNKNOWN, never PROVED.  The condition is tested
        before that count, so a loop that ends after exactly N iterations
        fits a bound of N.  `continue` goes back to the top, where a for's
        step runs (on every iteration but the first) and the condition is
        tested; `break` leaves the `while True:`."""
        p, q = "    " * ind, "    " * (ind + 1)
        var = self._new_loop()
        if isinstance(s, c_ast.While) and isinstance(s.cond, c_ast.FuncCall) and \
                isinstance(s.cond.name, c_ast.ID) and s.cond.name.name.startswith(ITER_MARK):
            return self._iterate(s, var, p, q)
        out, pre = [], []
        self.scopes.append(set())       # a for's declarations are scoped to the loop
        if isinstance(s, c_ast.For) and s.init is not None:
            inits = s.init.decls if isinstance(s.init, c_ast.DeclList) else \
                s.init.exprs if isinstance(s.init, c_ast.ExprList) else [s.init]
            for x in inits:
                out += self.stmt(x, ind)
        out.append(f"{p}{var} = c_loop({_where(s)!r})  # {type(s).__name__.lower()}")
        out.append(f"{p}while True:")
        if isinstance(s, c_ast.For) and s.next is not None:
            steps = s.next.exprs if isinstance(s.next, c_ast.ExprList) else [s.next]
            pre.append(f"{q}if {var}.again():")
            for x in steps:
                pre += self.stmt(x, ind + 2)
        if isinstance(s, c_ast.DoWhile):
            pre.append(f"{q}if {var}.again() and not {self.cond(s.cond)}:")
            pre.append(f"{q}    break")
        elif s.cond is not None:
            pre.append(f"{q}if not {self.cond(s.cond)}:")
            pre.append(f"{q}    break")
        pre.append(f"{q}{var}.body()")
        self.breakable.append("loop")
        body = self.block(self._items(s.stmt), ind + 1)
        self.breakable.pop()
        self.scopes.pop()
        return out + pre + ([] if len(body) == 1 and body[0].strip() == "pass" else body)

    def _iterate(self, s, var, p, q):
        """An iterator macro's loop: `for VARS in NAME(REST):` over the
        vocabulary's generator, bounded by --unwind as any loop."""
        name = s.cond.name.name[len(ITER_MARK):]
        args = s.cond.args.exprs if s.cond.args else []
        nvars = ITERATORS[name]
        if name not in self.vocab or len(args) <= nvars or not all(isinstance(a, c_ast.ID) for a in args[:nvars]):
            self.err(s, f"{name}(...) with other arguments than its loop variables and what it iterates")
        for a in args[:nvars]:
            self.assign(c_ast.Assignment("=", a, a, s.coord))   # a local the loop may write (refused otherwise)
        targets = ", ".join(self.val(a) for a in args[:nvars])
        self.scopes.append(set())
        self.breakable.append("loop")
        body = self.block(self._items(s.stmt), 2 + len(p) // 4 - 1)
        self.breakable.pop()
        self.scopes.pop()
        return [f"{p}{var} = c_loop({_where(s)!r})  # {name}",
                f"{p}for {targets} in {name}({', '.join(self.val(a) for a in args[nvars:])}):",
                f"{q}{var}.body()"] + ([] if len(body) == 1 and body[0].strip() == "pass" else body)

    def _ends(self, items):
        if not items:
            return False
        last = items[-1]
        if isinstance(last, (c_ast.Return, c_ast.Goto)):
            return True
        if isinstance(last, c_ast.Compound):
            return self._ends(last.block_items or [])
        return False

    def decl(self, d, ind):
        p = "    " * ind
        if isinstance(d.type, c_ast.ArrayDecl):
            name = self._name(d.name, d)
            if any(name in sc for sc in self.scopes):
                self.err(d, f"declaration of '{name}' shadowing one in an enclosing block")
            code, table = self.table(d)
            self.scopes[-1].add(name)
            self.locals[name], self.tables[name] = "array", table
            return [f"{p}{name} = {code}  # {_where(d)}"]
        if d.storage and any(x != "register" for x in d.storage):
            self.err(d, f"{' '.join(d.storage)} local '{d.name}'")
        if isinstance(d.type, c_ast.TypeDecl) and isinstance(d.type.type, c_ast.Struct):
            return self.struct_decl(d, ind)
        t = ctype_name(d.type, f"local '{d.name}'", d)
        if t == "void":
            self.err(d, f"void local '{d.name}'")
        name = self._name(d.name, d)
        if any(name in sc for sc in self.scopes):
            self.err(d, f"declaration of '{name}' shadowing one in an enclosing block")
        self.scopes[-1].add(name)
        if t == "obj":
            self.locals[name] = t
            self.struct_of[name] = _struct_name(d.type)
            return [f"{p}{name} = {self.val(d.init)}  # {_where(d)}"] if d.init is not None else []
        if name in self.ref_names:
            self.locals[name] = ("ref", t)
            init = f", {self.val(d.init)}" if d.init is not None else ""
            return [f"{p}{name} = Ref({t}{init})  # {_where(d)}"]
        self.locals[name] = t
        if d.init is None:
            return []
        if isinstance(d.init, c_ast.InitList):
            self.err(d, "initialiser list")
        return [f"{p}{name} = {t}({self.val(d.init)})  # {_where(d)}"]

    # -- const lookup tables: `static const u64 sizes[] = { ... };` (file scope or local)
    def table(self, d):
        """A const one-dimensional array of a C integer type initialised with
        integer constant expressions -> (c_array(...) code, Table).  Read
        only through a subscript (runtime.c_index: a select over the index,
        UB when it is out of bounds), sizeof and ARRAY_SIZE.  Anything else
        is refused: a non-const array could be written, which we do not
        model, and a designated or non-constant initialiser is not read."""
        a = d.type
        if "const" not in (d.quals or []):
            self.err(d, f"array '{d.name}' that is not const (only const lookup tables are read)")
        if d.storage and any(x != "static" for x in d.storage):
            self.err(d, f"{' '.join(d.storage)} array '{d.name}'")
        if isinstance(a.type, c_ast.ArrayDecl):
            self.err(d, f"multidimensional array '{d.name}'")
        t = ctype_name(a.type, f"the elements of array '{d.name}'", d)
        if t in ("obj", "void"):
            self.err(d, f"array '{d.name}' of pointers")
        if not isinstance(d.init, c_ast.InitList):
            self.err(d, f"array '{d.name}' without an initialiser list")
        values = d.init.exprs or []
        for x in values:
            if isinstance(x, (c_ast.NamedInitializer, c_ast.InitList)) or not self.constant(x):
                self.err(d, f"initialiser of array '{d.name}' that is not an integer constant expression "
                            "(only { c0, c1, ... } with constants, no designators)")
        n = len(values)
        if a.dim is not None:
            if not self.constant(a.dim):
                self.err(d, f"array '{d.name}' whose size is not a constant")
            n = int(self._const_value(a.dim, d))
            if n < len(values) or n <= 0:
                self.err(d, f"array '{d.name}' of size {n} with {len(values)} initialisers")
        vals = [self.val(x) for x in values] + ["0"] * (n - len(values))    # the rest are zero (C11 6.7.9p21)
        code = f"c_array({d.name!r}, {CTYPE_NAMES[_cint_type(t)]}, [{', '.join(vals)}], {_where(d)!r})"
        return code, Table(d.name, _cint_type(t), n)

    def _const_value(self, e, node):
        code = self.val(e)
        try:
            with context.entered(hooks=kernel.ConcreteHooks()):
                return eval(code, dict(vars(self._vocab_module())))
        except Exception as x:
            self.err(node, f"constant expression that does not evaluate ({type(x).__name__}: {x})")

    def _array_of(self, e, what):
        """The Table an expression names (a const array in scope), else refused."""
        if isinstance(e, c_ast.ID) and e.name in self.tables and self.locals.get(e.name, "array") == "array":
            return self.tables[e.name]
        self.err(e, f"{what} of something other than a const array in scope")

    def sizeof(self, e):
        """sizeof(type), sizeof(array), sizeof(expression of known C type): a
        size_t (unsigned long, u64 on arm64) constant; the expression is not evaluated."""
        x = e.expr
        if isinstance(x, c_ast.Typename):
            t = ctype_name(x.type, "sizeof", e)
            if t in ("obj", "void"):
                self.err(e, "sizeof of a pointer or void type")
            return f"u64({_cint_type(t).width // 8})"
        if isinstance(x, c_ast.ID) and x.name in self.tables and self.locals.get(x.name, "array") == "array":
            tb = self.tables[x.name]
            return f"u64({tb.length * tb.ctype.width // 8})"
        t = self.ctype(x)
        if not isinstance(t, cint.CType):
            self.err(e, "sizeof of an expression whose C type the translator cannot tell")
        return f"u64({t.width // 8})"

    def if_chain(self, s, ind):
        p = "    " * ind
        out = [f"{p}if {self.cond(s.cond)}:  # {_where(s)}"] + self.block(self._items(s.iftrue), ind + 1)
        e = s.iffalse
        while isinstance(e, c_ast.If):
            out += [f"{p}elif {self.cond(e.cond)}:  # {_where(e)}"] + self.block(self._items(e.iftrue), ind + 1)
            e = e.iffalse
        if e is not None:
            out += [f"{p}else:"] + self.block(self._items(e), ind + 1)
        return out

    def _items(self, s):
        return (s.block_items or []) if isinstance(s, c_ast.Compound) else [s]

    def switch(self, s, ind):
        """switch -> `__swN = e` then if/elif per group of labels, `else:` for
        the group holding default; a case's body runs on through the
        following cases' statements until a break (fallthrough)."""
        p = "    " * ind
        items = s.stmt.block_items if isinstance(s.stmt, c_ast.Compound) else None
        if not items or not all(isinstance(x, (c_ast.Case, c_ast.Default)) for x in items):
            self.err(s, "switch whose body is not a list of case labels")
        self.switches += 1
        var = f"__sw{self.switches}"
        labels = [(x, list(x.stmts or [])) for x in items]
        # a break anywhere but at the end of a case: the switch is a one-pass
        # `while True:` that the break leaves
        one_pass = any(self._inner_break(st) for _, stmts in labels for st in stmts[:-1]) or \
            any(stmts and not isinstance(stmts[-1], c_ast.Break) and self._inner_break(stmts[-1])
                for _, stmts in labels)
        groups, cur = [], []
        for i, (x, stmts) in enumerate(labels):
            cur.append(x)
            if stmts or i == len(labels) - 1:
                groups.append((cur, i))
                cur = []
        out = [f"{p}{var} = {self.val(s.cond)}  # switch ({_where(s)})"]
        branches, default = [], None
        outer_p, outer_ind, flag = p, ind, f"{var}_continue"
        in_loop = any(b != "switch" for b in self.breakable)
        if one_pass:
            out += [f"{p}{flag} = False"] * in_loop + [f"{p}while True:  # one pass: a break in a case leaves it"]
            ind += 1
            p = "    " * ind
        self.breakable.append(("switch", flag) if one_pass else "switch")
        for labs, i in groups:
            body = []
            for _, stmts in labels[i:]:
                if stmts and isinstance(stmts[-1], c_ast.Break):
                    body += stmts[:-1]
                    break
                body += stmts
                if self._ends(stmts):
                    break
            if any(isinstance(x, c_ast.Default) for x in labs):
                default = (labs, body)
            else:
                branches.append((labs, body))
        for n, (labs, body) in enumerate(branches):
            cond = " or ".join(f"{var} == {self.val(x.expr)}" for x in labs)
            out += [f"{p}{'if' if n == 0 else 'elif'} {cond}:  # case {_where(labs[0])}"] + self.block(body, ind + 1)
        if default:
            if branches:
                out += [f"{p}else:  # default {_where(default[0][0])}"] + self.block(default[1], ind + 1)
            else:
                out += self.block(default[1], ind)
        self.breakable.pop()
        if one_pass:
            out.append(f"{p}break")
            if in_loop:
                out += [f"{outer_p}if {flag}:"] + self._continue(s, "    " * (outer_ind + 1))
        return out

    def _inner_break(self, st):
        """Is there a break of this switch in st (not of an inner loop or switch)?"""
        if isinstance(st, c_ast.Break):
            return True
        bad = []

        class B(c_ast.NodeVisitor):
            def visit_Break(v, n):
                bad.append(n)

            def visit_Switch(v, n):
                pass                        # an inner switch's breaks are its own

            def visit_For(v, n):
                pass                        # and an inner loop's

            visit_While = visit_DoWhile = visit_For
        B().visit(st)
        return bool(bad)

    def assign(self, a):
        lv = a.lvalue
        if isinstance(lv, c_ast.ID) and lv.name in self.locals:
            t = self.locals[lv.name]
            if t == "struct":
                return self.struct_assign(a)
            rhs = self.val(a.rvalue)
            if isinstance(t, tuple):
                return f"{lv.name}.val {a.op} {rhs}"
            if a.op == "=":
                return f"{lv.name} = {rhs}" if t == "obj" else f"{lv.name} = {t}({rhs})"
            if t == "obj":
                self.err(a, f"compound assignment to pointer '{lv.name}'")
            if a.op == "/=":
                return f"{lv.name} //= {rhs}"
            return f"{lv.name} {a.op} {rhs}"
        if isinstance(lv, c_ast.StructRef):
            return self.field_assign(a)
        if isinstance(lv, c_ast.UnaryOp) and lv.op == "*":
            self.err(a, "write through a pointer")
        if isinstance(lv, c_ast.ArrayRef):
            self.err(a, "write to an array element (only const lookup tables are supported)")
        if isinstance(lv, c_ast.ID) and lv.name in self.tables:
            self.err(a, f"assignment to the array '{lv.name}'")
        self.err(a, "assignment to something other than a local")

    # -- struct values: locals of a vocabulary struct type (`struct kvm_s2_trans out;`)
    def _struct_class(self, sname, node):
        """The vocabulary class of `struct sname`, whose fields the era defines; anything else is refused."""
        era_name = self.era or "v2024"
        known = sname in self.vocab and isinstance(getattr(self._vocab_module(), sname, None), type) and \
            any(st == sname and era_name in by for (st, _), by in eras.FIELDS.items())
        if not known:
            self.err(node, f"struct value of type 'struct {sname}', which the vocabulary of era {era_name} does "
                           "not define (impl/eras.py)")
        return sname

    def _field_types(self, sname, node):
        """{field: CType} of a vocabulary struct, as the era defines its fields."""
        with context.entered(hooks=kernel.ConcreteHooks()):
            zero = vars(getattr(self._vocab_module(), sname)())
        era_name = self.era or "v2024"
        return {f: w.ctype for f, w in zero.items() if era_name in eras.FIELDS.get((sname, f), {})}

    def _value_field(self, e):
        """The struct name when e is `v.f` of a struct value local or `p->f`
        of a pointer to a vocabulary struct value (a field it can write);
        the field is checked against the era.  None for kernel objects."""
        if not isinstance(e.name, c_ast.ID):
            return None
        n = e.name.name
        kind, sname = self.locals.get(n), self.struct_of.get(n)
        if kind == "struct" or (kind == "obj" and sname and sname in self.vocab
                                and isinstance(getattr(self._vocab_module(), sname, None), type)):
            if (e.type == ".") != (kind == "struct"):
                self.err(e, f"'{e.type}' on {'a struct value' if kind == 'struct' else 'a pointer'} '{n}'")
            if e.field.name not in self._field_types(sname, e):
                self.err(e, f"field '{e.field.name}' of struct {sname}, which has no meaning in era "
                            f"{self.era or 'v2024'} (impl/eras.py)")
            return sname
        return None

    def struct_init(self, sname, init, node):
        """`{ }` / `{ .f = x, ... }` -> struct_value(S, {...}): the fields not named are zero."""
        types = self._field_types(sname, node)
        parts = []
        for x in (init.exprs or []) if init is not None else []:
            if not isinstance(x, c_ast.NamedInitializer) or len(x.name) != 1 or not isinstance(x.name[0], c_ast.ID):
                self.err(node, f"initialiser of struct {sname} that does not name its fields (write .field = value)")
            f = x.name[0].name
            if f not in types:
                self.err(node, f"field '{f}' of struct {sname}, which has no meaning in era {self.era or 'v2024'} "
                               "(impl/eras.py)")
            parts.append(f"{f!r}: {self.val(x.expr)}")
        return f"struct_value({sname}, {{{', '.join(parts)}}})"

    def struct_decl(self, d, ind):
        sname = self._struct_class(d.type.type.name, d)
        name = self._name(d.name, d)
        if any(name in sc for sc in self.scopes):
            self.err(d, f"declaration of '{name}' shadowing one in an enclosing block")
        self.scopes[-1].add(name)
        self.locals[name], self.struct_of[name] = "struct", sname
        if d.init is None:
            return [f"{'    ' * ind}{name} = struct_value({sname})  # {_where(d)}: every field indeterminate"]
        if not isinstance(d.init, c_ast.InitList):
            self.err(d, f"struct {sname} initialised from an expression")
        return [f"{'    ' * ind}{name} = {self.struct_init(sname, d.init, d)}  # {_where(d)}"]

    def tlbi_info_literal(self, lit):
        """`&(union tlbi_info){ .range = { .start = S, .size = Z } }`, the
        per-MMU callbacks' argument (sys_regs.c): the vocabulary's
        tlbi_info(range=(S, Z)).  Any other compound literal is refused."""
        t = lit.type.type
        if not (isinstance(t, c_ast.TypeDecl) and isinstance(t.type, c_ast.Union) and t.type.name == "tlbi_info"
                and "tlbi_info" in self.vocab):
            self.err(lit, "address of a compound literal other than a union tlbi_info")
        inits = lit.init.exprs if isinstance(lit.init, c_ast.InitList) else []
        if len(inits) != 1 or not isinstance(inits[0], c_ast.NamedInitializer) or \
                [n.name for n in inits[0].name] != ["range"] or not isinstance(inits[0].expr, c_ast.InitList):
            self.err(lit, "a union tlbi_info literal other than { .range = { .start = ..., .size = ... } }")
        got = {}
        for x in inits[0].expr.exprs:
            if not isinstance(x, c_ast.NamedInitializer) or len(x.name) != 1 or x.name[0].name not in ("start", "size"):
                self.err(lit, "a tlbi_info .range initialiser other than .start / .size")
            got[x.name[0].name] = self.val(x.expr)
        # the members not named are zero, as C's
        return f"tlbi_info(range=({got.get('start', 'u64(0)')}, {got.get('size', 'u64(0)')}))"

    def struct_assign(self, a):
        n = a.lvalue.name
        sname, r = self.struct_of[n], a.rvalue
        if a.op != "=":
            self.err(a, f"compound assignment to struct value '{n}'")
        if isinstance(r, c_ast.CompoundLiteral):
            t = r.type.type
            if not (isinstance(t, c_ast.TypeDecl) and isinstance(t.type, c_ast.Struct) and t.type.name == sname):
                self.err(a, f"assignment to struct {sname} '{n}' of a compound literal of another type")
            return f"{n} = {self.struct_init(sname, r.init, a)}"
        if isinstance(r, c_ast.ID) and self.locals.get(r.name) == "struct":
            if self.struct_of[r.name] != sname:
                self.err(a, f"assignment to struct {sname} '{n}' of a struct {self.struct_of[r.name]}")
            return f"{n} = struct_copy({r.name})"
        self.err(a, f"assignment to struct value '{n}' of something other than a compound literal or a struct local")

    def _state_flag(self, a):
        """`p->f = true|false` where (struct of p, f) is a bool flag of STATE_FLAGS."""
        lv = a.lvalue
        return (a.op == "=" and lv.type == "->" and isinstance(lv.name, c_ast.ID)
                and self.locals.get(lv.name.name) == "obj"
                and (self.struct_of.get(lv.name.name), lv.field.name) in STATE_FLAGS
                and isinstance(a.rvalue, c_ast.ID) and a.rvalue.name in ("true", "false"))

    def field_assign(self, a):
        """`v.f = x` / `p->f op= x` on a struct value: converted to the field's
        type as C converts on assignment (E1 op= E2 is E1 = E1 op E2, E1 read once)."""
        sname = self._value_field(a.lvalue)
        if not sname and self._state_flag(a):
            # the modelled state of a kernel object (STATE_FLAGS): set to a C bool constant
            return f"{a.lvalue.name.name}.{a.lvalue.field.name} = {a.rvalue.name == 'true'}"
        if not sname:
            self.err(a, "write to a field of a kernel object (only struct values the revision owns are written)")
        lv = f"{a.lvalue.name.name}.{a.lvalue.field.name}"
        t = CTYPE_NAMES[self._field_types(sname, a)[a.lvalue.field.name]]
        rhs = self.val(a.rvalue)
        if a.op == "=":
            return f"{lv} = {t}({rhs})"
        op = "//" if a.op == "/=" else a.op[:-1]
        return f"{lv} = {t}({lv} {op} {rhs})"

    # -- expressions
    BIN = {"+", "-", "*", "&", "|", "^", "<<", ">>", "==", "!=", "<", "<=", ">", ">=", "%"}

    def cond(self, e):
        """e in a boolean context (if, &&, ||, !, ?:): Python truthiness.  A
        symbolic Word forks the engine in bool() (cint.Word.__bool__), so
        every form that tests one branches exactly as `if` does."""
        if isinstance(e, c_ast.FuncCall) and isinstance(e.name, c_ast.ID) and \
                e.name.name in ("likely", "unlikely") and e.name.name in self.vocab:
            args = e.args.exprs if e.args else []
            if len(args) != 1:
                self.err(e, f"{e.name.name} with {len(args)} arguments")
            return self.cond(args[0])       # a hint: only the truth of its argument matters
        if isinstance(e, c_ast.BinaryOp) and e.op in ("&&", "||"):
            return f"({self.cond(e.left)} {'and' if e.op == '&&' else 'or'} {self.cond(e.right)})"
        if isinstance(e, c_ast.UnaryOp) and e.op == "!":
            return f"(not {self.cond(e.expr)})"
        return self.val(e)

    def val(self, e):
        if isinstance(e, c_ast.Constant):
            if e.type in ("char", "string"):
                self.err(e, f"{e.type} literal {e.value}")
            return _literal(e)
        if isinstance(e, c_ast.ID):
            n = e.name
            if n in self.locals:
                if self.locals[n] == "array":
                    self.err(e, f"array '{n}' used as a value (only a subscript, sizeof or ARRAY_SIZE of it)")
                if self.locals[n] == "struct":
                    self.err(e, f"struct value '{n}' used as a value (only its fields, &{n}, or an assignment "
                                "to it)")
                return f"{n}.val" if isinstance(self.locals[n], tuple) else n
            if n in ("true", "false"):
                return f"c_int({int(n == 'true')})"
            if n in self.tables:
                self.err(e, f"array '{n}' used as a value (only a subscript, sizeof or ARRAY_SIZE of it)")
            if n in self.vocab:
                # a macro whose value is the world's (PAGE_SIZE: the host's, symbolic in proofs) is read
                # when the code runs, not when the module is imported
                return f"{n}()" if _runtime_constant(getattr(self._vocab_module(), n)) else n
            if n in self.known:         # a function designator: a callback (kvm_s2_mmu_iterate_by_vmid's)
                return n
            self.err(e, f"identifier '{n}' that is neither a local nor in the vocabulary profile")
        if isinstance(e, c_ast.BinaryOp):
            if e.op in ("&&", "||"):
                return f"(c_int(1) if {self.cond(e)} else c_int(0))"
            if e.op == "/":
                return f"({self.val(e.left)} // {self.val(e.right)})"
            if e.op in self.BIN:
                return f"({self.val(e.left)} {e.op} {self.val(e.right)})"
            self.err(e, f"operator {e.op}")
        if isinstance(e, c_ast.UnaryOp):
            if e.op == "!":
                return f"(c_int(1) if {self.cond(e)} else c_int(0))"
            if e.op in ("-", "~", "+"):
                return f"({e.op}{self.val(e.expr)})"
            if e.op == "&":
                if isinstance(e.expr, c_ast.ID) and (isinstance(self.locals.get(e.expr.name), tuple)
                                                      or self.locals.get(e.expr.name) == "struct"):
                    return e.expr.name
                if isinstance(e.expr, c_ast.StructRef) and self._value_field(e.expr):
                    if "FieldRef" in self.vocab and e.expr.type == "->" and isinstance(e.expr.name, c_ast.ID):
                        # &p->f of a vocabulary struct: a pointer whose writes convert to f's type
                        return f"FieldRef({e.expr.name.name}, {e.expr.field.name!r})"
                    self.err(e, "address of a field of a struct value")
                if isinstance(e.expr, c_ast.StructRef):     # &obj->field: the kernel object itself
                    return self.val(e.expr)
                if isinstance(e.expr, c_ast.CompoundLiteral):
                    return self.tlbi_info_literal(e.expr)
                self.err(e, "address of something other than a local or a struct field")
            if e.op == "*":
                self.err(e, "pointer dereference")
            if e.op == "sizeof":
                return self.sizeof(e)
            self.err(e, f"'{e.op}' inside an expression (only as a statement)")
        if isinstance(e, c_ast.Cast):
            t = ctype_name(e.to_type.type, "a cast", e)
            if t in ("obj", "void"):
                self.err(e, "cast to a pointer or void")
            return f"{t}({self.val(e.expr)})"
        if isinstance(e, c_ast.StructRef):
            if self._value_field(e):
                return f"{e.name.name}.{e.field.name}"
            if e.type == "." and not isinstance(e.name, c_ast.StructRef):   # info->ipa.addr is a member's
                self.err(e, "'.' on something other than a struct value local or a member of a kernel object")
            base = self.val(e.name)
            if isinstance(e.name, c_ast.ID) and self.locals.get(e.name.name) not in (None, "obj"):
                self.err(e, f"field access on the scalar '{e.name.name}'")
            if self.fields is not None and e.field.name not in self.fields:
                self.err(e, f"field '{e.field.name}', which has no meaning in era {self.era} (impl/eras.py)")
            return f"{base}.{e.field.name}"
        if isinstance(e, c_ast.FuncCall):
            if not isinstance(e.name, c_ast.ID):
                self.err(e, "call through a function pointer")
            n = e.name.name
            if n not in self.known and n not in self.vocab:
                self.err(e, f"call of '{n}', which is neither in the input nor in the vocabulary profile")
            args = e.args.exprs if e.args else []
            if n == "ARRAY_SIZE" and n in self.vocab:
                if len(args) != 1:
                    self.err(e, f"ARRAY_SIZE with {len(args)} arguments")
                return f"u64({self._array_of(args[0], 'ARRAY_SIZE').length})"
            if n in self.vocab and n == "BUILD_BUG_ON":
                self.err(e, "BUILD_BUG_ON inside an expression (it is a statement)")
            if n in ("FIELD_GET", "FIELD_PREP") and n in self.vocab and args and not self.constant(args[0]):
                # the kernel's __BF_FIELD_CHECK refuses a mask that is not a
                # compile-time constant (BUILD_BUG_ON_MSG(!__builtin_constant_p(_mask))),
                # and the shift it takes from the mask is a constant there too
                # (impl.kernel._shift_of reads it concretely): refused, as gcc refuses it
                self.err(e, f"{n} whose mask is not a compile-time constant (the kernel's __BF_FIELD_CHECK "
                            "refuses it)")
            if n in self.vocab and n in ("min_t", "max_t"):
                if len(args) != 3:
                    self.err(e, f"{n} with {len(args)} arguments")
                t = self._type_arg(e, args[0])
                return f"{n}({CTYPE_NAMES[t]}, {self.val(args[1])}, {self.val(args[2])})"
            if n in self.vocab and n in ("min", "max"):
                self._same_types(e, n, args)
            return f"{n}({', '.join(self.val(a) for a in args)})"
        if isinstance(e, c_ast.TernaryOp):
            return self.conditional(e)
        if isinstance(e, c_ast.Assignment):
            self.err(e, "assignment inside an expression")
        if isinstance(e, c_ast.ExprList):
            self.err(e, "comma operator")
        if isinstance(e, c_ast.ArrayRef):
            tb = self._array_of(e.name, "subscript")
            return f"c_index({tb.name}, {self.val(e.subscript)}, {_where(e)!r})"
        self.err(e, type(e).__name__)

    # -- the conditional operator, static C types, constant expressions
    def conditional(self, e):
        """c ? a : b: only the chosen arm is evaluated (a Python conditional
        expression, which tests c like `if`), and the result has the type
        of the usual arithmetic conversions of both arms whichever is
        chosen, so both arms' C types must be known here, statically."""
        ta, tb = self.ctype(e.iftrue), self.ctype(e.iffalse)
        c, a, b = self.cond(e.cond), self.val(e.iftrue), self.val(e.iffalse)
        if ta == "obj" and tb == "obj":
            return f"({a} if {c} else {b})"
        if ta in (None, "obj") or tb in (None, "obj"):
            arm = e.iftrue if ta in (None, "obj") else e.iffalse
            self.err(arm, "conditional operator ?: with an arm whose C type the translator cannot tell "
                          "(write a cast)" if "obj" not in (ta, tb) else "conditional operator ?: mixing a pointer "
                          "and an integer")
        t = CTYPE_NAMES[cint.arith_type(ta, tb)]
        return f"({t}({a}) if {c} else {t}({b}))"

    def _vocab_module(self):
        return importlib.import_module(eras.ERAS[self.era or "v2024"].vocabulary)

    def _type_arg(self, call, arg):
        if not (isinstance(arg, c_ast.UnaryOp) and arg.op == "sizeof" and isinstance(arg.expr, c_ast.Typename)):
            self.err(call, f"{call.name.name} whose first argument is not a type")
        t = ctype_name(arg.expr.type, f"the type of {call.name.name}", call)
        if t in ("obj", "void"):
            self.err(call, f"{call.name.name} of a pointer or void type")
        return _cint_type(t)

    def _same_types(self, call, n, args):
        """min/max: the kernel's type check (a compile-time refusal of
        arguments of different types) is made here, at translation."""
        if len(args) != 2:
            self.err(call, f"{n} with {len(args)} arguments")
        ta, tb = self.ctype(args[0]), self.ctype(args[1])
        if None in (ta, tb) or "obj" in (ta, tb):
            self.err(call, f"{n}() of an argument whose C type the translator cannot tell (use {n}_t)")
        if ta != tb:
            self.err(call, f"{n}() of different types {ta.name} and {tb.name}: the kernel's type check "
                           f"refuses it (use {n}_t)")

    def ctype(self, e):
        """The C type (an impl.cint CType) of expression e, as the C
        compiler types it; 'obj' for a pointer; None when the translator
        cannot tell without running it (a call of a translated function, a
        vocabulary function with effects)."""
        if isinstance(e, c_ast.Constant):
            if e.type in ("char", "string"):
                return None
            return _cint_type(_literal(e).split("(")[0])
        if isinstance(e, c_ast.ID):
            n = e.name
            if n in self.locals:
                t = self.locals[n]
                t = t[1] if isinstance(t, tuple) else t
                return "obj" if t == "obj" else _cint_type(t)
            if n in ("true", "false"):
                return cint.s32
            if n in self.vocab:
                v = getattr(self._vocab_module(), n)
                return _runtime_constant(v) or _value_type(v)
            return None
        if isinstance(e, c_ast.Cast):
            t = ctype_name(e.to_type.type, "a cast", e)
            return None if t in ("obj", "void") else _cint_type(t)
        if isinstance(e, c_ast.BinaryOp):
            if e.op in ("&&", "||", "==", "!=", "<", "<=", ">", ">="):
                return cint.s32
            l, r = self.ctype(e.left), self.ctype(e.right)
            if not isinstance(l, cint.CType) or not isinstance(r, cint.CType):
                return None
            return cint.promote(l) if e.op in ("<<", ">>") else cint.arith_type(l, r)
        if isinstance(e, c_ast.ArrayRef):
            return self._array_of(e.name, "subscript").ctype
        if isinstance(e, c_ast.UnaryOp) and e.op == "sizeof":
            return cint.u64
        if isinstance(e, c_ast.FuncCall) and isinstance(e.name, c_ast.ID) and e.name.name == "ARRAY_SIZE":
            return cint.u64
        if isinstance(e, c_ast.UnaryOp):
            if e.op == "!":
                return cint.s32
            t = self.ctype(e.expr)
            return cint.promote(t) if e.op in ("-", "~", "+") and isinstance(t, cint.CType) else None
        if isinstance(e, c_ast.TernaryOp):
            a, b = self.ctype(e.iftrue), self.ctype(e.iffalse)
            if a == b == "obj":
                return "obj"
            return cint.arith_type(a, b) if isinstance(a, cint.CType) and isinstance(b, cint.CType) else None
        if isinstance(e, c_ast.StructRef):
            s = self._value_field(e)
            return self._field_types(s, e)[e.field.name] if s else None
        if isinstance(e, c_ast.FuncCall) and isinstance(e.name, c_ast.ID) and e.name.name in self.known:
            return self.returns.get(e.name.name)
        if isinstance(e, c_ast.FuncCall) and isinstance(e.name, c_ast.ID) and e.name.name in PURE \
                and e.name.name in self.vocab:
            return self._pure_type(e)
        return None

    def _pure_type(self, e):
        """A pure macro's result type: what it gives on arguments of the
        same types (value 1: every macro here is defined there)."""
        n, args = e.name.name, (e.args.exprs if e.args else [])
        dummies = []
        for i, a in enumerate(args):
            if i == 0 and n in ("min_t", "max_t"):
                dummies.append(self._type_arg(e, a))
                continue
            t = self.ctype(a)
            if not isinstance(t, cint.CType):
                return None
            dummies.append(cint.Word(t, 1))
        try:
            with context.entered(hooks=kernel.ConcreteHooks()):
                return _value_type(getattr(self._vocab_module(), n)(*dummies))
        except Exception:
            return None

    def constant(self, e):
        """Is e an integer constant expression: literals, vocabulary
        constants and pure macros of them, with operators and casts?"""
        if isinstance(e, c_ast.Constant):
            return e.type not in ("char", "string")
        if isinstance(e, c_ast.ID):
            return e.name not in self.locals and e.name in self.vocab and \
                isinstance(_value_type(getattr(self._vocab_module(), e.name)), cint.CType)
        if isinstance(e, c_ast.BinaryOp):
            return self.constant(e.left) and self.constant(e.right)
        if isinstance(e, c_ast.UnaryOp) and e.op == "sizeof":
            return True                 # of a type or an expression not evaluated: a constant (C11 6.6p6)
        if isinstance(e, c_ast.FuncCall) and isinstance(e.name, c_ast.ID) and e.name.name == "ARRAY_SIZE":
            return "ARRAY_SIZE" in self.vocab
        if isinstance(e, c_ast.UnaryOp):
            return e.op in ("-", "~", "+", "!") and self.constant(e.expr)
        if isinstance(e, c_ast.Cast):
            return self.constant(e.expr)
        if isinstance(e, c_ast.TernaryOp):
            return self.constant(e.cond) and self.constant(e.iftrue) and self.constant(e.iffalse)
        if isinstance(e, c_ast.FuncCall) and isinstance(e.name, c_ast.ID) and e.name.name in PURE:
            args = e.args.exprs if e.args else []
            skip = 1 if e.name.name in ("min_t", "max_t") else 0
            return e.name.name in self.vocab and all(self.constant(a) for a in args[skip:])
        return False

    def build_bug_on(self, s):
        """BUILD_BUG_ON(cond) is checked here, as the compiler checks it: a
        constant false compiles to nothing; true or not a constant: refused."""
        args = s.args.exprs if s.args else []
        if len(args) != 1:
            self.err(s, f"BUILD_BUG_ON with {len(args)} arguments")
        if not self.constant(args[0]):
            self.err(s, "BUILD_BUG_ON on a condition that is not a compile-time constant")
        code = self.val(args[0])
        try:
            with context.entered(hooks=kernel.ConcreteHooks()):
                v = eval(code, dict(vars(self._vocab_module())))
            true = bool(v)
        except Exception as x:
            self.err(s, f"BUILD_BUG_ON whose condition does not evaluate ({type(x).__name__}: {x})")
        if true:
            self.err(s, "BUILD_BUG_ON whose condition is true: the kernel would not compile")
        return f"pass  # BUILD_BUG_ON: {code} is false ({_where(s)})"


def _struct_name(tnode):
    """The struct name of a pointer-to-struct declarator (None for a union)."""
    inner = tnode.type.type if isinstance(tnode, c_ast.PtrDecl) and isinstance(tnode.type, c_ast.TypeDecl) else None
    return inner.name if isinstance(inner, c_ast.Struct) else None


def return_types(fdefs):
    """{function name: the C type of its result} for translated functions
    returning an integer (a call of one may be an arm of ?:)."""
    out = {}
    for f in fdefs:
        try:
            t = ctype_name(f.decl.type.type, f"the result of {f.decl.name}", f)
        except Unsupported:
            continue            # reported where the function itself is translated
        if t not in ("obj", "void"):
            out[f.decl.name] = _cint_type(t)
    return out


def _cint_type(name):
    """The impl.cint CType a TYPES name stands for (unsigned_int is u32 ...)."""
    return getattr(cint, {"c_int": "s32", "unsigned_int": "u32", "unsigned_long": "u64", "kvm_pte_t": "u64",
                          "phys_addr_t": "u64"}.get(name, name))


def _runtime_constant(v):
    """The C type of a vocabulary macro whose value is the running world's
    (impl.kernel.runtime_constant: PAGE_SIZE, PAGE_SHIFT), else None.  Not
    an integer constant expression here: BUILD_BUG_ON and table sizes
    cannot use it, since a proof covers every host page size at once."""
    return getattr(v, "__runtime_ctype__", None)


def _value_type(v):
    """The C type of a vocabulary value: a Word's own, a Python int's as a
    C literal (the way kernel.py writes plain int constants)."""
    if isinstance(v, cint.Word):
        return v.ctype
    if isinstance(v, bool):
        return cint.s32
    if isinstance(v, int):
        return cint.literal_type(v)
    return "obj" if v is None else None
