"""The TLBI obligation, the hint cases and the properties exist twice: in
Z3 (model/arch.py, model/env.hint_fact, model/properties.holds) for the
proofs and in Python (impl/oracle.py, model/replay.Outcome.violates) for
the replay that confirms a counterexample.  They are checked equal here,
exhaustively on their finite domain: TTL (4 bits) x FEAT_TTL x LPA2 x
granule x level for the obligation and the hint cases; for P1-P4, every
kind of run ending (a range, BUG(), WARN_ON, another exception) over a
grid of ranges with the boundary cases (empty, wrapping, touching); for
P5, every operand, level of T, tagged leaf where a look-up reads, and
range kind.  (P2's range half is a statement about shadow leaves, which
the replay checks per counterexample; its obligation half is here.)

On main the symbolic "match" case overlapped "reserved" (a TTL naming T's
own encoding when that encoding is reserved), so P5 asked for exactness
where the architecture gives no information; and the replay counted a
BUG() as a failure of P1-P3, a crash as a failure of P4, and a run that
unmapped nothing as meeting P5."""

import itertools
from types import SimpleNamespace

import pytest
import z3

from nvtlbi.impl import granule as G
from nvtlbi.impl import oracle
from nvtlbi.impl.cint import UndefinedBehaviour
from nvtlbi.impl.kernel import KernelBug
from nvtlbi.impl.nested import Translation
from nvtlbi.impl.tlbi import make_operand
from nvtlbi.model import arch as A
from nvtlbi.model import properties as P
from nvtlbi.model.env import HINTS, hint_fact
from nvtlbi.model.replay import Outcome, Scenario
from nvtlbi.model.symhooks import Warned

OPERANDS = list(itertools.product(range(16), (False, True), (False, True)))      # TTL x FEAT_TTL x LPA2
TTL, FEAT, LPA2 = z3.BitVec("ttl", 4), z3.Bool("feat_ttl"), z3.Bool("lpa2")


def _true(e):
    e = z3.simplify(e)
    assert z3.is_true(e) or z3.is_false(e), e      # a concrete input decides it
    return z3.is_true(e)


ATOMS = {(t, f, l): z3.And(TTL == t, FEAT == f, LPA2 == l) for t, f, l in OPERANDS}


def _table(holds):
    """The concrete predicate as a formula: the disjunction of the operands it holds for."""
    return z3.Or([ATOMS[o] for o in OPERANDS if holds(*o)] + [z3.BoolVal(False)])


def obligation_disagreements():
    """(what, granule, level, a disagreeing operand) over the whole domain:
    for each granule and level, z3 checks that the symbolic form and the
    concrete one's table are equal on all 64 operands (one query each)."""
    for shift, level in itertools.product(sorted(G.GRANULES.values()), range(4)):
        T = Translation(shift, level, 0, 0)
        pairs = [
            ("ttl_reserved", A.ttl_reserved(TTL, LPA2), _table(lambda t, f, l: oracle.ttl_reserved(t, l))),
            ("obliged", A.obliged(TTL, FEAT, LPA2, shift, A.lvl(level)),
             _table(lambda t, f, l: oracle.obliged(T, t, f, l))),
            ("ttl_names", TTL == A.ttl_names(shift, A.lvl(level)),
             _table(lambda t, f, l: t == G.TTL_TG_OF[shift] << 2 | level)),
            ("ttl_names(int level)", TTL == A.ttl_names(shift, level),
             _table(lambda t, f, l: t == G.TTL_TG_OF[shift] << 2 | level)),
        ]
        pairs += [(f"hint case {h}", hint_fact(h, TTL, FEAT, LPA2, shift, A.lvl(level)),
                   _table(lambda t, f, l, h=h: oracle.hint_case(t, f, l, T) == h)) for h in HINTS]
        for what, symbolic, concrete in pairs:
            s = z3.Solver()
            s.add(symbolic != concrete)
            if s.check() != z3.unsat:
                m = s.model()
                yield what, G.name(shift), level, (m.eval(TTL, True).as_long(), z3.is_true(m.eval(FEAT, True)),
                                                   z3.is_true(m.eval(LPA2, True)))


def test_obligation_and_hint_cases_agree_on_every_input():
    assert list(obligation_disagreements()) == []


@pytest.mark.parametrize("side,name,broken", [
    # 64K L0 forgotten among the reserved encodings
    (oracle, "ttl_reserved", lambda ttl, lpa2: ttl in (0b0100,) and not lpa2 or ttl in (0b1000,)
     or ttl == 0b1001 and not lpa2),
    # a wrong TTL taken as an obligation only when FEAT_TTL is off
    (oracle, "obliged", lambda trans, ttl, feat, lpa2: not feat),
    (A, "obliged", lambda ttl, feat, lpa2, shift, level: z3.Not(feat)),
])
def test_the_agreement_check_catches_a_broken_side(monkeypatch, side, name, broken):
    monkeypatch.setattr(side, name, broken)
    assert next(obligation_disagreements(), None) is not None


# ---- P1-P4 on a run's ending -----------------------------------------------------------------
IPAS = [0, 0x1000, 0x7FFF000, (1 << 48) - 0x1000]
BASES = [0, 0x1000, 0x2000, (1 << 64) - 0x2000]
SIZES = [0, 0x1000, 0x2000, 0x3000, 1 << 63]
ENDINGS = [     # the replay's record of a run's end, the path's (error, warnings) in the engine
    (None, (None, [])),
    ("KernelBug: BUG() at x.c:1", (KernelBug("x.c:1"), [])),
    ("WARN_ON at x.c:2", (None, [Warned("x.c:2", z3.BoolVal(True))])),
    # a WARN_ON recorded with its condition (warn_if): it fires where that holds
    ("WARN_ON at x.c:3", (None, [Warned("x.c:3", z3.BitVecVal(1, 8) == 1)])),
    (None, (None, [Warned("x.c:4", z3.BitVecVal(1, 8) == 0)])),
    ("UndefinedBehaviour: shift by 64", (UndefinedBehaviour("shift by 64"), [])),
]


def _ranges():
    one = [(b, s) for b in BASES for s in SIZES]
    return [[]] + [[r] for r in one] + [[r, q] for r in one[::3] for q in one[1::4]]


def _symbolic(prop, ipa, ranges, error, warnings):
    bv = lambda x: z3.BitVecVal(x, 64)
    env = SimpleNamespace(ipa=bv(ipa), unmaps=[(bv(b), bv(s), 0) for b, s in ranges], warnings=warnings)
    return not _true(P.holds(prop, env, error))


def _concrete(prop, ipa, ranges, ending):
    sc = Scenario(12, 12, False, True, 0, make_operand(ipa), prop)
    return Outcome([(b, s, 0) for b, s in ranges], [], [], [], [], ending).violates(sc)


def range_property_disagreements(props=("P1", "P3", "P4")):
    for prop, ipa, ranges, (ending, (error, warnings)) in itertools.product(props, IPAS, _ranges(), ENDINGS):
        c, s = _concrete(prop, ipa, ranges, ending), _symbolic(prop, ipa, ranges, error, warnings)
        if c != s:
            yield prop, hex(ipa), ranges, ending, c, s


def test_p1_p3_p4_agree_on_every_ending_and_range():
    assert list(range_property_disagreements()) == []


def test_the_range_agreement_check_catches_a_broken_side(monkeypatch):
    """P3 written without the wrap-around check, concretely."""
    real = Outcome.violates

    def no_wrap_check(self, sc):
        if sc.prop == "P3" and self.error is None:
            return not self.ranges or any(s == 0 or s & (s - 1) for b, s, _ in self.ranges)
        return real(self, sc)
    monkeypatch.setattr(Outcome, "violates", no_wrap_check)
    assert next(range_property_disagreements(("P3",)), None) is not None


# ---- P5 ----------------------------------------------------------------------------------------
def _p5_ranges(T, shift):
    """Exactly T, larger, smaller, T in both MMUs, only the S2-off MMU's,
    none, and twice the largest block with and without LPA2."""
    half = max(T.size // 2, 0x1000)
    largest = {G.level_size(shift, min(G.guest_leaf_levels(shift, lpa2))) for lpa2 in (False, True)}
    return [[(T.base, T.size, 0)], [(T.base, 2 * T.size, 0)], [(T.base + half, half, 0)],
            [(T.base, T.size, 0), (T.base, T.size, 1)], [(T.base, T.size, 1)], []] + \
        [[(0, 2 * size, 0)] for size in sorted(largest)]


def p5_disagreements():
    """For every granule, level of T (LPA2 levels too), shadow S2 (no tagged
    leaf, or one where a look-up reads: the IPA aligned down to each block
    size) and range, z3 checks the symbolic P5 against the concrete one's
    table over all 64 operands (TTL x FEAT_TTL x LPA2)."""
    for shift in sorted(G.GRANULES.values()):
        sizes = sorted(G.level_size(shift, lv) for lv in G.guest_leaf_levels(shift))      # the seed reads
        for level in G.guest_leaf_levels(shift, True):
            T = Translation(shift, level, 3 * G.level_size(shift, level), 0)
            ipa = T.base + (T.size // 2 & ~0xFFF)
            for tagged_at in [None] + [ipa & ~(sz - 1) for sz in sizes]:
                page = 1 << shift
                leaves = [] if tagged_at is None else [(tagged_at, page, 3, 1 | 3 << 55, None)]
                seeds = [(sz, SimpleNamespace(tagged=z3.BoolVal(any(b <= ipa & ~(sz - 1) < b + s
                                                                     for b, s, *_ in leaves))))
                         for sz in sizes]
                for ranges in _p5_ranges(T, shift):
                    bv = lambda x: z3.BitVecVal(x, 64)
                    env = SimpleNamespace(ipa=bv(ipa), ttl=TTL, feat=FEAT, lpa2=LPA2, seeds=seeds,
                                          case=SimpleNamespace(shift=shift), T_level=A.lvl(level),
                                          T_base=bv(T.base), T_size=bv(T.size), warnings=[],
                                          unmaps=[(bv(b), bv(s), m) for b, s, m in ranges])

                    def concrete(t, f, l):
                        sc = Scenario(shift, 12, l, f, 0, make_operand(ipa, t), "P5")
                        sc.T = T
                        return Outcome(ranges, [], [], leaves, []).violates(sc)
                    s = z3.Solver()
                    s.add(z3.Not(P.holds("P5", env)) != _table(concrete))
                    if s.check() != z3.unsat:
                        yield G.name(shift), level, tagged_at, ranges, s.model()


def test_p5_agrees_on_every_operand_shadow_and_range():
    assert next(p5_disagreements(), None) is None


def test_the_p5_agreement_check_catches_a_broken_side(monkeypatch):
    """The concrete P5 reading the TTL as informative without FEAT_TTL."""
    real = oracle.hint_case
    monkeypatch.setattr(oracle, "hint_case",
                        lambda ttl, feat, lpa2, T: real(ttl, True, lpa2, T) if ttl else real(ttl, feat, lpa2, T))
    assert next(p5_disagreements(), None) is not None
