"""Every piece of work that runs revision code runs here, in a worker process.

A revision is arbitrary Python: it may call sys.exit or os._exit, crash its
interpreter, loop for ever or print.  None of that may reach the main
process or become a verdict.  So each job runs in its own forked worker (also
with --jobs 1: the main process never imports a revision file), and

  - a worker that exits (SystemExit, os._exit), dies (a signal, a crash) or
    outlives its wall-clock bound is an error (WorkerError, exit 2, one
    line) naming the revision file and the job (its obligations);
  - its stdout (fd 1) is redirected to stderr, so a revision's print never
    reaches --json output, yet stays visible to whoever debugs it;
  - SIGTERM and Ctrl-C in the main process stop every worker (each runs in
    its own process group, killed as a group; and the kernel kills a worker
    whose main process dies, PR_SET_PDEATHSIG), so nothing is left behind;
  - results come back in job order, whatever order the jobs finish in.

A job is forked from the main process as it is when the job starts, so its
function and arguments need not be picklable; only its result is pickled.
"""

import ctypes
import functools
import os
import pickle
import select
import signal
import sys
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass

# Without --timeout, each job gets this wall-clock bound: generous enough
# that no honest job comes near it (the slowest, a mutant's classification,
# takes about a minute of CPU; a 4K prove job a few seconds), yet a revision
# that sleeps or loops for ever still ends in an error within ten minutes.
DEFAULT_BOUND = 600.0
_PR_SET_PDEATHSIG = 1
_PENDING = object()


class Terminated(SystemExit):
    """SIGTERM while workers run: the main process ends with 128 + SIGTERM."""


class WorkerError(Exception):
    """A job's worker exited, died or overran: one line, FILE[:LINE]: ..."""


@dataclass(frozen=True)
class Job:
    fn: object          # run in the worker as fn(*args); its result must pickle
    args: tuple
    what: str           # names the work in an error, e.g. "obligations upstream-4K-L2-..."
    revision: str       # the revision spec it runs (a bundled name or a file)


def bound_of(args):
    """The per-job wall-clock bound and how to say where it comes from."""
    timeout = getattr(args, "timeout", 0) or 0
    if timeout > 0:
        return timeout, "--timeout"
    return DEFAULT_BOUND, "the default bound per job; set another with --timeout"


def revision_file(spec):
    """The file a revision spec names, for error messages (nothing is imported)."""
    from nvtlbi.impl import revision as REV
    if spec.endswith(".py") or os.sep in spec:
        return os.path.abspath(spec)
    for d in (REV.BUNDLED_DIR, REV.ALTERNATIVES_DIR):
        path = os.path.join(d, f"{spec}.py")
        if os.path.exists(path):
            return path
    return spec


def run(jobs, workers, args=None, progress=None, each=None):
    """Run every job in a forked worker, at most `workers` at a time; the
    results in job order.  progress(done, total) after each job; each(result)
    for every result, in job order, as soon as the jobs before it are done.
    Raises WorkerError for a worker that exits, dies or overruns the bound
    (bound_of(args)), and re-raises an exception a job raised (with the
    worker's traceback as its cause)."""
    jobs = list(jobs)
    bound, why = bound_of(args)
    why = f"{bound:g} s ({why})"
    workers = max(1, min(workers, len(jobs)))
    results = [_PENDING] * len(jobs)
    shown = 0                   # results passed to each()
    todo = list(range(len(jobs)))
    running = {}                # read fd -> _Worker
    failed = {}                 # job index -> its error
    done = 0
    sys.stdout.flush()          # a forked worker must not inherit (and repeat) buffered output
    sys.stderr.flush()
    with _stop_workers_on_sigterm(running):
        while todo or running:
            while todo and len(running) < workers:
                w = _start(todo.pop(0), jobs, bound)
                running[w.fd] = w
            wait = min(w.deadline for w in running.values()) - time.monotonic()
            ready, _, _ = select.select(list(running), [], [], max(wait, 0))
            for fd in ready:
                if fd not in running:       # stopped by an earlier job's error just now
                    continue
                w = running[fd]
                chunk = os.read(fd, 1 << 20)
                if chunk:
                    w.data.append(chunk)
                    continue
                del running[fd]
                os.close(fd)
                try:
                    results[w.index] = _outcome(w, jobs[w.index], _reap(w, jobs[w.index], why))
                except Exception as e:
                    _failed(failed, w.index, e, todo, running)
                done += 1
                if progress:
                    progress(done, len(jobs))
                while each and not failed and shown < len(jobs) and results[shown] is not _PENDING:
                    each(results[shown])
                    shown += 1
            now = time.monotonic()
            for w in [w for w in running.values() if now >= w.deadline]:
                if w.fd in running:
                    _failed(failed, w.index, _overrun(jobs[w.index], why, _stopped_at(w)), todo, running)
    if failed:
        raise failed[min(failed)]
    return results


@dataclass
class _Worker:
    index: int
    pid: int
    fd: int
    deadline: float
    data: list


def _start(index, jobs, bound):
    r, wfd = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:                            # the worker: never returns
        os.close(r)
        _worker(jobs[index], wfd, parent)
    os.close(wfd)
    try:
        os.setpgid(pid, pid)                # also set in the worker: whichever runs first
    except OSError:
        pass
    return _Worker(index, pid, r, time.monotonic() + bound, [])


def _failed(failed, index, error, todo, running):
    """Record job `index`'s error and stop every later job: the error
    reported is the first by job order, as with --jobs 1, whatever the order
    the workers finish in (earlier jobs still run to the end)."""
    failed[index] = error
    todo.clear()
    for fd, w in list(running.items()):
        if w.index >= index:
            _kill(w.pid)
            os.close(fd)
            del running[fd]
            try:
                os.waitpid(w.pid, 0)
            except ChildProcessError:
                pass


def _worker(job, wfd, parent):
    code = 0
    try:
        try:
            os.setpgid(0, 0)
            signal.signal(signal.SIGINT, signal.SIG_IGN)    # the main process stops us
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGUSR1, functools.partial(_say_where, job, wfd))
            _die_with_parent(parent)
            os.dup2(2, 1)                   # a revision's print goes to stderr, never into --json
            reply = ("ok", job.fn(*job.args))
        except SystemExit as e:
            reply = ("exit", repr(e.code), _where(e.__traceback__))
        except BaseException as e:          # noqa: BLE001 -- anything the job raised goes back to the parent
            text = traceback.format_exc()
            if not isinstance(e, Exception):    # e.g. KeyboardInterrupt raised by the revision itself
                e = WorkerError(f"{revision_file(job.revision)}: {job.what}: {type(e).__name__} in the worker")
            reply = ("raise", _one_line(e), text)
        try:
            data = pickle.dumps(reply)
        except Exception as e:              # an exception or result that does not pickle
            data = pickle.dumps(("raise", RuntimeError(f"{type(reply[1]).__name__}: {reply[1]} "
                                                       f"(and it does not pickle: {e})"),
                                 reply[2] if len(reply) > 2 else ""))
        view = memoryview(data)
        while view:
            view = view[os.write(wfd, view):]
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:                   # noqa: BLE001 -- the parent reports a worker without a reply
        code = 70
    finally:
        os._exit(code)


def _one_line(e):
    """An error main() prints as one line stays as it is; any other exception
    becomes nvtlbi's InternalError here, where its traceback still names
    the line that raised it (the traceback does not cross the pipe)."""
    from nvtlbi.impl.outcome import InternalError
    from nvtlbi.impl.revision import RevisionError
    from nvtlbi.model import userfault
    from nvtlbi.model.engine import CrossCheckError
    from nvtlbi.options import UsageError
    known = (RevisionError, InternalError, CrossCheckError, WorkerError, UsageError)
    return e if isinstance(e, known) else userfault.internal(e)


def _die_with_parent(parent):
    """Linux: SIGKILL this worker when the main process dies (even by SIGKILL)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:              # the parent died before prctl took effect
        os._exit(70)


def _say_where(job, wfd, signum, frame):
    """SIGUSR1 in a worker that overran its bound: reply where it is (the
    innermost line of the revision, else of any code) and end; the main
    process kills it in any case (_stopped_at)."""
    try:
        from nvtlbi.model import userfault
        where = userfault.stack_site(frame, revision_file(job.revision))
        os.write(wfd, pickle.dumps(("where",) + where))
    finally:
        os._exit(0)


def _stopped_at(w, grace=1.0):
    """Where the overrunning worker `w` is: (FILE:LINE, in the revision?),
    or None if it does not answer within `grace` seconds (stuck in C code, a
    solver's query); the caller kills it."""
    try:
        os.kill(w.pid, signal.SIGUSR1)
    except OSError:
        return None
    data, end = [], time.monotonic() + grace
    while time.monotonic() < end:
        ready, _, _ = select.select([w.fd], [], [], max(end - time.monotonic(), 0))
        chunk = os.read(w.fd, 1 << 16) if ready else b""
        if not chunk:
            break
        data.append(chunk)
    try:
        reply = pickle.loads(b"".join(w.data + data))
    except Exception:                       # no answer, or a result torn by the signal
        return None
    return reply[1:] if reply[0] == "where" else None


def _where(tb):
    """FILE:LINE of the innermost frame of a traceback."""
    last = None
    while tb is not None:
        last, tb = tb, tb.tb_next
    return f"{last.tb_frame.f_code.co_filename}:{last.tb_lineno}" if last else ""


def _reap(w, job, why):
    """The worker's wait status, once it has exited (it closed its pipe)."""
    while True:
        pid, status = os.waitpid(w.pid, os.WNOHANG)
        if pid:
            return status
        if time.monotonic() >= w.deadline:  # closed its pipe but keeps running
            _kill(w.pid)
            os.waitpid(w.pid, 0)
            raise _overrun(job, why)
        time.sleep(0.002)


def _outcome(w, job, status):
    data = b"".join(w.data)
    file = revision_file(job.revision)
    try:
        reply = pickle.loads(data) if data else None
    except Exception:                       # a torn reply: the worker died while writing it
        reply = None
    if reply is None:
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            how = f"was killed by signal {sig} ({signal.Signals(sig).name})"
        else:
            how = f"exited with status {os.WEXITSTATUS(status)} (os._exit?)"
        raise WorkerError(f"{file}: {job.what}: the worker {how} before it gave a result")
    kind = reply[0]
    if kind == "ok":
        return reply[1]
    if kind == "exit":
        where = reply[2] or file
        raise WorkerError(f"{where}: {job.what}: sys.exit({reply[1]}) in the worker"
                          + ("" if where.startswith(file + ":") else f" (revision {file})")
                          + "; an exit is not a verdict")
    exc, text = reply[1], reply[2]
    exc.__cause__ = _RemoteTraceback(text)
    raise exc


class _RemoteTraceback(Exception):
    def __str__(self):
        return "\n(in the worker)\n" + self.args[0]


def _overrun(job, why, at=None):
    """at: where the worker was (_stopped_at), if it said."""
    file = revision_file(job.revision)
    if at is not None and at[1]:        # a line of the revision: the error names it
        return WorkerError(f"{at[0]}: {job.what}: no result within {why}; the worker was stopped running this line")
    return WorkerError(f"{file}: {job.what}: no result within {why}; the worker was stopped"
                       + (f" (in {at[0]})" if at is not None else ""))


def _kill(pid):
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
            return
        except OSError:
            pass


@contextmanager
def _stop_workers_on_sigterm(running):
    """SIGTERM ends the main process as SystemExit(143), which (like Ctrl-C's
    KeyboardInterrupt) runs the `finally` below: every worker is killed and
    reaped before the main process goes."""
    def on_term(signum, frame):
        raise Terminated(128 + signum)
    try:
        old = signal.signal(signal.SIGTERM, on_term)
    except ValueError:                      # not the main thread: its owner handles signals
        old = None
    try:
        yield
    finally:
        for w in list(running.values()):
            _kill(w.pid)
            try:
                os.close(w.fd)
            except OSError:
                pass
            try:
                os.waitpid(w.pid, 0)
            except ChildProcessError:
                pass
        running.clear()
        if old is not None:
            signal.signal(signal.SIGTERM, old)


@dataclass(frozen=True)
class RevisionInfo:
    """What the main process knows of a revision: learnt in a worker, since
    importing a revision file runs its code."""
    name: str
    path: str
    doc: str
    assumes: tuple
    origins: dict | None = None        # with describe(..., origins=True): inputs.python_origins

    @property
    def first_doc_line(self):
        lines = self.doc.strip().splitlines()
        return lines[0] if lines else self.path


def _describe(spec, origins, op=None):
    from nvtlbi.impl import revision as REV
    from nvtlbi.model import ops
    rev = REV.load(spec, ops.op(op).caller)
    if origins:
        from nvtlbi import inputs
        origins = inputs.python_origins(rev)
    return RevisionInfo(rev.name, rev.path, rev.module.__doc__ or "", tuple(getattr(rev, "ASSUMES", ())),
                        origins or None)


def _producer_path(spec, kind):
    from nvtlbi.impl import producers
    return producers.load(spec, kind).path


def producer_path(spec, args, kind=""):
    """The file of a producer (impl/producers), loaded in a worker first: a
    producer file is the user's Python, and its exit, loop or print at
    import must stay there, as a revision's does (a user error surfaces
    here, before any proof)."""
    return run([Job(_producer_path, (spec, kind), "loading the producer", spec)], 1, args)[0]


def describe(specs, args, origins=False):
    """{spec: RevisionInfo}, each revision loaded in a worker: a user error in
    a revision (it does not import, lacks a function, exits) surfaces here,
    before any proof."""
    specs = list(dict.fromkeys(specs))
    op = getattr(args, "op", None)
    infos = run([Job(_describe, (s, origins) + ((op,) if op else ()), "loading the revision", s) for s in specs],
                getattr(args, "jobs", 1), args)
    return dict(zip(specs, infos))
