"""nvtlbi.model: installed under the nvtlbi namespace (pyproject.toml package-dir).

The folder is top-level in the source tree, so from a checkout `import model` would
find it too and make a second copy of every module (two era context variables, two
registries).  Refuse that copy rather than let it diverge."""
if __name__ != "nvtlbi.model":
    raise ImportError(f"import nvtlbi.model, not {__name__} (see pyproject.toml)")
