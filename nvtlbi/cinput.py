"""Audit input: a C file, a unified diff / format-patch, or an mbox of patch
mails, turned into the text of the functions we audit, each line carrying
where it came from (file and line), so that errors and the report point at
what the user gave us.

Patches are parsed with whatthepatch (tolerant of mail decorations and of
truncated hunks, which web copies of mails often have) and applied here,
because we need the provenance of every line.  Without a base file a
patched file is *sparse*: only the hunks' post-images are known, with gaps
between them; a function is taken from it only if it lies whole inside known
text.  A later patch whose context matches known text is applied there.
"""

import mailbox
import os
import re
from dataclasses import dataclass, field

import whatthepatch


class InputError(Exception):
    """A user error: the message starts with FILE:LINE."""


@dataclass(frozen=True)
class Line:
    text: str
    file: str
    line: int


GAP = None          # an unknown stretch of a file known only from hunks


@dataclass
class Source:
    """The state of one C file: Lines and GAPs."""
    path: str
    lines: list
    notes: list = field(default_factory=list)


def _read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError as e:
        raise InputError(f"{path}:1: cannot read: {e.strerror}") from None


def c_source(path, text=None):
    text = _read(path) if text is None else text
    return Source(os.path.basename(path), [Line(t, path, i + 1) for i, t in enumerate(text.split("\n"))])


_DIFF_START = re.compile(r"^(diff --git a/|--- (a/)?\S+\.\w+)", re.M)
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", re.M)


def is_patch(text):
    return bool(re.search(r"^@@ -\d+(,\d+)? \+\d+(,\d+)? @@", text, re.M))


def _mails(path, text):
    """(subject, body, line offset of the body in the file) for each mail;
    a file that is not an mbox is one mail."""
    if not text.startswith("From "):
        return [("", text, 0)]
    out = []
    starts = [m.start() for m in re.finditer(r"^From .*$", text, re.M)]
    for i, s in enumerate(starts):
        chunk = text[s:starts[i + 1] if i + 1 < len(starts) else len(text)]
        msg = mailbox.mboxMessage(chunk)
        subject = " ".join(str(msg.get("Subject", "")).split())
        body = msg.get_payload(decode=False)
        if isinstance(body, str) and str(msg.get("Content-Transfer-Encoding", "")).lower() in (
                "quoted-printable", "base64"):
            # decoded text; its line numbers are those of the decoded body
            body = msg.get_payload(decode=True).decode("utf-8", errors="replace")
        if not isinstance(body, str):
            raise InputError(f"{path}:{text.count(chr(10), 0, s) + 1}: multipart mail: not supported (save the patch as plain text)")
        off = text.count("\n", 0, s + chunk.index(body[:40])) if body[:40] in chunk else text.count("\n", 0, s)
        out.append((subject, body, off))
    return out


@dataclass
class FileDiff:
    path: str
    created: bool
    hunks: list          # [(old_start, old_len, [(kind, text, patch line)])]


def parse_patches(path, text=None):
    """[(subject, [FileDiff])] in file order."""
    text = _read(path) if text is None else text
    out = []
    for subject, body, off in _mails(path, text):
        m = _DIFF_START.search(body)
        if not m:
            continue
        start_line = off + body.count("\n", 0, m.start())
        diff_text = body[m.start():]
        diffs = []
        headers = iter([(m, diff_text.count("\n", 0, m.start())) for m in _HUNK.finditer(diff_text)])
        for d in whatthepatch.parse_patch(diff_text):
            if d.header is None or not d.changes:
                continue
            newp = d.header.new_path or ""
            newp = newp[2:] if newp.startswith("b/") else newp
            created = d.header.old_path in ("/dev/null", None)
            diffs.append(FileDiff(newp, created, _hunks(d, headers, start_line)))
        out.append((subject, diffs))
    if not out:
        raise InputError(f"{path}:1: no unified diff found in the input")
    return out


def _hunks(d, headers, start_line):
    """Group whatthepatch's changes by hunk, pairing the n-th hunk with the
    n-th @@ header (`headers`, consumed in order); each change gets its line
    in the input file so errors point into the patch."""
    by = {}
    for c in d.changes:
        by.setdefault(c.hunk, []).append(c)
    hunks = []
    for _, changes in sorted(by.items()):
        m, hline = next(headers)
        items = []
        for i, c in enumerate(changes):
            kind = " " if c.old is not None and c.new is not None else ("-" if c.new is None else "+")
            items.append((kind, c.line, start_line + hline + 2 + i))
        hunks.append((int(m.group(1)), int(m.group(2) or 1), items, start_line + hline + 1))
    return hunks


def _find(lines, pre, near):
    """Index where `pre` (texts) matches known lines, nearest to `near`."""
    n = len(pre)
    best = None
    for i in range(0, len(lines) - n + 1):
        if all(lines[i + k] is not GAP and lines[i + k].text.rstrip() == pre[k].rstrip() for k in range(n)):
            if best is None or abs(i - near) < abs(best - near):
                best = i
    return best


def apply(src, fd, patch_path):
    """Apply one file diff to `src` (in place)."""
    pos = 0
    for old_start, old_len, items, hdr_line in fd.hunks:
        pre = [t for k, t, _ in items if k != "+"]
        if old_len is not None and len(pre) < old_len:
            src.notes.append(f"{patch_path}:{hdr_line}: hunk is truncated ({len(pre)} of {old_len} old lines); "
                             "applied the lines present")
        at = _find(src.lines, pre, max(old_start - 1, pos)) if pre else None
        if at is not None:
            old = src.lines[at:at + len(pre)]
            it = iter(old)
            new = []
            for (k, t, ln) in items:
                if k == " ":
                    new.append(next(it))
                elif k == "-":
                    next(it)
                else:
                    new.append(Line(t, patch_path, ln))
            src.lines[at:at + len(pre)] = new
            pos = at + len(new)
            continue
        gaps = [i for i, x in enumerate(src.lines) if x is GAP]
        if not gaps:
            raise InputError(f"{patch_path}:{hdr_line}: hunk does not apply to {src.lines[0].file if src.lines else src.path}"
                             " (its context or removed lines are not there; is the base of the right era?)")
        g = next((i for i in gaps if i >= pos), gaps[-1])
        island = [Line(t, patch_path, ln) for k, t, ln in items if k != "-"]
        src.lines[g:g + 1] = [GAP] + island + [GAP]
        pos = g + 1 + len(island)


def load(path, bases=()):
    """The C files described by `path` (a .c file or patches) as Sources,
    keyed by basename, plus notes for the report."""
    text = _read(path)
    if not is_patch(text):
        return {os.path.basename(path): c_source(path, text)}, []
    base_by_name = {os.path.basename(b): b for b in bases}
    files, notes = {}, []
    for subject, diffs in parse_patches(path, text):
        for fd in diffs:
            if not fd.path.endswith(".c"):
                continue
            name = os.path.basename(fd.path)
            if name not in files:
                base = base_by_name.get(name)
                if base is None and len(bases) == 1 and name == "nested.c":
                    base = bases[0]
                if fd.created:
                    files[name] = Source(name, [])
                elif base is not None:
                    files[name] = c_source(base)
                    notes.append(f"{fd.path}: applied to base {base}")
                else:
                    files[name] = Source(name, [GAP])
            apply(files[name], fd, path)
        if subject:
            notes.append(f"applied: {subject}")
    for s in files.values():
        notes.extend(s.notes)
    return files, notes
