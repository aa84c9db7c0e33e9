"""Benchmark (not a test): a patch posted again unchanged, proved once
(nvtlbi/sharing.py).  The reposts of the public record that are one code
once translated -- R1b's v2 63/94+64/94, its linux-arm-kernel copy, v5 59/69
and v6 54/64 (tests/post_recipes.py) -- audited in one `nvtlbi audit` run,
interleaved A B A B: A with --no-cache (every post proved itself), B on a
fresh, empty cache (the first post proved, the others take its results,
moved to their own lines).  Prints each run's wall time and CPU seconds, the
median of the ratios B/A and the load average; B's results must equal A's
(timings and the cache's notes aside), or it says so and exits 1.

Usage: python bench/reposts.py [--shared ../shared] [--rounds N] [--jobs N] [--granule G ...]"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
from cache import timed, timeless  # noqa: E402  (bench/cache.py: one nvtlbi process, timed)
from tests.post_recipes import RECIPES  # noqa: E402

REPOSTS = ("R1b_v2_64", "R1b_v2_64_lak", "R1c_v5_59", "R1d_v6_54")


def args_of(posts):
    """One audit of the reposts: they share their base and options (the recipes say so)."""
    rs = [next(r for r in RECIPES if r.name == n) for n in REPOSTS]
    opts = {tuple(r.args("X", None, lambda p: os.path.join(posts, p))[1:]) for r in rs}
    assert len(opts) == 1, opts
    return [os.path.join(posts, r.posts[0]) for r in rs] + list(opts.pop())


def results(doc):
    """What must not depend on the cache: every result, timings aside."""
    return [timeless(rev["results"]) for rev in doc["revisions"]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(HERE, "..", "..", "shared"))
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--jobs", default="2")
    ap.add_argument("--granule", action="append", default=[])
    a = ap.parse_args()
    argv = ["audit"] + args_of(os.path.join(a.shared, "posts")) + ["--jobs", a.jobs, "--json"]
    for g in a.granule:
        argv += ["--granule", g]
    ratios, same = [], True
    for i in range(a.rounds):
        d = tempfile.mkdtemp(prefix="nvtlbi-bench-cache-")
        try:
            wa, _, _, doc_a, ca = timed(argv + ["--no-cache"], d)
            wb, _, _, doc_b, cb = timed(argv, d)
        finally:
            shutil.rmtree(d, ignore_errors=True)
        same &= results(doc_a) == results(doc_b)
        ratios.append(wb / wa)
        shared = doc_b["cache"].get("shared", {})
        print(f"round {i + 1}: A (--no-cache) {wa:.1f} s wall, {ca:.1f} CPU-s; B (sharing) {wb:.1f} s wall, "
              f"{cb:.1f} CPU-s, {doc_b['cache']['from_cache']}/{doc_b['cache']['obligations']} results taken "
              f"({', '.join(f'{k} from {v[0]}' for k, v in sorted(shared.items()))}); B/A {wb / wa:.2f}; "
              f"load {os.getloadavg()[0]:.1f}", flush=True)
    print(f"median B/A {statistics.median(ratios):.2f} over {a.rounds} round(s); results "
          + ("equal" if same else "DIFFER"))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
