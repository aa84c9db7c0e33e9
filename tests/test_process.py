"""Process integrity (nvtlbi/scheduler.py): a revision that exits, dies,
loops, sleeps or prints never yields a verdict, a hang, a corrupt --json or
a process left behind; bad option values and unwritable output paths are
refused, one line, before any proof.

The hostile revisions (tests/revisions/bad/) run in a separate nvtlbi
process: one that calls os._exit must not take the test runner with it."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from nvtlbi import cli
from nvtlbi.model.verdict import INTERRUPTED, TERMINATED
from tests.revisions import BAD

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAST = ["--granule", "16K", "--hint", "nohint", "--property", "P1"]


def nvtlbi(*argv, timeout=60):
    return subprocess.run([sys.executable, "-m", "nvtlbi.cli", *argv], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def _line_of(path, needle):
    with open(path) as f:
        return next(i for i, line in enumerate(f, 1) if needle in line)


def one_error_line(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nvtlbi: error: "), err
    return lines[0]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_exit_at_import_is_an_error_not_a_silent_pass(jobs):
    path = BAD["exit_at_import"]
    p = nvtlbi("prove", "--revision", path, *FAST, "--jobs", jobs)
    assert p.returncode == 2 and p.stdout == ""
    line = one_error_line(p.stderr)
    assert line.startswith(f"nvtlbi: error: {path}:{_line_of(path, 'sys.exit(0)')}: loading the revision: "
                           f"sys.exit(0)"), line


@pytest.mark.parametrize("name,needle,what", [
    ("sysexit", "sys.exit(0)", "sys.exit(0) in the worker"),
    ("osexit", None, "the worker exited with status 0"),
    ("sigkill", None, "the worker was killed by signal 9 (SIGKILL)"),
])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_worker_that_exits_or_dies_is_an_error_naming_the_obligations(name, needle, what, jobs):
    path = BAD[name]
    p = nvtlbi("prove", "--revision", path, *FAST, "--jobs", jobs)
    assert p.returncode == 2 and p.stdout == ""
    line = one_error_line(p.stderr)
    where = f"{path}:{_line_of(path, needle)}" if needle else path
    assert line.startswith(f"nvtlbi: error: {where}: obligations {name}-16K-L"), line
    assert what in line, line


@pytest.mark.parametrize("name,where", [("spin", ("while True:", "pass")), ("sleep", ("time.sleep(",))])
def test_an_endless_run_ends_at_the_bound(name, where):
    t0 = time.monotonic()
    p = nvtlbi("prove", "--revision", BAD[name], *FAST, "--timeout", "1", timeout=40)
    assert p.returncode == 2
    line = one_error_line(p.stderr)
    # the line the worker was running when it was stopped (nvtlbi/scheduler.py: _stopped_at)
    at = {f"{BAD[name]}:{_line_of(BAD[name], needle)}: " for needle in where}
    assert any(line.startswith(f"nvtlbi: error: {a}obligations {name}-16K-L") for a in at), line
    assert "no result within 1 s (--timeout)" in line, line
    assert time.monotonic() - t0 < 30


def test_a_revisions_print_never_reaches_json():
    p = nvtlbi("prove", "--revision", BAD["chatty"], *FAST, "--json")
    doc = json.loads(p.stdout)          # exactly one document: nothing before or after it
    assert doc["revision"] == "chatty" and doc["results"]
    assert "chatty: computing a range" in p.stderr


def test_audit_against_json_is_one_document(capsys):
    code = cli.main(["audit", "upstream", "--against", "upstream", "--json", *FAST])
    out = capsys.readouterr().out
    doc = json.loads(out)
    assert [r["verdict"] for r in doc["against"]["results"]] and doc["revisions"]
    assert code == max(code, 0)


@pytest.mark.parametrize("argv", [
    ["precision", "--revision", "upstream", "--tlbis", "2", "--no-solver", "--json"],
    ["assumptions", "--json"],
    ["cex", "--revision", "upstream", *FAST, "--json"],
    ["cex", "--revision", "NOCHECK", "--granule", "4K", "--hint", "nohint", "--property", "P2", "--json"],
    ["audit", "--list-profiles", "--json"],
    ["audit", "tests/c/nested_v2024.c", "--translate-only", "--json"],
    ["mutate", "--list", "--json"],
])
def test_every_command_has_json(capsys, monkeypatch, argv):
    from tests.revisions import NOCHECK
    monkeypatch.chdir(ROOT)
    cli.main([NOCHECK if a == "NOCHECK" else a for a in argv])
    assert json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("argv,opt", [
    (["audit", "upstream", "--report", "/nonexistent-dir/r.md"], "--report /nonexistent-dir/r.md"),
    (["audit", "upstream", "--report", "."], "--report ."),
    (["audit", "tests/c/nested_v2024.c", "--emit", "/nonexistent-dir/x.py"], "--emit /nonexistent-dir/x.py"),
    (["cex", "--revision", "NOCHECK", "--pytest", "/nonexistent-dir/t.py"], "--pytest /nonexistent-dir/t.py"),
    (["precision", "--revision", "upstream", "--plot", "/nonexistent-dir/p.png"], "--plot /nonexistent-dir/p.png"),
])
def test_a_bad_output_path_is_refused_before_any_proof(capsys, monkeypatch, argv, opt):
    from tests.revisions import NOCHECK
    monkeypatch.chdir(ROOT)
    argv = [NOCHECK if a == "NOCHECK" else a for a in argv]
    assert cli.main(argv + (FAST if argv[0] != "precision" else [])) == 2
    out = capsys.readouterr()
    assert out.out == ""                # nothing proved, nothing printed
    assert one_error_line(out.err).startswith(f"nvtlbi: error: {opt}: ")


@pytest.mark.parametrize("argv", [
    ["prove", "--jobs", "0"], ["prove", "--jobs", "-3"], ["prove", "--timeout", "-1"],
    ["prove", "--timeout", "nan"], ["prove", "--rlimit", "0"], ["audit", "upstream", "--jobs", "0"],
    ["mutate", "--sample", "-5"], ["selfcheck", "upstream", "--sample", "-1", "--granule", "16K"],
    ["diff", "upstream", "r0_baseline", "--jobs", "0"], ["cex", "--rlimit", "-1"],
    ["precision", "--jobs", "0", "--revision", "upstream", "--tlbis", "2", "--no-solver"],
    ["precision", "--timeout", "-5", "--revision", "upstream", "--tlbis", "2", "--no-solver"],
])
def test_a_bad_option_value_is_a_one_line_usage_error(capsys, argv):
    assert cli.main(argv + (FAST if argv[0] not in ("precision", "mutate", "selfcheck") else [])) == 2
    out = capsys.readouterr()
    assert out.out == ""
    opt = next(a for a in argv if a.startswith("--"))
    assert one_error_line(out.err).startswith(f"nvtlbi: error: {opt} "), out.err


def _children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return out


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_killing_nvtlbi_leaves_no_worker_behind(sig):
    main = subprocess.Popen([sys.executable, "-m", "nvtlbi.cli", "prove", "--revision", BAD["sleep"],
                             "--granule", "16K", "--jobs", "2"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            # a shell without job control starts background jobs with SIGINT ignored
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline, workers = time.monotonic() + 30, []
        while time.monotonic() < deadline and len(workers) < 2:
            time.sleep(0.2)
            workers = _children(main.pid)
        assert len(workers) == 2, "the workers did not start"
        time.sleep(0.5)                 # into the revision's sleep
        main.send_signal(sig)
        main.wait(timeout=10)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.1)
        left = [w for w in workers if _alive(w)]
        for w in left:                  # do not leave them to the next test either
            os.kill(w, signal.SIGKILL)
        assert not left, f"workers {left} outlived nvtlbi"
        # the exit statuses documented for the signals (model/verdict.py), one line each
        said = {signal.SIGINT: (INTERRUPTED, "nvtlbi: interrupted"), signal.SIGTERM: (TERMINATED, "nvtlbi: terminated")}
        if sig in said:
            assert (main.returncode, main.stderr.read().strip()) == said[sig]
    finally:
        if main.poll() is None:
            main.kill()


def test_results_come_in_job_order_whatever_order_they_finish_in():
    from nvtlbi import scheduler
    jobs = [scheduler.Job(_nap, (i, 0.4 - 0.1 * i), f"job {i}", "upstream") for i in range(4)]
    assert scheduler.run(jobs, 4) == [0, 1, 2, 3]


def test_the_first_error_by_job_order_is_reported():
    from nvtlbi import scheduler
    jobs = [scheduler.Job(_nap, (0, 0.5), "job 0", "upstream"), scheduler.Job(os._exit, (3,), "job 1", "upstream"),
            scheduler.Job(os._exit, (4,), "job 2", "upstream")]
    with pytest.raises(scheduler.WorkerError, match="job 1: the worker exited with status 3"):
        scheduler.run(jobs, 3)


def _nap(i, seconds):
    time.sleep(seconds)
    return i
