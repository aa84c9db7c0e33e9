"""Benchmark (not a test): what the proof cache (nvtlbi/cache.py) saves.

For `nvtlbi prove` (upstream, every obligation) and the audit of the bundled
history, each round on a fresh, empty cache directory, interleaved in one
run: a --no-cache run, a cold run (proves and fills the cache) and a warm
run (everything from the cache).  Prints each run's wall time and peak
resident memory (the largest single process: nvtlbi or one of its workers),
the ratios warm/cold and cold/--no-cache (what writing the cache costs), the
median over the rounds, and the load average, since the machine is shared.
Each command runs as a user runs it: a fresh `nvtlbi` process, startup
included.  The warm run's --json must equal the cold run's, timings aside.

Usage: python bench/cache.py [--rounds N] [--jobs N] [--no-history]"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TARGET_WARM = 1.0       # issue 15: a second run of any main job, with the cache, under 1 s


def command():
    script = os.path.join(os.path.dirname(sys.executable), "nvtlbi")
    return [script] if os.path.exists(script) else [sys.executable, "-m", "nvtlbi.cli"]


def timed(argv, cache_dir):
    """(wall seconds, peak RSS MiB, exit status, --json document, CPU
    seconds of nvtlbi and its workers) of one nvtlbi process with the cache
    in cache_dir."""
    env = dict(os.environ, NVTLBI_CACHE_DIR=cache_dir)
    env.pop("NVTLBI_NO_CACHE", None)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(command() + argv, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, errors = out.read().decode(), err.read().decode()
    try:
        doc = json.loads(text)
    except ValueError:
        sys.exit(f"{' '.join(argv)}: no --json document (exit {p.returncode}):\n{errors}")
    return wall, usage.ru_maxrss / 1024, p.returncode, doc, usage.ru_utime + usage.ru_stime


def timeless(x):
    if isinstance(x, dict):
        return {k: timeless(v) for k, v in x.items() if k not in ("seconds", "cache")}
    if isinstance(x, list):
        return [timeless(v) for v in x]
    return x


def bench(name, argv, rounds):
    print(f"{name}: nvtlbi {' '.join(argv)}")
    ratios, colds, warms, costs, cpus = [], [], [], [], []
    for i in range(rounds):
        d = tempfile.mkdtemp(prefix="nvtlbi-bench-cache-")
        try:
            plain = timed(argv + ["--no-cache"], d)
            cold = timed(argv, d)
            warm = timed(argv, d)
        finally:
            shutil.rmtree(d, ignore_errors=True)
        c = warm[3]["cache"]
        if c["from_cache"] != c["obligations"]:
            sys.exit(f"{name}: the warm run took {c['from_cache']} of {c['obligations']} results from the cache "
                     f"(were nvtlbi's sources edited during the benchmark?)")
        if timeless(cold[3]) != timeless(warm[3]) or cold[2] != warm[2]:
            sys.exit(f"{name}: the warm run's results differ from the cold run's")
        ratios.append(warm[0] / cold[0])
        costs.append(cold[0] / plain[0])
        colds.append(cold[0])
        warms.append(warm[0])
        cpus.append(warm[4])
        print(f"  round {i + 1}: --no-cache {plain[0]:.2f} s ({plain[4]:.2f} CPU-s, {plain[1]:.0f} MiB), "
              f"cold {cold[0]:.2f} s ({cold[4]:.2f} CPU-s, {cold[1]:.0f} MiB), warm {warm[0]:.2f} s ({warm[4]:.2f} "
              f"CPU-s, {warm[1]:.0f} MiB; {c['from_cache']}/{c['obligations']} from the cache): "
              f"warm/cold {warm[0] / cold[0]:.3f}, cold/--no-cache {cold[0] / plain[0]:.2f}")
    w = statistics.median(warms)
    print(f"  median: cold {statistics.median(colds):.2f} s, warm {w:.2f} s, warm/cold {statistics.median(ratios):.3f}, "
          f"cold/--no-cache {statistics.median(costs):.2f}, warm CPU {statistics.median(cpus):.2f} s; warm under {TARGET_WARM:g} s: "
          f"{'met' if w < TARGET_WARM else 'NOT met'}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--no-history", action="store_true", help="skip the audit of the history (about a minute a run)")
    a = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    bench("prove", ["prove", "--json", "--jobs", str(a.jobs)], a.rounds)
    if not a.no_history:
        bench("history audit", ["audit", "--json", "--jobs", str(a.jobs)], a.rounds)
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
