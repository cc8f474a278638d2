"""gclint: find Python code that holds memory longer than its author thinks."""
from gclint.engine import lint_source

__version__ = "0.1.0"

__all__ = ["lint_source", "lint_paths", "__version__"]


def lint_paths(paths, settings=None, jobs=1):
    """Findings for every Python file under `paths`, sorted (no cache)."""
    from gclint.runner import lint_paths as _lint_paths

    return _lint_paths(paths, settings, jobs=jobs).findings
