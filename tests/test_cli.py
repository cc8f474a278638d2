"""`gclint check | rules | explain` as a user runs them."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import FIXTURES, ROOT, expectations, fixture_files
from gclint.cli import main

BAD = "import gc\n\ndef f():\n    gc.collect(0)\n"


def run(*args, cwd=None, stdin=None):
    done = subprocess.run(
        [sys.executable, "-m", "gclint", *args], cwd=cwd, input=stdin, capture_output=True, text=True, timeout=300
    )
    return done.returncode, done.stdout, done.stderr


@pytest.fixture
def project(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "bad.py").write_text(BAD)
    (tmp_path / "pkg" / "clean.py").write_text("import gc\ngc.collect()\n")
    return tmp_path


def test_fixtures_report_exactly_the_expectations():
    code, out, err = run("check", "--format", "json", str(FIXTURES))
    assert code == 1, err
    found = {(f["path"], f["line"], f["code"]) for f in json.loads(out)}
    expected = {(str(p), line, c) for p in fixture_files() for line, c in expectations(p)}
    assert found == expected


def test_gclint_lints_itself_clean():
    code, out, err = run("check", str(ROOT / "gclint"))
    assert (code, err) == (0, ""), out


def test_exit_codes(project):
    assert run("check", str(project / "pkg" / "clean.py"))[0] == 0
    assert run("check", str(project))[0] == 1
    assert run("check", "--exit-zero", str(project))[0] == 0
    code, _, err = run("check", str(project / "missing.py"), str(project))
    assert code == 2 and "missing.py: no such file or directory" in err


def test_text_output_plain_when_piped(project):
    code, out, _ = run("check", str(project / "pkg" / "bad.py"))
    lines = out.splitlines()
    assert lines[0].startswith(f"{project / 'pkg' / 'bad.py'}:4:5: GCL401 ")
    assert lines[1] == "        gc.collect(0)"
    assert lines[2] == "        ^"
    assert "\x1b[" not in out
    assert lines[-1] == "1 finding in 1 file checked."


def test_quiet_and_statistics(project):
    _, out, _ = run("check", "-q", "--statistics", str(project))
    assert out.splitlines()[0].endswith("(gc.collect() with no argument is a full collection)")
    assert out.splitlines()[1].startswith("1      GCL401 ")
    assert len(out.splitlines()) == 2


def test_stdin_with_display_name():
    code, out, _ = run("check", "-q", "-", "--stdin-filename", "shown.py", stdin=BAD)
    assert code == 1 and out.startswith("shown.py:4:5: GCL401")


def test_select_ignore_on_the_command_line(project):
    assert run("check", "--ignore", "GCL4", str(project))[0] == 0
    assert run("check", "--select", "GCL402", str(project))[0] == 0
    assert run("check", "--select", "GCL", "--ignore", "GCL4", "--extend-select", "GCL401", str(project))[0] == 1
    code, _, err = run("check", "--select", "XYZ1", str(project))
    assert code == 2 and "unknown code or prefix 'XYZ1'" in err


@pytest.mark.parametrize(
    "table, message",
    [
        pytest.param('colour = "red"', "unknown key 'colour'", id="unknown-key"),
        pytest.param('ignore = ["GCL999"]', "unknown code or prefix 'GCL999'", id="unknown-code"),
        pytest.param('select = "GCL4"', "select must be a list of strings", id="bad-type"),
        pytest.param('target-version = "py27"', "target-version 'py27'", id="bad-target"),
        pytest.param("per-file-ignores = 3", "per-file-ignores must be a table", id="bad-table"),
    ],
)
def test_config_errors_are_one_line_and_exit_2(project, table, message):
    (project / "pyproject.toml").write_text(f"[tool.gclint]\n{table}\n")
    code, out, err = run("check", str(project))
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_config_is_read_from_the_nearest_pyproject(project):
    (project / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [tool.gclint]
            per-file-ignores = { "pkg/bad.py" = ["GCL401"] }
            """
        )
    )
    assert run("check", str(project / "pkg"))[0] == 0
    (project / "pyproject.toml").write_text('[tool.gclint]\nextend-exclude = ["pkg"]\n')
    assert run("check", str(project))[0] == 0
    # A file named explicitly is checked even when excluded.
    assert run("check", str(project / "pkg" / "bad.py"))[0] == 1


def test_default_excludes(project):
    for name in (".venv", "build", "node_modules", "site-packages"):
        (project / name).mkdir()
        (project / name / "bad.py").write_text(BAD)
    (project / "pkg" / "bad.py").unlink()
    assert run("check", str(project))[0] == 0


def test_bad_files_do_not_stop_the_run(project):
    (project / "pkg" / "broken.py").write_bytes(b"def f(:\n")
    (project / "pkg" / "junk.py").write_bytes(b"\x00\xff\xfe garbage")
    code, out, err = run("check", "--format", "json", str(project))
    found = sorted((f["path"].rsplit("/", 1)[-1], f["code"]) for f in json.loads(out))
    assert found == [("bad.py", "GCL401"), ("broken.py", "GCL001"), ("junk.py", "GCL001")]
    assert code == 1 and "Traceback" not in err


def test_json_has_every_field(project):
    _, out, _ = run("check", "--format", "json", str(project))
    (finding,) = json.loads(out)
    assert set(finding) == {"path", "line", "col", "end_line", "end_col", "code", "message", "severity", "status", "evidence"}
    assert (finding["line"], finding["col"], finding["severity"]) == (4, 5, "warning")


def test_github_annotations(project):
    _, out, _ = run("check", "--format", "github", str(project))
    assert out.startswith(f"::warning file={project / 'pkg' / 'bad.py'},line=4,col=5,endLine=4,endColumn=18,title=GCL401::GCL401 gc.collect(0)")


def test_jobs_do_not_change_the_result():
    outputs = {run("check", "--no-cache", "--format", "json", "--jobs", str(n), str(FIXTURES))[1] for n in (1, 2, 3)}
    assert len(outputs) == 1


def test_rules_and_explain(capsys):
    assert main(["rules", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["code"] for r in rows} >= {"GCL401", "GCL402", "GCL403", "GCL404", "GCL405", "GCL406"}
    assert main(["explain", "GCL401"]) == 0
    text = capsys.readouterr().out
    for heading in ("## What it flags", "## Why it matters", "## Known limits", "## Example", "## Use instead", "## References"):
        assert heading in text
    assert "gc.collect(0)" in text and "full collection" in text
    assert "*Severity warning; on by default: no finding on 14 real projects and the 3.11 standard library; matches only explicit misuse of the gc API.*" in text
    assert "## Measured on real code" in text
    assert main(["explain", "GCL999"]) == 2
    by_code = {r["code"]: r["default"] for r in rows}
    assert by_code["GCL401"] is True and by_code["GCL203"] is False
    assert main(["explain", "GCL203"]) == 0
    assert "off by default: 1 of 19 findings read on 14 real projects worth acting on (below the 60% bar). Select it by code, or every rule with `--select GCL`." in capsys.readouterr().out


# --- issue 14: output that integrates -------------------------------------

MULTI_LINE = textwrap.dedent(
    """\
    class Node:
        def __init__(self, parent):
            self.parent = parent
            parent.children.append(
                self
            )
    """
)


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_no_message_contains_a_newline(tmp_path, fmt):
    (tmp_path / "node.py").write_text(MULTI_LINE)
    code, out, _ = run("check", "--no-cache", "--select", "GCL", "--format", fmt, "node.py", cwd=tmp_path)
    assert code == 1
    if fmt in ("json", "sarif"):
        log = json.loads(out)
        messages = [f["message"] for f in log] if fmt == "json" else [r["message"]["text"] for r in log["runs"][0]["results"]]
    else:
        messages = [line for line in out.splitlines() if "GCL204" in line]
    (message,) = messages
    # However the rule words it, the flagged expression is cut to one line.
    assert "\n" not in message and "parent.children.append(" in message


def test_github_paths_have_no_dot_slash_and_multi_line_ranges_no_columns(tmp_path):
    (tmp_path / "node.py").write_text(MULTI_LINE)
    (tmp_path / "bad.py").write_text(BAD)
    _, out, _ = run("check", "--no-cache", "--select", "GCL", "--format", "github", ".", cwd=tmp_path)
    lines = sorted(out.splitlines())
    assert lines[0].startswith("::warning file=bad.py,line=4,col=5,endLine=4,endColumn=18,title=GCL401::")
    assert lines[1].startswith("::warning file=node.py,line=3,col=9,endLine=3,")  # single-line: columns kept
    node = textwrap.dedent(MULTI_LINE).replace("self.parent = parent", "self.parent = (\n            parent)")
    (tmp_path / "node.py").write_text(node)
    _, out, _ = run("check", "--no-cache", "--select", "GCL", "--format", "github", "node.py", cwd=tmp_path)
    assert out.startswith("::warning file=node.py,line=3,endLine=4,title=GCL204::")


def test_statistics_label_codes_with_the_rule_name(project):
    _, out, _ = run("check", "-q", "--statistics", str(project))
    assert "1      GCL401 young-generation-collect" in out.splitlines()


def test_repeated_select_adds_up(project):
    (project / "pkg" / "loop.py").write_text("import gc\n\ndef batch(items):\n    for item in items:\n        gc.collect()\n")
    _, out, _ = run("check", "--format", "json", "--select", "GCL401", "--select", "GCL402", str(project))
    assert sorted(f["code"] for f in json.loads(out)) == ["GCL401", "GCL402"]


def test_output_file(project, tmp_path):
    target = tmp_path / "report.json"
    code, out, _ = run("check", "--format", "json", "--output-file", str(target), str(project))
    assert code == 1 and out == ""
    assert [f["code"] for f in json.loads(target.read_text())] == ["GCL401"]
    code, _, err = run("check", "--output-file", str(tmp_path / "missing" / "r.txt"), str(project))
    assert code == 2 and "cannot write" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "choice, environ, expected",
    [
        pytest.param("auto", {}, False, id="auto-piped"),
        pytest.param("auto", {"FORCE_COLOR": "1"}, True, id="auto-force-color"),
        pytest.param("auto", {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False, id="no-color-wins"),
        pytest.param("auto", {"NO_COLOR": ""}, False, id="empty-no-color-is-unset"),
        pytest.param("always", {"NO_COLOR": "1"}, True, id="always"),
        pytest.param("never", {"FORCE_COLOR": "1"}, False, id="never"),
    ],
)
def test_color_choice(project, choice, environ, expected):
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    done = subprocess.run(
        [sys.executable, "-m", "gclint", "check", "--color", choice, str(project)],
        env={**env, **environ}, capture_output=True, text=True, timeout=300,
    )
    assert ("\x1b[" in done.stdout) is expected
    assert "GCL401" in done.stdout


def test_a_closed_pipe_ends_quietly(tmp_path):
    # Far more output than a pipe buffers, so gclint is still writing when head exits.
    (tmp_path / "many.py").write_text("import gc\n\ndef f():\n" + "    gc.collect(0)\n" * 3000)
    done = subprocess.run(
        f"{sys.executable} -m gclint check --no-cache many.py | head -1", shell=True, cwd=tmp_path,
        capture_output=True, text=True, timeout=300,
    )
    assert done.stdout.startswith("many.py:4:5: GCL401") and len(done.stdout.splitlines()) == 1
    assert done.stderr == ""


# --- issue 14: severity and gradual adoption ------------------------------

INFO_ONLY = "import gc\n\ndef f(x):\n    del x\n    gc.collect()\n"


def test_info_findings_are_shown_but_pass_unless_asked(tmp_path):
    (tmp_path / "drop.py").write_text(INFO_ONLY)
    # GCL403 is off by default; select it to see an info finding.
    code, out, _ = run("check", "--no-cache", "--extend-select", "GCL403", "drop.py", cwd=tmp_path)
    assert code == 0 and "GCL403" in out
    assert run("check", "--no-cache", "--extend-select", "GCL403", "--fail-on", "info", "drop.py", cwd=tmp_path)[0] == 1
    (tmp_path / "bad.py").write_text(BAD)
    assert run("check", "--no-cache", "--fail-on", "error", "bad.py", cwd=tmp_path)[0] == 0
    assert run("check", "--no-cache", "--fail-on", "warning", "bad.py", cwd=tmp_path)[0] == 1


def test_baseline_survives_lines_moving_and_reports_only_new_findings(tmp_path):
    app = tmp_path / "app.py"
    app.write_text(BAD + "\ndef g():\n    gc.collect(1)\n")
    code, _, err = run("check", "--no-cache", "--write-baseline", "gclint-baseline.json", ".", cwd=tmp_path)
    assert code == 0 and "recorded 2 findings" in err
    assert run("check", "--no-cache", "--baseline", "gclint-baseline.json", ".", cwd=tmp_path)[0] == 0
    app.write_text("# a line inserted at the top\n\n" + app.read_text())
    code, out, _ = run("check", "--no-cache", "--baseline", "gclint-baseline.json", ".", cwd=tmp_path)
    assert code == 0, out
    # A second copy of a recorded line is new: the baseline counts.
    app.write_text(app.read_text() + "\ndef h():\n    gc.collect(0)\n")
    code, out, _ = run("check", "--no-cache", "--format", "json", "--baseline", "gclint-baseline.json", "app.py", cwd=tmp_path)
    assert code == 1 and [(f["line"], f["code"]) for f in json.loads(out)] == [(12, "GCL401")]
    # The same baseline works from another directory: paths are relative to it.
    sub = tmp_path / "elsewhere"
    sub.mkdir()
    code, out, _ = run("check", "--no-cache", "--format", "json", "--baseline", "../gclint-baseline.json", "../app.py", cwd=sub)
    assert [(f["line"], f["code"]) for f in json.loads(out)] == [(12, "GCL401")]


@pytest.mark.parametrize(
    "content, message",
    [
        pytest.param(None, "cannot read", id="missing"),
        pytest.param("{", "cannot read", id="not-json"),
        pytest.param('{"findings": []}', "not a gclint baseline", id="not-a-baseline"),
        pytest.param('{"gclint-baseline": 1, "findings": [{"path": 1}]}', "needs path, code and line", id="bad-entry"),
        pytest.param('{"gclint-baseline": 1, "findings": [{"path": "a", "code": "GCL401", "line": "", "count": 0}]}', "count must be", id="bad-count"),
    ],
)
def test_a_bad_baseline_is_a_one_line_error(project, tmp_path, content, message):
    baseline = tmp_path / "b.json"
    if content is not None:
        baseline.write_text(content)
    code, _, err = run("check", "--baseline", str(baseline), str(project))
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_add_noqa_appends_and_merges_then_the_next_run_is_clean(tmp_path):
    app = tmp_path / "app.py"
    app.write_bytes(
        b"import gc\r\n\r\ndef f():\r\n    gc.collect(0)  # why: latency\r\n    gc.collect(1)  # noqa: GCL402\r\n"
        b"    for item in items:\r\n        gc.collect()\r\n"
    )
    code, _, err = run("check", "--no-cache", "--add-noqa", "app.py", cwd=tmp_path)
    assert code == 0 and "added 3 noqa comments in 1 files" in err
    assert app.read_bytes() == (
        b"import gc\r\n\r\ndef f():\r\n    gc.collect(0)  # why: latency  # noqa: GCL401\r\n    gc.collect(1)  # noqa: GCL402, GCL401\r\n"
        b"    for item in items:\r\n        gc.collect()  # noqa: GCL402\r\n"
    )
    assert run("check", "--no-cache", "app.py", cwd=tmp_path)[0] == 0
    done = subprocess.run([sys.executable, "-m", "flake8", "--select", "GCL", "app.py"], cwd=tmp_path, capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (0, "")


def test_add_noqa_never_breaks_a_line_that_ends_inside_a_string(tmp_path):
    app = tmp_path / "app.py"
    source = 'import gc\n\ndef f():\n    gc.collect(0); doc = """\n    text\n    """\n'
    app.write_text(source)
    code, _, err = run("check", "--no-cache", "--add-noqa", "app.py", cwd=tmp_path)
    assert code == 1 and "app.py:4: GCL401: the line ends inside a string" in err
    assert app.read_text() == source


def test_baseline_and_fail_on_come_from_the_configuration(tmp_path):
    (tmp_path / "drop.py").write_text(INFO_ONLY)
    (tmp_path / "pyproject.toml").write_text('[tool.gclint]\nextend-select = ["GCL403"]\nfail-on = "info"\n')
    assert run("check", "--no-cache", "drop.py", cwd=tmp_path)[0] == 1
    (tmp_path / "bad.py").write_text(BAD)
    assert run("check", "--no-cache", "--write-baseline", "known.json", ".", cwd=tmp_path)[0] == 0
    (tmp_path / "pyproject.toml").write_text('[tool.gclint]\nbaseline = "known.json"\n')
    assert run("check", "--no-cache", ".", cwd=tmp_path)[0] == 0
    (tmp_path / "pyproject.toml").write_text('[tool.gclint]\nfail-on = "sometimes"\n')
    code, _, err = run("check", "--no-cache", ".", cwd=tmp_path)
    assert code == 2 and "fail-on must be one of error, warning, info" in err


def test_force_exclude_applies_exclude_to_named_files(project):
    (project / "pyproject.toml").write_text('[tool.gclint]\nextend-exclude = ["pkg/bad.py"]\n')
    bad = str(project / "pkg" / "bad.py")
    assert run("check", bad)[0] == 1  # named: checked, as in ruff
    code, out, _ = run("check", "--force-exclude", "--", bad, str(project / "pkg" / "clean.py"))
    assert code == 0 and "No findings in 1 file checked." in out
    (project / "pyproject.toml").write_text('[tool.gclint]\nextend-exclude = ["pkg"]\n')
    assert run("check", "--force-exclude", bad)[0] == 0  # a directory it is in is excluded
    # Standard input with an excluded display name, as an editor sends it.
    code, out, _ = run("check", "--force-exclude", "-", "--stdin-filename", "pkg/bad.py", cwd=project, stdin=BAD)
    assert code == 0 and "GCL401" not in out
    assert run("check", "-", "--stdin-filename", "pkg/bad.py", cwd=project, stdin=BAD)[0] == 1


def test_a_syntax_error_names_the_interpreter_that_judged_it(tmp_path):
    # A file written for a newer Python (3.14's t-strings) is an error only to
    # an older interpreter: the message must say which one ran.
    (tmp_path / "newer.py").write_text("def f(:\n    pass\n")
    code, out, _ = run("check", "--no-cache", "-q", "newer.py", cwd=tmp_path)
    running = f"Python {sys.version_info[0]}.{sys.version_info[1]}"
    assert code == 1 and f"GCL001 newer.py: syntax error for {running}, the interpreter running gclint: " in out
