"""One registry per concept: an assumption is one entry (impl/assumptions.py)
with its name, meaning, source, symbolic facts (stated by model/env.py) and
concrete predicate.  A fact under a name the registry does not have is
refused at once: on main it was guarded by a fresh z3 literal that nothing
turns on, so it silently constrained nothing."""

import pytest
import z3

from nvtlbi.impl import assumptions as REG
from nvtlbi.impl.cint import Word, u64
from nvtlbi.impl.invariants import violations
from nvtlbi.impl.nested import VM, GuestS2, handle_s2_off_fault, handle_shadow_fault, new_mmu
from nvtlbi.model import assumptions as AS
from nvtlbi.model.engine import Engine
from nvtlbi.model import hints as H
from nvtlbi.model import properties as P
from nvtlbi.model import verdict as V
from nvtlbi.model.env import Case, SymEnv
from nvtlbi.model.replay import Outcome, Scenario
from nvtlbi.model.session import Session
from nvtlbi import cli

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


def test_a_fact_under_a_misspelt_assumption_is_refused():
    engine = Engine(AS.enabled(), Session())
    x = z3.BitVec("x", 8)
    with pytest.raises(KeyError, match="'bbx'"):
        engine.record(lambda: engine.assume("bbx", x == 1))


def test_a_misspelt_fact_was_inert_which_is_why_it_must_be_refused():
    """What refusing prevents: a fact guarded by an unknown literal does not
    constrain the solver (checked on z3 directly, as main's engine did it)."""
    x = z3.BitVec("x", 8)
    s = z3.Solver()
    s.add(z3.Implies(z3.Bool("assume!bbx"), x == 1))
    assert s.check(z3.Bool("assume!bbm"), x != 1) == z3.sat


@pytest.mark.parametrize("bad", [lambda e: Engine(["bbm", "no-lpa"], Session()),
                                 lambda e: e.on("get-leaf-rnage"),
                                 lambda e: e.lit("tag_truth"),
                                 lambda e: e.assume(REG.Assumption("bbm", "a copy", "nowhere", unchecked="x"),
                                                    z3.BoolVal(True))])
def test_every_way_into_the_engine_refuses_an_unregistered_assumption(bad):
    engine = Engine(AS.enabled(), Session())
    engine.record(lambda: None)
    with pytest.raises(KeyError):
        bad(engine)


@pytest.mark.parametrize("extra", [(), ("invalid-tag-truth",)])
def test_the_environment_states_facts_of_every_enabled_assumption(extra):
    """Both MMUs probed twice: every default assumption (and the opt-in one
    when on) guards at least one fact; an entry whose facts were all
    misattributed would show up here as missing.  (Facts of an assumption
    that is off are stated too: its literal is off, which is what --drop means.)"""
    engine = Engine(AS.enabled(extra=extra), Session())

    def setup():
        env = SymEnv(engine, Case(12, 2, "any"))
        for mmu in (0, 1):
            env.probe(Word(u64, env.ipa), mmu)
            env.probe(Word(u64, env.ipa & ~0x1FFFFF), mmu)
    names = {n for n, _ in engine.record(setup)}
    assert set(engine.enabled) <= names <= set(REG.REGISTRY)


def test_every_entry_has_a_concrete_predicate_or_says_why_not():
    for a in REG.ASSUMPTIONS + REG.OPT_IN:
        assert callable(a.check) or a.unchecked, a.name
    with pytest.raises(ValueError):
        REG.Assumption("x", "meaning", "source")       # neither


def _names(mmu, guest):
    return {n for n, _ in violations(mmu, guest)}


def test_the_predicates_added_with_the_registry_see_their_broken_states():
    guest = GuestS2(12)
    vm = VM(feat_ttl=True)
    mmu = new_mmu(vm, guest, 12)
    guest.map(0, 2, 0)
    handle_shadow_fault(mmu, guest, 0x1000)
    assert _names(mmu, guest) == set()
    vm.vcpu.sys_regs["VTCR_EL2"] ^= 1 << 15                     # the guest changed its granule
    off = new_mmu(vm, guest, 12, s2_enabled=False)
    handle_s2_off_fault(off, 0x5000)
    off.pgt.map(0x6000, 0x1000, 0x6000, nv_level=3)             # a tagged S2-off leaf
    guest.lpa2 = True
    assert {"vtcr-current", "s2off-untagged", "no-lpa2"} <= _names(mmu, guest)


def test_get_leaf_ret_sees_a_walker_that_returns_something_else(monkeypatch):
    guest = GuestS2(12)
    mmu = new_mmu(VM(feat_ttl=True), guest, 12)
    from nvtlbi.impl.cint import s32
    real = mmu.pgt.get_leaf
    monkeypatch.setattr(mmu.pgt, "get_leaf", lambda a: (Word(s32, -22),) + tuple(real(a)[1:]))
    assert "get-leaf-ret" in _names(mmu, guest)


def test_cli_lists_every_registered_assumption(capsys):
    assert cli.main(["assumptions"]) == 0
    out = capsys.readouterr().out
    assert all(a.name in out for a in REG.ASSUMPTIONS + REG.OPT_IN)


def test_a_revision_naming_an_unregistered_opt_in_assumption_is_a_usage_error(tmp_path, capsys):
    src = (ROOT / "impl" / "revisions" / "upstream.py").read_text()
    f = tmp_path / "rev.py"
    f.write_text(src + '\nASSUMES = ("invalid-tag-truh",)\n')
    line = len(src.splitlines()) + 2
    code = cli.main(["prove", "--revision", str(f), "--granule", "16K", "--hint", "match", "--jobs", "1"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert err.startswith(f"nvtlbi: error: {f}:{line}: ") and "invalid-tag-truh" in err


# ---- properties, hint cases, verdicts: one entry each, looked up by name ----------------------
@pytest.mark.parametrize("lookup, name", [(P.prop, "P6"), (P.prop, "p2"), (H.hint, "nohnt"), (V.verdict, "PROVEN")])
def test_a_misspelt_name_is_a_clear_error(lookup, name):
    with pytest.raises(KeyError, match=repr(name)) as e:
        lookup(name)
    assert "P1" in str(e.value) or "nohint" in str(e.value) or "PROVED" in str(e.value)


def test_entries_are_frozen():
    import dataclasses
    for entry, field in [(P.P2, "about_T"), (H.MISMATCH, "excuses"), (V.verdict("PROVED"), "exit")]:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(entry, field, None)


def test_which_hints_a_property_applies_to_is_the_rule_it_was():
    """P2 and P5 say nothing under a hint that excuses the TLBI for T (mismatch)."""
    for p in P.PROPERTIES:
        for h in H.HINTS:
            assert P.applies(p, h) == (not (p in ("P2", "P5") and h == "mismatch")), (p, h)
    assert P.ISOLATION == ("P1", "P2", "P3", "P4") and V.EXIT == {"PROVED": 0, "COUNTEREXAMPLE": 1,
                                                                     "UNKNOWN": 2, "VACUOUS": 2}


def test_the_replay_dispatches_through_the_property_entry(monkeypatch):
    """The concrete check is the entry's: replacing it changes what the
    replay says, and an unregistered property is refused, not ignored."""
    sc = Scenario(12, 12, False, True, 0, 1, "P1")    # operand 1: IPA 0x1000
    out = Outcome([(0x1000, 0x1000, 0)], [], [], [], [])
    assert not out.violates(sc)
    monkeypatch.setitem(P.PROPERTIES, "P1", __import__("dataclasses").replace(P.P1, violated=lambda o, s: True))
    assert out.violates(sc)
    with pytest.raises(P.UnknownProperty):
        out.violates(Scenario(12, 12, False, True, 0, 0, "P9"))
