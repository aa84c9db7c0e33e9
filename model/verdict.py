"""The registries of verdicts and of exit statuses, and what a result carries.

A verdict entry holds its name and the exit status it gives; an
exit-status entry says when nvtlbi exits with it.  The verdicts' names are
the strings a Result carries.  docs/user-guide.md's table of exit statuses
is generated from here (`python -m nvtlbi.docs`)."""

import builtins
from dataclasses import dataclass, field
from typing import Iterable


@dataclass(frozen=True)
class Verdict:
    name: str
    exit: int           # the exit status a result with this verdict gives (a MODEL BUG gives 2)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class ExitStatus:
    code: int
    meaning: str


VERDICTS = [Verdict("PROVED", 0), Verdict("COUNTEREXAMPLE", 1), Verdict("UNKNOWN", 2), Verdict("VACUOUS", 2)]
BY_NAME = {v.name: v for v in VERDICTS}
PROVED, COUNTEREXAMPLE, UNKNOWN, VACUOUS = (v.name for v in VERDICTS)
EXIT = {v.name: v.exit for v in VERDICTS}

EXIT_STATUSES = [
    ExitStatus(0, "everything is PROVED"),
    ExitStatus(1, "there is a counterexample and it replays"),
    ExitStatus(2, "UNKNOWN, VACUOUS, a model bug, a usage error (bad revision file, unknown assumption, a revision "
                  "that nvtlbi cannot run as C), an internal error (nvtlbi's own bug), or output cut short "
                  "because the reader closed stdout"),
    ExitStatus(130, "interrupted (Ctrl-C, SIGINT): every worker is stopped, one line `nvtlbi: interrupted`, no "
                    "verdict after it"),
    ExitStatus(143, "terminated (SIGTERM): every worker is stopped, one line `nvtlbi: terminated`, no verdict "
                    "after it"),
]
INTERRUPTED, TERMINATED = 130, 143      # 128 + SIGINT, 128 + SIGTERM: what a shell reports for either signal


class UnknownVerdict(KeyError):
    def __str__(self) -> str:
        return f"unknown verdict {self.args[0]!r} (verdicts: {', '.join(BY_NAME)})"


def verdict(name: str) -> Verdict:
    """The entry named `name`; a misspelt name is an UnknownVerdict."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise UnknownVerdict(name) from None


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
    witness: dict | None = None        # cover witness: the case occurring under the assumptions
    counterexample: dict | None = None  # domain terms (COUNTEREXAMPLE)
    # further counterexamples of the same obligation, one per other cause
    # (P4: per BUG()/WARN_ON site), each replayed like the first: one known
    # failure must not hide another (model/prover.py)
    causes: list = field(default_factory=list)
    reason: str = ""            # UNKNOWN / model bug
    paths: int = 0
    coverage: list | None = None       # branch sides of the revision taken in this case (model/coverage.py)
    pruned: list | None = None         # [line, side, assumptions] that ruled branch sides out in this run
    concrete: dict | None = None       # PROVED: the level's paths and the cover witness replayed on impl/

    @builtins.property       # the field `property` above shadows the builtin in this class body
    def id(self) -> str:
        return f"{self.revision}-{self.granule}-L{self.level}-{self.hint}-{self.property}"

    def exit_status(self) -> int:
        if self.verdict == COUNTEREXAMPLE and any(c.get("replay", "").startswith("MODEL BUG")
                                                 for c in [self.counterexample or {}] + self.causes):
            return 2
        if self.verdict == PROVED and self.concrete and self.concrete["witness"].startswith("MODEL BUG"):
            return 2            # the case does not occur concretely: the proof may be about nothing
        return verdict(self.verdict).exit


MODEL_BUG = "MODEL BUG"


def shown(r: Result) -> str:
    """The verdict a report shows: a counterexample that did not replay is
    no claim about the kernel but nvtlbi's own failure (exit 2)."""
    if r.verdict == COUNTEREXAMPLE and r.exit_status() == 2:
        return MODEL_BUG
    return r.verdict


def overall_exit(results: Iterable[Result]) -> int:
    codes = {r.exit_status() for r in results}
    if 2 in codes:
        return 2
    return 1 if 1 in codes else 0
