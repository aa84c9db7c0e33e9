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

import dataclasses
import datetime
import email.utils
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
    touches: list = field(default_factory=list)   # (function or UNKNOWN, FILE:LINE of a change, its hunk lines)


def strip_comments(lines):
    """Blank out comments, keeping line structure; `lines` are texts."""
    out, in_block = [], False
    for t in lines:
        if not in_block and "/" not in t and '"' not in t and "'" not in t:
            out.append(t)           # most lines: nothing to strip (whole files are long)
            continue
        res, i = [], 0
        while i < len(t):
            if in_block:
                j = t.find("*/", i)
                if j < 0:
                    i = len(t)
                else:
                    in_block, i = False, j + 2
                    res.append(" ")
            elif t.startswith("/*", i):
                in_block, i = True, i + 2
            elif t.startswith("//", i):
                i = len(t)
            elif t[i] in "\"'":
                q, j = t[i], i + 1
                while j < len(t) and t[j] != q:
                    j += 2 if t[j] == "\\" else 1
                res.append(t[i:j + 1])
                i = j + 1
            else:
                res.append(t[i])
                i += 1
        out.append("".join(res))
    return out


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
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$", re.M)


_QUOTED_HUNK = re.compile(r"^(?:>\s*)+@@ -\d+(,\d+)? \+\d+(,\d+)? @@", re.M)


def is_patch(text):
    return bool(re.search(r"^@@ -\d+(,\d+)? \+\d+(,\d+)? @@", text, re.M))


def _mails(path, text):
    """(subject, body, line offset of the body in the file, line of the
    mail's start) for each mail; a file that is not an mbox is one mail."""
    if not text.startswith("From "):
        return [("", text, 0, 1)]
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
        out.append((subject, body, off, text.count("\n", 0, s) + 1))
    return out


@dataclass
class FileDiff:
    path: str
    created: bool
    hunks: list          # [(old_start, old_len, [(kind, text, patch line)], @@ line)]
    touches: list = field(default_factory=list)   # per hunk: {function or UNKNOWN: (line, texts)}
    new_lens: list = field(default_factory=list)  # per hunk: the new line count its @@ header gives


@dataclass
class Patch:
    """One mail's diff.  Indexable as the (subject, diffs) pair it used to be."""
    subject: str
    diffs: list
    line: int            # where the mail starts in the input
    tag: tuple = (1, None, None)    # (version, number, total) from "[PATCH vV N/T]"
    reply: bool = False

    def __getitem__(self, i):
        return (self.subject, self.diffs)[i]


def parse_patches(path, text=None):
    """[Patch] in file order (mails without a diff are left out)."""
    text = _read(path) if text is None else text
    out = []
    lines = text.split("\n")
    for subject, body, off, line in _mails(path, text):
        m = _DIFF_START.search(body)
        if not m:
            continue
        _plain_or_refused(path, lines, line)
        start_line = off + body.count("\n", 0, m.start())
        diff_text = body[m.start():]
        git = diff_text.startswith("diff --git ")
        diffs = []
        headers = iter([(m, diff_text.count("\n", 0, m.start())) for m in _HUNK.finditer(diff_text)])
        for d in whatthepatch.parse_patch(diff_text):
            if d.header is None or not d.changes:
                continue
            newp = d.header.new_path or ""
            newp = newp[2:] if newp.startswith("b/") else newp
            hunks, contexts, new_lens = _hunks(d, headers, start_line)
            # "--- /dev/null", or (a git header without an index line, where
            # whatthepatch names a/PATH) a single hunk from line 0 of nothing
            created = d.header.old_path in ("/dev/null", None) or \
                (len(hunks) == 1 and hunks[0][0] == 0 and hunks[0][1] == 0)
            touches = [_touched(h[2], ctx, git or created) for h, ctx in zip(hunks, contexts)]
            diffs.append(FileDiff(newp, created, hunks, touches, new_lens))
        out.append(Patch(subject, diffs, line, series_tag(subject), bool(_REPLY.match(subject))))
    if not out:
        raise InputError(f"{path}:1: no unified diff found in the input")
    return out


def _plain_or_refused(path, lines, line):
    """A mail whose body is transfer-encoded (quoted-printable: `=3D` for `=`,
    lines cut with a trailing `=`; base64) holds no diff as written: refused
    at its header, not read as C nor as a hunk cut short."""
    for i in range(line - 1, min(len(lines), line - 1 + 200)):
        h = lines[i]
        if not h.strip():
            return
        got = re.match(r"(?i)content-transfer-encoding:\s*(quoted-printable|base64)\b", h)
        if got:
            raise InputError(f"{path}:{i + 1}: the mail is {got.group(1).lower()}-encoded; decode it first (as "
                             "`git am` or `b4 am` do) and audit the result")


def _hunks(d, headers, start_line):
    """Group whatthepatch's changes by hunk, pairing the n-th hunk with the
    n-th @@ header (`headers`, consumed in order); each change gets its line
    in the input file so errors point into the patch."""
    by, contexts, new_lens = {}, [], []
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
        contexts.append(m.group(5).strip())
        new_lens.append(int(m.group(4)) if m.group(4) is not None else 1)
    return hunks, contexts, new_lens


UNKNOWN = "?"        # a changed line whose function the hunk does not tell
_HEAD = re.compile(r"^[A-Za-z_][\w\s\*]*?\b(\w+)\s*\(")
_NOT_FUNCTIONS = ("if", "while", "for", "switch", "return", "sizeof")


def function_head(text):
    """The name a line at column 0 starts the definition of, or None."""
    m = _HEAD.match(text)
    if not m or text.rstrip().endswith(";") or m.group(1) in _NOT_FUNCTIONS:
        return None
    return m.group(1)


def _touched(items, context, top_known):
    """{function: (first changed line, the hunk's lines in it)} for the
    functions whose lines one hunk changes.
    A hunk starts in the function git names after its @@ (the funcname
    context); a function head or a closing brace at column 0 inside the
    hunk moves on.  Without a context, a git diff's hunk lies before any
    function (`top_known`), anything else is UNKNOWN for indented lines."""
    if context:
        cur = UNKNOWN if re.match(r"^\w+:", context) else (function_head(context) or "")
    else:
        cur = "" if top_known else UNKNOWN
    changed, seen = {}, {}
    texts = strip_comments([t for _, t, _ in items])
    for (kind, _, ln), t in zip(items, texts):
        name = function_head(t)
        if name:
            cur = name
        elif t[:1] not in ("", " ", "\t", "#", "{", "}") and not re.match(r"^\w+:", t):
            cur = ""                    # a declaration at file level
        seen.setdefault(cur, []).append(t)
        if kind != " " and t.strip() and cur != "":
            changed.setdefault(cur, ln)
        if t.startswith("}"):
            cur = ""
    return {name: (ln, seen[name]) for name, ln in changed.items()}


# ---- which mails of an mbox are applied ------------------------------------------------------------
_REPLY = re.compile(r"^\s*(re|aw|sv)\s*:", re.I)
_TAGS = re.compile(r"^\s*(?:(?:re|aw|sv|fwd?)\s*:\s*)*((?:\[[^\]]*\]\s*)+)", re.I)


def series_tag(subject):
    """(version, number, total) from "[PATCH v2 3/6]"; v1 without a
    version, number and total None without a number."""
    m = _TAGS.match(subject)
    version, number, total = 1, None, None
    for tok in (m.group(1).replace("[", " ").replace("]", " ").split() if m else []):
        if re.fullmatch(r"[vV]\d+", tok):
            version = int(tok[1:])
        elif re.fullmatch(r"\d+/\d+", tok):
            number, total = map(int, tok.split("/"))
    return version, number, total


def _title(subject):
    m = _TAGS.match(subject)
    return " ".join(subject[m.end():].split()) if m else " ".join(subject.split())


def _content(p):
    return tuple((fd.path, tuple(tuple((k, t.rstrip()) for k, t, _ in h[2]) for h in fd.hunks)) for fd in p.diffs)


def covers(path, text):
    """(subject, line, tag) of the mails without a diff that are cover letters (0/N)."""
    out = []
    for subject, body, _, line in _mails(path, text):
        tag = series_tag(subject)
        if tag[1] == 0 and not _REPLY.match(subject) and not _DIFF_START.search(body):
            out.append((subject, line, tag))
    return out


def select_series(path, patches, cover_letters=()):
    """The patches to apply, in series order, as `b4 am` takes them: the
    newest version of each patch (a version that renumbers the series
    replaces the older one whole); replies are not patches.  Two series in
    one input, or one patch twice, are errors.  Returns (patches, notes)."""
    notes = []
    real = [p for p in patches if not p.reply]
    if len(real) < len(patches):
        for p in patches:
            if p.reply and real:
                notes.append(f"note: {path}:{p.line}: '{p.subject}' is a reply carrying a diff: not applied")
        patches = real or patches
    if len(patches) == 1:
        return patches, notes
    titles = {}
    for subject, line, _ in cover_letters:
        titles.setdefault(_title(subject), (subject, line))
    if len(titles) > 1:
        (s1, l1), (s2, l2) = list(titles.values())[:2]
        raise InputError(f"{path}:{l2}: two series in one input: cover letter '{s2}' and '{s1}' ({path}:{l1})")
    patches = _number_single_patches(path, patches)
    if patches[0].tag[1] is None:       # one version of unnumbered patches: a sequence, in file order
        return _once_each(path, patches), notes
    by_version = {}
    for p in patches:
        v, n, t = p.tag
        if n == 0 or n > t:
            raise InputError(f"{path}:{p.line}: '{p.subject}': patch number {n}/{t} is not in its series")
        by_version.setdefault(v, {})
        other = by_version[v].get(n)
        if other is not None:
            what = ("the same patch twice" if _content(other) == _content(p)
                    else "two patches numbered the same (two series in one input?)")
            raise InputError(f"{path}:{p.line}: {what}: '{p.subject}' and '{other.subject}' ({path}:{other.line})")
        if any(q.tag[2] != t for q in by_version[v].values()):
            q = next(iter(by_version[v].values()))
            raise InputError(f"{path}:{p.line}: two series in one input: '{p.subject}' has {t} patches, "
                             f"'{q.subject}' ({path}:{q.line}) has {q.tag[2]}")
        by_version[v][n] = p
    newest = max(by_version)
    total = next(iter(by_version[newest].values())).tag[2]
    chosen = dict(by_version[newest])
    for v in sorted(by_version, reverse=True)[1:]:
        for n, p in sorted(by_version[v].items()):
            if p.tag[2] == total and n not in chosen:
                chosen[n] = p           # a partial reroll: the newest version that has this patch
            else:
                newer = chosen.get(n)
                why = (f"replaced by '{newer.subject}' ({path}:{newer.line})" if newer and p.tag[2] == total
                       else f"v{newest} renumbers the series ({total} patches, this one is of {p.tag[2]})")
                notes.append(f"note: {path}:{p.line}: '{p.subject}' not applied: {why}")
    return _once_each(path, [chosen[n] for n in sorted(chosen)]), notes


def _number_single_patches(path, patches):
    """Unnumbered patches ("[PATCH]", "[PATCH v2]"): alone in one version
    they are a sequence; one per version, each is the 1/1 of its version;
    anything else leaves unclear which replaces which."""
    plain = [p for p in patches if p.tag[1] is None]
    if not plain:
        return patches
    if len(plain) < len(patches):
        p, q = plain[0], next(q for q in patches if q.tag[1] is not None)
        raise InputError(f"{path}:{p.line}: two series in one input: '{p.subject}' is not numbered, "
                         f"'{q.subject}' ({path}:{q.line}) is")
    versions = {p.tag[0] for p in patches}
    if len(versions) == 1:
        return patches
    if len(versions) < len(patches):
        p = next(p for p in patches if sum(q.tag[0] == p.tag[0] for q in patches) > 1)
        raise InputError(f"{path}:{p.line}: several unnumbered patches in v{p.tag[0]} and other versions: "
                         "cannot tell which patch replaces which")
    return [dataclasses.replace(p, tag=(p.tag[0], 1, 1)) for p in patches]


def _once_each(path, patches):
    seen = {}
    for p in patches:
        key = _content(p)
        if key in seen:
            raise InputError(f"{path}:{p.line}: the same patch twice: '{p.subject}' and "
                             f"'{seen[key].subject}' ({path}:{seen[key].line})")
        seen[key] = p
    return patches


def _matches(lines, pre):
    """Every index where `pre` (texts) matches known lines."""
    n = len(pre)
    return [i for i in range(0, len(lines) - n + 1)
            if all(lines[i + k] is not GAP and lines[i + k].text.rstrip() == pre[k].rstrip() for k in range(n))]


def _find(lines, pre, near):
    """Index where `pre` (texts) matches known lines, nearest to `near`."""
    return min(_matches(lines, pre), key=lambda i: abs(i - near), default=None)


def _whole_known(lines):
    """{name: (first, last)} of the functions whose definition `lines` hold
    whole: a head at column 0, then known lines to the `}` that closes it at
    column 0 (kernel style), no GAP between."""
    out, i = {}, 0
    texts = strip_comments(["" if x is GAP else x.text for x in lines])
    while i < len(lines):
        name = None if lines[i] is GAP else function_head(texts[i])
        if name is None:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and lines[j] is not GAP and not texts[j].startswith("}") and \
                function_head(texts[j]) is None:
            j += 1
        if j < len(lines) and lines[j] is not GAP and texts[j].startswith("}") and \
                any(texts[k].startswith("{") for k in range(i, j)):
            out.setdefault(name, (lines[i], lines[j]))
        i = j if j > i else i + 1
    return out


def lost_changes(old_len, new_len, items):
    """Why a hunk's present lines cannot be its whole change, or None.  A web
    copy of a mail may lose a hunk's last lines: if only context is lost, as
    many old as new lines are missing; any other shortfall (or excess) means
    added or removed lines are missing, and what the patch does is unknown."""
    if old_len is None or new_len is None:
        return None
    old = sum(k != "+" for k, _, _ in items)
    new = sum(k != "-" for k, _, _ in items)
    if old_len - old == new_len - new and old <= old_len:
        return None
    return f"{old} of {old_len} old lines and {new} of {new_len} new lines are present"


def apply(src, fd, patch_path):
    """Apply one file diff to `src` (in place).  In a sparse file (known
    only from hunks, with GAPs) a hunk whose context and removed lines are
    not among the known lines is taken to lie in an unknown stretch, and its
    post-image is kept as an island; but a hunk that changes a function the
    file already holds whole cannot lie out of sight: it does not apply, and
    is an error rather than an island beside the function it should change
    (which would be audited unchanged)."""
    pos = 0
    touches = list(fd.touches) + [{}] * (len(fd.hunks) - len(fd.touches))
    new_lens = list(fd.new_lens) + [None] * (len(fd.hunks) - len(fd.new_lens))
    for (old_start, old_len, items, hdr_line), touched, new_len in zip(fd.hunks, touches, new_lens):
        pre = [t for k, t, _ in items if k != "+"]
        lost = lost_changes(old_len, new_len, items)
        if lost:
            raise InputError(f"{patch_path}:{hdr_line}: hunk is truncated: {lost}, so lines it adds or removes "
                             "are missing, not only context; the patch cannot be read whole (give the whole mail)")
        if old_len is not None and len(pre) < old_len:
            src.notes.append(f"{patch_path}:{hdr_line}: hunk is truncated ({len(pre)} of {old_len} old lines); "
                             "applied the lines present")
        at = _find(src.lines, pre, max(old_start - 1, pos)) if pre else None
        if at is not None and GAP in src.lines:
            # known only from hunks: an index is no line number, so "nearest
            # to the hunk's line" means nothing; two matches cannot be told apart
            many = _matches(src.lines, pre)
            if len(many) > 1:
                where = ", ".join(f"{src.lines[i].file}:{src.lines[i].line}" for i in many)
                raise InputError(f"{patch_path}:{hdr_line}: hunk matches {len(many)} places ({where}) of "
                                 f"{src.path}, which is known only from patches, so which one it changes cannot "
                                 "be told; give the whole file with --base FILE.c")
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
        if not pre and not src.lines:
            # a file the patch creates: its hunk is all additions
            src.lines[:] = [Line(t, patch_path, ln) for k, t, ln in items]
            pos = len(src.lines)
            continue
        if not gaps:
            raise InputError(f"{patch_path}:{hdr_line}: hunk does not apply to {src.lines[0].file if src.lines else src.path}"
                             " (its context or removed lines are not there; is the base of the right era?)")
        whole = _whole_known(src.lines)
        inside = [n for n in touched if n in whole]
        if inside:
            a, b = whole[inside[0]]
            raise InputError(f"{patch_path}:{hdr_line}: hunk does not apply to {a.file}: it changes {inside[0]}, "
                             f"which is there whole ({a.file}:{a.line}-{b.line}), but the hunk does not match it (its "
                             "context and removed lines are not there, or it has none; is the base the one the "
                             "patch was written for?)")
        g = next((i for i in gaps if i >= pos), gaps[-1])
        island = [Line(t, patch_path, ln) for k, t, ln in items if k != "-"]
        src.lines[g:g + 1] = [GAP] + island + [GAP]
        pos = g + 1 + len(island)


def load(path, bases=()):
    """The C files described by `path` (a .c file or patches) as Sources,
    keyed by basename, plus notes for the report.  `bases` are the files the
    patches apply to (matched by basename) and patches applied first, in the
    order given (an earlier patch of the era: its post-image is the base,
    sparse where it has no text; its own changes are not the input's)."""
    text = _read(path)
    if not is_patch(text):
        quoted = _QUOTED_HUNK.search(text)
        if quoted:
            # a reply quoting the patch: read as C it holds no function, and
            # its diff is not the patch (a reviewer may have cut or edited it)
            raise InputError(f"{path}:{text.count(chr(10), 0, quoted.start()) + 1}: the input's only diff is "
                             "quoted ('>' starts its lines: a reply to the patch?); audit the patch mail itself")
        return {os.path.basename(path): c_source(path, text)}, []
    c_bases = [b for b in bases if not is_patch(_read(b))]
    files, notes = {}, []
    for b in bases:
        if b not in c_bases:
            _apply_series(b, _read(b), files, c_bases, notes, own=False)
            notes.append(f"base: {b} applied first (the input applies to its result)")
    _apply_series(path, text, files, c_bases, notes, own=True)
    for s in files.values():
        notes.extend(s.notes)
    return files, notes


def _apply_series(path, text, files, bases, notes, own):
    """Apply the series in `path` to `files` (in place).  `own`: the input
    itself, whose changes are recorded (a base's are not)."""
    base_by_name = {os.path.basename(b): b for b in bases}
    patches, more = select_series(path, parse_patches(path, text), covers(path, text))
    notes += more
    for p in patches:
        subject, diffs = p.subject, p.diffs
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
            if own:
                files[name].touches += [(fn, f"{path}:{ln}", texts)
                                        for t in fd.touches for fn, (ln, texts) in t.items()]
        if subject:
            notes.append(f"applied: {subject}")


def mail_date(path):
    """The ISO date (YYYY-MM-DD, UTC) of the newest mail in `path` with a
    Date header, or None (a C file, a bare diff): a post can only mean what
    the kernel's names meant when it was sent (nvtlbi.c.era)."""
    if os.path.isdir(path):         # a kernel tree (None), or a directory of format-patch files
        got = [mail_date(os.path.join(path, f)) for f in sorted(os.listdir(path)) if f.endswith(".patch")]
        return max([d for d in got if d], default=None)
    text = _read(path)
    dates = []
    for _subject, _body, _off, line in _mails(path, text) if is_patch(text) else []:
        head = text.split("\n")[line - 1:]
        for h in head[:200]:
            if not h.strip():
                break
            if h.lower().startswith("date:"):
                try:
                    d = email.utils.parsedate_to_datetime(h[5:].strip())
                except (TypeError, ValueError, IndexError):
                    raise InputError(f"{path}:{line + head.index(h)}: the Date header cannot be read: "
                                     f"{h[5:].strip()!r}") from None
                if d.tzinfo is not None:
                    d = d.astimezone(datetime.timezone.utc)
                dates.append(d.date().isoformat())
                break
    return max(dates) if dates else None
