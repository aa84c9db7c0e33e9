"""No hidden state: what the engine and the revisions run with is a
Session (model/session.py) entered with `with`, or the impl/ world
(impl/context.py), both reached through one ContextVar each; never a value
set on a module or a class.

The scan reads the source of every module under impl/, model/ and nvtlbi/
(their AST, nothing is imported) and flags:

  - a `global` statement (a function rebinding a module's name);
  - a module-level name bound to a mutable value (a list, dict or set, a
    comprehension, None, or an instance of a class of the same module) that
    a function mutates: item or attribute assignment, augmented assignment,
    or a mutating method call (append, update, ...);
  - an assignment to an attribute of an imported name (`kernel.hooks = `,
    `Engine.on_check = `, `E.MAX_DECISIONS = `): a module or class changed
    from outside;
  - an assignment to an attribute of a class of the same module from inside
    a function (`Engine.x = ` in a method or helper).

Registries filled once while their module is imported are constants; they
are allow-listed below, each with the reason."""

import ast
import os

import pytest

ROOT = os.path.join(os.path.dirname(__file__), "..")
PACKAGES = ("impl", "model", "nvtlbi")
MUTATORS = {"append", "extend", "insert", "update", "setdefault", "pop", "popitem", "clear", "remove",
            "discard", "add", "sort", "reverse", "__setitem__", "__delitem__"}

# (module path, name) -> why the state is not hidden state
ALLOWED = {
    ("impl/eras.py", "FIELDS"): "a registry: filled by the module's own _field() calls while it is imported, "
                                "only read afterwards",
    ("model/engine.py", "z3_api._main_ctx"): "z3py's own default context, which z3py gives no setter for: "
                                             "own_z3_context() swaps it for one block (a fresh context per "
                                             "obligation) and puts it back; z3's state, not a setting of ours",
}


def modules():
    for pkg in PACKAGES:
        for d, _, files in os.walk(os.path.join(ROOT, pkg)):
            for f in sorted(files):
                if f.endswith(".py"):
                    path = os.path.join(d, f)
                    yield os.path.relpath(path, ROOT).replace(os.sep, "/"), path


def _root(node):
    """The name an attribute/subscript chain starts from (`a` of a.b[c].d)."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _mutable(value, classes):
    if isinstance(value, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)):
        return True
    if isinstance(value, ast.Constant) and value.value is None:
        return True
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        return value.func.id in {"list", "dict", "set", "defaultdict", "OrderedDict"} | classes
    return False


def _functions(tree):
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))]


def findings(rel, source):
    """Each hidden-state site of one module: (name, line, what)."""
    tree = ast.parse(source)
    classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
    imported = set()
    for n in ast.walk(tree):
        if isinstance(n, (ast.Import, ast.ImportFrom)):
            for a in n.names:
                imported.add((a.asname or a.name).split(".")[0])
    state = {}
    for n in tree.body:
        targets = n.targets if isinstance(n, ast.Assign) else [n.target] if isinstance(n, ast.AnnAssign) else []
        value = getattr(n, "value", None)
        for t in targets:
            if isinstance(t, ast.Name) and value is not None and _mutable(value, classes):
                state[t.id] = n.lineno
    out = []
    for fn in _functions(tree):
        local = set()
        if not isinstance(fn, ast.Lambda):
            args = fn.args
            local = {a.arg for a in args.args + args.kwonlyargs + args.posonlyargs}
            local |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
            local |= {t.id for s in ast.walk(fn) if isinstance(s, (ast.Assign, ast.AnnAssign, ast.For, ast.With))
                      for t in ast.walk(s) if isinstance(t, ast.Name) and isinstance(t.ctx, ast.Store)}
        for s in ast.walk(fn):
            if isinstance(s, ast.Global):
                out += [(name, s.lineno, "global statement") for name in s.names]
            targets = []
            if isinstance(s, ast.Assign):
                targets = s.targets
            elif isinstance(s, (ast.AugAssign, ast.AnnAssign)):
                targets = [s.target]
            elif isinstance(s, ast.Delete):
                targets = s.targets
            for t in targets:
                for e in (t.elts if isinstance(t, ast.Tuple) else [t]):
                    root = _root(e)
                    if root is None or root in local:
                        continue
                    if isinstance(e, (ast.Attribute, ast.Subscript)) and root in state:
                        out.append((root, s.lineno, "module-level state mutated"))
                    elif isinstance(e, ast.Attribute) and root in imported:
                        out.append((f"{ast.unparse(e)}", s.lineno, "attribute of an imported module/class set"))
                    elif isinstance(e, ast.Attribute) and root in classes:
                        out.append((f"{ast.unparse(e)}", s.lineno, "class attribute set from a function"))
            if (isinstance(s, ast.Call) and isinstance(s.func, ast.Attribute) and s.func.attr in MUTATORS
                    and isinstance(s.func.value, ast.Name) and s.func.value.id in state
                    and s.func.value.id not in local):
                out.append((s.func.value.id, s.lineno, f"module-level state mutated (.{s.func.attr})"))
    # a module's top level may also set attributes of imported names (monkeypatching at import)
    for n in tree.body:
        if isinstance(n, ast.Assign):
            for t in n.targets:
                if isinstance(t, ast.Attribute) and _root(t) in imported:
                    out.append((ast.unparse(t), n.lineno, "attribute of an imported module/class set"))
    return sorted(set(out), key=lambda x: x[1])


def scan():
    bad = []
    for rel, path in modules():
        with open(path) as f:
            source = f.read()
        for name, line, what in findings(rel, source):
            if (rel, name) not in ALLOWED:
                bad.append(f"{rel}:{line}: {name}: {what}")
    return bad


def test_no_module_or_class_state():
    bad = scan()
    assert not bad, "hidden state (use the Session of model/session.py or impl/context.py):\n" + "\n".join(bad)


def test_allow_list_is_current():
    """Every allow-listed name still exists where it is said to be (no stale excuses)."""
    for (rel, name), reason in ALLOWED.items():
        assert reason.strip(), (rel, name)
        with open(os.path.join(ROOT, rel)) as f:
            assert name in f.read(), f"{rel}: {name} is allow-listed but gone"


# ---- the scan can fail -------------------------------------------------------------------------
@pytest.mark.parametrize("source, name", [
    ("_backend = None\ndef set_backend(b):\n    global _backend\n    _backend = b\n", "_backend"),
    ("CROSS = {'agreed': 0}\ndef add(n):\n    CROSS['agreed'] += n\n", "CROSS"),
    ("TALLY = []\ndef add(n):\n    TALLY.append(n)\n", "TALLY"),
    ("from m import kernel\ndef run(h):\n    kernel.hooks = h\n", "kernel.hooks"),
    ("from m.engine import Engine\ndef install(h):\n    Engine.on_check = h\n", "Engine.on_check"),
    ("from m import engine as E\ndef bound():\n    E.MAX_DECISIONS = 100\n", "E.MAX_DECISIONS"),
    ("class Stats:\n    pass\nstats = Stats()\ndef count():\n    stats.agreed = 1\n", "stats"),
])
def test_scan_flags_hidden_state(source, name):
    assert name in {n for n, _, _ in findings("x.py", source)}


@pytest.mark.parametrize("source", [
    "TABLE = {}\nTABLE['a'] = 1\ndef get(k):\n    return TABLE[k]\n",         # filled once at import
    "def f():\n    out = {}\n    out['a'] = 1\n    return out\n",               # a local
    "class C:\n    def __init__(self):\n        self.x = []\n        self.x.append(1)\n",
])
def test_scan_passes_explicit_state(source):
    assert findings("x.py", source) == []


# ---- the session and the impl/ world --------------------------------------------------------
from nvtlbi.impl import context  # noqa: E402
from nvtlbi.impl.cint import Word, u64  # noqa: E402
from nvtlbi.model import session as S  # noqa: E402


def test_reading_the_session_outside_one_is_an_error():
    with pytest.raises(S.SessionError, match="no session"):
        S.current()


def test_a_session_is_entered_once():
    s = S.Session()
    with s:
        assert S.current() is s
        with pytest.raises(S.SessionError, match="inside another.*same one twice"):
            with s:
                pass
        with pytest.raises(S.SessionError, match="inside another"):
            with S.Session():
                pass
        assert S.current() is s
    with pytest.raises(S.SessionError):
        S.current()


def test_leaving_by_an_exception_leaves_no_session():
    with pytest.raises(ZeroDivisionError):
        with S.Session():
            1 / 0
    assert S.active() is None


def test_the_impl_world_is_scoped():
    """A symbolic word needs a backend entered; leaving the block (even by
    an exception) restores the world that was there."""
    class Backend:
        def binop(self, op, a, b, width, signed):
            return ("sym", op)
    w = Word(u64, 0).__class__(u64, object())       # a word holding an opaque (symbolic) term
    with pytest.raises(TypeError, match="no symbolic backend"):
        w + 1
    with pytest.raises(RuntimeError):
        with context.entered(backend=Backend()):
            assert (w + 1).v == ("sym", "+")
            raise RuntimeError
    assert context.current() == context.CONCRETE
    with pytest.raises(TypeError, match="no symbolic backend"):
        w + 1


def test_a_worker_runs_under_the_session_its_job_hands_it():
    """The job carries the session (nothing is set before the fork): a
    decision bound of 1 stops the worker's proof at the first branch, and the
    cross-check tally comes back with the results, as data."""
    from nvtlbi import proving, scheduler
    tight = S.Session(max_decisions=1)
    crossed = S.Session(cross_check=True)
    job = lambda s: scheduler.Job(proving._work, ("upstream", 16, 3, ("match",), ("P2",), (), s), "w", "upstream")
    from nvtlbi.impl.revision import RevisionError
    with pytest.raises(RevisionError, match="more than 1 symbolic branches"):
        scheduler.run([job(tight)], 1)
    (rs, tally), = scheduler.run([job(crossed)], 1)
    assert [r.verdict for r in rs] == ["PROVED"] and tally.agreed >= 10
    assert crossed.tally == S.CrossTally()      # the worker counted in its own copy, and sent it back
    assert S.active() is None
