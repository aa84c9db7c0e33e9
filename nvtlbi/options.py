"""Checks of option values shared by every command, run before any work: a
bad value is a usage error (one line, exit 2), never silently taken, and an
output file that cannot be written is refused before the proofs, not after."""

import math
import os
from contextlib import contextmanager

from nvtlbi.model.session import Limits, Session

# (attribute, option, smallest allowed value, what the smallest means)
MINIMA = [
    ("jobs", "--jobs", 1, None),
    ("rlimit", "--rlimit", 1, None),
    ("unwind", "--unwind", 1, None),
    ("timeout", "--timeout", 0, "0: no --timeout (the default bound per job applies)"),
    ("sample", "--sample", 0, "0: all mutants"),
    ("tlbis", "--tlbis", 1, None),
    ("bound", "--bound", 1, None),
]
# (attribute, option, largest allowed value, why): z3 takes its limits as
# 32-bit unsigned numbers and would read a larger one modulo 2^32 (another
# limit than the one asked for, or none)
MAXIMA = [
    ("rlimit", "--rlimit", 2**32 - 1, "z3's resource limit is a 32-bit unsigned number"),
    ("timeout", "--timeout", (2**32 - 1) // 1000, "z3 takes milliseconds as a 32-bit unsigned number"),
]
# file options a command writes
OUTPUTS = [("report", "--report"), ("emit", "--emit"), ("pytest", "--pytest"), ("plot", "--plot")]


class OptionError(Exception):
    """A bad option value: one line naming the option."""


class UsageError(Exception):
    """A command used wrongly (an unknown assumption, obligation or mutant, an
    input that cannot be read): one line, exit status 2."""


def limits_of(args):
    """The solver limits every command takes from --rlimit and --timeout
    (seconds on the command line, milliseconds for the solver)."""
    return Limits(rlimit=args.rlimit, timeout_ms=int(args.timeout * 1000),
                  unwind=getattr(args, "unwind", Limits.unwind))


def session_of(args):
    """The Session (model/session.py) the options ask for: limits, coverage
    and the cross-check; a worker enters its own copy (Session.fresh)."""
    return Session(limits=limits_of(args), coverage=not getattr(args, "no_coverage", False),
                   cross_check=bool(getattr(args, "cross_check", False)))


def ignores(parser, why, *attrs):
    """Declare options of cli's common set (nvtlbi/cli.py) that the command
    of `parser` does not use: given with another value than their default,
    each is refused (one line naming it and `why`), since a run that drops
    an option the user gave would claim something it did not check."""
    ignored = dict(parser.get_default("ignored") or {})
    ignored.update({a: (parser.get_default(a), why) for a in attrs})
    parser.set_defaults(ignored=ignored)


def validate(args):
    for attr, opt, least, meaning in MINIMA:
        value = getattr(args, attr, None)
        if value is None:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            raise OptionError(f"{opt} {value}: not a finite number")
        if value < least:
            raise OptionError(f"{opt} {value}: must be at least {least}" + (f" ({meaning})" if meaning else ""))
    for attr, opt, most, why in MAXIMA:
        value = getattr(args, attr, None)
        if value is not None and value > most:
            raise OptionError(f"{opt} {value}: must be at most {most} ({why})")
    for attr, (default, why) in (getattr(args, "ignored", None) or {}).items():
        if getattr(args, attr, default) != default:
            raise OptionError(f"--{attr.replace('_', '-')}: {why}")
    if getattr(args, "op", None) is not None:     # audit without --op: checked per op of the input
        check_op(args, args.op)
    for attr, opt in OUTPUTS:
        path = getattr(args, attr, None)
        if path is not None:
            check_writable(opt, path)


def check_op(args, name):
    """--hint and --property name cases and properties of the op `name`
    (a name of another op's is refused, not run as something else)."""
    from nvtlbi.model import ops
    o = ops.op(name)
    bad = [h for h in getattr(args, "hint", None) or () if h not in o.cases]
    if bad:
        raise UsageError(f"--hint {bad[0]}: not a case of op {o.name} (cases: {', '.join(o.cases)})")
    bad = [p for p in getattr(args, "property", None) or () if p not in o.properties]
    if bad:
        raise UsageError(f"--property {bad[0]}: not a property of op {o.name} "
                         f"(properties: {', '.join(o.properties)})")


@contextmanager
def output(opt, path):
    """The output file of option `opt`, open for writing; a failure to
    write it (checked writable before the run, yet refused now: a special
    file system, a full disk) is a usage error naming the option, not an
    internal error."""
    try:
        with open(path, "w") as f:
            yield f
    except OSError as e:
        raise OptionError(f"{opt} {path}: cannot write: {e.strerror or e}") from None


def check_writable(opt, path):
    """Refuse a path the command could not write, without creating it."""
    if os.path.isdir(path):
        raise OptionError(f"{opt} {path}: is a directory")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise OptionError(f"{opt} {path}: no such directory {parent}")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise OptionError(f"{opt} {path}: not writable")
    if not os.path.exists(path) and not os.access(parent, os.W_OK | os.X_OK):
        raise OptionError(f"{opt} {path}: directory {parent} is not writable")
