"""Reproducible verdicts: a counterexample's and a witness's values are a
function of the obligation, not of `--jobs` or of what the process proved
before (z3 numbers terms in creation order, and its models follow those
numbers); and every `--json` names the solver versions that produced it."""

import ast
import json
import pathlib
import platform
import re
from importlib import metadata

import pytest
import z3

try:
    import tomllib
except ImportError:                     # Python 3.10
    tomllib = None

from nvtlbi.impl import revision as REV
from nvtlbi.model.prover import prove_level
from nvtlbi import cli

# 16K then 64K, so that with --jobs 1 the 64K counterexample is found in a
# process that has already proved 16K, while with --jobs 2 a worker may
# start on it fresh (on main the 64K-L2 values differed); level 2 of each
RESTRICTED = ["--drop", "bbm", "--granule", "16K", "--granule", "64K", "--level", "2", "--hint", "nohint",
              "--property", "P2", "--no-coverage", "--json"]


def _values(capsys, jobs):
    code = cli.main(["prove"] + RESTRICTED + ["--jobs", str(jobs)])
    doc = json.loads(capsys.readouterr().out)
    return code, {r["id"]: (r["verdict"], r["counterexample"], r["witness"]) for r in doc["results"]}


def test_counterexample_values_do_not_depend_on_jobs(capsys):
    code1, one = _values(capsys, 1)
    code2, two = _values(capsys, 2)
    assert code1 == code2 == 1
    assert any(v == "COUNTEREXAMPLE" for v, _, _ in one.values())
    for oid in one:
        assert one[oid] == two[oid], oid


def _cex(rs):
    return [(r.id, r.verdict, r.counterexample, r.witness, r.rests_on) for r in rs]


def test_an_obligation_s_values_do_not_depend_on_what_the_process_proved_before():
    """The cause, without the worker pool: the same obligation proved in a
    process that proved another one first."""
    rev = REV.load("upstream")
    first = prove_level(rev, 16, 2, ["nohint"], props=("P2",), drop=("bbm",))       # 64K L2
    prove_level(rev, 14, 2, ["nohint"], props=("P2",), drop=("bbm",))               # 16K L2
    again = prove_level(rev, 16, 2, ["nohint"], props=("P2",), drop=("bbm",))
    assert first[0].verdict == "COUNTEREXAMPLE"
    assert _cex(first) == _cex(again)


# ---- pinned and recorded solver versions ---------------------------------------------------
ROOT = pathlib.Path(__file__).resolve().parent.parent


def _lock():
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"requirements.lock: {line!r} is not an exact pin"
            pins[name.lower().replace("_", "-")] = version
    return pins


def test_the_lock_pins_every_dependency_exactly():
    if tomllib is None:
        pytest.skip("tomllib needs Python 3.11")
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[<>=!~ ;\[]", d, maxsplit=1)[0].lower() for d in deps}
    assert names <= set(_lock()), names - set(_lock())


def test_the_readme_install_and_ci_use_the_lock():
    readme = (ROOT / "README.md").read_text()
    installs = re.findall(r"^    (python3 -m venv .*)$", readme, re.M)
    assert len(installs) == 2 and all("pip install -r requirements.lock -e ." in c for c in installs)
    ci = (ROOT / ".ci" / "run").read_text()
    assert installs[1].replace("pip install", "pip install -q") in ci


def test_the_solvers_that_run_are_the_locked_ones():
    lock = _lock()
    for dist in ("z3-solver", "bitwuzla"):
        assert metadata.version(dist) == lock[dist], dist


def test_prove_json_records_the_versions(capsys):
    assert cli.main(["prove", "--json", "--granule", "16K", "--hint", "match", "--property", "P1",
                     "--jobs", "1", "--no-coverage"]) == 0
    v = json.loads(capsys.readouterr().out)["versions"]
    assert v["z3"] == z3.get_full_version() and v["python"] == platform.python_version()
    assert v["bitwuzla"].startswith(metadata.version("bitwuzla"))


def test_every_json_document_of_the_cli_records_the_versions():
    """Each json.dumps({...}) in nvtlbi/ and its packages (the --json outputs) has a "versions" key."""
    seen = 0
    for path in (ROOT / "nvtlbi").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "json.dumps" and \
                    isinstance(node.args[0], ast.Dict):
                seen += 1
                keys = [k.value for k in node.args[0].keys if isinstance(k, ast.Constant)]
                assert "versions" in keys, f"{path.name}:{node.lineno}"
    assert seen >= 4
