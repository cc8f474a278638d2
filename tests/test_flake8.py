"""The flake8 door gives the same findings as `gclint check`."""
import json
import subprocess
import sys

from conftest import FIXTURES

FLAKE8 = [sys.executable, "-m", "flake8", "--select", "GCL", "--format", "%(path)s|%(row)d|%(col)d|%(code)s"]


def _flake8(*args, stdin=None):
    done = subprocess.run([*FLAKE8, *args], input=stdin, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    return {tuple(line.split("|")) for line in done.stdout.splitlines()}


def test_flake8_and_gclint_agree_on_the_fixtures():
    done = subprocess.run(
        [sys.executable, "-m", "gclint", "check", "--format", "json", str(FIXTURES)], capture_output=True, text=True
    )
    ours = {(f["path"], str(f["line"]), str(f["col"]), f["code"]) for f in json.loads(done.stdout)}
    assert ours and _flake8(str(FIXTURES)) == ours


def test_flake8_reads_stdin_with_a_display_name():
    source = (FIXTURES / "gc" / "young_collect.py").read_text()
    assert _flake8("--stdin-display-name", "shown.py", "-", stdin=source) == {
        ("shown.py", "9", "9", "GCL203"),
        ("shown.py", "22", "16", "GCL401"),
    }


def test_flake8_noqa_agrees():
    source = "import gc\ngc.collect(0)  # noqa: GCL401\ngc.collect(1)  # noqa: GCL402\n"
    assert _flake8("--stdin-display-name", "x.py", "-", stdin=source) == {("x.py", "3", "1", "GCL401")}
