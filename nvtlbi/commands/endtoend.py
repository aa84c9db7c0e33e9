"""`nvtlbi end-to-end`: the end-to-end theorem (model/endtoend.py) for an op
and a TLBI revision: (a) the producers keep the invariant, (b) the op's
isolation obligations are PROVED, (c) every assumption they rest on is an
invariant of (a) or trusted, with its reason.  The op's matrix is proved as
`prove` does (workers, the proof cache); the producers' obligations run in
this process, as `invariants` runs them.  Exit status: 0 PROVED, 1 a
replayed counterexample in (a) or (b), 2 anything else (a missing piece,
UNKNOWN, VACUOUS, a usage error)."""

import json

from nvtlbi.impl import producers
from nvtlbi.model import endtoend as E
from nvtlbi.model.session import Session
from nvtlbi import cache, render, scheduler
from nvtlbi.options import UsageError
from nvtlbi.proving import run_matrix
from nvtlbi.versions import solver_versions


def add_parser(sub, common):
    p = sub.add_parser("end-to-end", help="the end-to-end theorem: no stale shadow leaf after the emulated TLBI, "
                                          "from the invariant, the op's proofs and the trusted list")
    common(p)
    cache.add_option(p)
    p.add_argument("--producer", default=None, metavar="FILE",
                   help="a producer .py file replacing the bundled one of its kind (the kind whose entry point it "
                        "has: fault, unmap, mmu or guest) in every transition of that kind (model/transitions.py)")
    p.add_argument("--untrust", action="append", default=[], metavar="NAME",
                   help="take an entry off the trusted list (repeatable): "
                        + ", ".join(t.name for t in E.TRUSTED))
    p.add_argument("--json", action="store_true", help="machine-readable results")


def run(args):
    try:
        st = E.statement(args.op)
    except KeyError as e:
        raise UsageError(f"--op {args.op}: {e.args[0]}") from None
    for opt in ("hint", "property"):
        if getattr(args, opt):
            raise UsageError(f"--{opt}: the theorem covers every operand case and fixes its properties "
                             f"({', '.join(st.properties)}); restrict it with --granule or --level")
    try:
        trusted = E.untrust(args.untrust)
    except KeyError as e:
        raise UsageError(f"--untrust {e.args[0]}: not on the trusted list "
                         f"(have: {', '.join(t.name for t in E.TRUSTED)})") from None
    if args.producer:
        scheduler.producer_path(args.producer, args)      # its import runs in a worker first
    prods = E.producers_for(producers.load(args.producer)) if args.producer else {}
    # the op's default obligations (a superset of the statement's): the
    # proof cache holds them when `nvtlbi prove` has run
    info, results, _, use = run_matrix(args)
    with Session():
        initial, pres, stopped = E.preservation(args.granule, prods)
    ev = E.Evidence(list(args.granule or []), initial, pres, results, stopped)
    th = E.judge(args.op, ev, trusted, scope=E.scope_text(args.op, args.granule, args.level))
    producer = (f"{next(iter(prods.values())).path} (for {', '.join(prods)})" if prods else "bundled")
    if args.json:
        print(json.dumps({"theorem": th.as_json(), "revision": info.name, "producer": producer,
                          "preservation": [vars(p) for p in pres], "versions": solver_versions(),
                          "cache": use.as_json()}, indent=1))
        return th.exit_status()
    pending = [t["name"] for t in th.trusted if t["kind"] == E.NOT_YET]
    print(f"end-to-end theorem, op {args.op}, revision {info.name}, producers {producer}: {th.verdict}"
          + (f" (trusting {len(pending)} pieces of KVM code not yet written as producers: {', '.join(pending)})"
             if th.verdict == "PROVED" and pending else ""))
    print(f"  {th.statement}")
    print(f"  scope: {th.scope}")
    print(f"  (a) invariant {', '.join(E.invariant_names())}: initial state "
          f"{'holds' if initial and all(initial.values()) else 'BROKEN' if initial else 'not checked'}; "
          f"preservation {th.counts['a']}"
          + (f"; proved inductive: {', '.join(th.invariant) or 'none'}" if th.verdict != "PROVED" else ""))
    for p in pres:
        if p.verdict != "PROVED":
            print(f"      {p.id}: {p.verdict}" + (f" {p.reason}" if p.reason else ""))
            for line in p.trace:
                print(f"        {line}")
            for line in p.replayed:
                print(f"        [replayed on impl/, right after the {p.transition}: {line}]")
    print(f"  (b) {args.op} {', '.join(st.properties)} of {info.name}: {th.counts['b']}")
    for r in results:
        if r.property in st.properties and r.verdict != "PROVED":
            c = r.counterexample
            print(f"      {r.id}: {r.verdict}" + (f": {render.cex_line(r, c)}" if c else f" {r.reason}"))
    print(f"  (c) the proofs rest on: theorems of (a): {', '.join(th.theorems) or 'none'}")
    for t in th.trusted:
        if t["what"] == "frame":
            print(f"      trusted frame argument, {t['name']} without an obligation: {t['reason']}")
        elif t["what"] == "window":
            print(f"      trusted pending-unmap window, {t['name']}: {t['reason']}")
        elif t["what"] == "case fact":
            print(f"      trusted as a fact of the case in the {t['name']} transition's world: {t['reason']}")
        else:
            print(f"      trusted {t['what']} {t['name']} ({t['kind']}): {t['reason']}")
    if th.missing:
        print("  not PROVED:")
        for m in th.missing:
            print(f"    - {m}")
    return th.exit_status()
