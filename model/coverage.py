"""Branch coverage of a revision under the assumptions.

While the engine explores a case, the line-to-line steps (arcs) made inside
the revision's own file are recorded with a trace function; the engine only
runs feasible paths, so a branch side taken on some run is reachable under
the enabled assumptions, and a side taken on no run of the whole matrix is
dead.  A branch site is an `if`/`elif` or a `while` whose test is not a
constant; its true side is the step to the first line of its body, its
false side the step to the `else`/`elif` or past the statement.

A dead side means the assumptions (or the cases) exclude it.  Some are dead
by design (e.g. a fallback for a granule the case list does not contain);
the revision says so with a comment `# nvtlbi: dead-ok (reason)` on the
branch's line.  Any other dead side is flagged: the assumptions may be
too strong, and a PROVED over that revision deserves a second look."""

import ast
import sys
import threading
from dataclasses import dataclass

from nvtlbi.impl import kernel

MARK = "nvtlbi: dead-ok"


@dataclass(frozen=True)
class Site:
    line: int
    text: str           # the test, as source
    body: int           # first line of the true side
    orelse: int         # first line of the false side, or 0: falls through
    expected_dead: str  # "" or the reason given in the dead-ok comment
    where: str = ""     # how a report names it: the C file:line of a translated revision, else its line


def sites(path):
    with open(path) as f:
        source = f.read()
    lines = source.splitlines()
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.If, ast.While)) and not isinstance(node.test, ast.Constant):
            comment = lines[node.lineno - 1].partition("#")[2]
            reason = comment.partition(MARK)[2].strip(" :()") if MARK in comment else ""
            out.append(Site(node.lineno, ast.unparse(node.test), node.body[0].lineno,
                            node.orelse[0].lineno if node.orelse else 0, reason,
                            kernel.c_site(lines[node.lineno - 1]) or f"line {node.lineno}"))
    return sorted(out, key=lambda s: s.line)


# frames between a revision's `if` and the engine's decision
_PLUMBING = ("model/engine.py", "model/backend.py", "impl/cint.py", "model/coverage.py")


class Tracer:
    """Records the arcs (line, next line) executed in one file, and (given
    to the engine as on_prune) which assumptions ruled out a branch side
    taken in that file."""

    def __init__(self, path):
        self.path = path
        self.arcs = set()
        self.pruned = {}        # (line, "T"|"F") -> set of assumption names

    def prune(self, side, core):
        f = sys._getframe(1)
        while f is not None and f.f_code.co_filename.replace("\\", "/").endswith(_PLUMBING):
            f = f.f_back
        if f is not None and f.f_code.co_filename == self.path:
            self.pruned.setdefault((f.f_lineno, side), set()).update(core)

    def pruned_list(self):
        """[[line, side, [names]]], sorted: for Result.pruned."""
        return [[line, side, sorted(names)] for (line, side), names in sorted(self.pruned.items())]

    def _call(self, frame, event, arg):
        if frame.f_code.co_filename != self.path:
            return None
        last = [frame.f_lineno]
        arcs = self.arcs

        def local(frame, event, arg):
            if event == "line":
                arcs.add((last[0], frame.f_lineno))
                last[0] = frame.f_lineno
            return local
        return local

    def __enter__(self):
        self._old = sys.gettrace()
        sys.settrace(self._call)
        threading.settrace(self._call)
        return self

    def __exit__(self, *exc):
        sys.settrace(self._old)
        threading.settrace(self._old)
        return False


def taken(site, arcs):
    """(true side taken?, false side taken?) given the recorded arcs."""
    out = {a[1] for a in arcs if a[0] == site.line}
    t = site.body in out
    f = (site.orelse in out) if site.orelse else bool(out - {site.body})
    return t, f


def sides(path, arcs):
    """The branch sides taken: a list of [line, "T"|"F"], sorted."""
    got = []
    for s in sites(path):
        t, f = taken(s, arcs)
        got += ([[s.line, "T"]] if t else []) + ([[s.line, "F"]] if f else [])
    return got


@dataclass
class Report:
    total: int          # branch sides
    reached: int
    dead: list          # (Site, "T"|"F") never taken
    unexpected: list    # the dead ones without a dead-ok reason
    why: dict | None = None    # line -> assumptions that ruled out a decision on it

    def reason(self, site, side):
        """Why a side is dead.  Per line, not per side: the engine decides
        the truth of a value, whose polarity against the `if` depends on
        the test (`not x`, `x or y`)."""
        names = (self.why or {}).get(site.line)
        if names is not None:
            names = sorted(names - {"case"})
            return ("ruled out by " + ", ".join(names)) if names else \
                "ruled out without any assumption: by earlier tests on the path or by the case"
        if (site, "F" if side == "T" else "T") not in self.dead:
            return "the test has the same value on every path that reaches it"
        return "the `if` is never reached"

    def blamed(self):
        """The unexpectedly dead sides that named assumptions rule out: the
        ones that say the assumptions may be too strong."""
        return [(x, side) for x, side in self.unexpected if (self.why or {}).get(x.line, set()) - {"case"}]

    def line(self):
        s = f"branch coverage {self.reached}/{self.total} sides"
        if self.unexpected:
            s += "; UNEXPECTEDLY DEAD: " + "; ".join(f"{x.where} {'true' if side == 'T' else 'false'} "
                                                      f"side of `{x.text}` ({self.reason(x, side)})"
                                                      for x, side in self.unexpected)
        elif self.dead:
            s += f"; {len(self.dead)} dead by design"
        return s


def report(path, taken_sides, pruned=()):
    """Coverage of the whole run: taken_sides is the union over its cases;
    pruned, [line, side, names] from the tracers, says why sides were ruled out."""
    why = {}
    for line, _side, names in pruned:
        why.setdefault(line, set()).update(names)
    got = {(line, side) for line, side in taken_sides}
    dead, total = [], 0
    for s in sites(path):
        for side in ("T", "F"):
            total += 1
            if (s.line, side) not in got:
                dead.append((s, side))
    return Report(total, total - len(dead), dead, [(s, side) for s, side in dead if not s.expected_dead], why)
