"""nvtlbi: prove the NV stage-2 TLBI range inference, print counterexamples.

Exit status: 0 every obligation PROVED; 1 a COUNTEREXAMPLE (that replays);
2 UNKNOWN, VACUOUS, a counterexample that does not replay (model bug), or a
usage error (bad revision file, unknown assumption); 130 interrupted (Ctrl-C);
143 terminated (SIGTERM)."""

import argparse
import importlib
import os
import sys

import z3

from nvtlbi.impl import revision as REV
from nvtlbi.impl.outcome import InternalError
from nvtlbi.model import assumptions as AS
from nvtlbi.model.engine import CrossCheckError
from nvtlbi.model.session import Limits
from nvtlbi.model.verdict import INTERRUPTED, TERMINATED
from nvtlbi.model.env import HINTS
from nvtlbi.model.ops import DEFAULT as DEFAULT_OP, OPS
from nvtlbi import options, scheduler
from nvtlbi.options import UsageError

# The subcommands, in the order of --help: each module (nvtlbi/commands/)
# defines add_parser(subparsers, common) and run(args) -> exit status, and
# may raise UsageError or RevisionError for user errors.  This module only
# parses the command line, dispatches, and maps errors to exit status 2.
# Imported when used: a run parses and imports only its own command (the
# others' imports are most of a warm `nvtlbi prove`'s start-up); --help and a
# command line without a known command build every parser.
COMMANDS = {"prove": "prove", "cex": "cex", "assumptions": "assumptions", "audit": "audit", "diff": "diff",
            "precision": "precision", "mutate": "mutate", "selfcheck": "selfcheck", "invariants": "invariants",
            "end-to-end": "endtoend"}


def command(name):
    """The module (nvtlbi/commands/) of the subcommand `name`."""
    return importlib.import_module(f"nvtlbi.commands.{COMMANDS[name]}")


class _Parser(argparse.ArgumentParser):
    """An option argparse refuses (an unknown --op, --hint or --property, a
    value that is no number) is one line naming it, exit status 2, like
    every other usage error; --help has the usage.  The subcommands' parsers
    are of this class too (add_subparsers takes the parser's class)."""

    command = None      # the top parser of one subcommand: the words it did not know are that command's

    def error(self, message):
        where = f"{self.prog} {self.command}" if self.command else self.prog
        self.exit(2, f"{self.prog}: error: {message} (`{where} --help` lists the options)\n")


def _parser(only=None):
    p = _Parser(prog="nvtlbi", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.command = only
    sub = p.add_subparsers(dest="cmd")

    def common(sp):
        sp.add_argument("--revision", default="upstream",
                        help="bundled revision name or path to a revision .py file (default: upstream)")
        sp.add_argument("--drop", action="append", default=[], metavar="ASSUMPTION",
                        help="turn an assumption off (repeatable): " + ", ".join(AS.NAMES))
        sp.add_argument("--timeout", type=float, default=0, metavar="SECONDS",
                        help="wall-clock bound per solver query and per job (a granule and level of T: all "
                             f"its obligations); 0: none per query, {scheduler.DEFAULT_BOUND:g} s per job")
        sp.add_argument("--rlimit", type=int, default=Limits.rlimit,
                        help="deterministic solver resource limit per query")
        sp.add_argument("--unwind", type=int, default=Limits.unwind, metavar="N",
                        help="iterations a loop of audited C may run; a path needing more is UNKNOWN naming "
                             f"the loop (default {Limits.unwind})")
        sp.add_argument("--granule", choices=["4K", "16K", "64K"], action="append",
                        help="only these granules")
        sp.add_argument("--level", type=int, choices=range(4), action="append",
                        help="only these levels (of T for ipas2e1, of C for ripas2e1, of the VNCR "
                             "translation's S1 leaf for vncr)")
        sp.add_argument("--op", choices=list(OPS), default=DEFAULT_OP,
                        help=f"the TLBI whose emulation is proved (default {DEFAULT_OP}; audit of posted C: "
                             f"each op whose functions the input defines): "
                             + "; ".join(f"{o.name}: {o.meaning}" for o in OPS.values()))
        sp.add_argument("--hint", choices=list(dict.fromkeys(h for o in OPS.values() for h in o.cases)),
                        action="append", help="only these cases of the operand (hint cases of ipas2e1; "
                                              "nolevel, match, otherlevel, othertg, tg0 of ripas2e1; "
                                              "va, vaa, asid, all, rva, rvaa, ipa of vncr)")
        sp.add_argument("--property", choices=sorted({p for o in OPS.values() for p in o.properties}),
                        action="append",
                        help="only these properties (ipas2e1: default P1-P4, P5 on request; ripas2e1: R1-R4, "
                             "R5 on request)")
        sp.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="worker processes at a time (at least 1; revision code always runs in a worker)")
        sp.add_argument("--debug", action="store_true", help="show tracebacks")
        sp.add_argument("--cross-check", action="store_true",
                        help="re-solve every query with Bitwuzla (SMT-LIB2 export); a disagreement is an error")
        sp.add_argument("--no-coverage", action="store_true",
                        help="skip branch coverage (it traces the revision: about 2x slower exploration)")

    for name in COMMANDS:
        if only is None or name == only:
            command(name).add_parser(sub, common)
    return p


def main(argv=None):
    words = sys.argv[1:] if argv is None else list(argv)
    args = _parser(words[0] if words and words[0] in COMMANDS else None).parse_args(argv)
    if args.cmd is None:
        args = _parser().parse_args(["prove"] + (argv or sys.argv[1:]))
    # Ctrl-C is nvtlbi's, never z3's: by default z3 answers it by cancelling
    # the query it is solving (an "unknown" that the run goes on from, to a
    # verdict and exit 0); without its handler the interrupt is Python's
    # KeyboardInterrupt once the query returns (entry(): exit 130)
    z3.set_param("ctrl_c", False)
    try:
        options.validate(args)      # before any work: bad values and unwritable outputs
        code = command(args.cmd).run(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`nvtlbi audit | head`): not nvtlbi's failure,
        # but not every verdict was printed either.  Point stdout at
        # /dev/null so that the interpreter's last flush cannot raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print("nvtlbi: output stopped: the reader of stdout closed it", file=sys.stderr)
        return 2
    except scheduler.Terminated:
        raise
    except SystemExit as e:
        # only the user's Python exits inside a command (a producer that the
        # end-to-end theorem and cex --invariants run in this process): one
        # line naming where, never the exit status it asked for
        if getattr(args, "debug", False):
            raise
        tb = e.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb is not None else "nvtlbi"
        print(f"nvtlbi: error: {where}: sys.exit({e.code!r}) while nvtlbi ran it; an exit is not a verdict",
              file=sys.stderr)
        return 2
    except (REV.RevisionError, UsageError, CrossCheckError, InternalError, options.OptionError,
            scheduler.WorkerError) as e:
        if getattr(args, "debug", False):
            raise
        print(f"nvtlbi: error: {e}", file=sys.stderr)
        return 2
    except Exception as e:              # nvtlbi's own failure: one line, never a verdict
        if getattr(args, "debug", False):
            raise
        from nvtlbi.model import userfault
        print(f"nvtlbi: error: {userfault.internal(e)}", file=sys.stderr)
        return 2
    return code


def entry():
    try:
        sys.exit(main())
    except KeyboardInterrupt:       # the workers are gone already (nvtlbi/scheduler.py)
        print("nvtlbi: interrupted", file=sys.stderr)
        sys.exit(INTERRUPTED)
    except SystemExit as e:
        # SIGTERM while workers run ends the main process as this exit
        # (scheduler._stop_workers_on_sigterm); outside, its default action
        # ends it, which a shell reports as the same status
        if e.code == TERMINATED:
            print("nvtlbi: terminated", file=sys.stderr)
        raise


if __name__ == "__main__":
    # `python -m nvtlbi.cli`: run the imported module, not a second copy of
    # it under the name __main__ (one set of module state for every command)
    from nvtlbi.cli import entry as _entry
    _entry()
