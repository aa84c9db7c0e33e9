"""What the trust checks cost: one case proved plain, with branch coverage
(trace function), and with the Bitwuzla cross-check; CPU seconds (process
time, so other load on the machine matters less than for wall time)."""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from nvtlbi.impl import revision as REV  # noqa: E402
from nvtlbi.model.env import Case  # noqa: E402
from nvtlbi.model.prover import prove_case  # noqa: E402
from nvtlbi.model.session import Session  # noqa: E402


def cpu(fn):
    t = time.process_time()
    fn()
    return time.process_time() - t


def main(spec="upstream"):
    rev = REV.load(spec)
    for case in (Case(12, 2, "nohint"), Case(14, 3, "match")):
        plain = cpu(lambda: prove_case(rev, case))
        traced = cpu(lambda: prove_case(rev, case, session=Session(coverage=True)))
        cross = Session(cross_check=True)
        crossed = cpu(lambda: prove_case(rev, case, session=cross))
        print(f"{case.label:<16} plain {plain:6.2f}s  coverage {traced:6.2f}s ({traced / plain:.1f}x)  "
              f"cross-check {crossed:6.2f}s ({crossed / plain:.1f}x, {cross.tally.agreed} queries)")


if __name__ == "__main__":
    main(*sys.argv[1:])
