"""Benchmark (not a test): one nvtlbi command timed on two commits in the
same run, interleaved A B A B, so that the machine's load hits both alike;
prints each run's wall time and the median of the ratios B/A.

Usage: python bench/ab_bench.py [--base REF] [--rounds N] -- ARGS...
  e.g. python bench/ab_bench.py --base main -- prove --jobs 2
A is a temporary git worktree of REF (default: main), B is this checkout."""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
# run the CLI of one tree: its own packages first on sys.path, ahead of
# whatever an editable install points at.  impl/ and model/ install as
# nvtlbi.impl / nvtlbi.model (pyproject package-dir): the editable install's
# finder would map them to the checkout it was made from, so they are bound
# to this tree's folders explicitly (else A would run B's model).
RUN = """
import importlib.util, os, sys
tree = sys.argv[1]
sys.path.insert(0, tree)
import nvtlbi
for sub in ("impl", "model"):
    if os.path.isdir(os.path.join(tree, sub)) and not os.path.isdir(os.path.join(tree, "nvtlbi", sub)):
        spec = importlib.util.spec_from_file_location(f"nvtlbi.{sub}", os.path.join(tree, sub, "__init__.py"),
                                                      submodule_search_locations=[os.path.join(tree, sub)])
        mod = importlib.util.module_from_spec(spec)
        sys.modules[f"nvtlbi.{sub}"] = mod
        spec.loader.exec_module(mod)
from nvtlbi import cli
sys.exit(cli.main(sys.argv[2:]))
"""


def timed(tree, args):
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", RUN, tree, *args], cwd=tree, capture_output=True, text=True)
    return time.perf_counter() - t0, p.returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="main")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    args = a.args[1:] if a.args[:1] == ["--"] else a.args
    if a.rounds < 1 or not args:
        ap.error("need --rounds >= 1 and a command after --")
    with tempfile.TemporaryDirectory() as tmp:
        base = os.path.join(tmp, "base")
        subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", base, a.base], check=True,
                       capture_output=True)
        try:
            ratios = []
            for i in range(a.rounds):
                ta, ca = timed(base, args)
                tb, cb = timed(ROOT, args)
                ratios.append(tb / ta)
                print(f"round {i + 1}: A ({a.base}) {ta:.2f}s exit {ca}; B (this checkout) {tb:.2f}s exit {cb}; "
                      f"B/A {tb / ta:.2f}  (load {os.getloadavg()[0]:.1f})")
            print(f"nvtlbi {' '.join(args)}: median B/A {statistics.median(ratios):.2f} over {a.rounds} rounds")
        finally:
            subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", base], capture_output=True)


if __name__ == "__main__":
    main()
