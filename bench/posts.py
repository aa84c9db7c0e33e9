"""Audit every post of the public record as tests/post_recipes.py says, with
the full `nvtlbi audit ... --against BUNDLED` (every granule, level, hint
and property P1-P4), and print the table: post, command, verdict, the
equivalence to the bundled revision, seconds.

    python bench/posts.py [--shared ../shared] [--jobs 2] [NAME ...]

Kernel text is copied into a temporary directory only."""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from tests.post_recipes import RECIPES, mbox  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(HERE, "..", "..", "shared"))
    ap.add_argument("--jobs", default="2")
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    posts = os.path.join(a.shared, "posts")
    print("| post | command | verdict | against | seconds |")
    print("|---|---|---|---|---|")
    for r in RECIPES:
        if a.names and r.name not in a.names:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            if len(r.posts) == 1:
                path, shown = os.path.join(posts, r.posts[0]), r.posts[0]
            else:
                path = os.path.join(tmp, "series.mbox")
                with open(path, "w") as f:
                    f.write(mbox(posts, r.posts))
                shown = "series.mbox (" + " + ".join(r.posts) + ")"
            nested = None
            if r.nested_c:
                os.mkdir(os.path.join(tmp, "tree"))
                nested = os.path.join(tmp, "tree", "nested.c")
                shutil.copy(os.path.join(posts, r.nested_c), nested)
            args = r.args(path, nested, lambda p: os.path.join(posts, p))
            cmd = [sys.executable, "-c", "import sys; from nvtlbi.cli import main; sys.exit(main(sys.argv[1:]))", "audit", *args, "--against", r.against, "--jobs", a.jobs,
                   "--json"]
            t0 = time.time()
            p = subprocess.run(cmd, capture_output=True, text=True)
            dt = time.time() - t0
            shown_args = r.args(shown, f"nested.c={r.nested_c}", lambda x: x)
            try:
                doc = json.loads(p.stdout)
                rev = doc["revisions"][0]
                eq = sorted({x["verdict"] for x in doc["against"]["results"]})
                verdict, against = rev["verdict"], f"{'/'.join(eq)} {r.against}"
            except (ValueError, KeyError, IndexError):
                verdict, against = f"exit {p.returncode}: {p.stderr.strip().splitlines()[-1:]}", "-"
            print(f"| {r.name} | `nvtlbi audit {' '.join(shown_args)}` | {verdict} | {against} | {dt:.1f} |",
                  flush=True)


if __name__ == "__main__":
    main()
