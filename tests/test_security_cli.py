"""Issue 10, the CLI's doors: each attack reproduced, each shown to fail.

A hostile repository controls file names, file contents and (through a
committed cache) the findings' paths; none of it may run code, forge a
finding line, print a file that was not checked, or lose the exit status.
"""
import json
import os
import stat
import subprocess
import sys
from concurrent.futures.process import BrokenProcessPool

import pytest

from conftest import ROOT
from gclint import cli
from gclint.cli import main
from gclint.model import Finding, Severity
from gclint.report import TextReporter, render_github, render_json, render_sarif
from gclint.report.sources import checked_sources
from gclint.runner import RunResult

BAD = "import gc\n\ndef f():\n    gc.collect(0)\n"


def gclint(*args, cwd):
    done = subprocess.run(
        [sys.executable, "-m", "gclint", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    return done.returncode, done.stdout, done.stderr


def hostile_repo(root):
    """A repository whose file names are gclint's dynamic options, and the
    marker file that exists only if its code ran.

    `evil.py` defines main(), so anything that turns dynamic mode on runs it
    and it leaves the marker behind; `--run=evil.py` names it as a target;
    an executable `--dynamic` (a python script by its shebang, so pre-commit
    hands it over) turns dynamic mode on by itself.
    """
    repo = root / "repo"
    repo.mkdir()
    marker = root / "pwned"
    evil = f"import pathlib\n\ndef main():\n    pathlib.Path({str(marker)!r}).write_text('ran')\n\nmain()\n"
    (repo / "evil.py").write_text(evil)
    (repo / "--run=evil.py").write_text(evil)
    (repo / "--dynamic").write_text("#!/usr/bin/env python\n" + evil)
    (repo / "--dynamic").chmod(0o755)
    return repo, marker


@pytest.fixture
def hostile(tmp_path):
    return hostile_repo(tmp_path)


def test_file_names_after_double_dash_are_only_files(hostile):
    repo, marker = hostile
    code, out, err = gclint("check", "--no-cache", "--", "--run=evil.py", "--dynamic", "evil.py", cwd=repo)
    assert code == 0, out + err
    assert out.strip() == "No findings in 3 files checked."
    assert not marker.exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        pytest.param(["evil.py", "--dynamic"], "--dynamic must come before the paths", id="late-dynamic"),
        pytest.param(["evil.py", "--run=evil.py"], "--run must come before the paths", id="late-run"),
        pytest.param(["evil.py", "--run", "evil.py"], "--run must come before the paths", id="late-run-separate"),
        pytest.param(["evil.py", "--python=evil.py"], "--python must come before the paths", id="late-python"),
        # What `gclint check *` expands to: the option-named files sort first.
        pytest.param(["--dynamic", "evil.py"], "'--dynamic' is both an option and a file here", id="glob-dynamic"),
        pytest.param(["--run=evil.py", "evil.py"], "'--run=evil.py' is both an option and a file here", id="glob-run"),
        pytest.param(["--dyn", "evil.py"], "unrecognized arguments: --dyn", id="no-abbreviations"),
    ],
)
def test_option_named_files_never_run_code(hostile, argv, message):
    repo, marker = hostile
    code, _, err = gclint("check", "--no-cache", *argv, cwd=repo)
    assert code == 2 and message in err, err
    assert not marker.exists()
    # (The hook itself, through pre-commit: tests/test_precommit.py.)


def test_dynamic_options_before_the_paths_still_work(hostile):
    repo, marker = hostile
    # From the parent directory: here no file is named like the options.
    code, _, err = gclint("check", "--no-cache", "--timeout", "60", "--dynamic", "repo/evil.py", cwd=repo.parent)
    assert code == 0, err
    assert marker.exists()  # the check above is not vacuous: this is how evil.py would run


def test_hook_entry_ends_with_double_dash():
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text()
    (entry,) = [line for line in hooks.splitlines() if line.strip().startswith("entry:")]
    assert entry.strip() == "entry: gclint check --force-exclude --"


def test_readme_puts_double_dash_before_listed_names():
    readme = (ROOT / "README.md").read_text()
    assert "entry: gclint check\n" not in readme
    assert "-- $(git ls-files" in readme
    # Dynamic examples put the option first, as the CLI now requires.
    for line in readme.splitlines():
        if line.startswith("gclint check ") and ("--dynamic" in line or "--run" in line):
            assert line.split()[2] in ("--dynamic", "--run"), line


# --- exit status 2 for every internal failure, --exit-zero or not ---------


@pytest.fixture
def project(tmp_path):
    (tmp_path / "bad.py").write_text(BAD)
    return tmp_path


def _check(project, *extra):
    return main(["check", "--no-cache", "--no-config", "--jobs", "1", "--exit-zero", *extra, str(project)])


def test_a_rule_crash_exits_2_even_with_exit_zero(project, monkeypatch, capsys):
    from gclint.rules.gcapi import YoungGenerationCollect

    def broken(self, node):
        raise ZeroDivisionError("rule bug")

    monkeypatch.setattr(YoungGenerationCollect, "visit_Call", broken)
    assert _check(project) == 2
    assert "GCL002" in capsys.readouterr().out


def test_an_engine_crash_reported_by_the_runner_exits_2(project, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("engine bug")

    monkeypatch.setattr("gclint.runner.lint_source", broken)
    assert _check(project) == 2
    assert "internal error" in capsys.readouterr().err


@pytest.mark.parametrize("failure", [BrokenProcessPool("a worker died"), RuntimeError("runner bug")], ids=["worker-died", "runner-bug"])
def test_a_failing_run_exits_2_without_a_bare_traceback(project, monkeypatch, capsys, failure):
    def broken(*args, **kwargs):
        raise failure

    monkeypatch.setattr(cli, "lint_files", broken)
    assert _check(project) == 2
    err = capsys.readouterr().err
    assert err.startswith("gclint: internal error, please report it:") and str(failure) in err


# --- control characters in file names and messages -----------------------

FORGED_NAME = "x.py\n::error file=forged.py,line=1::pwned\x1b[2J\u2028\x9b31m\u202e.py"


def test_a_file_name_cannot_forge_a_line_or_emit_escapes(tmp_path):
    (tmp_path / FORGED_NAME).write_text(BAD)
    for fmt in ("text", "github"):
        code, out, err = gclint("check", "--no-cache", "--format", fmt, "--", FORGED_NAME, cwd=tmp_path)
        assert code == 1, err
        for raw in ("\x1b", "\x9b", "\u2028", "\u202e"):
            assert raw not in out
        if fmt == "github":
            (line,) = out.splitlines()
            assert line.startswith("::warning file=x.py\\x0a%3A%3Aerror file=forged.py")
        else:
            assert out.splitlines()[0].startswith("x.py\\x0a::error file=forged.py,line=1::pwned\\x1b[2J\\u2028\\x9b31m\\u202e.py:4:5: GCL401")
            assert len(out.splitlines()) == 4  # finding, source line, caret, summary


def test_messages_and_source_lines_are_printable():
    message = "`f(\n    x)` forged\x1b]0;title\x07\r\nevil.py:1:1: GCL999 fake"
    finding = Finding("a.py", 1, 9, "GCL401", message, Severity.WARNING, end_line=2, end_col=3)
    source = {"a.py": 'print("\x1b[2J", "\x07"); x = 1\n'}
    import io

    stream = io.StringIO()
    TextReporter(stream=stream, color=False).write([finding], source)
    head, line, caret = stream.getvalue().splitlines()
    assert head == "a.py:1:9: GCL401 `f(...` forged\\x1b]0;title\\x07 evil.py:1:1: GCL999 fake"
    assert line == '    print("\\x1b[2J", "\\x07"); x = 1'
    assert caret == "    " + " " * len('print("\\x1b') + "^"  # under the same character as before escaping
    (annotation,) = render_github([finding]).splitlines()
    assert "\x1b" not in annotation and "\x07" not in annotation and "\r" not in annotation
    assert ",endLine=2,title=" in annotation and "col=" not in annotation  # a multi-line range has no columns


def test_json_and_sarif_escape_controls():
    finding = Finding("a\x1b.py", 1, 1, "GCL401", "m\x1b[2J\u2028\x9b", Severity.WARNING)
    for text in (render_json([finding]), render_sarif([finding], [], "0")):
        assert all(ch == "\n" or 0x20 <= ord(ch) < 0x7F for ch in text), "raw control or non-ASCII character in output"
        assert json.loads(text)  # and it is still valid JSON


# --- source lines only from files this run checked -----------------------


def test_text_output_never_reads_a_path_that_was_not_checked(project, tmp_path, monkeypatch, capsys):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET=hunter2\n")
    planted = Finding(str(secret), 1, 1, "GCL401", "planted by a committed cache entry", Severity.WARNING)

    def poisoned(files, settings, jobs, **kwargs):
        return RunResult(findings=[planted], files=len(files))

    monkeypatch.setattr(cli, "lint_files", poisoned)
    assert main(["check", "--no-cache", "--no-config", str(project)]) == 1
    out = capsys.readouterr().out
    assert "planted by a committed cache entry" in out and "TOPSECRET" not in out


def test_source_lines_skip_symlinks_fifos_and_large_files(tmp_path):
    outside = tmp_path / "outside.py"
    outside.write_text("TOPSECRET = 1\n")
    link = tmp_path / "link.py"
    link.symlink_to(outside)
    fifo = tmp_path / "fifo.py"
    os.mkfifo(fifo)
    big = tmp_path / "big.py"
    big.write_text("x = 1\n" * 100)
    plain = tmp_path / "plain.py"
    plain.write_text("y = 2\n")
    paths = [str(p) for p in (link, fifo, big, plain)]
    findings = [Finding(p, 1, 1, "GCL401", "m", Severity.WARNING) for p in paths]
    # No hang on the FIFO: it is opened non-blocking and refused as not regular.
    assert checked_sources(findings, set(paths), max_bytes=100) == {str(plain): "y = 2\n"}
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


# --- option values are validated -----------------------------------------


@pytest.mark.parametrize(
    "argv, message",
    [
        pytest.param(["--run", "'x"], "cannot split \"'x\" like a shell command", id="run-unbalanced-quote"),
        pytest.param(["--run", ""], "names no script or module", id="run-empty"),
        pytest.param(["--timeout", "nan"], "argument --timeout: must be a finite number", id="timeout-nan"),
        pytest.param(["--timeout", "inf"], "argument --timeout: must be a finite number", id="timeout-inf"),
        pytest.param(["--timeout", "-1"], "argument --timeout: must be a finite number", id="timeout-negative"),
        pytest.param(["--timeout", "0"], "argument --timeout: must be a finite number", id="timeout-zero"),
        pytest.param(["--timeout", "soon"], "argument --timeout: expected a number of seconds", id="timeout-word"),
        pytest.param(["--memory-limit", "-5"], "argument --memory-limit: must be at least 1", id="memory-negative"),
        pytest.param(["--memory-limit", "0"], "argument --memory-limit: must be at least 1", id="memory-zero"),
        pytest.param(["--jobs", "0"], "argument --jobs/-j: must be at least 1", id="jobs-zero"),
        pytest.param(["-j", "-1"], "argument --jobs/-j: must be at least 1", id="jobs-negative"),
        pytest.param(["--tracemalloc-frames", "-3"], "argument --tracemalloc-frames: must be between 1 and 65535", id="frames-negative"),
        pytest.param(["--tracemalloc-frames", "70000"], "must be between 1 and 65535", id="frames-too-many"),
    ],
)
def test_bad_option_values_are_usage_errors(project, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        main(["check", *argv, str(project)])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and message in err and "Traceback" not in err
