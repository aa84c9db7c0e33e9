"""A kernel checkout as audit input: `nvtlbi audit [SERIES] --tree LINUX`.

The audited functions are looked for in `arch/arm64/kvm/*.c` as they stand
in the tree, or after a series (an mbox, one patch, or a directory of `git
format-patch` output) is applied to the tree's files in memory, as `b4
shazam` would apply it, without touching the tree.  Headers are not read:
as for any C input, the macros and types the functions use are the
vocabulary profile's (`impl/eras.py`), so a series' change to a header is
applied (it must apply) and reported as not audited.

Every line keeps where it came from: a tree line names its file relative
to the tree (`arch/arm64/kvm/nested.c:482`), a line a patch adds names the
patch file and line, so translation errors point at what the user can open.
The report gives each audited function's place in the resulting file and
the patches of the series that changed it.
"""

import os
from dataclasses import dataclass, field

from nvtlbi.c import inputs, translator
from nvtlbi.c.inputs import InputError, Line, Source

KVM = "arch/arm64/kvm"
# the names the audit looks for (the translator's targets and callers, with
# the callers of older eras): a file that names none of them cannot hold an
# audited function or a change to one, so it is not read further
AUDITED_NAMES = translator.TARGETS + translator.CALLERS + ("handle_ipas2e1is", "s2_mmu_unmap_stage2_ipa")


@dataclass
class TreeInput:
    """The C files the audit reads from a tree (keyed by their path in the
    tree), and what the series did to them."""
    root: str
    sources: dict                              # relative path -> Source (after the series)
    notes: list = field(default_factory=list)
    marks: dict = field(default_factory=dict)  # Line -> [patch label]: the patch added it, or removed lines next to it
    series: str | None = None

    def where(self, fn):
        """`arch/arm64/kvm/nested.c:A-B` of a function in the resulting file,
        and the patches of the series that changed it."""
        rel = next((r for r, s in self.sources.items() if fn.lines[0] in self._index(r)), None)
        if rel is None:         # cannot happen: every function is found in one of the sources
            raise AssertionError(f"{fn.name}: not in any file of the tree")
        pos = self._index(rel)
        span = f"{rel}:{pos[fn.lines[0]]}-{pos[fn.lines[-1]]}"
        by = []
        for x in fn.lines:
            for label in self.marks.get(x, ()):
                if label not in by:
                    by.append(label)
        if self.series is None:
            return span
        return f"{span}, changed by {'; '.join(by)}" if by else f"{span}, not changed by the series"

    def _index(self, rel):
        cache = self.__dict__.setdefault("_pos", {})
        if rel not in cache:
            cache[rel] = {x: i + 1 for i, x in enumerate(self.sources[rel].lines)}
        return cache[rel]


def check_tree(root):
    """A one-line error unless `root` is a kernel tree with arch/arm64/kvm."""
    if not os.path.exists(root):
        raise InputError(f"{root}: --tree: no such directory")
    if not os.path.isdir(root):
        raise InputError(f"{root}: --tree: not a directory (give the top of a kernel checkout)")
    if not os.path.isdir(os.path.join(root, KVM)):
        raise InputError(f"{root}: --tree: not a kernel tree: it has no {KVM}/ (give the top of a kernel checkout)")


def _tree_file(root, rel):
    return Source(rel, [Line(t, rel, i + 1) for i, t in enumerate(inputs._read(os.path.join(root, rel)).split("\n"))])


def read_series(path):
    """[(patch file, Patch)] in the order they apply, and notes: a directory
    is `git format-patch` output (its *.patch files in name order; a file
    without a diff, such as the cover letter, is skipped); a file is one
    patch or an mbox of a series (the mails applied are chosen as for any
    input: nvtlbi.c.inputs.select_series)."""
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path) if n.endswith(".patch"))
        if not names:
            raise InputError(f"{path}: no *.patch files in this directory (a series is `git format-patch` output)")
        out, notes = [], []
        for n in names:
            f = os.path.join(path, n)
            text = inputs._read(f)
            if not inputs.is_patch(text):
                notes.append(f"note: {f}:1: no diff (a cover letter?): nothing to apply")
                continue
            ps, ns = inputs.select_series(f, inputs.parse_patches(f, text), inputs.covers(f, text))
            out += [(f, p) for p in ps]
            notes += ns
        if not out:
            raise InputError(f"{path}: none of its *.patch files holds a diff")
        return out, notes
    text = inputs._read(path)
    if not inputs.is_patch(text):
        raise InputError(f"{path}:1: no unified diff found: with --tree, the input is a series to apply "
                         "(an mbox, a patch, or a directory of format-patch output)")
    ps, notes = inputs.select_series(path, inputs.parse_patches(path, text), inputs.covers(path, text))
    return [(path, p) for p in ps], notes


def _label(ppath, p):
    subject = p.subject or os.path.basename(ppath)
    return f"'{subject}' ({ppath}:{p.line})"


def load(root, series=None):
    """The tree's C files that name an audited function, after the series
    (if any) is applied to them in memory: a TreeInput."""
    check_tree(root)
    kvm = os.path.join(root, KVM)
    files = {f"{KVM}/{n}": None for n in sorted(os.listdir(kvm))
             if n.endswith(".c") and os.path.isfile(os.path.join(kvm, n))}
    files = {rel: _tree_file(root, rel) for rel in files}
    t = TreeInput(root, {}, series=series)
    touched = set()
    if series is not None:
        patches, t.notes = read_series(series)
        for ppath, p in patches:
            label = _label(ppath, p)
            for fd in p.diffs:
                rel = _path_in_tree(root, ppath, fd, files)
                if fd.created:
                    if rel in files or os.path.exists(os.path.join(root, rel)):
                        raise InputError(f"{ppath}:{fd.hunks[0][3]}: the patch creates {rel}, which already "
                                         f"exists in the tree {root}")
                    files[rel] = Source(rel, [])
                elif rel not in files:
                    files[rel] = _tree_file(root, rel)
                _apply(files[rel], fd, ppath, label, t.marks)
                touched.add(rel)
                files[rel].touches += [(fn, f"{ppath}:{ln}", texts)
                                       for tc in fd.touches for fn, (ln, texts) in tc.items()]
            t.notes.append(f"applied: {p.subject or ppath}")
        for rel in sorted(touched):
            if not rel.endswith(".c"):
                t.notes.append(f"note: the series changes {rel}: headers and other files are not read (the "
                               "macros and types audited are the vocabulary profile's); that change is not audited")
            elif not rel.startswith(KVM + "/") or "/" in rel[len(KVM) + 1:]:
                t.notes.append(f"note: the series changes {rel}, outside {KVM}/*.c: not audited")
    for rel, src in files.items():
        if rel.startswith(KVM + "/") and "/" not in rel[len(KVM) + 1:] and rel.endswith(".c") and \
                any(n in x.text for x in src.lines for n in AUDITED_NAMES):
            t.sources[rel] = src
    read = ", ".join(os.path.basename(r) for r in t.sources) or "none"
    t.notes.insert(0, f"tree {root}: {KVM}/*.c naming the audited functions: {read}")
    return t


def _path_in_tree(root, ppath, fd, files):
    at = f"{ppath}:{fd.hunks[0][3] if fd.hunks else 1}"
    if fd.path in ("", "/dev/null"):
        raise InputError(f"{at}: the patch deletes a file: not supported with --tree")
    rel = os.path.normpath(fd.path).replace(os.sep, "/")
    if os.path.isabs(rel) or rel.startswith(".."):
        raise InputError(f"{at}: {fd.path}: not a path inside the tree")
    if not fd.created and not os.path.isfile(os.path.join(root, rel)) and rel not in files:
        raise InputError(f"{at}: {fd.path}: no such file in the tree {root}")
    return rel


def _apply(src, fd, ppath, label, marks):
    """Apply one file diff to a whole file, as `git am` would: every hunk
    applies whole (its context and removed lines found in the file, at any
    offset) or the series is refused; record in `marks` the lines the
    patch adds and, for a removal, the line now standing where it was."""
    pos = 0
    new_lens = list(fd.new_lens) + [None] * (len(fd.hunks) - len(fd.new_lens))
    for (old_start, old_len, items, hdr_line), new_len in zip(fd.hunks, new_lens):
        pre = [t for k, t, _ in items if k != "+"]
        lost = inputs.lost_changes(old_len, new_len, items)
        if old_len is not None and len(pre) == old_len and lost:
            raise InputError(f"{ppath}:{hdr_line}: hunk is truncated: {lost}: it cannot be applied to {src.path} "
                             "whole")
        if old_len is not None and len(pre) < old_len:
            raise InputError(f"{ppath}:{hdr_line}: hunk is truncated ({len(pre)} of {old_len} old lines): it "
                             f"cannot be applied to {src.path} whole")
        if pre:
            at = inputs._find(src.lines, pre, max(old_start - 1, pos))
            if at is None:
                raise InputError(f"{ppath}:{hdr_line}: hunk does not apply to {src.path} in the tree: its context "
                                 "or removed lines are not there (is the series for this tree?)")
        else:
            at = min(old_start, len(src.lines))     # -U0 insertion after line old_start, or a new file
        old = iter(src.lines[at:at + len(pre)])
        new, removed = [], False
        for k, t, ln in items:
            if k == "-":
                next(old)
                removed = True
                continue
            x = next(old) if k == " " else Line(t, ppath, ln)
            if k == "+" or removed:
                marks.setdefault(x, []).append(label)
            removed = False
            new.append(x)
        src.lines[at:at + len(pre)] = new
        pos = at + len(new)
        if removed and src.lines:
            # the removal ends the hunk: it shows at the line that follows it
            x = src.lines[min(pos, len(src.lines) - 1)]
            marks.setdefault(x, []).append(label)
