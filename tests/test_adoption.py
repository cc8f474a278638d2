"""Issue 14's "what it must show", as a user adopting gclint would see it,
on one scratch git repository with [tool.gclint] ignore, per-file-ignores,
exclude, a rule option and a .gitignore."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

PYPROJECT = textwrap.dedent(
    """\
    [project]
    requires-python = ">=3.8"

    [tool.gclint]
    extend-select = ["GCL302"]
    ignore = ["GCL402"]
    per-file-ignores = { "scripts/*.py" = ["GCL401"] }
    extend-exclude = ["generated"]
    extend-resource-factories = ["app.db.connect"]
    """
)
YOUNG = "import gc\n\ndef release():\n    gc.collect(0)\n"
LOOP = "import gc\n\ndef batch(items):\n    for item in items:\n        gc.collect()\n"
INLINE = "def read(p):\n    return open(p).read()\n"
FACTORY = "from app import db\n\ndef ping():\n    con = db.connect()\n    con.ping()\n"


@pytest.fixture
def scratch(tmp_path):
    files = {
        "pyproject.toml": PYPROJECT,
        "app/young.py": YOUNG,  # GCL401
        "app/loop.py": LOOP + YOUNG.replace("release", "again"),  # GCL402 ignored, GCL401 kept
        "app/inline.py": INLINE,  # GCL302, off by default, extend-selected
        "app/pinger.py": FACTORY,  # GCL301 only through extend-resource-factories
        "scripts/tool.py": YOUNG,  # GCL401 ignored for scripts/
        "generated/out.py": YOUNG,  # excluded
        ".gitignore": "build_tmp/\n",
        "build_tmp/copy.py": YOUNG,  # git-ignored
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    # A repository with no user or system configuration.
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "HOME": str(tmp_path)}
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, env=env, check=True, timeout=60)
    return tmp_path


def gclint(*args, cwd):
    done = subprocess.run(
        [sys.executable, "-m", "gclint", "check", "--no-cache", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    return done.returncode, done.stdout, done.stderr


def found_by_gclint(cwd, *args):
    code, out, err = gclint("--format", "json", *args, ".", cwd=cwd)
    assert code in (0, 1), err
    return {(os.path.normpath(f["path"]), f["line"], f["code"]) for f in json.loads(out)}


def found_by_flake8(cwd):
    done = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "GCL", "--format", "%(path)s|%(row)d|%(code)s", "."],
        cwd=cwd, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode in (0, 1), done.stderr
    rows = (line.split("|") for line in done.stdout.splitlines())
    return {(os.path.normpath(path), int(row), code) for path, row, code in rows}


def test_both_doors_give_the_same_findings(scratch):
    expected = {
        ("app/young.py", 4, "GCL401"),
        ("app/loop.py", 9, "GCL401"),
        ("app/inline.py", 2, "GCL302"),
        ("app/pinger.py", 4, "GCL301"),
    }
    assert found_by_gclint(scratch) == expected
    assert found_by_flake8(scratch) == expected


def test_baseline_then_a_line_inserted_then_only_the_new_finding(scratch):
    assert gclint("--write-baseline", "gclint-baseline.json", ".", cwd=scratch)[0] == 0
    young = scratch / "app" / "young.py"
    young.write_text('"""A docstring inserted at the top."""\n' + young.read_text())
    code, out, _ = gclint("--baseline", "gclint-baseline.json", ".", cwd=scratch)
    assert code == 0, out
    young.write_text(young.read_text() + "\n\ndef later():\n    gc.collect(1)\n")
    new = {("app/young.py", 9, "GCL401")}
    assert found_by_gclint(scratch, "--baseline", "gclint-baseline.json") == new
    # The same baseline named in [tool.gclint] applies in both doors.
    with open(scratch / "pyproject.toml", "a") as pyproject:
        pyproject.write('baseline = "gclint-baseline.json"\n')
    assert found_by_gclint(scratch) == new
    assert found_by_flake8(scratch) == new


def test_add_noqa_then_both_doors_are_clean(scratch):
    code, _, err = gclint("--add-noqa", ".", cwd=scratch)
    assert code == 0, err
    assert gclint(".", cwd=scratch)[0] == 0
    assert found_by_flake8(scratch) == set()
    assert "# noqa: GCL401" in (scratch / "app" / "young.py").read_text()
    assert "noqa" not in (scratch / "scripts" / "tool.py").read_text()  # nothing to suppress there


def test_every_sarif_result_has_a_fingerprint_and_no_message_a_newline(scratch):
    code, out, _ = gclint("--format", "sarif", ".", cwd=scratch)
    results = json.loads(out)["runs"][0]["results"]
    assert code == 1 and len(results) == 4
    assert all(r["partialFingerprints"]["gclint/v1"] for r in results)
    assert not any("\n" in r["message"]["text"] for r in results)


def test_head_closing_the_pipe_prints_no_traceback(scratch):
    # More output than a pipe buffers, so gclint is still writing when head exits.
    (scratch / "app" / "many.py").write_text("import gc\n\ndef f():\n" + "    gc.collect(0)\n" * 3000)
    done = subprocess.run(
        f"{sys.executable} -m gclint check --no-cache . | head -1", shell=True, cwd=scratch,
        capture_output=True, text=True, timeout=300,
    )
    assert done.stdout.count("\n") == 1 and ": GCL" in done.stdout
    assert done.stderr == ""


@pytest.mark.parametrize(
    "project, target",
    [
        pytest.param('requires-python = ">=3.8"', "py38", id="py38"),
        pytest.param('requires-python = ">= 3.10, <4"', "py310", id="spaces-and-upper-bound"),
        pytest.param('requires-python = "~=3.11"', "py311", id="compatible"),
        pytest.param('requires-python = ">=3.8,!=3.9.*,>=3.9"', "py39", id="highest-lower-bound"),
        pytest.param('requires-python = ">=3.6"', "py38", id="older-than-supported"),
        pytest.param('requires-python = "<3.12"', "py39", id="no-lower-bound"),
        pytest.param("", "py39", id="none"),
    ],
)
def test_the_target_version_defaults_from_requires_python(tmp_path, project, target):
    from gclint.config import load_settings
    from gclint.rule import known_codes

    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(f"[project]\n{project}\n[tool.gclint]\n")
    assert load_settings(pyproject, known_codes()).target_version == target
    pyproject.write_text(f'[project]\n{project}\n[tool.gclint]\ntarget-version = "py313"\n')
    assert load_settings(pyproject, known_codes()).target_version == "py313"  # the explicit key wins


def test_py38_is_a_target(scratch):
    assert gclint("--target-version", "py38", "app/young.py", cwd=scratch)[0] == 1
    code, _, err = gclint("--target-version", "py37", "app/young.py", cwd=scratch)
    assert code == 2 and "py38, py39" in err


def test_a_missing_configured_baseline_is_one_clear_line_in_flake8(scratch):
    with open(scratch / "pyproject.toml", "a") as pyproject:
        pyproject.write('baseline = "missing.json"\n')
    done = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "GCL", "app/young.py"], cwd=scratch, capture_output=True, text=True, timeout=300
    )
    assert "Traceback" not in done.stderr, done.stderr
    (line,) = done.stdout.splitlines()
    assert line.startswith("app/young.py:1:1: GCL001 not analysed: gclint configuration error: --baseline ") and "cannot read" in line
    code, _, err = gclint("app/young.py", cwd=scratch)
    assert code == 2 and "cannot read" in err
