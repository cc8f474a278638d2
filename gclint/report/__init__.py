"""Reporters only format; they never decide what is a finding."""
from gclint.report.machine import render_github, render_json, render_sarif
from gclint.report.text import TextReporter

FORMATS = ("text", "json", "sarif", "github")

__all__ = ["FORMATS", "TextReporter", "render_github", "render_json", "render_sarif"]
