"""`nvtlbi assumptions`: the named assumptions, what each means and its
source (model/assumptions.py); `--json`."""

import json

from nvtlbi.model import assumptions as AS
from nvtlbi import render


def add_parser(sub, common):
    p = sub.add_parser("assumptions", help="list the named assumptions and their sources")
    p.add_argument("--json", action="store_true", help="machine-readable results")


def run(args):
    if args.json:
        print(json.dumps([{"name": a.name, "meaning": a.meaning, "source": a.source}
                          for a in AS.BY_NAME.values()], indent=1))
    else:
        print(render.assumptions_table())
    return 0
