"""The flake8 door gives the same findings as `gclint check`."""
import json
import subprocess
import sys

import pytest

from conftest import FIXTURES

FLAKE8 = [sys.executable, "-m", "flake8", "--select", "GCL", "--format", "%(path)s|%(row)d|%(col)d|%(code)s"]
FLAKE8_TEXT = [*FLAKE8[:-1], "%(path)s|%(row)d|%(col)d|%(code)s %(text)s"]


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
    # No pyproject.toml above stdin: the default set, so GCL203 (off by default) is not shown.
    assert _flake8("--stdin-display-name", "shown.py", "-", stdin=source) == {("shown.py", "22", "16", "GCL401")}


def test_flake8_noqa_agrees():
    source = "import gc\ngc.collect(0)  # noqa: GCL401\ngc.collect(1)  # noqa: GCL402\n"
    assert _flake8("--stdin-display-name", "x.py", "-", stdin=source) == {("x.py", "3", "1", "GCL401")}


def _gclint_json(*args, cwd=None):
    done = subprocess.run(
        [sys.executable, "-m", "gclint", "check", "--no-cache", "--format", "json", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300,
    )
    return done.returncode, {(f["path"], str(f["line"]), f["code"]) for f in json.loads(done.stdout or "[]")}, done.stderr


def _flake8_in(cwd, *args):
    done = subprocess.run([*FLAKE8, *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    found = {tuple(line.split("|")) for line in done.stdout.splitlines()}
    return done.returncode, found, done.stdout, done.stderr


def test_both_doors_agree_on_a_latin1_byte_without_a_cookie(tmp_path):
    # flake8 falls back to latin-1 where Python (and gclint check) refuse.
    (tmp_path / "latin.py").write_bytes(b"# caf\xe9\nimport gc\ngc.collect(0)\n")
    (tmp_path / "declared.py").write_bytes(b"# -*- coding: latin-1 -*-\n# caf\xe9\nimport gc\ngc.collect(0)\n")
    (tmp_path / "crlf.py").write_bytes(b"# caf\xe9\r\nimport gc\r\ngc.collect(0)\r\n")
    _, ours, _ = _gclint_json("latin.py", "declared.py", "crlf.py", cwd=tmp_path)
    assert ours == {("latin.py", "1", "GCL001"), ("declared.py", "4", "GCL401"), ("crlf.py", "1", "GCL001")}
    _, theirs, _, err = _flake8_in(tmp_path, "latin.py", "declared.py", "crlf.py")
    assert {(path, line, code) for path, line, _, code in theirs} == ours, err


def test_stdin_lines_win_over_the_file_on_disk(tmp_path):
    # An editor sends its unsaved buffer with the file's own name.
    (tmp_path / "shown.py").write_bytes(b"# caf\xe9\n")
    done = subprocess.run(
        [*FLAKE8, "--stdin-display-name", "shown.py", "-"], cwd=tmp_path, input="import gc\ngc.collect(0)\n",
        capture_output=True, text=True, timeout=300,
    )
    assert done.stdout.splitlines() == ["shown.py|2|1|GCL401"], done.stderr


@pytest.mark.parametrize(
    "pyproject, message",
    [
        pytest.param(b'[tool.gclint]\ncolour = "red"\n', "unknown key 'colour'", id="unknown-key"),
        pytest.param(b"[tool.gclint]\nselect = ['GCL\xff']\n", "", id="invalid-utf8"),
        pytest.param(b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n", "", id="deep-nesting"),
    ],
)
def test_a_bad_pyproject_is_a_clear_error_in_flake8(tmp_path, pyproject, message):
    (tmp_path / "pyproject.toml").write_bytes(pyproject)
    (tmp_path / "app.py").write_text("import gc\ngc.collect(0)\n")
    done = subprocess.run([*FLAKE8_TEXT, "app.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in done.stderr, done.stderr
    (line,) = done.stdout.splitlines()  # one clear line instead of the file's findings
    assert done.returncode == 1 and line.startswith("app.py|1|1|GCL001 not analysed: gclint configuration error: ")
    assert message in line


@pytest.mark.parametrize(
    "select, loads",
    [
        pytest.param(["--select", "F"], False, id="select-F"),
        pytest.param(["--select", "F", "--extend-select", "GCL4"], True, id="extend-select-GCL4"),
        pytest.param(["--select", "G"], True, id="select-G"),
        pytest.param([], True, id="flake8-default"),
    ],
)
def test_the_plugin_does_no_work_unless_a_gcl_code_is_selected(tmp_path, select, loads):
    (tmp_path / "app.py").write_text("import gc\ngc.collect(0)\n")
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "flake8", *select, "app.py"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert ("| libcst" in done.stderr) == loads
    assert ("GCL401" in done.stdout) == loads
