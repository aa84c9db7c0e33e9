"""The kernel hooks (impl/kernel.py) of a symbolic run: what BUG(),
WARN_ON and the host's capabilities and granule mean against a SymEnv."""

from dataclasses import dataclass

import z3

from nvtlbi.impl import kernel
from nvtlbi.impl.cint import Word, s32, u64


@dataclass(frozen=True)
class Warned:
    """One WARN_ON a path reaches: its site, and when it fires there.  A
    WARN_ON whose value the code branches on splits the path, so on each
    side it fires always or never (cond true); one whose value is ignored
    (warn_if) is recorded with its condition, without splitting the path."""
    where: str
    cond: z3.BoolRef

    def __str__(self):
        return self.where


def fires(warnings):
    """Z3: some warning of a path fires."""
    return z3.Or([w.cond for w in warnings]) if warnings else z3.BoolVal(False)


def fired(warnings, model):
    """The warnings of a path that fire in `model`, in the order reached."""
    return [w for w in warnings if z3.is_true(model.eval(w.cond, model_completion=True))]


def count(warnings):
    """Z3 (8 bits): how many warnings of a path fire (a run reaches few)."""
    one, zero = z3.BitVecVal(1, 8), z3.BitVecVal(0, 8)
    return z3.Sum([z3.If(w.cond, one, zero) for w in warnings]) if warnings else zero


class SymHooks:
    """BUG() ends the path with an error; WARN_ON is recorded on the env;
    host capabilities are symbolic."""

    def __init__(self, env):
        self.env = env
        self.warnings = env.warnings

    def bug(self, where):
        self.env.bug = where
        raise kernel.KernelBug(where)

    def warn(self, where):
        self.warnings.append(Warned(where, z3.BoolVal(True)))

    def warn_if(self, cond, where):
        # the kernel ignores the WARN_ON's value here: splitting the path on
        # it would double the paths every property is checked on
        c = cond.v if isinstance(cond, Word) else cond
        if isinstance(c, int):
            if c:
                self.warn(where)
            return
        self.warnings.append(Warned(where, c if z3.is_bool(c) else c != 0))

    def host_cap(self, cap):
        if cap != "ARM64_HAS_ARMv8_4_TTL":
            raise NotImplementedError(f"host capability {cap} is not modelled")
        return Word(s32, self.env.host_ttl)

    def granule_size(self, level):
        from nvtlbi.model.arch import host_granule_size
        return Word(u64, host_granule_size(self.env.host_shift, getattr(level, "v", level)))

    def clear_fixmap(self, idx):
        self.env.fixmap_cleared.append(idx)

    def page_shift_word(self):
        import z3
        return Word(s32, z3.ZeroExt(24, self.env.host_shift))
