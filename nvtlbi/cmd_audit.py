"""`nvtlbi audit FILE`: translate posted kernel C (a .c file, a patch, an
mbox) into a revision and prove it; `--against NAME` also proves it
equivalent to a bundled revision (or shows an input where they differ)."""

import os
import shutil
import sys
import tempfile
import time

from nvtlbi import audit, cprofile
from nvtlbi.cinput import InputError


def add_parser(sub, common):
    p = sub.add_parser("audit", help="translate kernel C (a .c file, a patch or an mbox) and prove it")
    common(p)
    p.add_argument("file", help="nested.c (or an excerpt), a unified diff / format-patch, or an mbox of patches")
    p.add_argument("--base", action="append", default=[], metavar="FILE.c",
                   help="the file a patch applies to (matched by basename; repeatable)")
    p.add_argument("--base-revision", metavar="NAME",
                   help="take the functions the input lacks from this bundled revision")
    p.add_argument("--profile", help="vocabulary profile (default: chosen from the input): "
                   + ", ".join(cprofile.PROFILES))
    p.add_argument("--emit", metavar="FILE.py", help="also write the translated revision here")
    p.add_argument("--against", metavar="NAME", help="prove the translation equivalent to this bundled revision")
    p.add_argument("--translate-only", action="store_true", help="stop after the translation")
    p.add_argument("--list-profiles", action="store_true", help="print the vocabulary profiles and exit")


def run(args):
    from nvtlbi import cli
    if args.list_profiles:
        print(cprofile.describe())
        return 0
    t0 = time.perf_counter()
    try:
        tr = audit.translate(args.file, args.base, args.base_revision, args.profile)
    except InputError as e:
        raise cli.UsageError(str(e)) from None
    t_translate = time.perf_counter() - t0
    print(f"audit {args.file}: profile {tr.profile.name} ({tr.profile_reason})")
    for n, where in tr.origins.items():
        print(f"  {n:<24} {where}")
    for n in tr.notes:
        print(f"  {n}")
    print(f"translated in {t_translate:.2f}s")
    tmp = tempfile.mkdtemp(prefix="nvtlbi-audit-")
    try:
        path = os.path.join(tmp, "audited.py")
        with open(path, "w") as f:
            f.write(tr.source)
        if args.emit:
            shutil.copyfile(path, args.emit)
            print(f"revision written to {args.emit}")
        if args.translate_only:
            from impl import revision as REV
            REV.load(path)
            return 0
        args.revision = path
        code = 0
        if args.against:
            code = _equivalence(args, path)
        sys.stdout.flush()
        args.json = False
        pcode = cli.cmd_prove(args)
        print(f"audit wall time {time.perf_counter() - t0:.1f}s")
        return max(code, pcode) if 2 in (code, pcode) else (code or pcode)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _equivalence(args, path):
    from impl import revision as REV
    from model import equiv
    from model.engine import Limits
    a, b = REV.load(path), REV.load(args.against)
    limits = Limits(rlimit=args.rlimit, timeout_ms=int(args.timeout * 1000))
    worst = 0
    for case in equiv.diff_cases():
        if args.granule and case.granule not in args.granule:
            continue
        r = equiv.diff_case(a, b, case, drop=tuple(args.drop), limits=limits)
        gran = case.granule
        line = f"equivalence with {args.against} ({gran}): {r.verdict} {r.seconds:.2f}s, {r.paths} paths"
        if r.example:
            line += f"\n  distinguishing input: {r.example}"
        if r.reason:
            line += f" ({r.reason})"
        print(line)
        worst = max(worst, {equiv.EQUIVALENT: 0, equiv.DIFFERENT: 1}.get(r.verdict, 2))
    return worst
