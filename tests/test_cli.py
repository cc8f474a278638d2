"""`gclint check | rules | explain` as a user runs them."""
import json
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
    for heading in ("## What it flags", "## Why it matters", "## Known limits", "## Example", "## Instead"):
        assert heading in text
    assert "gc.collect(0)" in text and "full collection" in text
    assert main(["explain", "GCL999"]) == 2
