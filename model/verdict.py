"""The four verdicts and what a result carries."""

from dataclasses import dataclass, field

PROVED = "PROVED"
COUNTEREXAMPLE = "COUNTEREXAMPLE"
UNKNOWN = "UNKNOWN"
VACUOUS = "VACUOUS"

EXIT = {PROVED: 0, COUNTEREXAMPLE: 1, UNKNOWN: 2, VACUOUS: 2}


@dataclass
class Result:
    revision: str
    granule: str
    level: int
    hint: str
    property: str
    verdict: str
    seconds: float
    rests_on: list = field(default_factory=list)     # assumptions in the unsat cores (PROVED)
    contradicting: list = field(default_factory=list)  # VACUOUS: the unsat core
    witness: dict = None        # cover witness: the case occurring under the assumptions
    counterexample: dict = None  # domain terms (COUNTEREXAMPLE)
    reason: str = ""            # UNKNOWN / model bug
    paths: int = 0
    coverage: list = None       # branch sides of the revision taken in this case (model/coverage.py)
    pruned: list = None         # [line, side, assumptions] that ruled branch sides out in this run
    concrete: dict = None       # PROVED: the level's paths and the cover witness replayed on impl/

    @property
    def id(self):
        return f"{self.revision}-{self.granule}-L{self.level}-{self.hint}-{self.property}"

    def exit_status(self):
        c = self.counterexample
        if self.verdict == COUNTEREXAMPLE and c and c.get("replay", "").startswith("MODEL BUG"):
            return 2
        if self.verdict == PROVED and self.concrete and self.concrete["witness"].startswith("MODEL BUG"):
            return 2            # the case does not occur concretely: the proof may be about nothing
        return EXIT[self.verdict]


def overall_exit(results):
    codes = {r.exit_status() for r in results}
    if 2 in codes:
        return 2
    return 1 if 1 in codes else 0
