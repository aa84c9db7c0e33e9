"""The core interfaces type-check (mypy, configured in pyproject.toml).

mypy reads the package as it is installed: nvtlbi.impl and nvtlbi.model are
the top-level folders impl/ and model/ (pyproject.toml package-dir), which
mypy cannot map from a checkout, so the check runs on a tree of symlinks
laid out as installed.  Besides the package, it checks that both worlds a
revision runs in, the concrete one (impl/) and the symbolic one (model/env.py),
offer what a revision sees (impl/interfaces.py): a member missing on one side
would show up as a revision's failure on that side only."""

import os
import pathlib

import pytest
from mypy import api as mypy

ROOT = pathlib.Path(__file__).resolve().parent.parent

# Both worlds against the Protocols.  A function returning its argument as
# the Protocol type makes mypy check the structural match.
CONFORMANCE = '''
from nvtlbi.impl.interfaces import Kvm, Lock, Pgt, S2Mmu
from nvtlbi.impl.nested import VM, MMULock, ShadowMMU
from nvtlbi.impl.pgtable import PageTable
from nvtlbi.model.env import SymKVM, SymLock, SymMMU, SymPgt


def concrete_mmu(m: ShadowMMU) -> S2Mmu: return m
def concrete_kvm(k: VM) -> Kvm: return k
def concrete_pgt(p: PageTable) -> Pgt: return p
def concrete_lock(lk: MMULock) -> Lock: return lk
def symbolic_mmu(m: SymMMU) -> S2Mmu: return m
def symbolic_kvm(k: SymKVM) -> Kvm: return k
def symbolic_pgt(p: SymPgt) -> Pgt: return p
def symbolic_lock(lk: SymLock) -> Lock: return lk
'''


def _installed_layout(tmp, extra=None):
    pkg = tmp / "nvtlbi"
    pkg.mkdir()
    for entry in (ROOT / "nvtlbi").iterdir():
        if entry.name != "__pycache__":
            (pkg / entry.name).symlink_to(entry)
    (pkg / "impl").symlink_to(ROOT / "impl")
    (pkg / "model").symlink_to(ROOT / "model")
    (pkg / "_conformance.py").write_text(CONFORMANCE + (extra or ""))
    return tmp


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One mypy cache for the module: the runs after the first re-check only
    what they add (about 1 s instead of 10)."""
    return tmp_path_factory.mktemp("mypy_cache")


def _mypy(tmp, cache):
    here = os.getcwd()
    os.chdir(tmp)           # mypy resolves -p nvtlbi from the current directory
    try:
        out, err, status = mypy.run(["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir",
                                     str(cache), "--no-error-summary", "-p", "nvtlbi"])
    finally:
        os.chdir(here)
    return status, (out + err).strip()


def test_the_package_and_both_worlds_type_check(tmp_path, cache):
    status, out = _mypy(_installed_layout(tmp_path), cache)
    assert status == 0, out


@pytest.mark.parametrize("extra,expected", [
    # a world lacking what a revision reads (a page table is not an MMU)
    ("def wrong_world(p: PageTable) -> S2Mmu: return p\n", "_conformance.py:"),
    # a core interface called against its annotations
    ("from nvtlbi.model.session import Session\nSession(max_decisions='many')\n", "max_decisions"),
])
def test_the_check_can_fail(tmp_path, cache, extra, expected):
    status, out = _mypy(_installed_layout(tmp_path, extra), cache)
    assert status == 1 and expected in out, out
