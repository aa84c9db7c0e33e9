"""The proof cache (nvtlbi/cache.py): a second run takes every result from
it and says so, with the same verdicts, counts and counterexamples; a
change of the revision's code misses it; a corrupted entry, or one whose
counterexample no longer replays, is detected, reported once, ignored and
proved again; --no-cache neither reads nor writes it."""

import contextlib
import io
import json
import os
import shutil

import pytest

from nvtlbi import cache, cli
from nvtlbi.impl import revision as REV
from nvtlbi.model.verdict import Result
from tests.revisions import NOLOOKUP

# nolookup (safe but imprecise): P5 fails at 64K L3 without a hint, the
# other three obligations are PROVED; two jobs (64K L2, L3), a few seconds
CASES = ["--granule", "64K", "--hint", "nohint", "--property", "P2", "--property", "P5"]
NOLOOKUP_RUN = ["prove", "--revision", NOLOOKUP, "--json"] + CASES
N = 4


@pytest.fixture(scope="module")
def primed(tmp_path_factory):
    """(the --json of a first run, the cache it filled): proved once for the
    module; each test takes a copy of the cache."""
    d = tmp_path_factory.mktemp("primed") / "cache"
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out):
        mp.setenv(cache.ENV_DIR, str(d))
        mp.delenv(cache.ENV_OFF, raising=False)
        code = cli.main(NOLOOKUP_RUN)
    assert code == 1
    return json.loads(out.getvalue()), d


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """The cache on, in a directory of this test's own."""
    d = tmp_path / "cache"
    monkeypatch.setenv(cache.ENV_DIR, str(d))
    monkeypatch.delenv(cache.ENV_OFF, raising=False)
    return d


@pytest.fixture
def filled(primed, cache_dir):
    """The first run's --json, and this test's cache holding its entries."""
    shutil.copytree(primed[1], cache_dir)
    return primed[0]


def run(capsys, argv):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def same(doc):
    """What a run claims, without what varies from run to run."""
    return [{k: v for k, v in r.items() if k != "seconds"} for r in doc["results"]]


def entries(d):
    e = d / cache.ENTRIES
    return sorted(e.iterdir()) if e.exists() else []


def entry_of(d, job):
    """The entry file of the job whose obligations are named `job`-..."""
    found = [p for p in entries(d) if json.loads(p.read_text())["what"].startswith(f"obligations {job}-")]
    assert len(found) == 1, found
    return found[0]


def test_second_run_is_from_the_cache_and_says_the_same(filled, cache_dir, capsys):
    first = filled
    assert first["cache"]["from_cache"] == 0 and first["cache"]["obligations"] == N
    assert len(entries(cache_dir)) == 2                 # one per job: 64K L2, L3
    code, second, err = run(capsys, NOLOOKUP_RUN)
    assert second["cache"] == first["cache"] | {"from_cache": N, "directory": str(cache_dir)}
    assert code == 1 and same(first) == same(second)
    cex = [r for r in second["results"] if r["verdict"] == "COUNTEREXAMPLE"]
    assert [r["id"] for r in cex] == ["nolookup-64K-L3-nohint-P5"] and cex[0]["counterexample"]["replayed"] is True
    assert "warning" not in err
    # the text report says it too
    assert cli.main(NOLOOKUP_RUN[:3] + CASES) == 1
    assert f"cache: {N} of {N} results from the cache" in capsys.readouterr().out


def test_changed_code_misses_the_cache(cache_dir, capsys, tmp_path):
    """The same file name, other code: upstream's range computation, then
    nocheck's; each is proved, with its own verdicts."""
    rev = tmp_path / "rev.py"
    shutil.copyfile(os.path.join(REV.BUNDLED_DIR, "upstream.py"), rev)
    argv = ["prove", "--revision", str(rev), "--json"] + CASES + ["--level", "3"]     # where nolookup fails P5
    code, good, _ = run(capsys, argv)
    assert code == 0 and good["cache"]["from_cache"] == 0
    shutil.copyfile(NOLOOKUP, rev)
    code, broken, _ = run(capsys, argv)
    assert code == 1 and broken["cache"]["from_cache"] == 0
    assert "COUNTEREXAMPLE" in {r["verdict"] for r in broken["results"]}
    # and an option that shapes a result (--unwind) is part of the key
    _, again, _ = run(capsys, argv + ["--unwind", "9"])
    assert again["cache"]["from_cache"] == 0 and same(again) == same(broken)


@pytest.mark.parametrize("damage", ["truncate", "verdict", "garbage", "moved"])
def test_corrupted_entry_is_detected_and_ignored(filled, cache_dir, capsys, damage):
    first = filled
    victim = entry_of(cache_dir, "nolookup-64K-L2")
    text = victim.read_text()
    if damage == "truncate":
        victim.write_text(text[:len(text) // 2])
    elif damage == "verdict":          # a flipped verdict with the checksum left as it was
        assert '\\"PROVED\\"' in text
        victim.write_text(text.replace('\\"PROVED\\"', '\\"VACUOUS\\"'))
    elif damage == "garbage":
        victim.write_bytes(b"\xff\x00" * 100)
    else:                              # another job's (valid) entry under this job's key
        victim.write_text(entry_of(cache_dir, "nolookup-64K-L3").read_text())
    code, second, err = run(capsys, NOLOOKUP_RUN)
    assert code == 1 and same(second) == same(first)
    assert second["cache"]["from_cache"] == 2           # L3 from the cache, L2 proved again
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and str(victim) in warnings[0] and "ignored" in warnings[0], err
    # proved again, the entry is whole again
    _, third, err = run(capsys, NOLOOKUP_RUN)
    assert third["cache"]["from_cache"] == N and "warning" not in err


def test_a_cached_counterexample_is_replayed_in_the_run(filled, cache_dir, capsys):
    """An entry whose checksum is right but whose counterexample no longer
    replays as it did is discarded and its job proved again."""
    first = filled
    victim = entry_of(cache_dir, "nolookup-64K-L3")
    entry = json.loads(victim.read_text())
    results = cache.decode(entry["results"])
    cex = next(r for r in results if r.counterexample)
    cex.counterexample["replay"] = "replayed somewhere else"
    entry["results"] = cache.encode(results)
    entry["checksum"] = cache._checksum(entry["key"], entry["deps"], entry["results"], entry["who"])
    victim.write_text(json.dumps(entry))
    code, second, err = run(capsys, NOLOOKUP_RUN)
    assert code == 1 and same(second) == same(first) and second["cache"]["from_cache"] == 2
    assert "did not replay as it did" in err and str(victim) in err


def test_no_cache_neither_reads_nor_writes(primed, cache_dir, capsys):
    code, doc, _ = run(capsys, NOLOOKUP_RUN + ["--no-cache"])
    assert code == 1 and not cache_dir.exists() and same(doc) == same(primed[0])
    assert doc["cache"] == {"enabled": False, "directory": str(cache_dir), "from_cache": 0, "obligations": N,
                            "off": "--no-cache"}
    shutil.copytree(primed[1], cache_dir)
    victim = entry_of(cache_dir, "nolookup-64K-L2")
    victim.write_text("not an entry")           # read, it would be reported
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in entries(cache_dir)}
    code, doc, err = run(capsys, NOLOOKUP_RUN + ["--no-cache"])
    assert code == 1 and doc["cache"]["from_cache"] == 0 and "warning" not in err
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in entries(cache_dir)} == before


def test_unknown_is_never_cached(cache_dir, capsys):
    """The solver giving up is no claim about the code: not stored."""
    code, doc, _ = run(capsys, ["prove", "--rlimit", "1", "--granule", "4K", "--hint", "nohint", "--json"])
    assert code == 2 and "UNKNOWN" in {r["verdict"] for r in doc["results"]}
    assert entries(cache_dir) == []
    assert not cache.cacheable([Result("r", "4K", 2, "nohint", "P2", "UNKNOWN", 0.1, reason="solver gave up")])


def test_a_changed_file_the_revision_imported_misses(tmp_path):
    store = cache.Cache(str(tmp_path / "c"), {"model": "m"})
    helper = tmp_path / "helper.py"
    helper.write_text("X = 1\n")
    rs = [Result("r", "4K", 2, "nohint", "P2", "VACUOUS", 0.1, contradicting=["bbm"])]
    key = store.key("r", str(helper), {"level": 2})
    assert store.put(key, rs, {str(helper): cache._file_sha(str(helper))}) and store.get(key) == rs
    helper.write_text("X = 2\n")
    assert store.get(key) is None and not store.reported       # stale, not corrupt: no warning


def test_only_exact_values_are_stored(tmp_path):
    """A value the text form would not give back as it was makes the job
    uncacheable rather than different."""
    store = cache.Cache(str(tmp_path / "c"), {})
    odd = Result("r", "4K", 2, "nohint", "P2", "VACUOUS", 0.1, witness={"x": object()})
    assert cache.encode([odd]) is None and not store.put("k", [odd], {})
    kept = Result("r", "4K", 2, "nohint", "P2", "VACUOUS", 0.1, coverage=[(3, "T")], witness={1: {2, 3}})
    assert cache.decode(cache.encode([kept])) == [kept]


def test_directory(monkeypatch):
    assert cache.directory({"NVTLBI_CACHE_DIR": "/x/y", "XDG_CACHE_HOME": "/z"}) == "/x/y"
    assert cache.directory({"XDG_CACHE_HOME": "/z"}) == "/z/nvtlbi"
    monkeypatch.setenv("HOME", "/home/someone")
    assert cache.directory({}) == "/home/someone/.cache/nvtlbi"


def test_the_suite_never_uses_the_users_cache():
    assert os.environ[cache.ENV_OFF] and cache.directory() != cache.directory({"HOME": os.path.expanduser("~")})


def _timeless(x):
    """A --json document without its timings (and the cache's own count)."""
    if isinstance(x, dict):
        return {k: _timeless(v) for k, v in x.items() if k not in ("seconds", "cache")}
    if isinstance(x, list):
        return [_timeless(v) for v in x]
    return x


@pytest.mark.skipif(not os.environ.get("NVTLBI_FULL"), reason="minutes of solving: NVTLBI_FULL=1 runs it")
def test_the_bundled_history_says_the_same_from_the_cache(cache_dir, capsys):
    """Every bundled revision (64K, no hint: their counterexamples too): the
    second audit takes every result from the cache and its --json is the
    first's, timings aside."""
    argv = ["audit", "--granule", "64K", "--hint", "nohint", "--json"]
    code1, first, _ = run(capsys, argv)
    code2, second, err = run(capsys, argv)
    n = sum(len(x["results"]) for x in first["revisions"])
    cexs = [r for x in second["revisions"] for r in x["results"] if r["verdict"] == "COUNTEREXAMPLE"]
    assert code1 == code2 == 1 and len(first["revisions"]) >= 9 and cexs and "warning" not in err
    assert (first["cache"]["from_cache"], second["cache"]["from_cache"], second["cache"]["obligations"]) == (0, n, n)
    assert _timeless(first) == _timeless(second)


def test_values_keep_their_types():
    import enum
    kept = Result("r", "4K", 2, "nohint", "P2", "VACUOUS", 0.5, coverage=[(3, "T"), (4, "F")],
                  witness={"a": (1, [2, {3}]), 7: None, (1, 2): True, "__x": 1.5})
    again, = cache.decode(cache.encode([kept]))
    assert again == kept and type(again.coverage[0]) is tuple and type(again.witness["a"][1][1]) is set
    Level = enum.IntEnum("Level", "L1 L2")
    for odd in (frozenset({1}), Level.L1, object()):
        assert cache.encode([Result("r", "4K", 2, "nohint", "P2", "VACUOUS", 0.1, witness={"x": odd})]) is None


def test_a_cache_that_cannot_be_written_is_reported_once(tmp_path, capsys):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache directory would be")
    store = cache.Cache(str(blocked), {})
    rs = [Result("r", "4K", 2, "nohint", "P2", "VACUOUS", 0.1)]
    assert not store.put("k1", rs, {}) and not store.put("k2", rs, {}) and store.get("k1") is None
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "cannot write the proof cache" in err[0] and str(blocked) in err[0]
