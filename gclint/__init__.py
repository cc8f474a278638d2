"""gclint: find Python code that holds memory longer than its author thinks."""
__version__ = "0.1.0"

__all__ = ["lint_source", "lint_paths", "__version__"]


def lint_paths(paths, settings=None, jobs=1):
    """Findings for every Python file under `paths`, sorted (no cache)."""
    from gclint.runner import lint_paths as _lint_paths

    return _lint_paths(paths, settings, jobs=jobs).findings


def __getattr__(name):
    # The engine (libcst) loads on first use: `gclint.pytest_plugin`, loaded
    # into every pytest session, must not pay for it.
    if name == "lint_source":
        from gclint.engine import lint_source

        return lint_source
    raise AttributeError(f"module 'gclint' has no attribute {name!r}")
