"""The verdict matrix of revisions, proved in worker processes: one job per
(revision, granule, level of T), every obligation of it (nvtlbi/scheduler.py);
and counterexamples drawn as scenarios, each replayed in a worker.  A job
whose results the proof cache holds (nvtlbi/cache.py) is not proved again;
its counterexamples are replayed on impl/ in this run all the same.  Shared
by the commands that prove (prove, cex, audit); it parses nothing and prints
only progress on a terminal (and the cache's warnings)."""

import copy
import sys

from nvtlbi.impl import revision as REV
from nvtlbi.model import assumptions as AS
from nvtlbi.model.env import HINTS
from nvtlbi.model.matrix import matrix
from nvtlbi.model.prover import prove_level
from nvtlbi.model.session import CrossTally
from nvtlbi.model import ops
from nvtlbi.model.verdict import COUNTEREXAMPLE
from nvtlbi import cache, render, scheduler
from nvtlbi.options import UsageError, check_op, session_of


def _cases(args, enabled):
    o = ops.op(getattr(args, "op", None))
    check_op(args, o)
    def selected(every):
        return [c for c in every if (not args.granule or c.granule in args.granule)
                and (not getattr(args, "level", None) or c.level in args.level)]
    every = o.matrix(enabled, hints=args.hint or o.cases)
    cases = selected(every)
    if not cases:
        # a selection of nothing would "prove" nothing and exit 0
        given = " ".join(f"--{opt} {v}" for opt in ("granule", "level", "hint")
                         for v in getattr(args, opt, None) or ())
        have = {}
        for c in every:
            have.setdefault(c.granule, {})[f"L{c.level}"] = None
        raise UsageError(f"{given}: selects no case of op {o.name} (its levels: "
                         + "; ".join(f"{g} {', '.join(ls)}" for g, ls in have.items()) + ")"
                         + ("; the LPA2 levels are cases once --drop no-lpa2" if AS.NO_LPA2.name in enabled
                            and selected(o.matrix([a for a in enabled if a != AS.NO_LPA2.name],
                                                  hints=args.hint or o.cases)) else ""))
    return cases


def _work(spec, shift, level, hints, props, drop, session, op=None):
    """One job, in a worker: every obligation of one (granule, level) of T,
    under the session the job hands it (a tally of its own, sent back)."""
    o = ops.op(op)
    rev = REV.load(spec, o.caller)
    with session.fresh() as s:
        rs = prove_level(rev, shift, level, hints, props=props, drop=drop, op=o)
    return rs, s.tally


def _work_noting_files(*args):
    """_work, and the files of the modules the worker had loaded once done
    (nvtlbi/cache.py: a cache entry is valid while they are unchanged)."""
    rs, tally = _work(*args)
    return rs, tally, cache.loaded_files(exclude=(scheduler.revision_file(args[0]),))


def cross_line(tally):
    """One line for --cross-check; a disagreement never gets here (it is an error)."""
    return (f"cross-check (bitwuzla): {tally.agreed} queries agreed, 0 disagreed, "
            f"{tally.unchecked} unchecked (a solver gave up)")


def prove_many(specs, args, label=None, infos=None):
    """Prove the matrix for each revision spec, every job in a worker
    (nvtlbi/scheduler.py) or from the proof cache (nvtlbi/cache.py);
    ({spec: [Result]} in matrix order, the cross-check tally summed over the
    workers, the cache's Use).  Shows progress on a terminal.  `infos`
    ({spec: RevisionInfo}) when the caller has described the revisions
    already."""
    try:
        enabled = AS.enabled(args.drop)
    except KeyError as e:
        raise UsageError(f"--drop {e.args[0]}: no such assumption (have: {', '.join(AS.NAMES)})")
    infos = infos or scheduler.describe(specs, args)       # user errors surface before any work
    session = session_of(args)
    o = ops.op(getattr(args, "op", None))
    check_op(args, o)
    props = tuple(sorted(args.property)) if args.property else o.isolation
    store, use = cache.of(args, session, enabled)
    levels = []
    for c in _cases(args, enabled):           # one job per (granule, level): its hints share a run
        if not levels or levels[-1][:2] != (c.shift, c.level):
            levels.append((c.shift, c.level, []))
        levels[-1][2].append(c.hint)
    extra = () if o.name == ops.DEFAULT else (o.name,)      # the ipas2e1 job is as before
    work = _work_noting_files if store else _work
    jobs = [scheduler.Job(work, (spec, shift, level, tuple(hints), props, tuple(args.drop), session) + extra,
                          _obligations(infos[spec].name, shift, level, hints, props), spec)
            for spec in specs for shift, level, hints in levels]
    # the slowest jobs (4K, older revisions) first, for a better balance on few cores
    jobs.sort(key=lambda j: (j.args[1] != 12,))
    who = {spec: store.identity(infos[spec].name, infos[spec].path) for spec in specs} if store else {}
    keys = [store.key_of(who[j.revision],
                         {"op": o.name, "shift": j.args[1], "level": j.args[2], "hints": list(j.args[3]),
                          "properties": list(props)})
            if store and who[j.revision] is not None else None for j in jobs]
    asking = [who.get(j.revision) for j in jobs]
    hits = _from_cache(store, jobs, keys, args, o.name, asking)
    todo = [i for i in range(len(jobs)) if i not in hits]
    # revisions of the same code in this run (nvtlbi/sharing.py: a patch
    # posted again unchanged): the first of each key is proved, the others
    # then take its results from the cache, moved to their own lines
    first, later, seen = [], [], set()
    for i in todo:
        (later if keys[i] is not None and keys[i] in seen else first).append(i)
        seen.add(keys[i])
    progress = _progress(label or "prove") if sys.stderr.isatty() and len(todo) > 8 else None
    done = dict(zip(first, scheduler.run([jobs[i] for i in first], args.jobs, args, progress)))

    def stored(indices):
        for i in indices:
            if store and keys[i] is not None:
                store.put(keys[i], done[i][0], done[i][2], jobs[i].what, asking[i])
    stored(first)
    if later:
        hits.update(_from_cache(store, jobs, keys, args, o.name, asking, only=later))
        again = [i for i in later if i not in hits]       # what could not be moved: proved itself
        done.update(zip(again, scheduler.run([jobs[i] for i in again], args.jobs, args)))
        stored(again)
    out = {spec: [] for spec in specs}
    tally = CrossTally()
    for i, job in enumerate(jobs):
        if i in hits:
            out[job.revision] += hits[i]
        else:
            out[job.revision] += done[i][0]
            tally += done[i][1]
    if progress:
        print(file=sys.stderr)
    if not any(out.values()):
        # cases were selected, but no property applies to their operand
        # cases: a run that proves nothing is no pass (it exited 0)
        given = " ".join(f"--{opt} {v}" for opt in ("hint", "property") for v in getattr(args, opt, None) or ())
        raise UsageError(f"{given or '--property'}: selects no obligation of op {o.name} (no property of "
                         f"{', '.join(props)} applies to the operand cases selected)")
    use.obligations = sum(len(rs) for rs in out.values())
    use.from_cache = sum(len(rs) for rs in hits.values())
    for i in hits:          # each result says where it came from: another revision of the same code
        donor = store.moved.get((keys[i], asking[i].name)) if asking[i] is not None else None
        if donor is not None:
            use.shared.setdefault(asking[i].name, set()).add(donor)
    return out, tally, use


def _from_cache(store, jobs, keys, args, op=None, asking=None, only=None):
    """{job index: [Result]} of the jobs the cache holds, each cached
    counterexample replayed on impl/ in this run (in a worker per revision):
    an entry whose counterexample does not replay as it did is discarded,
    reported, and its job proved again."""
    if store is None:
        return {}
    asking = asking or [None] * len(jobs)
    hits = {i: rs for i, k in enumerate(keys) if k is not None and (only is None or i in only)
            and (rs := store.get(k, asking[i])) is not None}
    replays = {}            # spec -> [(job index, its counterexamples)]
    for i, rs in hits.items():
        cexs = [r for r in rs if r.verdict == COUNTEREXAMPLE]
        if cexs:
            replays.setdefault(jobs[i].revision, []).append((i, cexs))
    if not replays:
        return hits
    rjobs = [scheduler.Job(_replay, (spec, [r for _, cexs in items for r in cexs], tuple(args.drop), op),
                           "replaying counterexamples from the cache", spec) for spec, items in replays.items()]
    try:
        answers = scheduler.run(rjobs, args.jobs, args)
    except Exception as e:              # noqa: BLE001 -- then nothing cached is trusted: every job is proved
        store.warn(store.directory, f"replaying counterexamples from the cache failed ({e})")
        answers = [[False] * len(job.args[1]) for job in rjobs]
    for items, ok in zip(replays.values(), answers):
        at = 0
        for i, cexs in items:
            if not all(ok[at:at + len(cexs)]):
                store.warn(store.path(keys[i]), "a counterexample from the cache did not replay as it did "
                                                "when it was stored")
                store.discard(keys[i])
                del hits[i]
            at += len(cexs)
    return hits


def _replay(spec, results, dropped, op=None):
    """In a worker: does each counterexample (a result's, and each of its
    further causes) replay on impl/ now exactly as it did when it was stored
    (the op's attach gives the same verdict and words)?"""
    o = ops.op(op)
    rev = REV.load(spec, o.caller)
    out = []
    for r in results:
        again = copy.deepcopy(r)
        try:
            for c in [again.counterexample] + again.causes:
                o.attach(c, rev, dropped)
        except Exception:               # noqa: BLE001 -- any failure: the job is proved again, honestly
            out.append(False)
            continue
        out.append(again.counterexample == r.counterexample and again.causes == r.causes)
    return out


def _progress(label):
    return lambda i, n: print(f"\r{label}: {i}/{n} cases", end="", file=sys.stderr, flush=True)


def _obligations(name, shift, level, hints, props):
    """How a job's obligations are named in an error."""
    g = {12: "4K", 14: "16K", 16: "64K"}[shift]
    alt = lambda xs: xs[0] if len(xs) == 1 else "{" + ",".join(xs) + "}"
    return f"obligations {name}-{g}-L{level}-{alt(list(hints))}-{alt(list(props))}"


def run_matrix(args):
    """(RevisionInfo, [Result], cross-check tally, cache Use) of the revision's matrix."""
    infos = scheduler.describe([args.revision], args)
    by_spec, tally, use = prove_many([args.revision], args, infos=infos)
    return infos[args.revision], by_spec[args.revision], tally, use


def scenarios(spec, results, dropped, args):
    """render.counterexample for each result, each drawn in a worker (the
    drawing replays the scenario on the revision)."""
    jobs = [scheduler.Job(_draw, (spec, r, tuple(dropped)), f"drawing counterexample {r.id}", spec)
            for r in results]
    return scheduler.run(jobs, args.jobs, args)


def _draw(spec, result, dropped):
    return render.counterexample(result, REV.load(spec, ops.of_result(result).caller), dropped)

