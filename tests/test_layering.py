"""The layers of nvtlbi, read from the imports of every module (ast: also
the imports inside functions, and __import__/import_module of a literal
name).  From the bottom: nvtlbi.impl (the code that runs), nvtlbi.model
(the solver's view of it), then the front end: nvtlbi.c (the posted-C
translator), nvtlbi.commands (one module per subcommand) and nvtlbi.cli
(parsing and printing).  Each rule below says why it holds."""

import ast
import functools
import os
from dataclasses import dataclass

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# source folder -> the package it installs as (pyproject.toml package-dir)
PACKAGES = {"impl": "nvtlbi.impl", "model": "nvtlbi.model", "nvtlbi": "nvtlbi",
            "tests": "tests", "proofs": "proofs", "bench": "bench"}
# fixtures: revisions and C written as users write them, some wrong on purpose
FIXTURES = (os.path.join("tests", "revisions"), os.path.join("tests", "c"))
SOLVERS = ("z3", "bitwuzla")


@dataclass(frozen=True)
class Rule:
    importers: tuple        # modules the rule binds (a name and everything under it)
    forbidden: tuple        # what they may not import
    why: str
    exempt: tuple = ()      # importers the rule does not bind
    allowed: tuple = ()     # imports under `forbidden` that stay allowed


RULES = [
    # The proved code is the code that runs: impl/ is plain Python over
    # concrete values and hooks; the model drives it symbolically from above.
    # If impl knew the solver or the prover, the code proved could differ from
    # the code that runs, and the front end's concerns would leak into it.
    Rule(("nvtlbi.impl",), ("nvtlbi",) + SOLVERS, "impl is the code that runs: it knows neither the solver, "
         "the model nor the front end", allowed=("nvtlbi.impl",)),
    # The model proves revisions; it is a library with no notion of a
    # command line, C input or output format: the front end calls it.
    Rule(("nvtlbi.model",), ("nvtlbi",), "the model is used by the front end, never the reverse",
         allowed=("nvtlbi.impl", "nvtlbi.model")),
    # Translating posted C reads text and writes Python: it must run (and
    # fail with file:line) without a solver, and nothing it produces may
    # depend on the model's symbolic view.
    Rule(("nvtlbi.c",), ("nvtlbi.model",) + SOLVERS,
         "the C translator reads text and writes a revision: no solver, no model"),
    # One command never reaches into the dispatcher: commands are picked by
    # nvtlbi.cli only (shared machinery lives outside nvtlbi/commands/).
    Rule(("",), ("nvtlbi.commands",), "only nvtlbi.cli (and a command, for a sibling's helpers) imports a command",
         exempt=("nvtlbi.cli", "nvtlbi.commands")),
    # The CLI is the top: errors a command raises come from nvtlbi.options,
    # so nothing below needs the parser; tests and benches drive cli.main.
    Rule(("nvtlbi",), ("nvtlbi.cli",), "nvtlbi.cli is the top of the package: nothing in it imports the CLI",
         exempt=("nvtlbi.cli",)),
    # impl/ and model/ install as nvtlbi.impl and nvtlbi.model: `import impl`
    # works only from the source tree, and would load a second copy of every
    # module (two sets of classes, two sets of state) beside nvtlbi.impl.
    Rule(("",), ("impl", "model"), "impl/ and model/ are imported as nvtlbi.impl and nvtlbi.model, never top-level"),
]


def _under(name, prefixes):
    return any(p == "" or name == p or name.startswith(p + ".") for p in prefixes)


@functools.lru_cache(maxsize=None)
def sources():
    """{module name: source text} of every module of the repository."""
    out = {}
    for folder, package in PACKAGES.items():
        for dirpath, dirs, files in os.walk(os.path.join(ROOT, folder)):
            rel = os.path.relpath(dirpath, ROOT)
            dirs[:] = [d for d in dirs if not d.startswith((".", "__")) and os.path.join(rel, d) not in FIXTURES]
            for f in files:
                if f.endswith(".py"):
                    parts = os.path.relpath(os.path.join(dirpath, f), os.path.join(ROOT, folder))[:-3].split(os.sep)
                    if parts[-1] == "__init__":
                        parts = parts[:-1]
                    with open(os.path.join(dirpath, f)) as fh:
                        out[".".join([package] + parts)] = fh.read()
    return out


def imports(name, source, is_package=False, known=()):
    """The modules `name` imports: `from a import b` is a.b if that is a
    module we know, else a (b is a name in a); relative imports resolved."""
    here = name.split(".") if is_package else name.split(".")[:-1]
    out = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(here[:len(here) - node.level + 1] + ([base] if base else []))
            out |= {f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names}
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and getattr(node.func, "id", getattr(node.func, "attr", None)) in ("__import__", "import_module")):
            out.add(node.args[0].value)
    return out


def violations(modules, packages=(), known=None):
    """[(module, import, why)] for every import of `modules` that breaks a
    rule (`known`: every module name, default those of `modules`)."""
    out = []
    for name, source in sorted(modules.items()):
        for imp in sorted(imports(name, source, name in packages, modules if known is None else known)):
            for rule in RULES:
                if (_under(name, rule.importers) and not _under(name, rule.exempt)
                        and _under(imp, rule.forbidden) and not _under(imp, rule.allowed)):
                    out.append((name, imp, rule.why))
    return out


def _packages(modules):
    return {m for m in modules if any(k.startswith(m + ".") for k in modules)}


def test_every_module_keeps_its_layer():
    modules = dict(sources())
    assert len(modules) > 100 and "nvtlbi.impl.kernel" in modules and "nvtlbi.c.pipeline" in modules
    bad = violations(modules, _packages(modules))
    assert not bad, "\n".join(f"{m} imports {i}: {why}" for m, i, why in bad)


# one injected import per rule, each into a module the rule binds
INJECTED = [("nvtlbi.impl.kernel", "import z3"),
            ("nvtlbi.impl.tlbi", "from nvtlbi.model import engine"),
            ("nvtlbi.impl.revision", "from nvtlbi import scheduler"),
            ("nvtlbi.model.engine", "from nvtlbi.c import era"),
            ("nvtlbi.model.equiv", "def f():\n    from nvtlbi import render"),
            ("nvtlbi.c.translator", "from z3 import BitVec"),
            ("nvtlbi.c.pipeline", "from nvtlbi.model.engine import Limits"),
            ("nvtlbi.proving", "from nvtlbi.commands import prove"),
            ("tests.test_cli", "__import__('nvtlbi.commands.audit')"),
            ("nvtlbi.scheduler", "from nvtlbi.cli import main"),
            ("tests.test_cli", "import impl.kernel"),
            ("nvtlbi.c.runtime", "from model import engine")]


def test_rules_name_a_reason():
    assert all(r.why and r.importers and r.forbidden for r in RULES)
    # every rule can fire: each is broken by one of the injections
    fired = {v[2] for m, line in INJECTED for v in violations({m: line})}
    assert fired == {r.why for r in RULES}


@pytest.mark.parametrize("module,line", INJECTED)
def test_injected_violation_fails(module, line):
    modules = sources()          # each other module is checked by test_every_module_keeps_its_layer
    bad = violations({module: modules[module] + "\n" + line + "\n"}, _packages(modules), modules)
    assert len(bad) == 1 and bad[0][0] == module, bad
