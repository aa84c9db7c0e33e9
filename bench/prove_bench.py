"""Benchmark (not a test): wall time of `nvtlbi prove` and per-obligation
solver times.  Usage: python bench/prove_bench.py [--revision NAME] [--jobs N]"""

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from nvtlbi import cli  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--revision", default="upstream")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--drop", action="append", default=[])
    a = ap.parse_args()
    argv = ["prove", "--json", "--revision", a.revision, "--jobs", str(a.jobs)]
    for d in a.drop:
        argv += ["--drop", d]
    buf = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(buf):
        code = cli.main(argv)
    wall = time.perf_counter() - t0
    res = json.loads(buf.getvalue())["results"]
    secs = [r["seconds"] for r in res]
    print(f"nvtlbi prove --revision {a.revision} --jobs {a.jobs}: exit {code}, wall {wall:.2f}s, "
          f"{len(res)} obligations")
    print(f"per-obligation seconds: sum {sum(secs):.2f}, median {statistics.median(secs):.3f}, max {max(secs):.3f}")
    print("slowest obligations:")
    for r in sorted(res, key=lambda r: -r["seconds"])[:10]:
        print(f"  {r['id']:<40} {r['verdict']:<15} {r['seconds']:.3f}s  ({r['paths']} paths)")


if __name__ == "__main__":
    main()
