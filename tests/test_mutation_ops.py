"""Mutation testing of the issue-13 ops (ripas2e1, vncr): a few mutants of
each classified as docs/mutation-ripas2e1.txt and docs/mutation-vncr.txt
record them (NVTLBI_FULL=1: every recorded mutant, minutes to hours), and
the V3 gap one mutant exposed: clearing a fixmap slot no pseudo-TLB holds."""

import functools
import json
import os
import re

import pytest

from nvtlbi.impl import kernel
from nvtlbi.impl import revision as REV
from nvtlbi.model import mutation as MU
from nvtlbi.model import ops
from nvtlbi.model import vncr_props as VP
from nvtlbi.model import vncr_replay as VR
from nvtlbi.model.mutants import generate

FULL = bool(os.environ.get("NVTLBI_FULL"))
DOCS = os.path.join(os.path.dirname(__file__), "..", "docs")
SHIFTS = {"4K": 12, "16K": 14, "64K": 16}


@functools.lru_cache(maxsize=None)
def _mutants(op):
    # generating vncr's 97 costs seconds (a deepcopy of the module per mutant): once
    o = ops.op(op)
    with open(REV.load("upstream", o.caller).path) as f:
        return {m.id: m for m in generate(f.read())}


def _recorded(op):
    """{mutant id: (change, class)} and the slice (granules, levels) of the
    recorded run, from its doc's header line and result lines."""
    with open(os.path.join(DOCS, f"mutation-{op}.txt")) as f:
        text = f.read()
    head = re.search(r"^mutants of upstream .*; granules: ([\w, ]+?)(?:; levels: ([\d, ]+) only)?$", text, re.M)
    shifts = tuple(SHIFTS[g.strip()] for g in head.group(1).split(","))
    levels = tuple(int(x) for x in head.group(2).split(",")) if head.group(2) else None
    rows = {m.group(1): (m.group(2), m.group(3)) for m in
            re.finditer(r"^(m\d{3}) line \d+\s+\w+\s+([A-Z]+)\s+(.*?)  \(\d+s\)$", text, re.M)}
    return {k: (change, verdict) for k, (verdict, change) in rows.items()}, shifts, levels


# the cheap ones of the suite: seconds on one granule (ripas2e1's m001), or
# no solving at all (ripas2e1's m017, a NULL dereference, and the vncr ones,
# each killed on a generated world of 16K before any solving: V1, V3, and V5
# three ways); every other costs minutes (NVTLBI_FULL=1)
CHEAP = {"ripas2e1": {"m001": (14,), "m017": (14,)},
         "vncr": {"m013": (14,), "m016": (14,), "m034": (14,), "m074": (14,), "m083": (14,)}}


def _cases():
    out = []
    for op in ("ripas2e1", "vncr"):
        rec, shifts, levels = _recorded(op)
        for mid in sorted(rec) if FULL else sorted(CHEAP[op]):
            out.append((op, mid, CHEAP[op].get(mid, shifts) if not FULL else shifts, levels))
    return out


@pytest.mark.parametrize("op,mid,shifts,levels", _cases(), ids=[f"{c[0]}-{c[1]}" for c in _cases()])
def test_mutant_is_classified_as_recorded(op, mid, shifts, levels):
    rec, _, _ = _recorded(op)
    change, want = rec[mid]
    m = _mutants(op)[mid]
    assert m.change == change, (mid, m.change, change)      # the generator still makes the recorded mutant
    path = MU.write([m])[mid]
    r = MU.classify("upstream", m, path, shifts=shifts, op=op, levels=levels)
    assert r.verdict == want, (mid, r.verdict, r.evidence)
    if want == MU.KILLED:
        assert "replayed on impl/" in r.evidence or r.by == "loop", r.evidence


def test_recorded_runs_are_complete_and_fully_classified():
    """Each doc lists every generated mutant once (or says it is partial:
    which ones it lists), none UNEXPLAINED."""
    for op in ("ripas2e1", "vncr"):
        rec, _, _ = _recorded(op)
        mutants = _mutants(op)
        with open(os.path.join(DOCS, f"mutation-{op}.txt")) as f:
            partial = re.search(r"^# partial: (\d+) of (\d+) mutants", f.read(), re.M)
        if partial:
            assert (int(partial.group(1)), int(partial.group(2))) == (len(rec), len(mutants)), op
            assert set(rec) <= set(mutants), op
        else:
            assert set(rec) == set(mutants), (op, sorted(set(mutants) - set(rec)))
        assert all(mutants[k].change == c for k, (c, _) in rec.items())
        assert MU.UNEXPLAINED not in {v for _, v in rec.values()}, op


def _world(cpu):
    # vCPU 0 holds a global 64K level-3 VNCR page, mapped on `cpu` (-1: on
    # none); vCPU 1's pseudo-TLB is allocated and empty (unallocated, TLBIs
    # reach upstream's NULL dereference: proofs/test_vncr.py); the guest
    # issues TLBI ALLE2 (kind "all")
    v0 = {"alloc": True, "valid": True, "gva": 0x10000, "pa": 0x40000, "nG": False, "asid": 0, "cpu": cpu}
    v1 = {"alloc": True, "valid": False, "gva": 0, "pa": 0, "nG": False, "asid": 0, "cpu": -1}
    return {"granule": "64K", "host_granule": "4K", "level": 3, "vts": [v0, v1], "kind": "all", "val": 0,
            "lpa2": False, "ds": False, "start": 0, "end": 0x1000}


def test_V3_fails_when_a_fixmap_slot_no_pseudo_tlb_holds_is_cleared():
    """mutant m016 of vncr (`if vt.cpu != -1:` always taken) clears
    vncr_fixmap(-1) = FIX_VNCR + 1, the next enum fixed_addresses entry, for
    a pseudo-TLB mapped on no CPU.  Before V3 said "no other slot" it was
    SAFE (every property held); V3 now fails on it, concretely, and holds
    for upstream on the same world."""
    op = ops.op("vncr")
    up = REV.load("upstream", op.caller)
    with open(up.path) as f:
        src = f.read()
    # the mutant's source without generating all 97 (seconds): the one
    # change; test_V3_symbolically_kills_the_stray_fixmap_mutant takes it
    # from the generator
    assert src.count("    if vt.cpu != -1:\n") == 1
    path = MU.write([type("M", (), {"id": "m016", "source": src.replace("    if vt.cpu != -1:\n", "    if True:\n")})])
    mutant = REV.load(path["m016"], op.caller)
    for cpu in (-1, 0):
        d = _world(cpu)
        got = {name: VR.execute(d, VR.build(d), rev) for name, rev in (("upstream", up), ("mutant", mutant))}
        assert got["upstream"].after == got["mutant"].after == [False, False]      # both drop the entry
        assert not VP.V3.violated(got["upstream"], d)
        assert VP.V3.violated(got["mutant"], d) == (cpu == -1), cpu
        if cpu == -1:
            assert got["mutant"].fixmap_stray == [kernel.FIX_VNCR + 1]


@pytest.mark.skipif(not FULL, reason="minutes of solving: NVTLBI_FULL=1 runs it")
def test_V3_symbolically_kills_the_stray_fixmap_mutant():
    from nvtlbi.model.prover import prove_level
    from nvtlbi.model.verdict import COUNTEREXAMPLE, PROVED
    op = ops.op("vncr")
    m = next(m for m in _mutants("vncr").values() if m.change == "if vt.cpu != -1: -> if True:")
    r = prove_level(REV.load(MU.write([m])[m.id], op.caller), 16, 3, ["all"], props=("V3",), op=op)[0]
    assert r.verdict == COUNTEREXAMPLE and r.counterexample["replayed"], r.counterexample
    assert r.counterexample["survived"] == ["fixmap slot FIX_VNCR+1 cleared, no pseudo-TLB's"]
    r = prove_level(REV.load("upstream", op.caller), 16, 3, ["all"], props=("V3",), op=op)[0]
    assert r.verdict == PROVED, (r.verdict, r.reason)


def test_cli_level_slice_is_said(capsys):
    # m017 dies on a generated world (no solving): the slice is in the header and the --json
    from nvtlbi import cli
    args = ["mutate", "--op", "ripas2e1", "--only", "m017", "--granule", "16K", "--level", "2", "--jobs", "1"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "op ripas2e1; granules: 16K; levels: 2 only" in out and "KILLED" in out, out
    assert cli.main(args + ["--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["op"] == "ripas2e1" and doc["levels"] == [2] and doc["counts"]["KILLED"] == 1, doc
