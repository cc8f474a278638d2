"""Reporters only format; they never decide what is a finding.

The reporters load on first use: gclint.report.graph is imported by the
pytest plugin, which must not bring libcst into every pytest run.
"""
FORMATS = ("text", "json", "sarif", "github", "html")

__all__ = ["FORMATS", "TextReporter", "render_github", "render_json", "render_sarif"]


def __getattr__(name):
    if name == "TextReporter":
        from gclint.report.text import TextReporter

        return TextReporter
    if name in ("render_github", "render_json", "render_sarif"):
        from gclint.report import machine

        return getattr(machine, name)
    raise AttributeError(f"module 'gclint.report' has no attribute {name!r}")
