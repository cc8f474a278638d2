"""Files git ignores are not checked, read from the ignore files (git never runs)."""
import os
import subprocess
import sys

import pytest

from gclint.gitignore import GitIgnore, drop_ignored

BAD = "import gc\ngc.collect(0)\n"

# (.gitignore files, paths that exist): git itself decides which are ignored.
CASES = [
    pytest.param({".gitignore": "build/\n"}, ["build/a.py", "src/build/b.py", "build.py"], id="dir-at-any-depth"),
    pytest.param({".gitignore": "/build\n"}, ["build/a.py", "src/build/b.py"], id="anchored"),
    pytest.param({".gitignore": "*.gen.py\n!keep.gen.py\n"}, ["a.gen.py", "keep.gen.py", "sub/b.gen.py"], id="negation"),
    pytest.param({".gitignore": "gen/\n!gen/keep.py\n"}, ["gen/keep.py", "gen/x.py"], id="no-reinclude-under-ignored-dir"),
    pytest.param({".gitignore": "docs/**/*.py\n"}, ["docs/a.py", "docs/x/y/b.py", "src/docs/c.py"], id="double-star"),
    pytest.param({".gitignore": "**/tmp\n"}, ["tmp/a.py", "x/tmp/b.py", "tmp.py"], id="leading-double-star"),
    pytest.param({".gitignore": "out/**\n"}, ["out/a.py", "out/x/b.py", "outer/c.py"], id="trailing-double-star"),
    pytest.param({".gitignore": "a/*/c.py\n"}, ["a/b/c.py", "a/b/d/c.py"], id="star-stays-in-a-segment"),
    pytest.param({"src/.gitignore": "*.py\n!main.py\n", ".gitignore": "main.py\n"}, ["src/main.py", "src/x.py", "main.py"], id="deeper-file-wins"),
    pytest.param({".gitignore": "# comment\n\n\\#hash.py\nsp\\ ace.py\nq?.py\n[ab].py\n"}, ["#hash.py", "sp ace.py", "q1.py", "a.py", "c.py"], id="escapes-and-classes"),
    pytest.param({".gitignore": "x.py   \n"}, ["x.py"], id="trailing-spaces"),
    pytest.param({".git/info/exclude": "local.py\n", ".gitignore": ""}, ["local.py", "sub/local.py"], id="info-exclude"),
]


def _git(*args, cwd):
    # Our own scratch repository, with no user or system configuration.
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "HOME": str(cwd)}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def _repo(tmp_path, ignore_files, paths):
    _git("init", "-q", cwd=tmp_path)
    for name, text in ignore_files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    for path in paths:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(BAD)
    return tmp_path


@pytest.mark.parametrize("ignore_files, paths", CASES)
def test_the_same_files_as_git_check_ignore(tmp_path, ignore_files, paths):
    repo = _repo(tmp_path, ignore_files, paths)
    done = _git("check-ignore", "--no-index", "--", *paths, cwd=repo)
    by_git = set(done.stdout.splitlines())
    ours = GitIgnore(str(repo))
    assert {p for p in paths if ours.is_ignored(str(repo / p))} == by_git


def gclint(*args, cwd):
    done = subprocess.run(
        [sys.executable, "-m", "gclint", "check", "--no-cache", "-q", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    return done.returncode, {line.split(":")[0] for line in done.stdout.splitlines()}, done.stderr


def test_ignored_files_are_skipped_unless_named(tmp_path):
    repo = _repo(tmp_path, {".gitignore": "out/\n*.gen.py\n"}, ["src/a.py", "out/b.py", "out/c.gen.py", "src/d.gen.py"])
    assert gclint(".", cwd=repo)[1] == {"./src/a.py"}
    assert gclint("src", cwd=repo)[1] == {"src/a.py"}  # a .gitignore above the walked directory applies
    # A named file is checked; a named ignored directory is walked, with the patterns below it.
    assert gclint("src/d.gen.py", "out", cwd=repo)[1] == {"src/d.gen.py", "out/b.py"}
    (repo / "pyproject.toml").write_text("[tool.gclint]\nrespect-gitignore = false\n")
    assert gclint(".", cwd=repo)[1] == {"./src/a.py", "./out/b.py", "./out/c.gen.py", "./src/d.gen.py"}


def flake8(*args, cwd):
    done = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "GCL", "--format", "%(path)s", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode in (0, 1), done.stderr
    return set(done.stdout.splitlines())


@pytest.mark.parametrize(
    "paths",
    [
        pytest.param([], id="no-path"),  # flake8's default is ".", as gclint check's
        pytest.param(["src"], id="a-directory-below-the-gitignore"),
        pytest.param(["src/d.gen.py", "out"], id="named-file-and-named-ignored-directory"),
    ],
)
def test_flake8_skips_the_git_ignored_files_gclint_check_skips(tmp_path, paths):
    repo = _repo(tmp_path, {".gitignore": "out/\n*.gen.py\n"}, ["src/a.py", "out/b.py", "out/c.gen.py", "src/d.gen.py"])
    ours = gclint(*(paths or ["."]), cwd=repo)[1]
    assert ours and flake8(*paths, cwd=repo) == ours


def test_a_git_ignored_buffer_piped_in_is_checked_by_both_doors(tmp_path):
    # An editor sends the buffer of a file git ignores: the user named it.
    repo = _repo(tmp_path, {".gitignore": "out/\n"}, ["out/b.py"])
    piped = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "GCL", "--format", "%(path)s", "--stdin-display-name", "out/b.py", "-"],
        cwd=repo, input=BAD, capture_output=True, text=True, timeout=300,
    )
    assert piped.stdout.splitlines() == ["out/b.py"], piped.stderr
    done = subprocess.run(
        [sys.executable, "-m", "gclint", "check", "--no-cache", "-q", "--stdin-filename", "out/b.py", "-"],
        cwd=repo, input=BAD, capture_output=True, text=True, timeout=300,
    )
    assert {line.split(":")[0] for line in done.stdout.splitlines()} == {"out/b.py"}, done.stderr


def test_flake8_checks_git_ignored_files_when_respect_gitignore_is_off(tmp_path):
    repo = _repo(tmp_path, {".gitignore": "out/\n"}, ["src/a.py", "out/b.py"])
    assert flake8(".", cwd=repo) == {"./src/a.py"}
    (repo / "pyproject.toml").write_text("[tool.gclint]\nrespect-gitignore = false\n")
    assert flake8(".", cwd=repo) == gclint(".", cwd=repo)[1] == {"./src/a.py", "./out/b.py"}


def test_outside_a_repository_a_gitignore_means_nothing(tmp_path):
    (tmp_path / ".gitignore").write_text("*.py\n")
    (tmp_path / "a.py").write_text(BAD)
    assert gclint(".", cwd=tmp_path)[1] == {"./a.py"}


def test_a_hostile_repository_runs_nothing_and_cannot_hang_the_reader(tmp_path):
    repo = _repo(tmp_path, {".gitignore": "skipped.py\n"}, ["a.py", "skipped.py", "sub/b.py"])
    marker = tmp_path.parent / f"{tmp_path.name}-ran"
    hook = tmp_path / "evil.sh"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    # Commands git would run for a status-like command in this repository.
    _git("config", "core.fsmonitor", str(hook), cwd=repo)
    _git("config", "core.hooksPath", str(tmp_path), cwd=repo)
    os.mkfifo(repo / "sub" / ".gitignore")  # a FIFO never delivers
    code, shown, err = gclint(".", cwd=repo)
    assert shown == {"./a.py", "./sub/b.py"} and code == 1, err
    assert not marker.exists()


def test_drop_ignored_keeps_files_of_other_trees(tmp_path):
    (tmp_path / "repo").mkdir()
    repo = _repo(tmp_path / "repo", {".gitignore": "*.py\n"}, ["a.py"])
    plain = tmp_path / "plain.py"
    plain.write_text(BAD)
    assert drop_ignored([str(repo / "a.py"), str(plain)], named=[]) == [str(plain)]
