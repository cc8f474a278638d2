"""Fails at import."""
import gclint_no_such_module  # noqa: F401


def main():
    pass
