"""The same code, proved once (nvtlbi/sharing.py): a post reposted unchanged
at other lines takes the proof of the first, moved to its own lines and
name, and says so; anything that would name the other post is proved
again instead."""

import json
import os
import shutil

import pytest

from nvtlbi import cache, cli, sharing

C = os.path.join(os.path.dirname(__file__), "c")
SLICE = ["--granule", "4K", "--level", "2", "--hint", "nohint", "--property", "P2", "--jobs", "1", "--json"]


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """The cache on (the suite turns it off), in this test's own directory."""
    monkeypatch.setenv(cache.ENV_DIR, str(tmp_path / "cache"))
    monkeypatch.delenv(cache.ENV_OFF, raising=False)


@pytest.fixture
def reposted(tmp_path):
    """broken_u16.c (its WARN_ON fires in the slice), and the same code as a
    mail three lines further down."""
    first = tmp_path / "v1.c"
    shutil.copy(os.path.join(C, "broken_u16.c"), first)
    again = tmp_path / "v2.txt"
    again.write_text("/* v2: rebased, no change */\n\n\n" + first.read_text())
    return first, again


def _audit(capsys, *args):
    code = cli.main(["audit", *args])
    return code, json.loads(capsys.readouterr().out)


def _results(doc, i):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in doc["revisions"][i]["results"]]


def test_a_repost_takes_the_proof_of_the_first_at_its_own_lines(reposted, cache_dir, capsys):
    first, again = reposted
    code, both = _audit(capsys, str(first), str(again), *SLICE)
    assert code == 1 and both["cache"]["shared"] == {"v2": ["v1"]}
    assert both["cache"]["from_cache"] == len(both["revisions"][1]["results"]) == 1
    assert any("results taken from v1" in n for n in both["revisions"][1]["notes"])
    # what the repost gets is what proving it alone gives: its own name, and
    # the site of its WARN_ON at its own line (three lines further down)
    _, alone = _audit(capsys, str(again), *SLICE, "--no-cache")
    assert _results(both, 1) == _results(alone, 0)
    line = next(i for i, t in enumerate(again.read_text().splitlines(), 1) if "WARN_ON(!max_size)" in t)
    cex = next(r["counterexample"] for r in _results(both, 1) if r["counterexample"])
    assert cex["error"] == f"WARN_ON at {again}:{line}" and cex["replayed"]
    # and in a later run, from the cache alone
    _, later = _audit(capsys, str(again), *SLICE)
    assert later["cache"]["from_cache"] == 1 and _results(later, 0) == _results(alone, 0)


def _ident(tmp_path, name, lines, value="x"):
    """A translated module of one statement at `lines` of post `name`."""
    p = tmp_path / f"{name}.py"
    p.write_text(f'{sharing.HEADER} from {name}.txt (profile v2024).  Generated: do not edit."""\n'
                 f"@kfunc\ndef f(x: u8) -> u8:  # C: /p/{name}.txt:{lines[0]}\n"
                 f"    return {value}  # /p/{name}.txt:{lines[1]}\n")
    return sharing.identity(str(p), name)


def test_relocate_moves_only_what_names_a_place_of_the_donor(tmp_path):
    a, b = _ident(tmp_path, "a1", (10, 12)), _ident(tmp_path, "b2", (20, 22))
    assert a.code == b.code and a.translated
    good = json.dumps([{"revision": "a1", "counterexample": {"error": "WARN_ON at /p/a1.txt:12"}}])
    assert json.loads(sharing.relocate(good, a, b))[0]["counterexample"]["error"] == "WARN_ON at /p/b2.txt:22"
    # a line of the donor's post that is none of its places, the post
    # named without a line, the donor's name elsewhere: proved again
    for bad in ("WARN_ON at /p/a1.txt:13", "see /p/a1.txt", "a1-4K-L2-nohint-P2", "WARN_ON at /tmp/x/a1.py:9"):
        assert sharing.relocate(json.dumps([{"revision": "a1", "reason": bad}]), a, b) is None, bad
    # other code (a repost that changed a statement): another identity, and
    # nothing moves to it; the cache key differs too, so it is proved itself
    c = _ident(tmp_path, "c3", (30, 33), value="x + u8(1)")
    assert c.code != a.code and sharing.relocate(good, a, c) is None


def test_a_hand_written_revision_is_its_own_text(tmp_path):
    p = tmp_path / "r.py"
    p.write_text("def f(x):  # C: /p/a.txt:1\n    return x\n")
    i = sharing.identity(str(p), "r")
    assert not i.translated and i.key_part() == {"name": "r", "text": i.code}
