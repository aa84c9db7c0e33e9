"""A counterexample is replayed in the world the model describes
(model/replay.py): with host pages first, else with each shadow leaf a host
block at the model's host level.  tests/revisions/host_level.py takes the
TTL's level from the host walk's level: at 4K L1 without a hint the model's
counterexample probes a 2M host block of a 1G guest block and unmaps 2M; with
a host page there the revision unmaps 4K, so only the host-block world
replays it (before, this was reported as a MODEL BUG, exit 2).  The world
that replayed is recorded ("host_blocks") and every consumer rebuilds it: the
cache's replay, `nvtlbi cex`'s scenario and its regression test."""

import contextlib
import importlib.util
import io
import json

import pytest

from nvtlbi import cache, cli
from nvtlbi.impl import revision as REV
from nvtlbi.model import replay as R
from tests.revisions import HOST_LEVEL

CASE = ["--granule", "4K", "--level", "1", "--hint", "nohint", "--property", "P2", "--jobs", "1", "--no-coverage"]
ID = "host_level-4K-L1-nohint-P2"


def _main(argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(argv)
    return code, out.getvalue()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Proved once into a cache of the module's own, then proved again (from
    the cache), then drawn by `nvtlbi cex` with a regression test."""
    d = tmp_path_factory.mktemp("hostlvl")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(cache.ENV_DIR, str(d / "cache"))
        mp.delenv(cache.ENV_OFF, raising=False)
        first = _main(["prove", "--revision", HOST_LEVEL, "--json"] + CASE)
        second = _main(["prove", "--revision", HOST_LEVEL, "--json"] + CASE)
        drawn = _main(["cex", "--revision", HOST_LEVEL, "--no-concrete", "--pytest", str(d / "test_regress.py")] + CASE)
    return first, second, drawn, d / "test_regress.py"


def _cex(run):
    code, out = run
    r = next(r for r in json.loads(out)["results"] if r["id"] == ID)
    return code, r


def test_a_counterexample_needing_a_host_block_is_replayed_with_it(runs):
    code, r = _cex(runs[0])
    c = r["counterexample"]
    assert code == 1 and r["verdict"] == "COUNTEREXAMPLE", (code, r["verdict"], c.get("replay"))
    assert c["replayed"] is True and c["host_blocks"] is True, c["replay"]
    assert "with host blocks at the model's host levels" in c["replay"]
    assert any(p.get("host_level") == 2 for p in c["probes"]), c["probes"]
    rev = REV.load(HOST_LEVEL)
    # the same counterexample in the world of host pages does not replay: the block is needed
    ok, why, _, _ = R.replay(dict(c, host_blocks=False), rev)
    assert not ok and "differs from the model's" in why, why
    # and the recorded world is what from_counterexample rebuilds
    sc = R.from_counterexample(c)
    assert ("access-block", (0, 0x200000)) in [(k, a) for k, a in sc.steps], sc.steps
    assert R.run(sc, rev).violates(sc)


def test_the_cached_counterexample_replays_in_its_recorded_world(runs):
    (code1, r1), (code2, r2) = _cex(runs[0]), _cex(runs[1])
    doc = json.loads(runs[1][1])
    assert doc["cache"]["from_cache"] == 1, doc["cache"]
    assert code2 == code1 == 1 and r2["counterexample"] == r1["counterexample"]


def _regression(path, monkeypatch, revision):
    monkeypatch.setenv("NVTLBI_REVISION", revision)
    spec = importlib.util.spec_from_file_location(f"regress_{abs(hash(revision))}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return getattr(mod, "test_" + ID.replace("-", "_").lower())


def test_cex_draws_and_writes_the_host_block_world(runs, monkeypatch):
    code, out = runs[2]
    assert code == 1 and f"counterexample {ID}" in out, out
    assert "shadow fault (a 2M host block)" in out and "-> STALE (survived)" in out, out
    text = runs[3].read_text()
    assert "vma_pagesize=0x200000" in text, text
    with pytest.raises(AssertionError, match="stale shadow leaves survived"):
        _regression(runs[3], monkeypatch, HOST_LEVEL)()
    _regression(runs[3], monkeypatch, "upstream")()      # upstream removes the 1G block's every leaf
