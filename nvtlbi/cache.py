"""The proof cache: the results of one job of the verdict matrix (one
revision, granule and level of T: every obligation of its hint cases and
properties, nvtlbi/proving.py) kept under the user's cache directory, keyed
by the content of what was proved, so that a re-run proves only what
changed.

The key is a SHA-256 of
  - the revision: its name (it names the obligations) and the text of its
    file; for posted C, the translated module's code without the names of
    the post's lines (nvtlbi/sharing.py: a patch posted again unchanged is
    the same code, proved once; its results are moved to the other post's
    lines and name when read), plus, recorded when the
    entry is written and checked when it is read, the text of every other
    file outside nvtlbi and outside Python's own library that the proving
    worker had loaded (a revision importing a helper of its own);
  - nvtlbi's own version: the text of every .py file of nvtlbi, nvtlbi.impl
    and nvtlbi.model (the simplest sound choice: the vocabulary, the model,
    the relinking, the C runtime and the job itself all live there);
  - the assumptions in force (enabled and dropped), the case (granule,
    level, the job's hint cases and properties: the obligations of one job
    share one exploration, so their paths counts and replays depend on the
    job's whole set, which is therefore the unit of the cache);
  - Python's, z3's and bitwuzla's versions, and the options that shape a
    result (--rlimit, --timeout, --unwind, the branch bound, coverage).

A cache entry never changes a verdict:
  - only definite results are stored: PROVED (with its cover witness built
    concretely), VACUOUS, and a COUNTEREXAMPLE that replayed.  UNKNOWN is
    never stored: it is no claim about the code but the solver giving up,
    under --timeout a matter of the machine's load, and a re-run may well
    decide it; a MODEL BUG is nvtlbi's failure and must show on every run;
  - a result is stored only when it reads back equal to itself (a value the
    text form cannot hold exactly makes the job uncacheable, not different);
  - an entry carries a checksum of its key and content: a truncated,
    corrupted or misplaced entry is ignored, re-proved and reported once on
    stderr, never an exception;
  - a COUNTEREXAMPLE taken from the cache is replayed on impl/ again in this
    run (nvtlbi/proving.py); if it no longer replays the same way the entry
    is discarded and the job re-proved;
  - --cross-check turns the cache off: it asks for every query to be solved
    again by a second solver, which an answer from the cache would skip.

Storage: one file per entry, ENTRIES/<key>.json, written to a temporary file
in the same directory and renamed over the entry, so that a reader sees the
whole old entry or the whole new one; workers never write (the main
process stores what they return).  Files rather than one SQLite database:
entries are written once and read whole, several nvtlbi runs (and helpers on
one machine) may store at once without a lock, one bad entry costs only
itself, and clearing the cache is deleting a directory.  There is no fsync:
an entry torn by a crash fails its checksum and is proved again.

The text form is JSON, with tuples, sets and dicts of other keys tagged so
that they read back as they were (plain JSON would give lists and string
keys); no code runs when an entry is read, unlike pickle, and json's
parser is fast (ast.literal_eval of the same data took half a second for
`nvtlbi prove`)."""

import dataclasses
import hashlib
import json
import os
import site
import sys
import sysconfig
import tempfile
from dataclasses import dataclass, field

from nvtlbi.model.verdict import COUNTEREXAMPLE, PROVED, VACUOUS, Result
from nvtlbi import sharing

FORMAT = 2          # 2: entries say whose they are (nvtlbi/sharing.py)
ENV_DIR = "NVTLBI_CACHE_DIR"      # the cache's directory (tests point it at a temporary one)
ENV_OFF = "NVTLBI_NO_CACHE"       # set (and not 0): as --no-cache
ENTRIES = "entries"


def add_option(parser):
    """--no-cache, for every command that proves obligations."""
    parser.add_argument("--no-cache", action="store_true",
                        help="neither read nor write the proof cache (also: NVTLBI_NO_CACHE=1; the cache lives "
                             f"in ${ENV_DIR}, else $XDG_CACHE_HOME/nvtlbi, else ~/.cache/nvtlbi)")


def directory(environ=None):
    """Where the cache lives: $NVTLBI_CACHE_DIR, else $XDG_CACHE_HOME/nvtlbi,
    else ~/.cache/nvtlbi."""
    environ = os.environ if environ is None else environ
    if environ.get(ENV_DIR):
        return os.path.abspath(environ[ENV_DIR])
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(os.path.abspath(base), "nvtlbi")


def _sha(data):
    return hashlib.sha256(data).hexdigest()


def _file_sha(path):
    with open(path, "rb") as f:
        return _sha(f.read())


def project_dirs():
    """The folders of nvtlbi, nvtlbi.impl and nvtlbi.model (separate folders
    in a source checkout, nested ones when installed)."""
    import nvtlbi
    import nvtlbi.impl
    import nvtlbi.model
    return sorted({os.path.dirname(os.path.realpath(m.__file__)) for m in (nvtlbi, nvtlbi.impl, nvtlbi.model)})


def model_version():
    """A SHA-256 of every .py file of nvtlbi, nvtlbi.impl and nvtlbi.model."""
    h = hashlib.sha256()
    seen = set()
    for top in project_dirs():
        for d, dirs, files in os.walk(top):
            dirs[:] = sorted(x for x in dirs if not x.startswith((".", "__pycache__")))
            for f in sorted(files):
                path = os.path.realpath(os.path.join(d, f))
                if f.endswith(".py") and path not in seen:
                    seen.add(path)
                    h.update(f"{os.path.relpath(path, os.path.dirname(top))}\0{_file_sha(path)}\0".encode())
    return h.hexdigest()


def _library_dirs():
    paths = sysconfig.get_paths()
    dirs = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    try:
        dirs |= set(site.getsitepackages())
    except AttributeError:                  # an old virtualenv's site module
        pass
    if site.ENABLE_USER_SITE and site.getusersitepackages():
        dirs.add(site.getusersitepackages())
    return [os.path.realpath(d) for d in dirs]


def _inside(path, dirs):
    return any(path == d or path.startswith(d + os.sep) for d in dirs)


def loaded_files(exclude=()):
    """{file: SHA-256} of every module loaded in this process whose file is
    neither nvtlbi's own (in the key as model_version) nor Python's library
    (in the key as the versions), nor one of `exclude` (the revision's own
    file, in the key by its text).  Called in a worker once it has proved:
    what the revision imported, however it imported it."""
    skip = project_dirs() + _library_dirs()
    exclude = {os.path.realpath(p) for p in exclude}
    out = {}
    for name, m in list(sys.modules.items()):
        path = getattr(m, "__file__", None)
        if name == "__main__":              # the program run (nvtlbi's script, pytest): no revision's import
            continue
        if not isinstance(path, str):
            continue
        path = os.path.realpath(path)
        if path in exclude or path in out or _inside(path, skip) or not os.path.isfile(path):
            continue
        try:
            out[path] = _file_sha(path)
        except OSError:
            continue
    return dict(sorted(out.items()))


def cacheable(results):
    """Only definite results are kept (see the module's docstring)."""
    for r in results:
        if r.verdict == PROVED and r.exit_status() == 0:
            continue
        if r.verdict == VACUOUS:
            continue
        if (r.verdict == COUNTEREXAMPLE and r.exit_status() == 1 and r.counterexample
                and r.counterexample.get("replayed") is True):
            continue
        return False
    return bool(results)


def _tagged(x):
    """x as JSON values, with what JSON cannot hold tagged: a tuple is
    {"__t": [...]}, a set {"__s": [...]}, a dict whose keys are not all
    plain strings {"__d": [[key, value], ...]}."""
    t = type(x)
    if t in (list, tuple, set):
        items = [_tagged(v) for v in x]
        return items if t is list else {"__t" if t is tuple else "__s": items}
    if t is dict:
        if all(type(k) is str and not k.startswith("__") for k in x):
            return {k: _tagged(v) for k, v in x.items()}
        return {"__d": [[_tagged(k), _tagged(v)] for k, v in x.items()]}
    if t in (str, int, float, bool, type(None)):
        return x
    # anything else (a frozenset, an enum, a str subclass) would compare
    # equal to what it reads back as, yet be another type: not stored
    raise TypeError(f"{t.__name__} is not stored in the cache")


def _untagged(d):
    if len(d) == 1:
        (tag, v), = d.items()
        if tag == "__t":
            return tuple(v)
        if tag == "__s":
            return set(v)
        if tag == "__d":
            return dict((k, val) for k, val in v)
    return d


def encode(results):
    """The text of a list of Results, or None when it would not read back
    equal (a value JSON cannot hold even tagged: not a plain Python value)."""
    try:
        text = json.dumps(_tagged([dataclasses.asdict(r) for r in results]), allow_nan=False)
        again = decode(text)
    except (ValueError, TypeError, RecursionError):
        return None
    return text if again == list(results) else None


def decode(text):
    rows = json.loads(text, object_hook=_untagged)
    if not isinstance(rows, list) or not all(isinstance(d, dict) for d in rows):
        raise ValueError("not a list of results")
    return [Result(**d) for d in rows]


def _checksum(key, deps, text, who=None):
    return _sha(json.dumps([FORMAT, key, deps, text, who], sort_keys=True).encode())


def _who(ident):
    """An Identity as the entry stores it (and the checksum covers: a
    damaged one would move results to the wrong lines)."""
    return None if ident is None else dataclasses.asdict(ident)


def _identity(d):
    return sharing.Identity(d["name"], d["code"], d["translated"], tuple(d["files"]), tuple(d["locations"]))


@dataclass
class Use:
    """What a run took from the cache, for the reports."""
    enabled: bool
    directory: str
    from_cache: int = 0             # obligations whose result came from the cache
    obligations: int = 0            # obligations in the run
    why_off: str = ""
    shared: dict = field(default_factory=dict)     # revision -> the revisions of the same code it took results of

    def as_json(self):
        return {"enabled": self.enabled, "directory": self.directory, "from_cache": self.from_cache,
                "obligations": self.obligations} | ({"off": self.why_off} if not self.enabled else {}) | \
            ({"shared": {k: sorted(v) for k, v in self.shared.items()}} if self.shared else {})

    def notes(self, name):
        """What a revision's report says of results it took from another revision."""
        donors = sorted(self.shared.get(name, ()))
        return [f"results taken from {', '.join(donors)}: the same code once translated, at other lines of the "
                f"posts (nvtlbi/sharing.py); moved to this input's lines, counterexamples replayed on it"] \
            if donors else []

    def line(self):
        if not self.enabled:
            return f"cache: off ({self.why_off})"
        out = f"cache: {self.from_cache} of {self.obligations} results from the cache ({self.directory})"
        for name, donors in sorted(self.shared.items()):
            # where each result came from: another post's proof of the same code
            out += (f"\ncache: {name} is the same code as {', '.join(sorted(donors))} (translated, but for the "
                    f"lines of its posts): results proved for that revision, moved to its own lines")
        return out


@dataclass
class Cache:
    """The cache of one run: where it lives, the key parts every job shares,
    and the entries already reported as bad (each reported once)."""
    directory: str
    common: dict
    reported: set = field(default_factory=set)
    broken: bool = False            # the directory cannot be written: reported once, then read-only
    moved: dict = field(default_factory=dict)      # (key, asker's name) -> the donor's name (get(): results moved)

    @property
    def entries(self):
        return os.path.join(self.directory, ENTRIES)

    def path(self, key):
        return os.path.join(self.entries, f"{key}.json")

    def key(self, name, revision_file, case):
        """The key of one job, or None when its revision's file cannot be
        read (then the job is simply proved)."""
        who = self.identity(name, revision_file)
        return None if who is None else self.key_of(who, case)

    @staticmethod
    def identity(name, revision_file):
        """The revision's sharing.Identity, or None if its file cannot be read."""
        try:
            return sharing.identity(revision_file, name)
        except OSError:
            return None

    def key_of(self, who, case):
        # the key's document (not a --json output: its versions are in self.common)
        keyed = {"format": FORMAT, **self.common, "revision": who.key_part(), "case": case}
        return _sha(json.dumps(keyed, sort_keys=True).encode())

    def warn(self, path, why):
        if path not in self.reported:
            self.reported.add(path)
            print(f"nvtlbi: warning: {path}: {why}; ignored, the obligations are proved again", file=sys.stderr)

    def get(self, key, who=None):
        """The Results stored under `key`, or None (absent, stale or bad).
        who: the asking revision's Identity; results another revision of
        the same code stored are moved to it (sharing.relocate), or None
        where they cannot be."""
        path = self.path(key)
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as e:
            self.warn(path, f"unreadable cache entry ({e.strerror})")
            return None
        try:
            entry = json.loads(raw.decode())
            deps, text = entry["deps"], entry["results"]
            if entry.get("format") != FORMAT:
                return None                 # another nvtlbi's entry: not ours to judge
            if entry["key"] != key:
                self.warn(path, "cache entry stored under another key")
                return None
            if entry["checksum"] != _checksum(key, deps, text, entry.get("who")):
                self.warn(path, "corrupt cache entry (checksum mismatch)")
                return None
            if not isinstance(deps, dict):
                raise TypeError("deps")
            donor = _identity(entry["who"]) if entry.get("who") is not None else None
            other = who is not None and donor is not None and donor != who
            if other:
                text = sharing.relocate(text, donor, who)
                if text is None:
                    return None             # names the other post where it cannot be moved: proved again
            results = decode(text)
            if other:
                sharing.set_name(results, who.name)
        except (ValueError, TypeError, KeyError, AttributeError, UnicodeDecodeError, RecursionError) as e:
            self.warn(path, f"corrupt cache entry ({type(e).__name__})")
            return None
        for dep, sha in deps.items():       # a file the revision imported has changed: a plain miss
            try:
                if _file_sha(dep) != sha:
                    return None
            except OSError:
                return None
        if other:
            self.moved[key, who.name] = donor.name
        return results

    def put(self, key, results, deps, what="", who=None):
        """Store a job's results (when definite and exact); never raises."""
        if self.broken or not cacheable(results):
            return False
        text = encode(results)
        if text is None:
            return False
        entry = {"format": FORMAT, "key": key, "what": what, "deps": deps, "results": text, "who": _who(who),
                 "checksum": _checksum(key, deps, text, _who(who))}
        tmp = None
        try:
            os.makedirs(self.entries, mode=0o700, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.entries, prefix=".tmp-", suffix=".json")
            with os.fdopen(fd, "w") as f:
                json.dump(entry, f)
            os.replace(tmp, self.path(key))
            return True
        except OSError as e:
            self.broken = True
            print(f"nvtlbi: warning: {self.directory}: cannot write the proof cache ({e.strerror}); "
                  f"results are not cached in this run", file=sys.stderr)
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
            return False

    def discard(self, key):
        try:
            os.unlink(self.path(key))
        except OSError:
            pass


def of(args, session, enabled, environ=None):
    """(Cache or None, Use) for a run with these options: None when
    --no-cache, NVTLBI_NO_CACHE, or --cross-check turn it off."""
    environ = os.environ if environ is None else environ
    where = directory(environ)
    if getattr(args, "no_cache", False):
        return None, Use(False, where, why_off="--no-cache")
    if environ.get(ENV_OFF, "") not in ("", "0"):
        return None, Use(False, where, why_off=f"{ENV_OFF} is set")
    if session.cross_check or session.second is not None:
        return None, Use(False, where, why_off="--cross-check solves every query again")
    from nvtlbi.versions import solver_versions
    lim = session.limits
    common = {"model": model_version(), "versions": solver_versions(),
              "options": {"rlimit": lim.rlimit, "timeout_ms": lim.timeout_ms, "unwind": lim.unwind,
                          "max_decisions": session.max_decisions, "coverage": session.coverage},
              "assumptions": {"enabled": list(enabled), "dropped": sorted(args.drop)}}
    return Cache(where, common), Use(True, where)
