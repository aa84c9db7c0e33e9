"""What produced a verdict: the solvers' and Python's exact versions, for
every --json document (key "versions").  A verdict is reproducible only on
the same solvers: requirements.lock pins them, and this records the ones
that actually ran."""

import platform
from importlib import metadata


def solver_versions():
    import bitwuzla
    import z3
    return {"python": platform.python_version(),
            "z3": z3.get_full_version(),
            "bitwuzla": f"{bitwuzla.version()} ({bitwuzla.git_id()})",
            "nvtlbi": metadata.version("nvtlbi")}
