"""Posted C may use exactly the kernel names of its era: what the era's
vocabulary module (impl/kernel*.py) exports in __all__ (= eras.names of
the era), never what the module merely holds (dir(): `functools`, `Word`,
its own helpers).  A C identifier that is one of those is refused, one
line naming file:line, exit status 2."""

import importlib
import os

import pytest

from nvtlbi.impl import eras
from nvtlbi import cli
from nvtlbi.c import era as c_era

C = os.path.join(os.path.dirname(__file__), "c")
# names each vocabulary module holds (dir()) but does not export: no kernel names of its era
HELD_NOT_EXPORTED = {"v2020": ("eras", "kvm_has_feat"), "v2023": ("eras", "kvm_has_feat"),
                     "v2024": ("functools", "Word"), "v2026": ("eras", "convert")}


@pytest.mark.parametrize("name", list(eras.ERAS))
def test_translator_allows_exactly_the_vocabulary_all(name):
    profile = c_era.PROFILES[name]
    module = importlib.import_module(profile.vocabulary)
    assert c_era.names(profile) == set(module.__all__) == set(eras.names(name))
    # the difference the refusal tests below depend on
    assert set(HELD_NOT_EXPORTED[name]) <= set(dir(module)) - c_era.names(profile)


# (name, the line that uses it) in a v2024 input: read as a value, and called
USES = [("functools", "	WARN_ON(!max_size || !functools);"),
        ("Word", "	WARN_ON(!max_size || !Word);"),
        ("Word", "	max_size = Word(max_size);\n	WARN_ON(!max_size);")]


def _input(tmp_path, use):
    src = open(os.path.join(C, "nested_v2024.c")).read()
    bad = src.replace("	WARN_ON(!max_size);", use)
    assert bad != src
    path = tmp_path / "uses_module_internals.c"
    path.write_text(bad)
    line = bad.split("\n").index(use.split("\n")[0]) + 1
    return str(path), line


@pytest.mark.parametrize("name,use", USES)
def test_module_internal_is_no_kernel_name(tmp_path, capsys, name, use):
    path, line = _input(tmp_path, use)
    assert cli.main(["audit", path, "--translate-only"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"nvtlbi: error: {path}:{line}: ") and f"'{name}'" in err, err


def test_refusal_test_fails_if_the_allowed_set_were_dir(tmp_path, capsys, monkeypatch):
    """The broken variant: allow dir(module) and the same input is taken
    (exit 0), so test_module_internal_is_no_kernel_name would fail."""
    monkeypatch.setattr(c_era, "names", lambda p: set(dir(importlib.import_module(p.vocabulary))))
    for name, use in USES[:2]:
        path, _ = _input(tmp_path, use)
        assert cli.main(["audit", path, "--translate-only", "--jobs", "1"]) == 0, capsys.readouterr().err
