"""Benchmark (not a test): `nvtlbi audit` end to end on one patch mail.
Prints the translation time (input parsing, patch application, pycparser,
code generation), the end-to-end wall time of the audit (translation plus
the full proof matrix), and `nvtlbi prove` of upstream for comparison, with
the load average, since the machine is shared.

Usage: python bench/audit_bench.py [FILE] [--base FILE.c | --base-revision NAME] [--jobs N]
(default FILE: our own fixture tests/c/0002-probe.patch on tests/c/nested_stage1.c)"""

import argparse
import contextlib
import io
import os
import sys
import time

ROOT = os.path.join(os.path.dirname(__file__), "..")
sys.path.insert(0, ROOT)
from nvtlbi import cli  # noqa: E402
from nvtlbi.c import pipeline  # noqa: E402


def timed(argv):
    buf = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(buf):
        code = cli.main(argv)
    return time.perf_counter() - t0, code, buf.getvalue()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file", nargs="?", default=os.path.join(ROOT, "tests", "c", "0002-probe.patch"))
    ap.add_argument("--base", action="append", default=[])
    ap.add_argument("--base-revision")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    a = ap.parse_args()
    if not a.base and not a.base_revision and a.file.endswith("0002-probe.patch"):
        a.base = [os.path.join(ROOT, "tests", "c", "nested_stage1.c")]
    t0 = time.perf_counter()
    for _ in range(10):
        pipeline.translate(a.file, a.base, a.base_revision)
    print(f"translation: {(time.perf_counter() - t0) / 10 * 1000:.0f} ms per run (mean of 10)")
    argv = ["audit", a.file, "--jobs", str(a.jobs)] + sum((["--base", b] for b in a.base), [])
    if a.base_revision:
        argv += ["--base-revision", a.base_revision]
    wall, code, out = timed(argv)
    print(f"audit end to end: {wall:.1f}s wall, exit {code}; {out.strip().splitlines()[-3]}")
    wall, code, _ = timed(["prove", "--jobs", str(a.jobs)])
    print(f"nvtlbi prove (upstream) for comparison: {wall:.1f}s wall, exit {code}")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
