"""Generated programs never crash the engine, and findings point inside the file.

A few examples run in CI; set GCLINT_FUZZ_EXAMPLES=2000 for a longer run.
"""
import os

import pytest

hypothesis = pytest.importorskip("hypothesis")
hypothesmith = pytest.importorskip("hypothesmith")

from hypothesis import HealthCheck, given, settings  # noqa: E402

from gclint import lint_source  # noqa: E402
from gclint.positions import split_lines  # noqa: E402

EXAMPLES = int(os.environ.get("GCLINT_FUZZ_EXAMPLES", "40"))
# Prepended so the gc rules (which need the text "gc") walk every program too.
PRELUDE = "import gc\n"


def _check(source: str) -> None:
    text = PRELUDE + source
    findings = lint_source(text, "fuzzed.py")
    lines = split_lines(text)
    for finding in findings:
        assert finding.code != "GCL002", finding.message
        assert 1 <= finding.line <= len(lines) + 1
        assert finding.col >= 1


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_grammar_generated_programs(source):
    _check(source)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_node())
def test_libcst_generated_programs(source):
    _check(source)
