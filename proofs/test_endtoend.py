"""The end-to-end theorem (model/endtoend.py): no shadow leaf survives the
emulation of a guest TLBI IPAS2E1 that had to remove it, in every reachable
state.  PROVED for upstream in the suite on one granule pair and level
(a 4K guest on 4K host pages, T at level 3), on every granule and level
with NVTLBI_FULL=1.  It is not PROVED, and says why, when the producer is
broken, when an entry is taken off the trusted list, or (NVTLBI_FULL=1) for
ripas2e1 and vncr upstream, whose known findings stand."""

import os

import pytest

from nvtlbi import cli
from nvtlbi.impl import producers
from nvtlbi.impl import revision as REV
from nvtlbi.model import endtoend as E
from nvtlbi.model.verdict import COUNTEREXAMPLE, PROVED, UNKNOWN

HERE = os.path.dirname(os.path.abspath(__file__))
BROKEN = os.path.join(HERE, "..", "tests", "producers")
FULL = bool(os.environ.get("NVTLBI_FULL"))
GRANULES, LEVELS = (None, None) if FULL else (["4K"], [3])


@pytest.fixture(scope="module")
def upstream():
    """The evidence for upstream, run once: (a) the fault's preservation
    obligations, (b) P1-P3 of upstream in scope (about 9 s of CPU)."""
    results = E.op_results("ipas2e1", REV.load("upstream"), GRANULES, LEVELS)
    initial, pres, stopped = E.preservation(GRANULES)
    return E.Evidence(GRANULES or [], initial, pres, results, stopped)


def test_upstream_ipas2e1_is_proved(upstream):
    th = E.judge("ipas2e1", upstream)
    assert th.verdict == PROVED and not th.missing, th.missing
    assert th.invariant == E.invariant_names(), th.invariant
    # the IPAS2E1 proofs rest on the tags: those are theorems now, not trust
    assert {"tag-truth", "leaf-tagged"} <= set(th.theorems), th.theorems
    trusted = {t["name"] for t in th.trusted}
    assert "bbm" in trusted and not trusted & set(th.invariant), trusted


def test_broken_producer_refutes_it(upstream):
    """A producer that tags with the host level breaks tag-truth: the
    theorem is a COUNTEREXAMPLE naming the obligation, replayed on impl/,
    and the IPAS2E1 proofs that rest on tag-truth no longer count."""
    p = producers.load(os.path.join(BROKEN, "tag_host_level.py"))
    initial, pres, stopped = E.preservation(["4K"], {"fault": p}, stop=True)
    ev = E.Evidence(["4K"], initial, pres, upstream.op_results, stopped)
    th = E.judge("ipas2e1", ev)
    assert th.verdict == COUNTEREXAMPLE, th
    assert any(m.startswith("(a) fault-preserves-tag-truth-4K-host4K: COUNTEREXAMPLE; replayed on impl/: tag-truth")
               for m in th.missing), th.missing
    assert "(c) the proofs rest on tag-truth (a candidate of the invariant whose proof did not hold): neither " \
           "proved in (a) nor trusted" in th.missing, th.missing
    assert any("STALE" in e for p in pres for e in p.trace), [p.trace for p in pres]


@pytest.mark.parametrize("name,why", [
    # bbm: IPAS2E1's proofs rest on it, and so does the proof that the fault
    # keeps leaf-tagged, so leaf-tagged stops being a theorem too
    ("bbm", ["(a) leaf-tagged's preservation rests on bbm: neither in the invariant nor trusted",
             "(c) the proofs rest on bbm: neither proved in (a) nor trusted",
             "(c) the proofs rest on leaf-tagged (a candidate of the invariant whose proof did not hold): "
             "neither proved in (a) nor trusted"]),
    ("stable-pgt", ["(c) the proofs rest on stable-pgt: neither proved in (a) nor trusted"]),
    ("unmap", ["(a) transition unmap is neither modelled nor trusted"])])
def test_untrusted_entry_leaves_it_unproved(upstream, name, why):
    th = E.judge("ipas2e1", upstream, E.untrust([name]))
    assert th.verdict == UNKNOWN and th.missing == why, th.missing


def test_trusted_list_trusts_no_theorem():
    """An assumption the producers are proved to keep, or a transition that
    is modelled, is not also trusted: when a transition starts proving one
    (vtcr-stable, get-leaf-range; the unmap, MMU recycling), its trusted
    entry goes."""
    both = {t.name for t in E.TRUSTED} & (set(E.invariant_names()) | {t.name for t in E.TRANSITIONS})
    assert not both, f"proved and still trusted: {sorted(both)} (remove them from model/endtoend.py TRUSTED)"


def test_cli_refuses_what_it_cannot_mean(capsys):
    assert cli.main(["end-to-end", "--untrust", "bbb", "--granule", "4K"]) == 2
    assert cli.main(["end-to-end", "--property", "P1"]) == 2
    assert cli.main(["end-to-end", "--op", "ripas2e1", "--hint", "match"]) == 2
    err = capsys.readouterr().err
    assert "--untrust bbb: not on the trusted list" in err and "--property: the theorem" in err, err


@pytest.mark.skipif(not FULL, reason="about a minute: NVTLBI_FULL=1")
@pytest.mark.parametrize("op,prop,level", [("ripas2e1", "R2", 2), ("vncr", "V1", 2)])
def test_known_findings_stop_it(upstream, op, prop, level):
    """ripas2e1 and vncr upstream: not PROVED, the known finding named."""
    from nvtlbi.model import ops
    results = E.op_results(op, REV.load("upstream", ops.op(op).caller), ["64K" if op == "vncr" else "4K"], [level])
    th = E.judge(op, E.Evidence([], upstream.initial, upstream.preservation, results))
    assert th.verdict == COUNTEREXAMPLE, th.missing
    assert any(f"-{prop}: COUNTEREXAMPLE (known finding about the kernel" in m for m in th.missing), th.missing


def test_cex_draws_an_invariant_trace(capsys):
    """`nvtlbi cex --invariants` draws a producer's preservation
    counterexample as the events replayed on impl/, ending in the TLBI."""
    code = cli.main(["cex", "--invariants", "--revision", os.path.join(BROKEN, "perm_fault_untagged.py"),
                     "--id", "fault-preserves-leaf-tagged-4K-host4K"])
    out = capsys.readouterr().out
    assert code == 1, out
    assert out.startswith("fault-preserves-leaf-tagged-4K-host4K: COUNTEREXAMPLE: the fault transition"), out
    assert "1. guest maps 4K L1" in out and "permission fault (a write)" in out, out
    assert "operand TTL 0b0000 (no hint)" in out and "TLBI IPAS2E1IS" in out and ": unmaps [" in out, out
    assert "replayed on impl/: right after the fault, leaf-tagged breaks: shadow leaf" in out, out
    assert "after the TLBI: no stale shadow leaf" in out, out


@pytest.mark.skipif(not FULL, reason="the op's matrix in workers: NVTLBI_FULL=1")
def test_cli_proves_it(capsys):
    assert cli.main(["end-to-end", "--granule", "4K", "--level", "3", "--no-cache", "--jobs", "1", "--json"]) == 0
    import json
    th = json.loads(capsys.readouterr().out)["theorem"]
    assert th["verdict"] == PROVED and th["missing"] == [], th
