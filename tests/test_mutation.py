"""Mutation testing, a fixed handful on the 16K granule (the full run is
`nvtlbi mutate upstream`): each class is reached, with its evidence, and
the classifier reports a hole when the chain is broken."""

import ast

import pytest

from nvtlbi.impl import revision as REV
from nvtlbi.model import mutation as MU
from nvtlbi.model import replay as R
from nvtlbi.model.equiv import EQUIVALENT
from nvtlbi.model.mutants import generate
from nvtlbi import cli

with open(REV.load("upstream").path) as f:
    SOURCE = f.read()
MUTANTS = generate(SOURCE)


def _find(line, change):
    return next(m for m in MUTANTS if m.line == line and m.change == change)


SAMPLE = {
    "equivalent": (17, "c_int(ttl & 3) -> u8(ttl & 3)", EQUIVALENT),    # by its function alone
    "equivalent-diff": (56, "0 -> 1", EQUIVALENT),       # a function of the world (the MMU): the whole diff
    "wrong-size": (34, "SZ_32M -> SZ_2M", MU.KILLED),                 # 16K L2 hint gives 2M
    "loops": (82, "sz < SZ_16K -> sz <= SZ_16K", MU.KILLED),          # the walk never advances
    "bigger-fallback": (137, "VTCR_EL2_TG0_16K -> VTCR_EL2_TG0_64K", MU.KILLED),  # 512M > 32M: P5
    "excused": (22, "0 -> 1", MU.EXCUSED),            # differs only for a 4K TTL in a 16K guest
    "finer": (113, "addr < tmp + sz -> addr <= tmp + sz", MU.SAFE),   # tighter, still correct
    # WARN_ON(max_size): same ranges, a warning on every TLBI: not EQUIVALENT, P4 kills it
    "warns": (142, "not max_size -> max_size", MU.KILLED),
}


def test_generator_is_deterministic_and_covers_every_operator():
    assert len(MUTANTS) >= 30 and [m.source for m in generate(SOURCE)] == [m.source for m in MUTANTS]
    assert {m.operator for m in MUTANTS} == {"cmp", "const", "size", "ctype", "enum", "binop", "invert", "not",
                                            "boolop", "cond", "augassign"}
    for m in MUTANTS:
        assert ast.unparse(ast.parse(m.source)) != ast.unparse(ast.parse(SOURCE))
    assert _find(99, "~(sz - 1) -> sz - 1").operator == "invert"


@pytest.fixture(scope="module")
def paths():
    return MU.write([_find(line, change) for line, change, _ in SAMPLE.values()])


@pytest.mark.parametrize("name", sorted(SAMPLE))
def test_mutant_is_classified(paths, name):
    line, change, want = SAMPLE[name]
    m = _find(line, change)
    r = MU.classify("upstream", m, paths[m.id], shifts=(14,))
    assert r.verdict == want, r.evidence
    if name == "equivalent":
        assert r.evidence.startswith("ttl_to_size returns the original's value") and "same_function" in r.evidence
    if name == "equivalent-diff":
        assert "same_function" not in r.evidence
    if name == "wrong-size":
        assert r.evidence.startswith("mutant-16K-L2-nohint-P2") and "replayed on impl/" in r.evidence
    if name == "loops":
        assert "more than 10000 probes" in r.evidence
    if name == "bigger-fallback":
        assert r.by == "P5" and "replayed on impl/" in r.evidence
    if name == "warns":
        assert r.by == "P4" and "-P4: replayed on impl/" in r.evidence
    if name == "excused":
        assert "only where the TLBI is excused" in r.evidence
    if name == "finer":
        # at IPA = tmp + sz the found block ends at the IPA; bbm then leaves
        # only T = the next block of that size, so the mutant's range is T
        ex = r.example
        assert r.by == "" and "where the TLBI is obliged" in r.evidence
        assert ex["b"]["ranges"][0][1] - ex["b"]["ranges"][0][0] < ex["a"]["ranges"][0][1] - ex["a"]["ranges"][0][0]


def test_a_counterexample_that_does_not_replay_leaves_the_mutant_unexplained(paths, monkeypatch):
    """The chain broken on purpose: replays never reproduce the failure."""
    def no_replay(cex, rev, dropped=()):
        cex["replayed"] = False
        cex["replay"] = "MODEL BUG: (broken on purpose)"
    monkeypatch.setattr(R, "attach_cex", no_replay)
    # the retry on a 4K host (MU._replaying) replays through attach_cex too,
    # so it cannot replay either: skipped, it would re-prove every failing cell
    monkeypatch.setattr(MU, "_replaying", lambda rev, case, first, drop, op=None: first)
    line, change, _ = SAMPLE["wrong-size"]
    m = _find(line, change)
    # the slice where the mutant fails (16K L2: test_mutant_is_classified[wrong-size] kills it there)
    r = MU.classify("upstream", m, paths[m.id], shifts=(14,), levels=(2,))
    assert r.verdict == MU.UNEXPLAINED and "MODEL BUG" in r.evidence


def test_cli_prints_the_score(capsys):
    m = _find(*SAMPLE["equivalent"][:2])
    assert cli.main(["mutate", "upstream", "--only", m.id, "--granule", "16K", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert f"{m.id} line 17" in out and "EQUIVALENT" in out and "score: 1/1 classified (100 %)" in out


def test_cli_unknown_mutant_is_a_usage_error(capsys):
    assert cli.main(["mutate", "--only", "m999", "--jobs", "1"]) == 2
    assert "no such mutant" in capsys.readouterr().err


def test_the_originals_own_failures_kill_no_mutant():
    """A revision with a real finding (the range op's upstream fails R2
    where the guest has blocks): a mutant's counterexample of the same
    obligation with the same cause is the original's, not a kill."""
    from nvtlbi.model import ops
    from nvtlbi.model.env import Case
    op = ops.op("ripas2e1")
    base = MU._Baseline(REV.load("upstream", op.caller), op, ())
    causes = base.causes(Case(14, 2, "nolevel"))
    assert ("R2", "range") in causes
    assert ("R1", "range") not in causes        # R1 is PROVED there: a mutant failing it is killed
    assert MU._cause(op, "R4", {"error": "WARN_ON at x.c: y"}) == ("R4", "WARN_ON at x.c: y")
    assert MU._cause(op, "R2", {"error": "WARN_ON at x.c: y"}) == ("R2", "range")
