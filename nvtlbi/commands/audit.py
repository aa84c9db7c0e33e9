"""`nvtlbi audit [REVISION | FILE ...]`: the whole matrix for each revision
(bundled, a revision .py, or posted kernel C: a .c file, a patch, an mbox,
translated first), a verdict per revision, the assumptions its proofs rest
on and its counterexamples; `--json`, `--report FILE.md`; `--against NAME`
also proves one input equivalent to a bundled revision."""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time

from nvtlbi.model.verdict import overall_exit
from nvtlbi.c import era, preprocess
from nvtlbi.c.inputs import InputError
from nvtlbi.versions import solver_versions
from nvtlbi import cache, options


def add_parser(sub, common):
    p = sub.add_parser("audit", help="audit revisions: verdicts, the assumptions they rest on, counterexamples")
    common(p)
    cache.add_option(p)
    p.add_argument("inputs", nargs="*", metavar="REVISION|FILE",
                   help="bundled revision names, revision .py files, or posted kernel C (a .c file, a unified "
                        "diff / format-patch, an mbox); default: every bundled revision")
    p.add_argument("--all", action="store_true",
                   help="with no input: the history and the review-thread alternatives (impl/alternatives/)")
    p.add_argument("--json", action="store_true", help="machine-readable results")
    p.add_argument("--report", metavar="FILE.md", help="write a Markdown report a reviewer can paste")
    p.add_argument("--base", action="append", default=[], metavar="FILE.c",
                   help="the file a patch applies to (matched by basename; repeatable)")
    p.add_argument("--base-revision", metavar="NAME",
                   help="take the functions a posted input lacks from this bundled revision")
    p.add_argument("--tree", metavar="LINUX",
                   help="a kernel checkout: audit the functions as they stand in its arch/arm64/kvm/*.c, or, "
                        "with an input (an mbox, a patch, or a directory of git format-patch output), after "
                        "applying that series to the tree's files in memory (the tree is not changed)")
    p.add_argument("--define", action="append", default=[], metavar="NAME[=VALUE]",
                   help="a macro the C input's #if/#ifdef/IS_ENABLED() may test, as set in the kernel "
                        "configuration audited (VALUE: an integer, y or n; default 1; repeatable)")
    p.add_argument("--undef", action="append", default=[], metavar="NAME",
                   help="a macro that is not defined in the configuration audited (repeatable)")
    p.add_argument("--unaudited", action="append", default=[], metavar="FUNCTION",
                   help="accept that the input's changes to FUNCTION are not audited because FUNCTION comes "
                        "from a bundled revision or nvtlbi's model (otherwise an error); the report says so")
    p.add_argument("--assume", action="append", default=[], metavar="ASSUMPTION",
                   choices=[a.name for a in _opt_in()],
                   help="an opt-in assumption the C input's design needs, as a Python revision names it in "
                        "ASSUMES (repeatable): " + ", ".join(a.name for a in _opt_in()))
    p.add_argument("--profile", help="vocabulary profile for C input (default: chosen from the input): "
                   + ", ".join(era.PROFILES))
    p.add_argument("--emit", metavar="FILE.py", help="also write the translated revision here (one C input)")
    p.add_argument("--against", metavar="NAME", help="also prove the (one) input equivalent to this revision")
    p.add_argument("--translate-only", action="store_true", help="stop after the translation")
    p.add_argument("--list-profiles", action="store_true", help="print the vocabulary profiles and exit")
    # without --op, posted C is audited for every op whose functions it
    # defines (nvtlbi.c.ops.ops_in); a revision name or file is ipas2e1's
    p.set_defaults(op=None)


def run(args):
    from nvtlbi import inputs
    from nvtlbi.options import UsageError
    if args.list_profiles:
        if args.json:
            print(json.dumps([{"name": p.name, "span": p.span, "description": p.description,
                               "vocabulary": p.vocabulary, "source": p.source}
                              for p in era.PROFILES.values()], indent=1))
        else:
            print(era.describe())
        return 0
    if "revision" in args and args.revision != "upstream" and not args.inputs:
        args.inputs = [args.revision]
    if args.tree is not None:
        _check_tree_usage(args, UsageError)
    t0 = time.perf_counter()
    tmp = tempfile.mkdtemp(prefix="nvtlbi-audit-")
    try:
        try:
            config = preprocess.Config.parse(args.define, args.undef)
            groups = _ops_of(args, config)
            # one folder per op: the same input translated for two ops is two revision files
            loaded = [[inputs.load(s, _folder(tmp, op.name), args.base, args.base_revision, args.profile, config,
                                   args.unaudited, tree=args.tree, assumes=args.assume, caller=op.caller)
                       for s in specs] for op, specs, _ in groups]
        except InputError as e:
            raise UsageError(str(e)) from None
        if len(groups) > 1:
            for opt, given in (("--emit", args.emit), ("--against", args.against), ("--report", args.report)):
                if given:
                    raise UsageError(f"{opt} takes one op, and the input has the functions of "
                                     f"{', '.join(op.name for op, _, _ in groups)}: name one with --op")
        done, each = [], [_for_op(args, op, found, len(groups) > 1, UsageError) for op, _, found in groups]
        for (op, _, found), lds, one in zip(groups, loaded, each):
            # each op's wall time its own (the first's with the translations)
            done.append(_audit(one, op, lds, found, t0 if not done else time.perf_counter(), tmp))
        if args.json:
            docs = [d for _, d in done]
            print(json.dumps(docs[0] if len(docs) == 1 else docs, indent=1))
        sys.stdout.flush()
        code = 0
        for c, _ in done:
            code = max(code, c) if 2 in (code, c) else (code or c)
        return code
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _for_op(args, op, found, several, UsageError):
    """args for the audit of one op.  Of several ops found, each takes the
    --hint and --property values that are its own (ripas2e1's R1 is not
    ipas2e1's); an op left with none of several given is refused, rather
    than audited on its whole matrix unasked."""
    one = argparse.Namespace(**vars(args))
    one.op = op.name
    if several:
        for opt, attr, have in (("--hint", "hint", op.cases), ("--property", "property", op.properties)):
            given = getattr(args, attr) or []
            mine = [x for x in given if x in have]
            if given and not mine:
                where = ", ".join(s for s, _ in found) or "the input"
                raise UsageError(f"{opt} {', '.join(given)}: none is of op {op.name}, which the input has too "
                                 f"(found in {where}; its: {', '.join(have)}); give one of each op, or name "
                                 "the op with --op")
            setattr(one, attr, mine or None)
    return one


def _folder(tmp, name):
    os.makedirs(os.path.join(tmp, name), exist_ok=True)
    return os.path.join(tmp, name)


def _ops_of(args, config):
    """[(op, inputs, found)]: the op(s) to audit, each with its inputs and,
    for posted C whose op was found in it, [(input, its functions)].  An
    explicit --op, --tree, no input or a Python revision: one op, as named
    (default ipas2e1).  Posted C without --op: the ops whose functions it
    defines (nvtlbi.c.ops.ops_in), in the registry's order; of none,
    ipas2e1 (today's default, whose translation refuses it, file:line)."""
    from nvtlbi.c import ops as C_OPS
    from nvtlbi.impl import revision as REV
    from nvtlbi.model import ops
    from nvtlbi import inputs
    if args.op is not None or args.tree is not None or not args.inputs:
        op = ops.op(args.op)
        if args.inputs or args.tree is not None:
            specs = args.inputs or [None]
        elif op.name == ops.DEFAULT:
            specs = REV.bundled_in_order() + (REV.alternatives() if args.all else [])
        else:
            specs = REV.bundled_of(op.caller)
        return [(op, specs, [])]
    by_op = {}
    for spec in args.inputs:
        if inputs.is_python_revision(spec) or not os.path.exists(spec):
            by_op.setdefault(ops.DEFAULT, ([], []))[0].append(spec)
            continue
        hits = C_OPS.ops_in(spec, [o.caller for o in ops.OPS.values()], args.base, config)
        if not hits:        # audited as ipas2e1's: its translation's error says what the input lacks
            by_op.setdefault(ops.DEFAULT, ([], []))[0].append(spec)
        for name, functions in hits:
            specs, found = by_op.setdefault(name, ([], []))
            specs.append(spec)
            found.append((spec, functions))
    return [(o, *by_op[o.name]) for o in ops.OPS.values() if o.name in by_op]


def _audit(args, op, loaded, found, t0, tmp):
    """Audit one op's inputs: its text report printed, (exit status, its
    --json document)."""
    from nvtlbi import inputs, proving, report, scheduler, trust
    from nvtlbi.options import UsageError
    doc = None
    if not args.json:
        for spec, functions in found:
            print(f"op {op.name} (found in {spec}: {', '.join(functions)})")
    if args.emit and (len(loaded) != 1 or not loaded[0].path.startswith(tmp)):
        raise UsageError("--emit takes exactly one posted (C) input")
    if args.against and len(loaded) != 1:
        raise UsageError("--against takes exactly one input")
    infos = scheduler.describe([x.path for x in loaded] + ([args.against] if args.against else []), args,
                               origins=True)
    for x in loaded:
        inputs.add_revision_info(x, infos[x.path], op.caller)
    if args.emit:
        with open(loaded[0].path) as src, options.output("--emit", args.emit) as f:
            f.write(src.read())
        if not args.json:
            print(f"revision written to {args.emit}")
    where = {"found": [{"input": s, "functions": f} for s, f in found]} if found else {}
    if args.translate_only:
        if args.json:
            doc = {"op": op.name, **where, "versions": solver_versions(),
                   "inputs": [{"input": x.spec, "notes": x.notes} for x in loaded],
                   **({"emit": args.emit} if args.emit else {})}
        else:
            for x in loaded:
                print("\n".join(x.notes))
        return 0, doc
    code, against = 0, None
    if args.against:
        from nvtlbi.commands import diff as cmd_diff
        names = (infos[loaded[0].path].name, args.against)
        results = cmd_diff.equivalence(args, loaded[0].path, args.against, names)
        against = cmd_diff.as_json(*names, results, op.name)
        if not args.json:
            print(cmd_diff.render_diff(*names, results))
        code = cmd_diff.exit_status(results)
    by_spec, tally, use = proving.prove_many([x.path for x in loaded], args, label="audit", infos=infos)
    entries = []
    for x in loaded:
        info = infos[x.path]
        entries.append((info.name, x.path, by_spec[x.path], x.notes + use.notes(info.name), info.assumes,
                        x.origins))
    wall = time.perf_counter() - t0
    if args.json:
        doc = {"op": op.name, **where, "seconds": round(wall, 2), "dropped": args.drop,
               "versions": solver_versions(), "cache": use.as_json(),
               **({"cross_check": tally.as_dict()} if args.cross_check else {}),
               **({"against": against} if against else {}),
               **({"emit": args.emit} if args.emit else {}),
               **({"report": args.report} if args.report else {}),
               "revisions": [report.as_json(n, p, rs, notes, args.drop, extra)
                             | {"coverage": trust.as_json(rs, infos[p])}
                             | ({"origins": origins} if origins else {})
                             for n, p, rs, notes, extra, origins in entries]}
    else:
        restricted = bool(args.granule or args.hint or args.property or args.level)
        for n, p, rs, notes, extra, _ in entries:
            print(report.text(n, rs, notes, args.drop, extra))
            for line in trust.lines(rs, infos[p], restricted):
                print(f"  {line}")
        if args.cross_check:
            print(proving.cross_line(tally))
        print(f"audit of {len(entries)} revision(s), {sum(len(e[2]) for e in entries)} obligations: "
              f"wall time {wall:.1f}s")
        print(use.line())
    if args.report:
        drawn = {}
        for n, p, rs, notes, _, _ in entries:
            shown = report.scenario_results(rs)
            drawn.update(zip((r.id for r in shown), proving.scenarios(p, shown, args.drop, args)))
        with options.output("--report", args.report) as f:
            f.write(report.markdown([(n, p, rs, notes) for n, p, rs, notes, _, _ in entries], args.drop,
                                    {e[1]: infos[e[1]].doc for e in entries}, drawn))
        if not args.json:
            print(f"report written to {args.report}")
    sys.stdout.flush()
    pcode = overall_exit([r for e in entries for r in e[2]])
    return (max(code, pcode) if 2 in (code, pcode) else (code or pcode)), doc


def _check_tree_usage(args, UsageError):
    """--tree audits the tree's own files (after a series, if one is
    given): a base or a bundled revision to take functions from would be
    a second source of the same functions."""
    from nvtlbi.impl import revision as REV
    for opt, given in (("--base", args.base), ("--base-revision", args.base_revision), ("--all", args.all)):
        if given:
            raise UsageError(f"{args.tree}: --tree and {opt} cannot be combined (the tree is the base)")
    for s in args.inputs:
        if s in REV.bundled() + REV.alternatives() or s.endswith(".py"):
            raise UsageError(f"{s}: with --tree, an input is a series to apply to the tree (an mbox, a patch "
                             "or a directory of git format-patch output), not a revision")


def _opt_in():
    """The opt-in assumptions (impl/assumptions.py OPT_IN): the choices of --assume."""
    from nvtlbi.impl import assumptions
    return assumptions.OPT_IN
