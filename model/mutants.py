"""Mutants of a revision, generated from its source with Python `ast`
transforms: the small slips a patch author (or reviewer) can make.

Each mutant changes one node inside the revision's functions (never the
imports, decorators or argument annotations).  Operators:

  cmp      a comparison flipped (== / !=, < / <=, > / >=)
  const    an integer literal off by one (n - 1; 0 -> 1)
  size     an SZ_* size swapped for the next smaller or larger one
  ctype    a C conversion to a narrower or wider type (u8 -> u16, u64 -> u32)
  enum     a granule constant swapped for another (TLBI_TTL_TG_*, VTCR_EL2_TG0_*)
  binop    + / -, & / |, << / >>
  invert   `~(x)` replaced by `(x)`: `& (sz - 1)` for `& ~(sz - 1)`
  not      a `not` dropped
  boolop   `or` / `and` swapped, or one operand of it dropped
  cond     an `if` condition dropped (the branch always taken; not for elif)
  augassign  `x op= e` replaced by `x = e`

Mutants whose source is the same as the original's, or as an earlier
mutant's, are left out.  The order is the source order: deterministic."""

import ast
import copy
from dataclasses import dataclass

SIZES = ["SZ_4K", "SZ_16K", "SZ_64K", "SZ_2M", "SZ_32M", "SZ_512M", "SZ_1G"]
CTYPES = {"u8": ["u16"], "u16": ["u8"], "u32": ["u64"], "unsigned_int": ["u64", "u8"],
          "u64": ["u32"], "unsigned_long": ["unsigned_int"], "c_int": ["u8"]}
ENUMS = [["TLBI_TTL_TG_4K", "TLBI_TTL_TG_16K", "TLBI_TTL_TG_64K"],
         ["VTCR_EL2_TG0_4K", "VTCR_EL2_TG0_16K", "VTCR_EL2_TG0_64K"]]
# one flip per operator: == / != negates, < / <= and > / >= are off by one
CMP = {ast.Eq: [ast.NotEq], ast.NotEq: [ast.Eq], ast.Lt: [ast.LtE], ast.LtE: [ast.Lt],
       ast.Gt: [ast.GtE], ast.GtE: [ast.Gt]}
BINOP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd,
         ast.LShift: ast.RShift, ast.RShift: ast.LShift}


@dataclass
class Mutant:
    id: str             # m001, m002, ... in source order
    line: int           # line in the original source
    operator: str
    change: str         # "before -> after", in source text
    source: str         # the whole mutated module


def _sites(tree):
    """(path to node, node) for every node inside a function body, in
    source order; annotations, decorators and docstrings excluded."""
    out = []

    def walk(node, path):
        for field, value in ast.iter_fields(node):
            if field in ("decorator_list", "annotation", "returns") or isinstance(value, ast.arguments):
                continue
            items = value if isinstance(value, list) else [value]
            for i, child in enumerate(items):
                if isinstance(child, ast.AST):
                    p = path + [(field, i if isinstance(value, list) else None)]
                    out.append((p, child))
                    walk(child, p)

    for i, top in enumerate(tree.body):
        if isinstance(top, ast.FunctionDef):
            walk(top, [("body", i)])
    return out


def _replacements(node):
    """(operator, new node) for each mutation of this one node."""
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        for new in CMP.get(type(node.ops[0]), []):
            n = copy.deepcopy(node)
            n.ops = [new()]
            yield "cmp", n
    elif isinstance(node, ast.Constant) and type(node.value) is int:
        # one step (down, or up from 0): +1 and -1 mostly find the same slips
        yield "const", ast.Constant(node.value - 1 if node.value else 1)
    elif isinstance(node, ast.Name):
        if node.id in SIZES:
            i = SIZES.index(node.id)
            for j in (i - 1, i + 1):
                if 0 <= j < len(SIZES):
                    yield "size", ast.Name(SIZES[j], ast.Load())
        for group in ENUMS:
            if node.id in group:
                i = group.index(node.id)
                yield "enum", ast.Name(group[(i + 1) % len(group)], ast.Load())
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in CTYPES \
            and not isinstance(node.args[0], (ast.Constant, ast.Name)):
        # a conversion of a computed value (one of a literal or a named
        # constant only retypes a constant: no slip a reviewer would miss)
        for t in CTYPES[node.func.id]:
            n = copy.deepcopy(node)
            n.func = ast.Name(t, ast.Load())
            yield "ctype", n
    elif isinstance(node, ast.BinOp) and type(node.op) in BINOP:
        n = copy.deepcopy(node)
        n.op = BINOP[type(node.op)]()
        yield "binop", n
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
        yield "invert", copy.deepcopy(node.operand)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield "not", copy.deepcopy(node.operand)
    elif isinstance(node, ast.BoolOp):
        n = copy.deepcopy(node)
        n.op = ast.And() if isinstance(node.op, ast.Or) else ast.Or()
        yield "boolop", n
        for v in node.values:
            yield "boolop", copy.deepcopy(v)
    elif isinstance(node, ast.If) and not getattr(node, "is_elif", False):
        # dropping an elif's condition only makes its later siblings dead,
        # which the `cmp` mutants of the same tests already exercise
        n = copy.deepcopy(node)
        n.test = ast.Constant(True)
        yield "cond", n
    elif isinstance(node, ast.AugAssign):
        yield "augassign", ast.Assign([copy.deepcopy(node.target)], copy.deepcopy(node.value), lineno=node.lineno)


def _replace(tree, path, new):
    # a copy of the module sharing every top-level statement but the
    # function the node is in (copying the whole module per mutant cost
    # seconds for the VNCR revision's 97); nothing writes the shared ones
    (_, top), path = path[0], path[1:]
    tree = ast.Module(body=list(tree.body), type_ignores=tree.type_ignores)
    tree.body[top] = copy.deepcopy(tree.body[top])
    parent = tree.body[top]
    for field, idx in path[:-1]:
        parent = getattr(parent, field) if idx is None else getattr(parent, field)[idx]
    field, idx = path[-1]
    if idx is None:
        setattr(parent, field, new)
    else:
        getattr(parent, field)[idx] = new
    return ast.fix_missing_locations(tree)


def _text(node):
    if isinstance(node, ast.If):
        return f"if {ast.unparse(node.test)}:"
    return ast.unparse(node)


def generate(source):
    """Every mutant of a revision's source, deduplicated, in source order."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If):
            node.orelse[0].is_elif = True
    seen = {ast.unparse(tree)}
    out = []
    for path, node in _sites(tree):
        for op, new in _replacements(node):
            text = ast.unparse(_replace(tree, path, new))
            if text in seen:
                continue
            seen.add(text)
            out.append(Mutant(f"m{len(out) + 1:03d}", node.lineno, op, f"{_text(node)} -> {_text(new)}",
                              "# generated mutant; see model/mutants.py\n" + text + "\n"))
    return out
