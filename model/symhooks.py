"""The kernel hooks (impl/kernel.py) of a symbolic run: what BUG(),
WARN_ON and the host's capabilities and granule mean against a SymEnv."""

from nvtlbi.impl import kernel
from nvtlbi.impl.cint import Word, s32, u64


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
        self.warnings.append(where)

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
