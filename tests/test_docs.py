"""The docs' tables are generated from the registries (nvtlbi/docs.py), and
every relative link of README.md and docs/*.md reaches an existing file
(and heading)."""

import re
import shutil
from pathlib import Path

import pytest

from nvtlbi import docs

ROOT = Path(__file__).resolve().parent.parent


def test_generated_docs_are_current():
    assert docs.stale() == [], f"stale: run {docs.COMMAND}"


def _copy(tmp_path):
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    return tmp_path


@pytest.mark.parametrize("page, row, edit", [
    ("docs/model.md", "| P1 | the invalidated range contains the IPA |", "| P1 | the range contains the IPA |"),
    ("docs/model.md", "| `bbm` |", "| `bbn` |"),
    ("docs/model.md", "| mismatch |", "| mismatch (excused) |"),
    ("docs/user-guide.md", "| 1 | there is a counterexample", "| 3 | there is a counterexample"),
    ("docs/eras.md", "| `kvm_has_feat` |", "| `kvm_has_feature` |"),
    ("docs/trusting-verdicts.md", "| STILLBORN | it does not load or run", "| STILLBORN | it does not run"),
])
def test_a_hand_edited_row_is_stale(tmp_path, page, row, edit):
    root = _copy(tmp_path)
    assert docs.stale(root) == []
    text = (root / page).read_text()
    assert row in text
    (root / page).write_text(text.replace(row, edit, 1))
    assert docs.stale(root) == [page]
    assert docs.write(root) == [page] and docs.stale(root) == [] and (root / page).read_text() == text


def test_every_generated_table_appears_in_the_docs():
    assert set(docs.BLOCKS) <= docs.blocks_used()


def test_an_unknown_generated_block_is_an_error():
    with pytest.raises(docs.DocsError, match="'hintz'"):
        docs.fill("<!-- generated: hintz -->\n<!-- end generated -->\n", "x.md")


# ---- links -------------------------------------------------------------------------------------
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _slug(heading):
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def broken_links(root):
    out = []
    for page in [root / "README.md"] + sorted((root / "docs").glob("*.md")):
        for target in LINK.findall(page.read_text()):
            if re.match(r"[a-z]+:", target):
                continue                        # http:, mailto: ...
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.exists():
                out.append(f"{page.name}: {target}: no such file")
            elif anchor and dest.suffix == ".md":
                slugs = {_slug(h) for h in re.findall(r"^#+ (.*)$", dest.read_text(), re.M)}
                if anchor not in slugs:
                    out.append(f"{page.name}: {target}: no such heading")
    return out


def test_every_relative_link_resolves():
    assert broken_links(ROOT) == []


def test_the_link_check_sees_a_broken_link(tmp_path):
    root = _copy(tmp_path)
    index = root / "docs" / "index.md"
    index.write_text(index.read_text() + "\n[gone](manual.md) [bad](model.md#no-such-heading)\n")
    assert broken_links(root) == ["index.md: manual.md: no such file",
                                  "index.md: model.md#no-such-heading: no such heading"]


def test_every_docs_path_named_in_the_code_exists():
    """A docstring or a doc naming docs/X.md names a page that exists."""
    files = [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]
    for d in ("impl", "model", "nvtlbi", "tests", "proofs", "bench"):
        files += (ROOT / d).rglob("*.py")
    missing = {(f.name, m) for f in files for m in re.findall(r"docs/[\w.-]+\.(?:md|txt|png)", f.read_text())
               if not (ROOT / m).exists() and f.name != "test_docs.py"}
    assert missing == set()
