"""The same code, proved once (issue 15: sharing across revisions).

A revision translated from posted C (nvtlbi/c/translator.py) names the post
it came from in three ways only: its first line (the header docstring),
the `file:line` each statement came from (in comments, in a loop's name,
and so in the site of a WARN_ON or BUG() it reaches), and its name, which
names its obligations.  Everything else in it is the code.  A patch posted
again unchanged (v5 and v6 of a series that only rebased, the same mail
from another list's archive) translates to the same code at other lines:
in the public record, R1b's v2, its linux-arm-kernel copy, v5 and v6 are
one code; so are R4's v1 and v2, and R5 on C_v3_11 with N1's nested.c.

Such revisions share one proof.  A revision's Identity is the SHA-256 of
its text with the header dropped and each `file:line` of its posts
replaced by its place in the order of first appearance; the proof cache
keys a translated revision's jobs by that (nvtlbi/cache.py), so that a
job proved for one post is found for the other, in the same run or a
later one.  A result is moved from the revision that was proved (the
donor) to the one that asks by relocate(): each `file:line` of the donor
becomes the one at the same place in the asker, and the result's revision
name the asker's.  Where a result names the donor in any other way (a
location that is not one of the donor's places, the donor's file or name
elsewhere), it is not moved: the asker is proved itself.  A counterexample
moved is replayed on the asker in the run (nvtlbi/proving.py), as every
counterexample taken from the cache is.

A revision written in Python by hand is its own text: only the same file
content under the same name shares (the cache as before)."""

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Optional, Tuple

# the first line the translator writes (nvtlbi/c/pipeline.py)
HEADER = '"""Revision translated by `nvtlbi audit`'
# a function's definition names the file and line of its C
_DEF_SITE = re.compile(r"^@?.*def .*#\s*C:\s*(.+):(\d+)\s*$", re.M)


@dataclass(frozen=True)
class Identity:
    name: str
    code: str                   # SHA-256 of the normalised text (translated) or of the text
    translated: bool
    files: Tuple[str, ...] = ()         # the posted files it names
    locations: Tuple[str, ...] = ()     # its "file:line"s, in the order of first appearance

    def key_part(self) -> dict:
        """What the proof cache's key holds of the revision."""
        if self.translated:
            return {"code": self.code}
        return {"name": self.name, "text": self.code}


def _token(files):
    """A `file:line` of one of `files`, not part of a longer path or number."""
    alt = "|".join(re.escape(f) for f in sorted(files, key=len, reverse=True))
    return re.compile(rf"(?<![\w./-])(?:{alt}):\d+(?!\d)")


def identity(path: str, name: str) -> Identity:
    """The Identity of the revision in `path` (OSError if unreadable)."""
    with open(path, "rb") as f:
        raw = f.read()
    text = raw.decode("utf-8", "replace")
    files = tuple(sorted({m[1] for m in _DEF_SITE.finditer(text)}))
    if not text.startswith(HEADER) or not files:
        return Identity(name, hashlib.sha256(raw).hexdigest(), False)
    body = text.split("\n", 1)[1] if "\n" in text else ""
    order: dict = {}

    def place(m):
        return f"@{order.setdefault(m[0], len(order))}"
    normal = _token(files).sub(place, body)
    return Identity(name, hashlib.sha256(normal.encode()).hexdigest(), True, files, tuple(order))


def relocate(text: str, donor: Identity, asker: Identity) -> Optional[str]:
    """`text` (the JSON of results proved for `donor`) as `asker`'s results,
    or None when it names the donor in a way that cannot be moved.  The
    revision field is renamed by the caller (set_name)."""
    if donor == asker:
        return text
    if not (donor.translated and asker.translated and donor.code == asker.code
            and len(donor.locations) == len(asker.locations)):
        return None
    # the JSON text holds each string escaped: match the escaped forms
    esc = lambda s: json.dumps(s)[1:-1]
    where = {esc(d): esc(a) for d, a in zip(donor.locations, asker.locations)}
    files = [esc(f) for f in donor.files]
    unknown = []

    def move(m):
        if m[0] not in where:
            unknown.append(m[0])
            return m[0]
        return where[m[0]]
    moved = _token(files).sub(move, text)
    if unknown:
        return None
    # anything else that names the donor: its files or its name, once the
    # asker's own places (which may contain them: a base both apply to) are
    # set aside, and but for the revision fields set_name() renames
    rest = moved
    for a in sorted({esc(a) for a in asker.locations}, key=len, reverse=True):
        rest = rest.replace(a, "")
    if any(f in rest for f in files):
        return None
    if donor.name != asker.name:
        rest = rest.replace(f'"revision": {json.dumps(donor.name)}', "")
        # as a word of letters and digits: a short name ("b", "v2") is part
        # of many a word of a result, while "_", "-", "." and "/" end one
        # (an id "v1-4K-L2-...", a file "/tmp/.../v1.py:12")
        if re.search(rf"(?<![A-Za-z0-9]){re.escape(esc(donor.name))}(?![A-Za-z0-9])", rest):
            return None
    return moved


def set_name(results, name: str):
    """The results, named as the asker's (Result.revision names the obligations)."""
    for r in results:
        r.revision = name
    return results
