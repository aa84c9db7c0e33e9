"""The registry of hint cases: one entry per case of the TLBI operand's TTL
field, as seen by the cached guest translation T containing the IPA.

An entry holds the case's name, its meaning, how the operand's TTL and the
VM's FEAT_TTL are constrained (`operand`, in words, and `fact`, the same
constraint in Z3), and whether the case excuses the TLBI for T (a valid TTL
naming another granule or level: C5.5.13 asks nothing of the range then).
impl/oracle.hint_case classifies a concrete operand into these cases
(tests/test_one_definition.py checks the two agree on every input).

Every obligation is proved per hint case (`--hint NAME`); docs/model.md's
table of them is generated from this registry (`python -m nvtlbi.docs`)."""

from dataclasses import dataclass
from typing import Callable, Union

import z3

from nvtlbi.model import arch as A

ANY = "any"         # not a hint case: no constraint on the operand (diffs, whole-level exploration)


@dataclass(frozen=True)
class Hint:
    name: str
    meaning: str
    operand: str        # how the TTL / FEAT_TTL are constrained, in words
    # fact(ttl, feat, lpa2, names) -> z3 Bool; names: the TTL naming T
    fact: Callable[[z3.BitVecRef, z3.BoolRef, z3.BoolRef, z3.BitVecRef], z3.BoolRef]
    excuses: bool = False   # the TLBI need not remove T (properties about T do not apply)

    def __str__(self) -> str:
        return self.name


NOHINT = Hint("nohint", "TTL field 0b0000", "TTL = 0 (FEAT_TTL either way)",
              lambda ttl, feat, lpa2, names: ttl == 0)
# a TTL naming T's encoding when that encoding is reserved is no information
# (the "reserved" case), as impl/oracle.hint_case says
MATCH = Hint("match", "FEAT_TTL advertised, TTL names T's granule and level",
             "FEAT_TTL, TTL = T's granule and level, not a reserved encoding",
             lambda ttl, feat, lpa2, names: z3.And(feat, ttl == names, z3.Not(A.ttl_reserved(ttl, lpa2))))
NOINFO = Hint("noinfo", "FEAT_TTL advertised, TTL[3:2]=0 with TTL[1:0] set (no information)",
              "FEAT_TTL, TTL[3:2] = 0, TTL[1:0] != 0",
              lambda ttl, feat, lpa2, names: z3.And(feat, A.ttl_tg(ttl) == 0, A.ttl_level(ttl) != 0))
RESERVED = Hint("reserved", "FEAT_TTL advertised, a reserved TTL encoding (treated as no information)",
                "FEAT_TTL, TTL a reserved encoding (ResTLBITTL; which ones depends on LPA2)",
                lambda ttl, feat, lpa2, names: z3.And(feat, A.ttl_reserved(ttl, lpa2)))
NOFEAT = Hint("nofeat", "TTL bits set while the VM does not advertise FEAT_TTL",
              "no FEAT_TTL, TTL != 0",
              lambda ttl, feat, lpa2, names: z3.And(z3.Not(feat), ttl != 0))
MISMATCH = Hint("mismatch",
                "FEAT_TTL advertised, a valid TTL naming another granule or level (TLBI excused for T)",
                "FEAT_TTL, TTL[3:2] != 0, not reserved, TTL != T's granule and level",
                lambda ttl, feat, lpa2, names: z3.And(feat, A.ttl_tg(ttl) != 0, z3.Not(A.ttl_reserved(ttl, lpa2)),
                                                      ttl != names),
                excuses=True)

HINT_CASES = [NOHINT, MATCH, NOINFO, RESERVED, NOFEAT, MISMATCH]
BY_NAME = {h.name: h for h in HINT_CASES}
HINTS = [h.name for h in HINT_CASES]                    # the names, in matrix order
HINT_MEANING = {h.name: h.meaning for h in HINT_CASES}


class UnknownHint(KeyError):
    def __str__(self) -> str:
        return f"unknown hint case {self.args[0]!r} (hint cases: {', '.join(HINTS)})"


def hint(name: Union[Hint, str]) -> Hint:
    """The entry named `name`; a misspelt name is an UnknownHint."""
    if isinstance(name, Hint):
        return name
    try:
        return BY_NAME[name]
    except KeyError:
        raise UnknownHint(name) from None


def hint_fact(name: str, ttl: z3.BitVecRef, feat: z3.BoolRef, lpa2: z3.BoolRef, shift: int,
              level: z3.BitVecRef) -> z3.BoolRef:
    """The hint case as a constraint on the operand, for T of (granule, level)."""
    names = A.ttl_names(shift, level)
    if name == ANY:
        return z3.BoolVal(True)
    return hint(name).fact(ttl, feat, lpa2, names)
