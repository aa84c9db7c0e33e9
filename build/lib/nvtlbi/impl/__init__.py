"""nvtlbi.impl: installed under the nvtlbi namespace (pyproject.toml package-dir).

The folder is top-level in the source tree, so from a checkout `import impl` would
find it too and make a second copy of every module (two era context variables, two
registries).  Refuse that copy rather than let it diverge."""
if __name__ != "nvtlbi.impl":
    raise ImportError(f"import nvtlbi.impl, not {__name__} (see pyproject.toml)")
