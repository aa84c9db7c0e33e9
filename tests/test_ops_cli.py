"""The command line of the range op (--op ripas2e1): `prove` runs to the
end of its text and JSON reports, exit status 1 for upstream's R2
counterexample (the finding), drawn in domain terms; and a broken decode's
R1 counterexample names the page left mapped."""

import json
import os

from nvtlbi import cli

OP = ["--op", "ripas2e1", "--jobs", "1"]
BROKEN = os.path.join(os.path.dirname(__file__), "revisions", "ripas2e1", "broken_num.py")


def test_prove_text_report_runs_to_the_end(capsys):
    # one granule, every case and default property of it
    assert cli.main(["prove", "--granule", "64K"] + OP) == 1
    out = capsys.readouterr().out
    assert out.startswith("op ripas2e1; revision upstream")
    line = next(x for x in out.splitlines() if x.startswith("COUNTEREXAMPLE upstream-64K-L2-nolevel-R2:"))
    # the operand, the range, the cached guest translation and the leaf that survived
    for part in ("TG=64K, SCALE=", "NUM=", "TTL 0b00", "range [0x", "cached guest 64K L2 translation [0x",
                 "survived: MMU #", "replayed on impl/"):
        assert part in line, (part, line)
    assert "non-vacuity: " in out and "executed: " in out and "branch coverage " in out
    assert "wall time" in out.splitlines()[-1]


def test_prove_json_says_the_op(capsys):
    assert cli.main(["prove", "--json", "--granule", "16K", "--hint", "match", "--property", "R2"] + OP) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["op"] == "ripas2e1" and doc["coverage"]["sides"] > 0
    cex = [r for r in doc["results"] if r["verdict"] == "COUNTEREXAMPLE"]
    assert {r["level"] for r in cex} == {2}, cex          # 16K blocks are L2; L3 pages are PROVED
    c = cex[0]["counterexample"]
    assert c["op"] == "ripas2e1" and c["replayed"] and c["stale"] and "TG=16K" in c["operand"]


def test_broken_decode_R1_names_the_page_left_mapped(capsys):
    assert cli.main(["prove", "--revision", BROKEN, "--granule", "16K", "--hint", "nolevel",
                     "--property", "R1"] + OP) == 1
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("COUNTEREXAMPLE broken_num-16K-L3-nolevel-R1:"))
    assert "still mapped: MMU #" in line and "host page 0x" in line, line
