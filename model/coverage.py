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

MARK = "nvtlbi: dead-ok"


@dataclass(frozen=True)
class Site:
    line: int
    text: str           # the test, as source
    body: int           # first line of the true side
    orelse: int         # first line of the false side, or 0: falls through
    expected_dead: str  # "" or the reason given in the dead-ok comment


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
                            node.orelse[0].lineno if node.orelse else 0, reason))
    return sorted(out, key=lambda s: s.line)


class Tracer:
    """Records the arcs (line, next line) executed in one file."""

    def __init__(self, path):
        self.path = path
        self.arcs = set()

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

    def line(self):
        s = f"branch coverage {self.reached}/{self.total} sides"
        if self.unexpected:
            s += "; UNEXPECTEDLY DEAD: " + "; ".join(f"line {x.line} {'true' if side == 'T' else 'false'} "
                                                      f"side of `{x.text}`" for x, side in self.unexpected)
        elif self.dead:
            s += f"; {len(self.dead)} dead by design"
        return s


def report(path, taken_sides):
    """Coverage of the whole run: taken_sides is the union over its cases."""
    got = {(line, side) for line, side in taken_sides}
    dead, total = [], 0
    for s in sites(path):
        for side in ("T", "F"):
            total += 1
            if (s.line, side) not in got:
                dead.append((s, side))
    return Report(total, total - len(dead), dead, [(s, side) for s, side in dead if not s.expected_dead])
