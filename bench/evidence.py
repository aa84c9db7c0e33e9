"""Benchmark (not a test): cheap evidence first (model/evidence.py) against
symbolic work only, in one run, interleaved A B A B so that the machine's
load hits both alike.  A runs with --no-concrete, B as shipped; prints each
run's wall time and the median of the ratios B/A, for `nvtlbi mutate
upstream --sample N` and `nvtlbi cex --granule 4K` on the broken revision
without the range check (tests/revisions/nocheck.py).

Usage: python bench/evidence.py [--sample N] [--rounds R] [--jobs J]"""

import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
RUN = "import sys; from nvtlbi import cli; sys.exit(cli.main(sys.argv[1:]))"


def timed(args):
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", RUN] + args, cwd=ROOT, capture_output=True, text=True)
    secs = time.perf_counter() - t0
    if p.returncode not in (0, 1):
        sys.exit(f"bench/evidence.py: nvtlbi {' '.join(args)} exited {p.returncode}: {p.stderr.strip()[-300:]}")
    return secs, p.stdout


def compare(name, args, rounds):
    ratios = []
    for i in range(rounds):
        a, out_a = timed(args + ["--no-concrete"])
        b, out_b = timed(args)
        ratios.append(b / a)
        print(f"{name} round {i + 1}: symbolic only {a:.1f} s, concrete first {b:.1f} s, ratio {b / a:.3f}",
              flush=True)
    last = (out_a.strip().splitlines() or [""])[-1], (out_b.strip().splitlines() or [""])[-1]
    print(f"{name}: median ratio concrete-first / symbolic-only = {statistics.median(ratios):.3f} "
          f"({rounds} rounds)\n  symbolic only: {last[0]}\n  concrete first: {last[1]}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sample", type=int, default=12)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    compare("cex nocheck 4K", ["cex", "--granule", "4K", "--no-cache", "--jobs", str(a.jobs),
                               "--revision", os.path.join("tests", "revisions", "nocheck.py")], a.rounds)
    compare(f"mutate upstream --sample {a.sample}", ["mutate", "upstream", "--sample", str(a.sample),
                                                     "--jobs", str(a.jobs)], a.rounds)


if __name__ == "__main__":
    main()
